// The driver contract: how a backend stores the emitter's batches (a writer) and gives a
// trace back to the report API and `osprof trace show/list` (a reader). A backend provides
// either or both, each made by its own factory from a connection string, and registers them
// under its scheme with register_driver(). The drivers shipped with osprof are registered by
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>, CMake target osprof::drivers).
//
// This is the one public header with Boost.Asio types: writers and readers are coroutines
// on the io_context of whoever calls them. The instrumenting headers (<osprof/profiler.hpp>,
// <osprof/emitter.hpp>) stay free of them.
//
// Concurrency contract
// - Writer: one emitter owns it and calls it from its own io_context thread only. write() and
//   close() are never called concurrently on one instance (at most one of their awaitables is
//   in progress), so a writer needs no locks. Every awaitable completes on the executor in
//   driver_context; a writer that must block (SQLite) runs the blocking call on a thread of
//   its own and resumes there.
// - write() honours cancellation (the emitter cancels a write that exceeds
//   options::write_timeout, and everything at the shutdown deadline) and never throws:
//   failures are reported in write_result.
// - A batch the writer answered `retry` for comes back with the same batch::id and the next
//   attempt number, until it is stored, refused, or abandoned at the shutdown deadline (then
//   the next write carries a new id, or close() follows). A writer that stored part of a batch
//   keys what it remembers on batch::id, never on the events' bytes or addresses.
// - Reader: used by one coroutine at a time, on any io_context (the CLI's, the report API's).
//   Its calls throw osprof::error with a clear message (never a password) when the backend
//   fails; an unknown trace is an empty result, not an error.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <osprof/connection_string.hpp>
#include <osprof/report.hpp>
#include <osprof/uuid.hpp>

namespace osprof {
inline namespace v1 {

/// One event as writers receive it: OSProfiler's notification, formatted by the emitter's
/// worker, with its columns broken out for backends that store them separately.
struct event_record {
  std::string name;         ///< "<point>-start" or "<point>-stop"
  uuid base_id;
  uuid trace_id;
  uuid parent_id;
  std::int64_t time_us = 0;  ///< microseconds since the Unix epoch (UTC)
  std::array<char, 26> timestamp{};  ///< "%Y-%m-%dT%H:%M:%S.%f", UTC, no zone
  bool is_stop = false;
  bool has_error = false;   ///< a stop event whose info carries `etype`
  std::string info;         ///< the info object as JSON, `host` last
  std::string json;         ///< the whole notification, `project` and `service` included

  std::string_view timestamp_text() const noexcept { return {timestamp.data(), timestamp.size()}; }
  /// The point name: `name` without its final "-start"/"-stop".
  std::string_view point_name() const noexcept {
    return std::string_view(name).substr(0, name.size() - (is_stop ? 5 : 6));
  }
};

/// Which parts of an event_record a writer reads. The emitter's worker fills only those: a
/// backend that needs JSON pays for it, one that does not (a binary format, null://) does not.
/// The default is everything, so a writer that does not say keeps working unchanged.
struct record_needs {
  /// name, base_id, trace_id, parent_id, time_us, timestamp, has_error. Without them only
  /// is_stop is set.
  bool columns = true;
  /// `info` (the info object as JSON). Without info and json, has_error is true only for a
  /// stop recorded after an exception (not for an `etype` the caller put in the info), and
  /// stats::cut_info and stats::invalid_utf8 do not count what is in the info.
  bool info = true;
  /// `json` (the whole notification). `info` or `json` bring the columns with them (the worker
  /// builds them to make the JSON in any case).
  bool json = true;

  static constexpr record_needs everything() noexcept { return {}; }
  static constexpr record_needs nothing() noexcept { return {false, false, false}; }
};

/// What the emitter hands a writer: the events, and which batch and attempt this is.
struct batch {
  std::span<const event_record> events;  ///< valid until the write's awaitable completes
  std::uint64_t id = 0;       ///< unique per emitter, the same for every attempt of this batch
  std::uint32_t attempt = 1;  ///< 1 for the first write, 2, 3, ... for the emitter's retries

  std::size_t size() const noexcept { return events.size(); }
  bool empty() const noexcept { return events.empty(); }
};

enum class write_status : std::uint8_t {
  ok,     ///< the batch was stored (less `rejected` events)
  retry,  ///< not all is known to be stored and trying again may succeed (connection, 5xx, 429)
  failed, ///< the backend refused the batch for good (bad request, bad credentials): drop it
};

struct write_result {
  write_status status = write_status::ok;
  std::size_t rejected = 0;  ///< with ok: events of this batch the backend refused for good
  /// Events that earlier writes reported stored and that the writer lost since (a writer that
  /// holds events across batches, as OTLP holds a start until its stop comes). The emitter
  /// moves them from written to dropped, so its accounts stay exact.
  std::size_t revoked = 0;
  std::string error;         ///< what went wrong, for the log and stats::last_error
  std::chrono::milliseconds retry_after{0};  ///< a delay the backend asked for (Retry-After)

  static write_result success() { return {}; }
  static write_result retryable(std::string why, std::chrono::milliseconds after = {}) {
    return {write_status::retry, 0, 0, std::move(why), after};
  }
  static write_result fatal(std::string why) { return {write_status::failed, 0, 0, std::move(why), {}}; }
};

/// What a writer reports when it closes.
struct close_result {
  std::size_t revoked = 0;  ///< as write_result::revoked: events held across batches and lost
  std::string error;
};

/// What a factory learns besides the connection string.
struct driver_context {
  boost::asio::any_io_executor executor;  ///< where the writer's or reader's awaitables complete
  std::string project;  ///< the emitter's options::project (empty for a reader)
  std::string service;
  std::string host;
  bool filter_error_trace = true;  ///< mark traces that contain an error (options::filter_error_trace)
  std::chrono::milliseconds timeout{10000};  ///< per network operation
};

/// The write side of a backend.
class writer {
 public:
  virtual ~writer() = default;

  /// Stores a batch (see the contract above for retries and cancellation). Never throws.
  virtual boost::asio::awaitable<write_result> write(const batch& b) = 0;

  /// Delivers what the writer still holds across batches, makes written events durable or
  /// visible where the backend buffers, and releases connections. No write follows. The
  /// emitter bounds it by options::write_timeout (250 ms after the shutdown deadline).
  virtual boost::asio::awaitable<close_result> close();

  /// Which parts of each event_record this writer reads. Asked once, when the emitter starts;
  /// fields left out are empty or zero in the records it receives.
  virtual record_needs needs() const noexcept { return record_needs::everything(); }
};

/// Which traces reader::list_page() is asked for. Newest first: by start timestamp, then by
/// base_id, both descending. Text filters are exact; empty means any.
struct list_query {
  std::size_t limit = 50;       ///< rows at most (0: all)
  /// Continue after this row (the last row of the previous page): rows that sort after it.
  std::optional<trace_summary> after;
  bool errors_only = false;     ///< only traces that contain an error
  std::string since;            ///< started at or after this timestamp ("%Y-%m-%dT%H:%M:%S.%f", or a prefix of it)
  std::string until;            ///< started before this timestamp
  std::string id_prefix;        ///< base_id starts with this
  std::string project, service, host, name;  ///< some event of the trace has this project, ... point name

  bool has_field_filter() const noexcept {
    return !project.empty() || !service.empty() || !host.empty() || !name.empty();
  }
};

/// One page of the trace list.
struct trace_page {
  std::vector<trace_summary> traces;
  bool more = false;  ///< more rows follow the last one (ask again with `after` = the last row)
};

/// The read side of a backend: the stored events of a trace, and the traces.
class reader {
 public:
  virtual ~reader() = default;

  /// The stored events of one trace as JSON texts (OSProfiler's notifications), in any order.
  /// Empty when the trace is unknown.
  virtual boost::asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) = 0;
  /// One row per trace, newest first.
  virtual boost::asio::awaitable<std::vector<trace_summary>> list_traces() = 0;
  /// Traces that contain an error (a stop event with `etype`), newest first.
  virtual boost::asio::awaitable<std::vector<trace_summary>> list_error_traces() = 0;
  /// One page of the list. The default lists every trace (list_traces() or
  /// list_error_traces()) and pages in memory; it throws osprof::error for a project, service,
  /// host or name filter, which it cannot apply. SQLite and Redis page in the backend.
  virtual boost::asio::awaitable<trace_page> list_page(const list_query& query);
};

/// True when `row` passes the query's cursor, time range and id prefix (not the error or
/// field filters): what a reader that pages in memory applies.
bool in_page_range(const list_query& query, const trace_summary& row) noexcept;

/// The in-memory paging of reader::list_page(): keeps the rows in_page_range(), sorts them
/// newest first and cuts one page (`rows` must already pass the error and field filters).
trace_page page_of(std::vector<trace_summary> rows, const list_query& query);

using writer_factory = std::function<std::unique_ptr<writer>(const connection_string&, const driver_context&)>;
using reader_factory = std::function<std::unique_ptr<reader>(const connection_string&, const driver_context&)>;

/// A backend, as registered under one scheme.
struct driver_registration {
  std::string scheme{};    ///< lowercase, e.g. "myqueue" for myqueue://...
  std::string summary{};   ///< one line for `osprof drivers` and for errors
  writer_factory make_writer{};  ///< empty: the backend cannot be written to
  reader_factory make_reader{};  ///< empty: the backend cannot be read from
  /// Without a reader: what to tell a user who asks to read (where to look instead).
  std::string why_no_reader{};
};

/// Registers (or replaces) the backend for `registration.scheme`. Factories throw
/// osprof::error for a bad option, naming it. @note Thread safe.
void register_driver(driver_registration registration);

/// The registered backends, in registration order. @note Thread safe.
struct driver_description {
  std::string scheme;
  std::string summary;
  bool can_write = false;
  bool can_read = false;
};
std::vector<driver_description> registered_drivers();

/// Parses `text` and makes its writer / reader. Throws osprof::error for a malformed string,
/// an unknown scheme (listing the known ones), a backend without that side (in its words) or
/// an option the driver rejects. @note Thread safe.
std::unique_ptr<writer> make_writer(std::string_view text, const driver_context& context);
std::unique_ptr<reader> make_reader(std::string_view text, const driver_context& context);

}  // namespace v1
}  // namespace osprof
