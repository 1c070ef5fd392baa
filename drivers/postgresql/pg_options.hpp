// postgresql:// and postgresql+psycopg2:// connection strings, as SQLAlchemy reads them:
// user:password@host:port/database, and libpq's connection keywords as query options
// (?sslmode=verify-full&sslrootcert=..., ?host=/run/postgresql for a unix socket), which
// SQLAlchemy hands to psycopg2 and so to libpq unchanged.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <osprof/connection_string.hpp>

#include "drivers/sql/sql_layout.hpp"

namespace osprof::detail::postgresql {

struct pg_options {
  /// libpq keywords and values for PQconnectStartParams (the password among them).
  std::vector<std::pair<std::string, std::string>> keywords;
  /// The server for messages: user@host:port/database, no password.
  std::string where;
  /// Keep osprof_writers, so that a batch retried after a lost connection is stored once.
  bool dedup = true;
  /// The indexes `data` gets when this writer creates it (?indexes=all|reading).
  sql::index_set indexes = sql::index_set::all;

  /// Throws osprof::error for an unknown or bad option (the message never has the password).
  static pg_options from(const connection_string& cs);
};

}  // namespace osprof::detail::postgresql
