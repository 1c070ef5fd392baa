// osprof::drivers::messaging::consumer: the AMQP link, consuming with manual acknowledgement.
#include <osprof/connection_string.hpp>
#include <osprof/drivers/messaging.hpp>
#include <osprof/error.hpp>

#include "common/env_parse.hpp"
#include "drivers/messaging/amqp_link.hpp"
#include "drivers/messaging/notification.hpp"

namespace osprof::drivers::messaging {

using namespace osprof::detail::messaging;

struct consumer::impl {
  messaging_options options;
  std::uint16_t prefetch;
  std::unique_ptr<amqp_link> link;
  bool consuming = false;

  void reset() noexcept {
    if (link) link->close();
    consuming = false;
  }
};

consumer::consumer(std::string_view connection_string, std::chrono::milliseconds timeout, std::uint16_t prefetch)
    : impl_(std::make_unique<impl>()) {
  impl_->options = messaging_options::from(connection_string::parse(connection_string), timeout,
                                           osprof::detail::env_value("OSPROF_TRANSPORT_URL"));
  impl_->prefetch = prefetch;
  try {
    impl_->link = std::make_unique<amqp_link>(impl_->options, "osprof collect");
  } catch (const amqp_failure& f) {
    throw error(f.what());
  }
}

consumer::~consumer() { close(); }

std::optional<received> consumer::next(std::chrono::milliseconds wait) {
  try {
    if (!impl_->consuming) {
      impl_->link->open();
      impl_->link->declare_topology();
      impl_->link->consume(impl_->prefetch);
      impl_->consuming = true;
    }
    auto d = impl_->link->next(clock::now() + wait);
    if (!d) return std::nullopt;
    received r;
    r.tag = d->tag;
    r.redelivered = d->redelivered;
    if (auto n = parse_notification(d->body)) {
      r.notification = true;
      r.event = std::move(n->payload);
    } else {
      r.event = std::move(d->body);
    }
    return r;
  } catch (const amqp_failure& f) {
    impl_->reset();
    throw error(f.what());
  }
}

void consumer::ack_through(std::uint64_t tag) {
  try {
    impl_->link->ack(tag, true);
  } catch (const amqp_failure& f) {
    impl_->reset();
    throw error(f.what());
  }
}

void consumer::reject(std::uint64_t tag) {
  try {
    impl_->link->nack(tag, false, false);
  } catch (const amqp_failure& f) {
    impl_->reset();
    throw error(f.what());
  }
}

void consumer::close() noexcept {
  if (impl_) impl_->reset();
}

const std::string& consumer::where() const noexcept { return impl_->options.redacted; }

}  // namespace osprof::drivers::messaging
