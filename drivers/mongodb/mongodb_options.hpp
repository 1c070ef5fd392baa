// What a mongodb:// connection string means. The string is MongoDB's own (hosts, credentials,
// /database, and libmongoc's URI options: replicaSet, authSource, tls, timeouts, w, ...); the
// driver takes out its own option (create_indexes), fills in timeouts the emitter needs, and
// hands the rest to libmongoc, which parses and validates it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/connection_string.hpp>

namespace osprof::detail::mongodb {

/// Python OSProfiler's layout: its MongoDB driver's default database and fixed collections.
inline constexpr std::string_view default_database = "osprofiler";
inline constexpr std::string_view events_collection = "profiler";
inline constexpr std::string_view errors_collection = "profiler_error";
/// The largest document a MongoDB server stores (every server's maxBsonObjectSize since 1.8).
inline constexpr std::size_t max_document_bytes = 16 * 1024 * 1024;

struct mongodb_options {
  /// The connection string for libmongoc: the user's, password included (percent-encoded),
  /// osprof's options removed, defaults added. Never printed.
  std::string uri;
  /// The connection string for messages: the password and tlsCertificateKeyFilePassword as ***.
  std::string redacted;
  /// The path's database, else "osprofiler" (Python's default db_name).
  std::string database{default_database};
  /// ?create_indexes=false: the writer does not create the indexes (documented in the README).
  bool create_indexes = true;
  /// Secrets libmongoc might echo in an error: scrubbed from every message.
  std::vector<std::string> secrets;

  /// Throws osprof::error (without the password) for a malformed string or an unknown option.
  /// `timeout` becomes connectTimeoutMS, socketTimeoutMS and serverSelectionTimeoutMS unless
  /// the string sets them.
  static mongodb_options from(const connection_string& cs, std::chrono::milliseconds timeout);

  /// `message` with every secret replaced by ***.
  std::string scrub(std::string message) const;
};

}  // namespace osprof::detail::mongodb
