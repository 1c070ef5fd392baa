#include "drivers/messaging/messaging_reader.hpp"

#include <algorithm>

#include <osprof/error.hpp>

#include "common/log.hpp"
#include "drivers/messaging/notification.hpp"

namespace osprof::detail::messaging {

namespace asio = boost::asio;

const char* const no_list_message =
    "messaging:// keeps no traces to list (neither does OSProfiler's messaging driver): store the events with "
    "`osprof collect --from messaging://... --to sqlite:///traces.db` (or any backend that can be read) and list "
    "them there";

read_outcome read_trace_blocking(const messaging_options& options, const std::string& base_id, amqp_link& link,
                                 clock::time_point limit) {
  read_outcome out;
  std::uint64_t last_other = 0;
  try {
    link.open();
    link.declare_topology();
    // No prefetch limit: other traces' messages stay unacknowledged (with the broker) until
    // the end, so they are not delivered to us again, and are returned to the queue at once.
    link.consume(0);
    auto last_event = clock::now();
    for (;;) {
      const auto wait_until = std::min(last_event + options.idle_timeout, limit);
      auto d = link.next(wait_until);
      if (!d) break;
      auto n = parse_notification(d->body);
      if (n && n->base_id == base_id) {
        out.events.push_back(std::move(n->payload));
        link.ack(d->tag, false);
        last_event = clock::now();
        continue;
      }
      if (n) {
        ++out.requeued;
      } else {
        ++out.not_notifications;
      }
      last_other = d->tag;
    }
    if (last_other != 0) link.nack(last_other, true, true);
    link.close();
  } catch (const amqp_failure& f) {
    // Whatever was delivered and not acknowledged goes back to the queue with the connection.
    link.close();
    if (out.events.empty()) out.error = f.what();
  }
  return out;
}

messaging_reader::messaging_reader(messaging_options options, const driver_context& context)
    : options_(std::move(options)), executor_(context.executor) {
  // Finish before the caller's deadline (read_options::timeout) with what was found.
  limit_ = std::max(context.timeout - std::min(context.timeout / 4, std::chrono::milliseconds(2000)),
                    std::chrono::milliseconds(1));
  link_ = std::make_unique<amqp_link>(options_, "osprof trace show");
  thread_ = std::make_unique<amqp_thread>(std::chrono::hours(1), nullptr);
}

messaging_reader::~messaging_reader() {
  thread_->stop([l = link_.get()] { l->interrupt(); });
}

asio::awaitable<std::vector<std::string>> messaging_reader::read_trace(std::string_view base_id) {
  const std::string id(base_id);
  const auto limit = clock::now() + limit_;
  amqp_link* link = link_.get();
  const messaging_options* options = &options_;
  auto job = [options, id, link, limit] { return read_trace_blocking(*options, id, *link, limit); };
  auto op = run_on<read_outcome>(*thread_, executor_, std::move(job));  // not a temporary of co_await (GCC 12)
  auto r = co_await std::move(op);
  if (!r) throw error(options_.redacted + ": the read was cancelled");
  if (!r->error.empty()) throw error("messaging://: " + r->error);
  const std::size_t others = r->requeued + r->not_notifications;
  if (r->events.empty()) {
    // What OSProfiler says here, and what osprof did with the other events.
    log_message("No events are collected for Trace UUID " + id +
                ". Please note that osprof has read ALL events from the " + options_.topic + " topic (queue " +
                options_.routing_key() + "), but has not found any for the specified Trace UUID; the " +
                std::to_string(others) + " other event(s) it read were returned to the queue.");
  } else if (others != 0) {
    log_message("messaging://: returned " + std::to_string(others) + " event(s) of other traces to the queue " +
                options_.routing_key());
  }
  co_return std::move(r->events);
}

asio::awaitable<std::vector<trace_summary>> messaging_reader::list_traces() {
  throw error(no_list_message);
  co_return std::vector<trace_summary>{};
}

asio::awaitable<std::vector<trace_summary>> messaging_reader::list_error_traces() {
  throw error(no_list_message);
  co_return std::vector<trace_summary>{};
}

}  // namespace osprof::detail::messaging
