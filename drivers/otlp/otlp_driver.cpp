#include "drivers/otlp/otlp_driver.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/this_coro.hpp>

#include <osprof/error.hpp>

#include "common/env_parse.hpp"
#include "common/log.hpp"
#include "drivers/builtin.hpp"

// GCC 12 pairs Asio's aligned_alloc'ed coroutine frames with the frame's sized operator
// delete and warns; Asio frees them with aligned_delete, so the warning is a false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace osprof::detail::otlp {

namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

otlp_driver::otlp_driver(std::string scheme, otlp_options options, const driver_context& context)
    : scheme_(std::move(scheme)),
      options_(std::move(options)),
      joiner_(join_options{options_.unfinished_timeout, options_.max_pending}),
      encoder_(resource_info{context.service, context.project, context.host}) {}

otlp_driver::~otlp_driver() = default;

// Posts one body; on a verdict other than retry, `lost` is how many of `events` did not
// reach the collector (all on a refusal, those of the rejected spans on a partial success).
asio::awaitable<write_result> otlp_driver::send(const std::string& body, std::size_t spans, std::size_t events,
                                                std::size_t& lost, std::string& why) {
  lost = 0;
  if (!client_) client_ = std::make_unique<http::client>(co_await asio::this_coro::executor, options_.http);
  http::request req;
  req.method = "POST";
  req.target = options_.target;
  req.body = body;
  req.content_type = "application/json";
  req.gzip = options_.gzip;
  http::response resp;
  try {
    resp = co_await client_->send(std::move(req));
  } catch (const http::transport_error& e) {
    auto verdict = http::classify(e, "OTLP export to " + options_.endpoint);
    if (verdict.status == write_status::retry) co_return verdict;
    lost = events;
    why = verdict.error;
    co_return write_result::success();
  }
  if (!resp.ok()) {
    auto verdict = http::classify(resp, "OTLP export to " + options_.endpoint);
    if (verdict.status == write_status::retry) co_return verdict;
    lost = events;
    why = verdict.error;
    co_return write_result::success();
  }
  // A partial success is final (the protocol forbids retrying it). The answer does not say
  // which spans were refused: each is charged two events (its start and stop), at most all.
  const auto answer = parse_export_response(resp.body);
  if (answer.rejected_spans != 0) {
    lost = static_cast<std::size_t>(std::min<std::uint64_t>(events, answer.rejected_spans * 2));
    why = "the collector rejected " + std::to_string(answer.rejected_spans) + " of " + std::to_string(spans) +
          " spans: " + (answer.error_message.empty() ? "(no message)" : answer.error_message);
  }
  co_return write_result::success();
}

write_result otlp_driver::settle(std::size_t batch_size, std::size_t lost, std::string why) {
  const std::size_t owed = lost_debt_ + lost;
  write_result r;
  r.rejected = std::min(batch_size, owed);
  lost_debt_ = owed - r.rejected;
  if (lost != 0) r.error = options_.redacted + ": " + why;
  return r;
}

asio::awaitable<write_result> otlp_driver::write(std::span<const event_record> batch) {
  const auto id = http::batch_identity::of(batch);
  if (!inflight_ || !(inflight_->id == id)) {
    // The emitter gave up on the previous batch (shutdown deadline): it counted that batch's
    // own events dropped, but the held starts its spans carried were counted written before.
    if (inflight_) lost_debt_ += inflight_->events_before;
    auto spans = joiner_.join(batch, now_us());
    inflight_.emplace();
    inflight_->id = id;
    inflight_->spans = spans.size();
    for (const auto& s : spans) {
      inflight_->events += s.events_in_batch + s.events_before;
      inflight_->events_before += s.events_before;
    }
    if (!spans.empty()) inflight_->body = encoder_.encode(spans);
  }
  if (inflight_->spans == 0) {
    inflight_.reset();
    co_return settle(batch.size(), 0, {});
  }
  std::size_t lost = 0;
  std::string why;
  auto verdict = co_await send(inflight_->body, inflight_->spans, inflight_->events, lost, why);
  if (verdict.status == write_status::retry) co_return verdict;
  inflight_.reset();
  co_return settle(batch.size(), lost, std::move(why));
}

asio::awaitable<void> otlp_driver::close() {
  // A batch the emitter abandoned and the starts still waiting for their stop: exported now
  // (the starts as unfinished spans), once, so a clean shutdown loses nothing.
  if (inflight_) {
    lost_debt_ += inflight_->events_before;
    inflight_.reset();
  }
  auto spans = joiner_.drain();
  if (!spans.empty()) {
    std::size_t events = 0;
    for (const auto& s : spans) events += s.events_before + s.events_in_batch;
    std::size_t lost = 0;
    std::string why;
    const auto verdict = co_await send(encoder_.encode(spans), spans.size(), events, lost, why);
    if (verdict.status == write_status::retry) {
      lost = events;
      why = verdict.error;
    }
    if (lost != 0) {
      lost_debt_ += lost;
      log_message(options_.redacted + ": exporting " + std::to_string(spans.size()) +
                  " unfinished spans at close failed: " + why);
    }
  }
  if (lost_debt_ != 0) {
    log_message(options_.redacted + ": " + std::to_string(lost_debt_) +
                " events counted written while their start was held did not reach the collector");
  }
  if (client_) client_->close();
}

void otlp_driver::write_only() const {
  throw error(scheme_ +
              "://: OTLP is write-only: a collector does not give traces back, so osprof cannot show or list them "
              "from it; look at them in the tracing UI behind the collector (Jaeger, Grafana Tempo), or send the "
              "events to a backend osprof can read (sqlite://, redis://, elasticsearch://)");
}

asio::awaitable<std::vector<std::string>> otlp_driver::read_trace(std::string_view) {
  write_only();
  co_return std::vector<std::string>{};
}

asio::awaitable<std::vector<trace_summary>> otlp_driver::list_traces() {
  write_only();
  co_return std::vector<trace_summary>{};
}

asio::awaitable<std::vector<trace_summary>> otlp_driver::list_error_traces() {
  write_only();
  co_return std::vector<trace_summary>{};
}

}  // namespace osprof::detail::otlp

namespace osprof::detail {

void register_otlp_driver(driver_registry& registry) {
  for (const char* scheme : {"otlp", "otlp+https"}) {
    registry.add(
        scheme,
        [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<driver> {
          return std::make_unique<otlp::otlp_driver>(cs.scheme, otlp::otlp_options::from(cs, context.timeout, env_value),
                                                     context);
        },
        std::string(scheme) == "otlp"
            ? "otlp://host[:port] OTLP/HTTP JSON to a collector's /v1/traces (Jaeger, Tempo); write-only; "
              "OTEL_EXPORTER_OTLP_* honoured"
            : "otlp+https://host[:port] OTLP/HTTP JSON over TLS, certificates verified; write-only");
  }
}

}  // namespace osprof::detail
