// otlp:// and otlp+https://: spans to an OTLP/HTTP JSON collector. A start is held until its
// stop comes (otlp_spans.hpp), so an export can carry events of earlier batches; the HTTP
// write path charges what a collector refuses to them (write_result::revoked), and at close
// every held start is exported as an unfinished span, once.
#include <algorithm>
#include <chrono>

#include <osprof/drivers/otlp.hpp>

#include "drivers/http/http_writer.hpp"
#include "drivers/otlp/otlp_options.hpp"
#include "drivers/otlp/otlp_encoder.hpp"
#include "drivers/otlp/otlp_spans.hpp"

namespace osprof::detail::otlp {

namespace {

namespace asio = boost::asio;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class otlp_codec final : public http::codec {
 public:
  otlp_codec(otlp_options options, const driver_context& context)
      : http::codec(options.target, "application/json"),
        options_(std::move(options)),
        joiner_(join_options{options_.unfinished_timeout, options_.max_pending}),
        encoder_(resource_info{service_name(options_.service_name_prefix, context.project, context.service),
                               context.host}) {}

  std::vector<http::part> encode(const batch& b) override { return export_of(joiner_.join(b.events, now_us())); }

  std::vector<http::part> drain() override { return export_of(joiner_.drain()); }

  // A partial success is final (the protocol forbids retrying it). The answer does not say
  // which spans were refused: each is charged two events (its start and stop), at most all.
  asio::awaitable<http::verdict> judge(http::client&, const batch&, const http::response& resp, http::part& p) override {
    if (!resp.ok()) co_return http::judge_status(resp, "OTLP export to " + options_.url);
    const auto answer = parse_export_response(resp.body);
    if (answer.rejected_spans == 0) co_return http::verdict::stored_part();
    const std::size_t carried = p.events + p.earlier;
    co_return http::verdict::stored_part(
        static_cast<std::size_t>(std::min<std::uint64_t>(carried, answer.rejected_spans * 2)),
        "the collector rejected " + std::to_string(answer.rejected_spans) + " spans: " +
            (answer.error_message.empty() ? "(no message)" : answer.error_message));
  }

 private:
  otlp_options options_;
  span_joiner joiner_;
  span_encoder encoder_;

  // One export request for the spans complete now (none when there are none).
  std::vector<http::part> export_of(const std::vector<span_record>& spans) {
    if (spans.empty()) return {};
    http::part p;
    for (const auto& s : spans) {
      p.events += s.events_in_batch;
      p.earlier += s.events_before;
    }
    p.body = encoder_.encode(spans);
    return {std::move(p)};
  }
};

}  // namespace

}  // namespace osprof::detail::otlp

void osprof::drivers::register_otlp() {
  osprof::detail::http::register_backend<osprof::detail::otlp::otlp_options, osprof::detail::otlp::otlp_codec>();
}
