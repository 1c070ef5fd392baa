#include "drivers/messaging/amqp_link.hpp"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace osprof::detail::messaging {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  if (ms.count() < 0) ms = std::chrono::milliseconds(0);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

timeval until(clock::time_point deadline) {
  return to_timeval(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
}

std::string text_of(amqp_bytes_t b) { return std::string(static_cast<const char*>(b.bytes), b.len); }

amqp_bytes_t bytes_of(std::string_view s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

failure_kind kind_of_status(int status) {
  switch (status) {
    case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED:
    case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
    case AMQP_STATUS_BROKER_UNSUPPORTED_SASL_METHOD:
      return failure_kind::refused;
    case AMQP_STATUS_BAD_AMQP_DATA:
    case AMQP_STATUS_UNKNOWN_CLASS:
    case AMQP_STATUS_UNKNOWN_METHOD:
    case AMQP_STATUS_INCOMPATIBLE_AMQP_VERSION:
    case AMQP_STATUS_UNEXPECTED_STATE:
      return failure_kind::protocol;
    default:
      return failure_kind::network;
  }
}

// A hint for the failures whose library text alone does not say what to do.
std::string status_text(int status, bool tls) {
  std::string text = amqp_error_string2(status);
  if (status == AMQP_STATUS_SSL_CONNECTION_FAILED) text += " (is this a TLS port?)";
  if (status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED) {
    text += " (the certificate must list the host name connected to as a DNS name: rabbitmq-c does not match IP "
            "address entries)";
  }
  if (!tls && (status == AMQP_STATUS_CONNECTION_CLOSED || status == AMQP_STATUS_SOCKET_CLOSED)) {
    text += " (if this is a TLS port, use rabbits:// or ssl=1)";
  }
  return text;
}

// Close codes that will not change by trying again: access refused (credentials,
// permissions), not allowed (unknown vhost), not found, precondition failed.
failure_kind kind_of_close(int code) {
  return code == 403 || code == 530 || code == 404 || code == 406 || code == 402 ? failure_kind::refused
                                                                                 : failure_kind::network;
}

}  // namespace

amqp_link::amqp_link(const messaging_options& options, std::string name) : options_(options), name_(std::move(name)) {
  if (options_.tls && options_.tls_verify && options_.ca_file.empty()) {
    // rabbitmq-c trusts nothing by default: use the system's CAs, as the other TLS drivers do.
    const char* file = X509_get_default_cert_file();
    if (file != nullptr && std::filesystem::exists(file)) default_ca_ = file;
  }
  for (const auto* f : {&options_.ca_file, &options_.cert_file, &options_.key_file}) {
    if (!f->empty() && !std::filesystem::exists(*f)) {
      throw amqp_failure(failure_kind::refused, options_.redacted + ": TLS file '" + *f + "' does not exist");
    }
  }
}

amqp_link::~amqp_link() { close(); }

void amqp_link::open() {
  if (conn_ != nullptr) return;
  std::string failures;
  bool any_retryable = false;
  for (const auto& b : options_.brokers) {
    try {
      open_one(b);
      return;
    } catch (const amqp_failure& f) {
      close();
      any_retryable = any_retryable || f.retryable();
      if (!failures.empty()) failures += "; ";
      failures += f.what();
    }
  }
  // One broker that refused for good while another is only down: the other may come back.
  throw amqp_failure(any_retryable ? failure_kind::network : failure_kind::refused, failures);
}

void amqp_link::open_one(const broker& b) {
  where_ = b.text();
  blocked_ = false;
  blocked_reason_.clear();
  conn_ = amqp_new_connection();
  if (conn_ == nullptr) throw amqp_failure(failure_kind::network, where_ + ": out of memory");
  amqp_socket_t* socket = nullptr;
  if (options_.tls) {
    socket = amqp_ssl_socket_new(conn_);
    if (socket == nullptr) throw amqp_failure(failure_kind::network, where_ + ": cannot create a TLS socket");
    amqp_ssl_socket_set_verify_peer(socket, options_.tls_verify ? 1 : 0);
    amqp_ssl_socket_set_verify_hostname(socket, options_.tls_verify ? 1 : 0);
    const std::string& ca = options_.ca_file.empty() ? default_ca_ : options_.ca_file;
    if (!ca.empty() && amqp_ssl_socket_set_cacert(socket, ca.c_str()) != AMQP_STATUS_OK) {
      throw amqp_failure(failure_kind::refused, where_ + ": cannot load the CA file '" + ca + "'");
    }
    if (!options_.cert_file.empty() &&
        amqp_ssl_socket_set_key(socket, options_.cert_file.c_str(), options_.key_file.c_str()) != AMQP_STATUS_OK) {
      throw amqp_failure(failure_kind::refused, where_ + ": cannot load the client certificate '" + options_.cert_file +
                                                    "' or its key '" + options_.key_file + "'");
    }
  } else {
    socket = amqp_tcp_socket_new(conn_);
    if (socket == nullptr) throw amqp_failure(failure_kind::network, where_ + ": cannot create a socket");
  }
  const timeval tv = to_timeval(options_.timeout);
  const int opened = amqp_socket_open_noblock(socket, b.host.c_str(), b.port, &tv);
  if (opened != AMQP_STATUS_OK) {
    std::string text = status_text(opened, options_.tls);
    if (opened == AMQP_STATUS_SOCKET_ERROR) {
      // rabbitmq-c connects without blocking and does not pass on the socket's error: errno
      // is still EINPROGRESS from connect(2) when the connection was refused.
      if (errno == EINPROGRESS || errno == 0) {
        text += " (refused or unreachable: is the broker running and listening there?)";
      } else {
        text += std::string(" (") + std::strerror(errno) + ")";
      }
    }
    throw amqp_failure(kind_of_status(opened), where_ + ": cannot connect: " + text);
  }
  fd_ = amqp_socket_get_sockfd(socket);
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);

  // Client properties: a name in the broker's connection list, and the capabilities the
  // driver handles (connection.blocked: told when an alarm blocks publishing).
  amqp_table_entry_t capabilities[] = {
      {amqp_cstring_bytes("connection.blocked"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
      {amqp_cstring_bytes("consumer_cancel_notify"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
  };
  amqp_table_entry_t properties[] = {
      {amqp_cstring_bytes("product"), {AMQP_FIELD_KIND_UTF8, {.bytes = amqp_cstring_bytes("osprof")}}},
      {amqp_cstring_bytes("connection_name"), {AMQP_FIELD_KIND_UTF8, {.bytes = bytes_of(name_)}}},
      {amqp_cstring_bytes("capabilities"), {AMQP_FIELD_KIND_TABLE, {.table = {2, capabilities}}}},
  };
  amqp_table_t client_properties{3, properties};
  const amqp_rpc_reply_t login =
      amqp_login_with_properties(conn_, options_.vhost.c_str(), 0, 131072, options_.heartbeat_s, &client_properties,
                                 AMQP_SASL_METHOD_PLAIN, b.user.c_str(), b.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    fail_reply("login", login.reply_type, login.library_error, &login.reply);
  }
  open_channel();
}

void amqp_link::open_channel() {
  ++channel_;
  if (channel_ == 0 || channel_ > 2000) channel_ = 1;
  amqp_channel_open(conn_, channel_);
  check_rpc("opening a channel");
  next_tag_ = 1;
}

void amqp_link::check_rpc(const char* what) {
  const amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) fail_reply(what, r.reply_type, r.library_error, &r.reply);
}

void amqp_link::fail_reply(const char* what, int reply_type, int library_error, const void* reply) {
  const auto* method = static_cast<const amqp_method_t*>(reply);
  std::string prefix = options_.redacted.empty() ? where_ : where_;
  prefix += ": ";
  prefix += what;
  prefix += " failed: ";
  if (reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
    // rabbitmq-c reports a login the broker ended (bad credentials) as a closed connection.
    std::string text = status_text(library_error, options_.tls);
    if (std::string_view(what) == "login" && library_error == AMQP_STATUS_CONNECTION_CLOSED) {
      text += " (wrong user name or password?)";
    }
    throw amqp_failure(kind_of_status(library_error), prefix + text);
  }
  if (reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && method != nullptr) {
    if (method->id == AMQP_CONNECTION_CLOSE_METHOD) {
      const auto* c = static_cast<const amqp_connection_close_t*>(method->decoded);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      const std::string text = text_of(c->reply_text);
      throw amqp_failure(kind_of_close(c->reply_code), prefix + "the broker closed the connection: " + text);
    }
    if (method->id == AMQP_CHANNEL_CLOSE_METHOD) {
      const auto* c = static_cast<const amqp_channel_close_t*>(method->decoded);
      amqp_channel_close_ok_t ok{};
      amqp_send_method(conn_, channel_, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      const std::string text = text_of(c->reply_text);
      const int code = c->reply_code;
      // The channel is gone; the connection may serve a new one.
      open_channel();
      throw amqp_failure(kind_of_close(code), prefix + "the broker closed the channel: " + text);
    }
  }
  throw amqp_failure(failure_kind::protocol, prefix + "no answer the driver understands");
}

void amqp_link::fail_status(const char* what, int status) {
  throw amqp_failure(kind_of_status(status), where_ + ": " + what + " failed: " + status_text(status, options_.tls));
}

void amqp_link::close() noexcept {
  if (conn_ == nullptr) return;
  if (fd_ >= 0) {
    // Bounded: the handshake/RPC timeout applies to the close too.
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn_);
  conn_ = nullptr;
  fd_ = -1;
  blocked_ = false;
}

void amqp_link::interrupt() noexcept {
  const int fd = fd_.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void amqp_link::declare_topology() {
  const std::string queue = options_.routing_key();
  amqp_exchange_declare(conn_, channel_, bytes_of(options_.exchange), amqp_cstring_bytes("topic"), 1, 0, 0, 0,
                        amqp_empty_table);
  try {
    check_rpc("checking the exchange");
  } catch (const amqp_failure& f) {
    if (std::string_view(f.what()).find("NOT_FOUND") == std::string_view::npos) throw;
    amqp_exchange_declare(conn_, channel_, bytes_of(options_.exchange), amqp_cstring_bytes("topic"), 0,
                          options_.durable ? 1 : 0, options_.auto_delete ? 1 : 0, 0, amqp_empty_table);
    check_rpc("declaring the exchange");
  }
  amqp_queue_declare(conn_, channel_, bytes_of(queue), 1, 0, 0, 0, amqp_empty_table);
  try {
    check_rpc("checking the queue");
  } catch (const amqp_failure& f) {
    if (std::string_view(f.what()).find("NOT_FOUND") == std::string_view::npos) throw;
    amqp_queue_declare(conn_, channel_, bytes_of(queue), 0, options_.durable ? 1 : 0, 0, options_.auto_delete ? 1 : 0,
                       amqp_empty_table);
    check_rpc("declaring the queue");
  }
  amqp_queue_bind(conn_, channel_, bytes_of(queue), bytes_of(options_.exchange), bytes_of(queue), amqp_empty_table);
  check_rpc("binding the queue");
}

void amqp_link::select_confirms() {
  amqp_confirm_select(conn_, channel_);
  check_rpc("selecting publisher confirms");
  next_tag_ = 1;
}

std::uint64_t amqp_link::publish(std::string_view body) {
  // What kombu sets for oslo.messaging's JSON messages.
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_HEADERS_FLAG |
                 AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.content_encoding = amqp_cstring_bytes("utf-8");
  props.headers = amqp_empty_table;
  props.delivery_mode = 2;
  props.priority = 0;
  const std::string key = options_.routing_key();
  const int status = amqp_basic_publish(conn_, channel_, bytes_of(options_.exchange), bytes_of(key), 0, 0, &props,
                                        bytes_of(body));
  if (status != AMQP_STATUS_OK) fail_status("publishing", status);
  return next_tag_++;
}

void amqp_link::poll(confirm_sink* sink) {
  while (amqp_frames_enqueued(conn_) || amqp_data_in_buffer(conn_)) {
    if (!read_one(clock::now(), sink, nullptr)) return;
  }
  // Nothing buffered: one look at the socket without waiting (services heartbeats too).
  read_one(clock::now(), sink, nullptr);
}

bool amqp_link::read_one(clock::time_point deadline, confirm_sink* sink, delivery* out) {
  if (!amqp_frames_enqueued(conn_) && !amqp_data_in_buffer(conn_)) amqp_maybe_release_buffers(conn_);
  amqp_frame_t frame{};
  timeval tv = until(deadline);
  int status = amqp_simple_wait_frame_noblock(conn_, &frame, &tv);
  if (status == AMQP_STATUS_TIMEOUT) return false;
  if (status != AMQP_STATUS_OK) fail_status("reading from the broker", status);
  if (frame.frame_type != AMQP_FRAME_METHOD) return true;  // heartbeats are answered by the library
  switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      const auto* a = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
      if (sink != nullptr) sink->on_confirm(a->delivery_tag, a->multiple != 0, true);
      return true;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* n = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
      if (sink != nullptr) sink->on_confirm(n->delivery_tag, n->multiple != 0, false);
      return true;
    }
    case AMQP_CONNECTION_BLOCKED_METHOD: {
      const auto* b = static_cast<const amqp_connection_blocked_t*>(frame.payload.method.decoded);
      blocked_ = true;
      blocked_reason_ = text_of(b->reason);
      return true;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      blocked_ = false;
      blocked_reason_.clear();
      return true;
    case AMQP_CONNECTION_CLOSE_METHOD:
    case AMQP_CHANNEL_CLOSE_METHOD:
      fail_reply("the connection", AMQP_RESPONSE_SERVER_EXCEPTION, 0, &frame.payload.method);
    case AMQP_BASIC_CANCEL_METHOD:
      throw amqp_failure(failure_kind::network, where_ + ": the broker cancelled the consumer (queue deleted?)");
    case AMQP_BASIC_DELIVER_METHOD: {
      const auto* d = static_cast<const amqp_basic_deliver_t*>(frame.payload.method.decoded);
      delivery got;
      got.tag = d->delivery_tag;
      got.redelivered = d->redelivered != 0;
      // The header and body frames follow at once; a broker that stops midway is a failure.
      const clock::time_point body_deadline = clock::now() + options_.timeout;
      amqp_frame_t header{};
      tv = until(body_deadline);
      status = amqp_simple_wait_frame_noblock(conn_, &header, &tv);
      if (status != AMQP_STATUS_OK) fail_status("reading a message", status);
      if (header.frame_type != AMQP_FRAME_HEADER) {
        throw amqp_failure(failure_kind::protocol, where_ + ": a message without its header frame");
      }
      const std::uint64_t size = header.payload.properties.body_size;
      got.body.reserve(size);
      while (got.body.size() < size) {
        amqp_frame_t body{};
        tv = until(body_deadline);
        status = amqp_simple_wait_frame_noblock(conn_, &body, &tv);
        if (status != AMQP_STATUS_OK) fail_status("reading a message", status);
        if (body.frame_type != AMQP_FRAME_BODY) {
          throw amqp_failure(failure_kind::protocol, where_ + ": a message cut short");
        }
        got.body.append(static_cast<const char*>(body.payload.body_fragment.bytes), body.payload.body_fragment.len);
      }
      if (out != nullptr) *out = std::move(got);
      return true;
    }
    default:
      return true;
  }
}

void amqp_link::consume(std::uint16_t prefetch) {
  amqp_basic_qos(conn_, channel_, 0, prefetch, 0);
  check_rpc("setting the prefetch count");
  const std::string queue = options_.routing_key();
  amqp_basic_consume(conn_, channel_, bytes_of(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  check_rpc("starting to consume");
}

std::optional<delivery> amqp_link::next(clock::time_point deadline) {
  for (;;) {
    delivery d;
    d.tag = 0;
    if (!read_one(deadline, nullptr, &d)) return std::nullopt;
    if (d.tag != 0) return d;
  }
}

void amqp_link::ack(std::uint64_t tag, bool multiple) {
  const int status = amqp_basic_ack(conn_, channel_, tag, multiple ? 1 : 0);
  if (status != AMQP_STATUS_OK) fail_status("acknowledging", status);
}

void amqp_link::nack(std::uint64_t tag, bool multiple, bool requeue) {
  const int status = amqp_basic_nack(conn_, channel_, tag, multiple ? 1 : 0, requeue ? 1 : 0);
  if (status != AMQP_STATUS_OK) fail_status("returning messages to the queue", status);
}

}  // namespace osprof::detail::messaging
