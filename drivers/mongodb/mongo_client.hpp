// libmongoc, as the driver uses it: one single-threaded mongoc_client_t, made on first use and
// used only on the driver's blocking lane, and what its errors mean for the emitter.
#pragma once

#include <mongoc/mongoc.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "drivers/mongodb/mongodb_options.hpp"

namespace osprof::detail::mongodb {

/// mongoc_init() once per process, and libmongoc's log routed to osprof's (warnings and
/// errors; libmongoc's default handler prints everything to stderr).
void ensure_libmongoc();

/// While alive, libmongoc's log lines from this thread are dropped.
class quiet_libmongoc {
 public:
  quiet_libmongoc();
  ~quiet_libmongoc();
  quiet_libmongoc(const quiet_libmongoc&) = delete;
  quiet_libmongoc& operator=(const quiet_libmongoc&) = delete;
};

/// What a failure means for the batch.
enum class failure_kind : std::uint8_t {
  retry,  ///< the server may take it later: connection lost, no primary, shutting down, ...
  fatal,  ///< it never will: bad credentials, no permission, an invalid request
};

struct failure {
  failure_kind kind = failure_kind::retry;
  std::string message;
  /// The server answered with this error (the connection is fine); otherwise the connection,
  /// the handshake or authentication failed.
  bool answered = false;
};

/// Judges a libmongoc error (error API version 2). `message` is the scrubbed text.
failure classify(std::uint32_t domain, std::uint32_t code, std::string message);
/// Whether a server error code (a command's or a single document's) may pass if tried again.
bool retryable_server_code(std::int64_t code) noexcept;

class mongo_client {
 public:
  explicit mongo_client(mongodb_options options) : options_(std::move(options)) {}
  ~mongo_client() { reset(); }
  mongo_client(const mongo_client&) = delete;
  mongo_client& operator=(const mongo_client&) = delete;

  /// The client, made now if needed (it connects on its first command); nullptr with
  /// `problem` set when libmongoc refuses the settings.
  mongoc_client_t* get(failure& problem);
  /// Drops the client and its connections: the next get() starts afresh (no 5 s cooldown of a
  /// single-threaded client after a failed connection).
  void reset();
  /// A collection of the configured database (owned by this object; valid until reset()).
  mongoc_collection_t* collection(std::string_view name);

  const mongodb_options& options() const noexcept { return options_; }
  /// The indexes were created (or could not be, for good): not tried again.
  bool indexes_done = false;
  /// A failure from a libmongoc error, scrubbed of secrets, with the connection string
  /// (redacted) for context.
  failure judge(const bson_error_t& error, std::string_view what) const;

 private:
  mongodb_options options_;
  mongoc_client_t* client_ = nullptr;
  mongoc_collection_t* events_ = nullptr;
  mongoc_collection_t* errors_ = nullptr;
};

}  // namespace osprof::detail::mongodb
