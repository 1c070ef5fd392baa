#include "drivers/http/http_writer.hpp"

#include <algorithm>

#include <osprof/error.hpp>

#include "common/text.hpp"


namespace osprof::detail::http {

// ---------------------------------------------------------------- the common options

std::string backend::summary(bool tls) const {
  std::string out(title);
  out += tls ? " over TLS, certificates verified: " : ": ";
  out += name;
  out += tls ? "+https" : "";
  out += "://[user:password@]host[:" + std::to_string(default_port) + "]";
  out += path;
  if (!tls) out += " (" + std::string(what) + ")";
  return out;
}

endpoint_options endpoint_options::parse(const connection_string& cs, const backend& b,
                                         std::chrono::milliseconds default_timeout, std::initializer_list<std::string_view> own) {
  if (cs.scheme != b.name && cs.scheme != std::string(b.name) + "+https") {
    cs.fail("the " + std::string(b.title) + " driver does not handle the scheme '" + cs.scheme + "'");
  }
  std::vector<std::string_view> known(own);
  for (const std::string_view common : {"tls", "tls_verify", "ca_file", "timeout_ms", "gzip", "compression", "max_body_bytes"}) {
    known.push_back(common);
  }
  cs.check_params(known);
  if (cs.host.empty()) cs.fail("no host (" + cs.scheme + "://host:" + std::to_string(b.default_port) + ")");

  endpoint_options o;
  client_options& c = o.client;
  c.redacted = cs.redacted;
  c.tls = cs.scheme.ends_with("+https") || cs.param_bool("tls").value_or(false);
  c.host = cs.host;
  c.port = cs.port_or(b.default_port);
  c.user = cs.user;
  c.password = cs.password;
  c.has_auth = !cs.user.empty() || cs.has_password;
  c.timeout = default_timeout;
  if (auto ms = cs.param_uint("timeout_ms")) {
    if (*ms == 0) cs.fail("option 'timeout_ms' must be at least 1");
    c.timeout = std::chrono::milliseconds(*ms);
  }
  c.verify_peer = cs.param_bool("tls_verify").value_or(true);
  if (auto ca = cs.param("ca_file")) c.ca_file = std::string(*ca);

  if (auto v = cs.param_bool("gzip")) o.gzip = *v;
  if (auto v = cs.param("compression")) {
    if (*v != "gzip" && *v != "none") cs.fail("option 'compression' must be gzip or none, not '" + std::string(*v) + "'");
    o.gzip = *v == "gzip";
  }
  o.max_body_bytes = b.default_max_body;
  if (auto v = cs.param_uint("max_body_bytes")) {
    if (*v < 4096) cs.fail("option 'max_body_bytes' must be at least 4096");
    o.max_body_bytes = static_cast<std::size_t>(*v);
  }
  return o;
}

// ---------------------------------------------------------------- the common rules

verdict judge_status(const response& r, std::string_view what) {
  if (r.ok()) return verdict::stored_part();
  const bool denied = r.status == 401 || r.status == 403;
  std::string why = std::string(what) + (denied ? ": authentication failed (HTTP " : ": HTTP ") + std::to_string(r.status) +
                    (denied ? ")" : "");
  if (!r.body.empty()) why += ": " + excerpt(r.body, 300);
  switch (r.status) {
    case 408: case 429: case 500: case 502: case 503: case 504:
      return verdict::retry(std::move(why), r.retry_after.value_or(std::chrono::milliseconds{0}));
    default:
      return verdict::give_up(std::move(why));
  }
}

verdict judge_failure(const transport_error& e, std::string_view what) {
  std::string why = std::string(what) + ": " + e.what();
  return e.tls_failure ? verdict::give_up(std::move(why)) : verdict::retry(std::move(why));
}

// ---------------------------------------------------------------- codec defaults

asio::awaitable<std::optional<verdict>> codec::prepare(client&) { co_return std::nullopt; }

std::vector<part> codec::drain() { return {}; }

asio::awaitable<void> codec::before_close(client&) { co_return; }

// ---------------------------------------------------------------- the writer

http_writer::http_writer(asio::any_io_executor executor, endpoint_options options, std::string where,
                         std::unique_ptr<codec> codec)
    : options_(std::move(options)),
      where_(std::move(where)),
      codec_(std::move(codec)),
      client_(std::move(executor), options_.client) {}

http_writer::~http_writer() = default;

std::string http_writer::with_where(const std::string& why) const { return where_ + ": " + why; }

asio::awaitable<write_result> http_writer::write(const batch& b) {
  if (!inflight_ || inflight_->id != b.id) {
    if (inflight_) {
      // The emitter abandoned that batch (the shutdown deadline) and counted its own events
      // dropped; the earlier events its unsent parts carried were counted written.
      for (std::size_t i = inflight_->next; i < inflight_->parts.size(); ++i) pending_revoked_ += inflight_->parts[i].earlier;
    }
    inflight_.emplace();
    inflight_->id = b.id;
    inflight_->size = b.size();
    inflight_->parts = codec_->encode(b);
  }
  write_result result;
  try {
    result = co_await send_parts(b);
  } catch (const transport_error& e) {
    // No answer: the connection may be mid-request, and the server may have gone away with
    // whatever prepare() set up; both start afresh. Parts not acknowledged are sent again.
    client_.close();
    prepared_ = false;
    const verdict v = judge_failure(e, "request");
    result = v.what == verdict::kind::retry ? write_result::retryable(with_where(v.why)) : give_up(with_where(v.why));
  } catch (const std::exception& e) {
    // Cancelled by the emitter's write timeout, or anything unexpected: start afresh.
    client_.close();
    prepared_ = false;
    result = write_result::retryable(with_where(std::string("the write failed: ") + e.what()));
  }
  result.revoked += std::exchange(pending_revoked_, 0);
  co_return result;
}

asio::awaitable<write_result> http_writer::send_parts(const batch& b) {
  if (!prepared_) {
    if (auto v = co_await codec_->prepare(client_)) {
      if (v->what == verdict::kind::retry) co_return write_result::retryable(with_where(v->why), v->retry_after);
      if (v->what == verdict::kind::refused) co_return give_up(with_where(v->why));
    }
    prepared_ = true;
  }
  while (inflight_->next < inflight_->parts.size()) {
    part& p = inflight_->parts[inflight_->next];
    verdict v = co_await exchange(b, p);
    if (v.what == verdict::kind::again) v = co_await exchange(b, p);  // once: a fix that did not help is not a loop
    switch (v.what) {
      case verdict::kind::stored:
        charge(*inflight_, p, v.refused, v.why);
        ++inflight_->next;
        break;
      case verdict::kind::again:
        co_return write_result::retryable(with_where("still refused after a fix: " + v.why));
      case verdict::kind::retry:
        co_return write_result::retryable(with_where(v.why), v.retry_after);
      case verdict::kind::refused:
        co_return give_up(with_where(v.why));
    }
  }
  co_return finish();
}

asio::awaitable<verdict> http_writer::exchange(const batch& b, part& p) {
  request req;
  req.target = codec_->target();
  req.content_type = codec_->content_type();
  req.body = p.body;
  req.gzip = options_.gzip;
  const response res = co_await client_.send(std::move(req));
  co_return co_await codec_->judge(client_, b, res, p);
}

// `lost` events of the part are charged to its own events first, then to the earlier ones.
void http_writer::charge(inflight_batch& f, const part& p, std::size_t lost, const std::string& why) {
  const std::size_t own = std::min(lost, p.events - std::min(p.stored, p.events));
  f.refused += own;
  f.revoked += std::min(lost - own, p.earlier);
  if (lost != 0 && f.rejection.empty()) f.rejection = with_where(why);
}

write_result http_writer::give_up(const std::string& why) {
  if (!inflight_) return write_result::fatal(why);
  for (; inflight_->next < inflight_->parts.size(); ++inflight_->next) {
    const part& p = inflight_->parts[inflight_->next];
    charge(*inflight_, p, p.events + p.earlier, why);
  }
  if (inflight_->refused >= inflight_->size) inflight_->rejection = why;
  return finish();
}

// The outcome once every part is stored or given up: failed if nothing of the batch was
// stored, else ok with the refused events counted.
write_result http_writer::finish() {
  const inflight_batch f = std::move(*inflight_);
  inflight_.reset();
  write_result r;
  if (f.size != 0 && f.refused >= f.size) {
    r = write_result::fatal(f.rejection);
  } else {
    r.rejected = f.refused;
    r.error = f.rejection;
  }
  r.revoked = f.revoked;
  if (r.error.empty() && f.revoked != 0) r.error = f.rejection;
  return r;
}

asio::awaitable<close_result> http_writer::close() {
  close_result out;
  if (inflight_) {
    for (std::size_t i = inflight_->next; i < inflight_->parts.size(); ++i) out.revoked += inflight_->parts[i].earlier;
    inflight_.reset();
  }
  out.revoked += std::exchange(pending_revoked_, 0);
  const batch none{};
  for (part& p : codec_->drain()) {
    verdict v;
    try {
      if (!prepared_) {
        if (auto failed = co_await codec_->prepare(client_); failed && failed->what != verdict::kind::stored) {
          throw std::runtime_error(failed->why);
        }
        prepared_ = true;
      }
      v = co_await exchange(none, p);
    } catch (const std::exception& e) {
      v = verdict::give_up(e.what());
    }
    const std::size_t lost = v.what == verdict::kind::stored ? v.refused : p.events + p.earlier;
    if (lost != 0) {
      out.revoked += std::min(lost, p.earlier);
      if (out.error.empty()) out.error = with_where("at close: " + (v.why.empty() ? std::string("not stored") : v.why));
    }
  }
  try {
    co_await codec_->before_close(client_);
  } catch (const std::exception&) {
    // Best effort: the events are stored; only their visibility waits for the server.
  }
  client_.close();
  co_return out;
}

}  // namespace osprof::detail::http
