// Publishing: a batch is published pipelined (every message sent, then the confirms awaited
// together), so `written` means the broker took each event. A message the broker nacks, or
// that was sent on a connection lost before its confirm, is published again on the retry of
// its batch with the same message_id and _unique_id (oslo.messaging's listeners drop a
// repeated _unique_id they have seen recently).
#include "drivers/messaging/messaging_writer.hpp"

#include <chrono>

#include "drivers/messaging/notification.hpp"

namespace osprof::detail::messaging {

namespace asio = boost::asio;

namespace {

constexpr std::size_t poll_every = 256;  // messages published between looks at the broker's replies

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

publisher::publisher(const messaging_options& options) : options_(options), link_(options, "osprof publisher") {}

void publisher::ensure_ready() {
  if (ready_) return;
  link_.open();
  link_.declare_topology();
  link_.select_confirms();
  ready_ = true;
}

void publisher::lose_connection() noexcept {
  link_.close();
  ready_ = false;
  // Sent but not confirmed: the broker may or may not have it. Sent again on the retry.
  if (inflight_) {
    for (auto& s : inflight_->states) {
      if (s == state::sent) s = state::unsent;
    }
  }
  pending_.clear();
  sent_waiting_ = 0;
}

std::size_t publisher::unsent() const {
  std::size_t n = 0;
  for (auto s : inflight_->states) n += s == state::unsent ? 1 : 0;
  return n;
}

void publisher::on_confirm(std::uint64_t tag, bool multiple, bool ack) {
  auto settle = [&](std::map<std::uint64_t, std::size_t>::iterator it) {
    const std::size_t index = it->second;
    if (inflight_ && index < inflight_->states.size() && inflight_->states[index] == state::sent) {
      inflight_->states[index] = ack ? state::confirmed : state::unsent;
      if (ack) ++inflight_->confirmed;
    }
    if (sent_waiting_ > 0) --sent_waiting_;
    return pending_.erase(it);
  };
  if (multiple) {
    for (auto it = pending_.begin(); it != pending_.end() && it->first <= tag;) it = settle(it);
  } else if (auto it = pending_.find(tag); it != pending_.end()) {
    settle(it);
  }
}

write_result publisher::write(std::uint64_t id, std::shared_ptr<const std::vector<std::string>> bodies) {
  if (!inflight_ || inflight_->id != id) {
    if (!bodies) return write_result::retryable("internal: a retried batch the publisher no longer holds");
    // A new batch: confirms still due for an abandoned one no longer count.
    pending_.clear();
    sent_waiting_ = 0;
    inflight_.emplace();
    inflight_->id = id;
    inflight_->bodies = std::move(bodies);
    inflight_->states.assign(inflight_->bodies->size(), state::unsent);
  }
  auto& batch = *inflight_;
  const auto deadline = clock::now() + options_.timeout;
  try {
    ensure_ready();
    link_.poll(this);
    while (batch.confirmed < batch.states.size()) {
      if (link_.blocked()) {
        // An alarm (memory, disk) blocks publishers: wait for it to clear, within the deadline.
        link_.pump(deadline, *this, [&] { return !link_.blocked(); });
        if (link_.blocked()) {
          return write_result::retryable(link_.where() + ": the broker blocks publishing (" + link_.blocked_reason() +
                                         "); " + std::to_string(batch.confirmed) + " of " +
                                         std::to_string(batch.states.size()) + " events of this batch confirmed");
        }
      }
      std::size_t since_poll = 0;
      for (std::size_t i = 0; i < batch.states.size() && !link_.blocked(); ++i) {
        if (batch.states[i] != state::unsent) continue;
        const std::uint64_t tag = link_.publish((*batch.bodies)[i]);
        batch.states[i] = state::sent;
        pending_.emplace(tag, i);
        ++sent_waiting_;
        if (++since_poll == poll_every) {
          since_poll = 0;
          link_.poll(this);
        }
      }
      const bool all = link_.pump(deadline, *this, [&] { return pending_.empty() || link_.blocked(); });
      if (!all) {
        return write_result::retryable(link_.where() + ": the broker confirmed " + std::to_string(batch.confirmed) +
                                       " of " + std::to_string(batch.states.size()) + " events within " +
                                       std::to_string(options_.timeout.count()) + " ms");
      }
      if (link_.blocked()) continue;
      if (unsent() != 0 && clock::now() >= deadline) {
        return write_result::retryable(link_.where() + ": the broker refused (nack) some events; sending them again");
      }
    }
  } catch (const amqp_failure& f) {
    lose_connection();
    if (f.retryable()) return write_result::retryable(f.what());
    inflight_.reset();
    return write_result::fatal(f.what());
  }
  inflight_.reset();
  return write_result::success();
}

void publisher::idle() noexcept {
  if (!ready_) return;
  try {
    link_.poll(this);
  } catch (const amqp_failure&) {
    lose_connection();
  }
}

void publisher::close() noexcept {
  // A blocked broker would not read our close: drop the connection instead of waiting.
  if (link_.blocked()) link_.interrupt();
  lose_connection();
}

messaging_writer::messaging_writer(messaging_options options, const driver_context& context)
    : options_(std::move(options)),
      executor_(context.executor),
      host_(context.host),
      service_(context.service) {
  publisher_ = std::make_unique<publisher>(options_);
  const auto tick = std::chrono::milliseconds(options_.heartbeat_s > 0 ? options_.heartbeat_s * 1000 / 3 : 10000);
  thread_ = std::make_unique<amqp_thread>(tick, [p = publisher_.get()] { p->idle(); });
}

messaging_writer::~messaging_writer() {
  // A job blocked on a socket (a broker that stopped reading) must not hold the emitter's
  // shutdown: end it, then join.
  thread_->stop([p = publisher_.get()] { p->interrupt(); });
}

asio::awaitable<write_result> messaging_writer::write(const batch& b) {
  if (b.empty()) co_return write_result::success();
  std::shared_ptr<const std::vector<std::string>> bodies;
  if (!encoded_any_ || b.id != encoded_id_) {
    // Encoded once per batch: a retry publishes the same message_id and _unique_id.
    auto encoded = std::make_shared<std::vector<std::string>>();
    encoded->reserve(b.size());
    const std::int64_t now = now_us();
    for (const auto& e : b.events) {
      std::string body;
      body.reserve(e.json.size() + 200);
      append_notification(body, e.json, host_, service_, now);
      encoded->push_back(std::move(body));
    }
    bodies = std::move(encoded);
    encoded_id_ = b.id;
    encoded_any_ = true;
  }
  publisher* p = publisher_.get();
  const std::uint64_t id = b.id;
  // The awaitable is made before co_await: GCC 12 destroys temporaries of a co_await
  // expression twice.
  auto job = [p, id, bodies] { return p->write(id, bodies); };
  auto op = run_on<write_result>(*thread_, executor_, std::move(job));
  auto result = co_await std::move(op);
  if (!result) {
    co_return write_result::retryable("the write was cancelled while the broker had not confirmed it; the retry "
                                      "sends only what it does not confirm");
  }
  co_return std::move(*result);
}

asio::awaitable<close_result> messaging_writer::close() {
  publisher* p = publisher_.get();
  auto job = [p] {
    p->close();
    return 0;
  };
  auto op = run_on<int>(*thread_, executor_, std::move(job));
  co_await std::move(op);
  co_return close_result{};
}

}  // namespace osprof::detail::messaging
