// The one write path of the HTTP backends (InfluxDB, ClickHouse, Elasticsearch, OTLP). A
// backend supplies a codec: how a batch is encoded into request bodies ("parts") and how the
// server's answer to each is judged. The writer does the rest, once for all of them: the
// connection (keep-alive, TLS, gzip, timeouts: client.hpp), sending the parts in order,
// resuming a batch the emitter retries (keyed on batch::id) at the first part not yet
// stored, and the accounting of what was stored, refused and lost.
//
// Accounting. A part carries `events` of the batch being written and, for a codec that holds
// events across batches (OTLP holds a start until its stop comes), `earlier` events that an
// earlier write already reported stored. Events a server refuses are charged to the batch's
// own first, then to the earlier ones, which the emitter then moves from written to dropped
// (write_result::revoked). A part never sent because the emitter abandoned its batch (the
// shutdown deadline) revokes its earlier events at the next write or at close.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <osprof/driver.hpp>

#include "drivers/http/client.hpp"
#include "drivers/http/endpoint_options.hpp"

namespace osprof::detail::http {

/// One request body of a batch, and the events it carries.
struct part {
  std::string body;
  std::size_t events = 0;   ///< events of the batch being written
  std::size_t earlier = 0;  ///< events of earlier batches, reported stored then
  std::size_t stored = 0;   ///< of `events`, known stored already (a body the server took in part)
};

/// What a codec decides about the answer to a part.
struct verdict {
  enum class kind : std::uint8_t {
    stored,   ///< the part is done; `refused` of its events were refused for good
    again,    ///< send the same part again now (the codec fixed the cause, e.g. created a table)
    retry,    ///< stop here; the emitter retries the batch later (with `retry_after` at least)
    refused,  ///< the rest of the batch cannot be stored (bad credentials, ...): give it up
  };
  kind what = kind::stored;
  std::size_t refused = 0;
  std::string why;
  std::chrono::milliseconds retry_after{0};

  static verdict stored_part(std::size_t refused = 0, std::string why = {}) {
    return {kind::stored, refused, std::move(why), {}};
  }
  static verdict send_again() { return {kind::again, 0, {}, {}}; }
  static verdict retry(std::string why, std::chrono::milliseconds after = {}) {
    return {kind::retry, 0, std::move(why), after};
  }
  static verdict give_up(std::string why) { return {kind::refused, 0, std::move(why), {}}; }
};

/// The common rules for an answer: 2xx stored; 408, 429, 500, 502, 503, 504 retried (with
/// Retry-After); 401/403 refused as an authentication failure; anything else refused. `what`
/// names the operation; the message carries the start of the body.
verdict judge_status(const response& r, std::string_view what);
/// No answer: retried, except TLS failures (certificates), which retrying cannot fix.
verdict judge_failure(const transport_error& e, std::string_view what);

/// What a backend supplies to the writer. Called on the writer's executor, one call at a time.
class codec {
 public:
  /// Every part is POSTed to `target` (path and query, encoded) as `content_type`.
  codec(std::string target, std::string content_type)
      : target_(std::move(target)), content_type_(std::move(content_type)) {}
  virtual ~codec() = default;

  const std::string& target() const noexcept { return target_; }
  const std::string& content_type() const noexcept { return content_type_; }

  /// The parts of a batch, called once per batch::id. `b.events` stays valid during the write.
  virtual std::vector<part> encode(const batch& b) = 0;
  /// Judges the answer to `p`. May send requests of its own on `c` (create a missing table), or
  /// change `p` (Elasticsearch keeps only the items to resend).
  virtual asio::awaitable<verdict> judge(client& c, const batch& b, const response& r, part& p) = 0;

  /// Before the first part, and again after a connection failure (e.g. create the database).
  /// nullopt: go on.
  virtual asio::awaitable<std::optional<verdict>> prepare(client& c);
  /// At close: parts for events the codec still holds across batches (OTLP's open spans),
  /// sent once. Their events are all `earlier`.
  virtual std::vector<part> drain();
  /// At close, after the last part and before the connection closes (Elasticsearch's refresh).
  virtual asio::awaitable<void> before_close(client& c);

 private:
  std::string target_;
  std::string content_type_;
};

class http_writer final : public writer {
 public:
  /// `where` names the backend in messages ("InfluxDB at influxdb://host:8086/db").
  http_writer(asio::any_io_executor executor, endpoint_options options, std::string where, std::unique_ptr<codec> codec);
  ~http_writer() override;

  asio::awaitable<write_result> write(const batch& b) override;
  asio::awaitable<close_result> close() override;

 private:
  /// The batch being written, kept across the emitter's retries of it.
  struct inflight_batch {
    std::uint64_t id = 0;
    std::size_t size = 0;
    std::vector<part> parts;
    std::size_t next = 0;      ///< the first part not yet done
    std::size_t refused = 0;   ///< events of this batch refused for good
    std::size_t revoked = 0;   ///< earlier events lost with parts of this batch
    std::string rejection;     ///< the first reason
  };

  asio::awaitable<write_result> send_parts(const batch& b);
  asio::awaitable<verdict> exchange(const batch& b, part& p);
  void charge(inflight_batch& f, const part& p, std::size_t lost, const std::string& why);
  write_result give_up(const std::string& why);
  write_result finish();
  std::string with_where(const std::string& why) const;

  endpoint_options options_;
  std::string where_;
  std::unique_ptr<codec> codec_;
  client client_;
  bool prepared_ = false;          ///< codec_->prepare() ran on this connection
  std::size_t pending_revoked_ = 0;  ///< from an abandoned batch, reported with the next result
  std::optional<inflight_batch> inflight_;
};

/// The writer of an HTTP backend: `Options` has `endpoint` and `backend`, `Codec` is made from
/// the options and the driver context.
template <class Codec, class Options>
std::unique_ptr<writer> make_writer(Options options, const driver_context& context) {
  endpoint_options endpoint = options.endpoint;
  std::string where = options.where();
  return std::make_unique<http_writer>(context.executor, std::move(endpoint), std::move(where),
                                       std::make_unique<Codec>(std::move(options), context));
}

/// An HTTP backend that can be read has, in its options' namespace (found by argument-dependent
/// lookup), a new connection per call:
///   awaitable<vector<string>> read_trace(const Options&, string_view base_id);
///   awaitable<vector<trace_summary>> list_traces(const Options&, bool errors_only);
template <class Options>
concept readable_backend = requires(const Options& o) {
  read_trace(o, std::string_view{});
  list_traces(o, true);
};

// Called from outside the reader class, whose members of the same names would hide them.
template <readable_backend Options>
asio::awaitable<std::vector<std::string>> stored_events(const Options& o, std::string_view base_id) {
  return read_trace(o, base_id);
}
template <readable_backend Options>
asio::awaitable<std::vector<trace_summary>> stored_traces(const Options& o, bool errors_only) {
  return list_traces(o, errors_only);
}

template <readable_backend Options>
class function_reader final : public reader {
 public:
  explicit function_reader(Options options) : options_(std::move(options)) {}

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override {
    co_return co_await stored_events(options_, base_id);
  }
  asio::awaitable<std::vector<trace_summary>> list_traces() override { co_return co_await stored_traces(options_, false); }
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override { co_return co_await stored_traces(options_, true); }

 private:
  Options options_;
};

/// Registers an HTTP backend: `Options::backend` names it, `Options::from(connection_string,
/// timeout)` parses its options, its writer is `Codec` on the HTTP write path, and its reader
/// the read functions above. A backend without them says where to look instead, in
/// `Options::why_no_reader`.
template <class Options, class Codec>
void register_backend() {
  for (const bool tls : {false, true}) {
    driver_registration r;
    r.scheme = std::string(Options::backend.name) + (tls ? "+https" : "");
    r.summary = Options::backend.summary(tls);
    r.make_writer = [](const connection_string& cs, const driver_context& context) {
      return make_writer<Codec>(Options::from(cs, context.timeout), context);
    };
    if constexpr (readable_backend<Options>) {
      r.make_reader = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<reader> {
        return std::make_unique<function_reader<Options>>(Options::from(cs, context.timeout));
      };
    } else {
      r.why_no_reader = Options::why_no_reader;
    }
    register_driver(std::move(r));
  }
}

}  // namespace osprof::detail::http
