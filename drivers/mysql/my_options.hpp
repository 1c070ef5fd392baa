// mysql://, mysql+pymysql:// and mysql+mysqldb:// connection strings, as SQLAlchemy reads them:
// user:password@host:port/database, a unix socket as ?unix_socket=/path, TLS as PyMySQL names
// it (?ssl_ca=, ssl_cert=, ssl_key=, ssl_capath=, ssl_cipher=; a CA turns verification of the
// server's certificate and name on, as PyMySQL does), timeouts in seconds.
#pragma once

#include <optional>
#include <string>

#include <osprof/connection_string.hpp>

#include "drivers/sql/sql_layout.hpp"

namespace osprof::detail::mysql {

struct my_options {
  std::string host;  ///< empty: localhost (the unix socket)
  unsigned port = 3306;
  std::string user;
  std::string password;
  bool has_password = false;
  std::string database;
  std::string unix_socket;
  std::optional<unsigned> connect_timeout_s;
  std::optional<unsigned> read_timeout_s;
  std::optional<unsigned> write_timeout_s;
  bool tls = false;     ///< TLS required
  bool verify = false;  ///< the server's certificate and name verified
  std::string ssl_ca, ssl_capath, ssl_cert, ssl_key, ssl_cipher;
  /// Keep osprof_writers, so that a batch retried after a lost connection is stored once.
  bool dedup = true;
  /// The indexes `data` gets when this writer creates it (?indexes=all|reading).
  sql::index_set indexes = sql::index_set::all;
  /// The server for messages: mysql://user@host:port/database, no password.
  std::string where;

  /// Throws osprof::error for an unknown or bad option (the message never has the password).
  static my_options from(const connection_string& cs);
};

}  // namespace osprof::detail::mysql
