#include "drivers/mongodb/mongo_client.hpp"

#include <algorithm>
#include <iterator>
#include <mutex>

#include "common/log.hpp"

namespace osprof::detail::mongodb {

namespace {

thread_local int quiet_depth = 0;

void log_to_osprof(mongoc_log_level_t level, const char* domain, const char* message, void*) {
  if (level > MONGOC_LOG_LEVEL_WARNING || quiet_depth > 0) return;  // info, debug and trace stay quiet
  log_message(std::string("libmongoc (") + (domain != nullptr ? domain : "") + "): " + (message != nullptr ? message : ""));
}

}  // namespace

quiet_libmongoc::quiet_libmongoc() { ++quiet_depth; }
quiet_libmongoc::~quiet_libmongoc() { --quiet_depth; }

void ensure_libmongoc() {
  static std::once_flag once;
  std::call_once(once, [] {
    mongoc_init();
    mongoc_log_set_handler(&log_to_osprof, nullptr);
  });
}

bool retryable_server_code(std::int64_t code) noexcept {
  // The retryable writes specification's list, and the transient ones a write can meet:
  // elections, shutdowns, stale routing, lock and time limits.
  constexpr std::int64_t codes[] = {
      6,      // HostUnreachable
      7,      // HostNotFound
      24,     // LockTimeout
      46,     // LockBusy
      50,     // MaxTimeMSExpired
      63,     // StaleShardVersion
      64,     // WriteConcernFailed
      89,     // NetworkTimeout
      91,     // ShutdownInProgress
      112,    // WriteConflict
      133,    // FailedToSatisfyReadPreference
      150,    // StaleEpoch
      189,    // PrimarySteppedDown
      216,    // ElectionInProgress
      262,    // ExceededTimeLimit
      9001,   // SocketException
      10107,  // NotWritablePrimary
      11600,  // InterruptedAtShutdown
      11601,  // Interrupted
      11602,  // InterruptedDueToReplStateChange
      13388,  // StaleConfig
      13435,  // NotPrimaryNoSecondaryOk
      13436,  // NotPrimaryOrSecondary
  };
  return std::find(std::begin(codes), std::end(codes), code) != std::end(codes);
}

failure classify(std::uint32_t domain, std::uint32_t code, std::string message) {
  switch (domain) {
    case MONGOC_ERROR_STREAM:
      return {failure_kind::retry, std::move(message)};
    case MONGOC_ERROR_SERVER_SELECTION:
      // A server that was never reached, or is not primary now. A TLS certificate the client
      // does not trust will not become trusted by trying again.
      if (message.find("TLS handshake failed") != std::string::npos &&
          (message.find("certificate") != std::string::npos || message.find("verify") != std::string::npos)) {
        return {failure_kind::fatal, std::move(message)};
      }
      return {failure_kind::retry, std::move(message)};
    case MONGOC_ERROR_CLIENT:
      if (code == MONGOC_ERROR_CLIENT_AUTHENTICATE) return {failure_kind::fatal, "authentication failed: " + message};
      return {failure_kind::fatal, std::move(message)};
    case MONGOC_ERROR_WRITE_CONCERN:
      return {failure_kind::retry, "write concern not satisfied: " + message};
    case MONGOC_ERROR_SERVER:
    case MONGOC_ERROR_QUERY:
    case MONGOC_ERROR_COLLECTION:
    case MONGOC_ERROR_COMMAND:
      if (retryable_server_code(code)) return {failure_kind::retry, std::move(message)};
      if (code == 13 || code == 18) return {failure_kind::fatal, "not authorized: " + message};
      return {failure_kind::fatal, std::move(message)};
    default:
      return {failure_kind::fatal, std::move(message)};
  }
}

mongoc_client_t* mongo_client::get(failure& problem) {
  if (client_ != nullptr) return client_;
  ensure_libmongoc();
  bson_error_t error{};
  mongoc_uri_t* uri = mongoc_uri_new_with_error(options_.uri.c_str(), &error);
  if (uri == nullptr) {
    problem = {failure_kind::fatal, "mongodb: " + options_.scrub(error.message) + " (" + options_.redacted + ")"};
    return nullptr;
  }
  client_ = mongoc_client_new_from_uri_with_error(uri, &error);
  mongoc_uri_destroy(uri);
  if (client_ == nullptr) {
    problem = {failure_kind::fatal, "mongodb: " + options_.scrub(error.message) + " (" + options_.redacted + ")"};
    return nullptr;
  }
  mongoc_client_set_error_api(client_, MONGOC_ERROR_API_VERSION_2);
  return client_;
}

void mongo_client::reset() {
  if (events_ != nullptr) mongoc_collection_destroy(events_);
  if (errors_ != nullptr) mongoc_collection_destroy(errors_);
  events_ = errors_ = nullptr;
  if (client_ != nullptr) mongoc_client_destroy(client_);
  client_ = nullptr;
}

mongoc_collection_t* mongo_client::collection(std::string_view name) {
  mongoc_collection_t*& slot = name == events_collection ? events_ : errors_;
  if (slot == nullptr) {
    slot = mongoc_client_get_collection(client_, options_.database.c_str(), std::string(name).c_str());
  }
  return slot;
}

failure mongo_client::judge(const bson_error_t& error, std::string_view what) const {
  failure f = classify(error.domain, error.code, options_.scrub(error.message));
  f.message = "mongodb: " + std::string(what) + ": " + f.message + " (" + options_.redacted + ")";
  f.answered = error.domain == MONGOC_ERROR_SERVER || error.domain == MONGOC_ERROR_WRITE_CONCERN;
  return f;
}

}  // namespace osprof::detail::mongodb
