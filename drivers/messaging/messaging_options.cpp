#include "drivers/messaging/messaging_options.hpp"

#include <array>
#include <charconv>

#include <osprof/error.hpp>

#include "common/env_parse.hpp"
#include "common/text.hpp"

namespace osprof::detail::messaging {

namespace {

constexpr std::array<std::string_view, 4> transport_schemes{"rabbit", "rabbits", "amqp", "amqps"};

// Options of the connection string and of the transport URL's query (oslo.messaging's names
// where it has one).
constexpr std::array<std::string_view, 14> known_options{
    "transport_url", "ssl",         "ssl_ca_file",    "ssl_cert_file", "ssl_key_file",
    "ssl_verify",    "control_exchange", "topic",     "amqp_durable_queues", "amqp_auto_delete",
    "timeout_ms",    "idle_timeout", "heartbeat",     "heartbeat_timeout_threshold"};

[[noreturn]] void bad(const std::string& redacted, const std::string& why) {
  throw error("invalid connection string '" + redacted + "': " + why);
}

std::uint16_t parse_port(std::string_view text, const std::string& redacted) {
  unsigned value = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || r.ec != std::errc{} || r.ptr != text.data() + text.size() || value == 0 || value > 65535) {
    bad(redacted, "the port '" + std::string(text) + "' is not a number from 1 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

// One host of oslo.messaging's netloc: [user[:password]@]host[:port], IPv6 in brackets.
// `decode`: the text is still percent-encoded (a transport URL given as text).
broker parse_host(std::string_view text, bool decode, std::uint16_t default_port, const std::string& redacted) {
  broker b;
  b.port = default_port;
  std::string_view hostport = text;
  if (const auto at = text.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = text.substr(0, at);
    hostport = text.substr(at + 1);
    std::string_view user = credentials;
    std::string_view password;
    bool has_password = false;
    if (const auto colon = credentials.find(':'); colon != std::string_view::npos) {
      user = credentials.substr(0, colon);
      password = credentials.substr(colon + 1);
      has_password = true;
    }
    if (decode) {
      auto u = percent_decode(user);
      auto p = percent_decode(password);
      if (!u || !p) bad(redacted, "a user name or password has a bad %-escape");
      b.user = *u;
      b.password = has_password ? *p : std::string();
    } else {
      b.user = user;
      b.password = has_password ? std::string(password) : std::string();
    }
  }
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) bad(redacted, "an IPv6 host lacks ']'");
    b.host = hostport.substr(1, close - 1);
    const auto rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) bad(redacted, "'" + std::string(hostport) + "' is not [host]:port");
      b.port = parse_port(rest.substr(1), redacted);
    }
  } else if (const auto colon = hostport.find(':'); colon != std::string_view::npos) {
    b.host = hostport.substr(0, colon);
    b.port = parse_port(hostport.substr(colon + 1), redacted);
  } else {
    b.host = hostport;
  }
  if (b.host.empty()) b.host = "localhost";  // oslo.messaging's default rabbit host
  return b;
}

void add_hosts(std::vector<broker>& out, std::string_view netloc, bool decode, std::uint16_t default_port,
               const std::string& redacted) {
  while (!netloc.empty()) {
    const auto comma = netloc.find(',');
    const auto item = netloc.substr(0, comma);
    if (!item.empty()) out.push_back(parse_host(item, decode, default_port, redacted));
    netloc = comma == std::string_view::npos ? std::string_view{} : netloc.substr(comma + 1);
  }
}

struct transport_parts {
  std::string scheme;
  std::vector<broker> brokers;
  std::string vhost;
  std::vector<std::pair<std::string, std::string>> params;
};

std::uint16_t default_port_of(std::string_view scheme) { return scheme == "rabbits" || scheme == "amqps" ? 5671 : 5672; }

// A transport URL given as text (transport_url=, OSPROF_TRANSPORT_URL), parsed as
// oslo.messaging's TransportURL.parse does: netloc split at ',', each host with its own
// credentials, the path's remainder the virtual host.
transport_parts parse_transport_text(std::string_view url, const std::string& redacted) {
  transport_parts t;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    bad(redacted, "the transport URL has no scheme (write rabbit://user:password@host:5672/)");
  }
  for (char c : url.substr(0, scheme_end)) t.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!is_transport_scheme(t.scheme)) {
    bad(redacted, "transport '" + t.scheme + "' is not supported (rabbit://, rabbits://, amqp://)");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // The netloc ends at the first '/' after the last '@' (a password may hold '/' only
  // %-encoded, as in any URL).
  const auto last_at = rest.rfind('@');
  const auto slash = rest.find('/', last_at == std::string_view::npos ? 0 : last_at);
  const std::string_view netloc = rest.substr(0, slash);
  add_hosts(t.brokers, netloc, true, default_port_of(t.scheme), redacted);
  if (slash != std::string_view::npos) {
    auto vhost = percent_decode(rest.substr(slash + 1));
    if (!vhost) bad(redacted, "the virtual host has a bad %-escape");
    t.vhost = *vhost;
  }
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    if (!item.empty()) {
      const auto eq = item.find('=');
      auto key = percent_decode(item.substr(0, eq));
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
      if (!key || !value) bad(redacted, "the transport URL's query has a bad %-escape");
      t.params.emplace_back(*key, *value);
    }
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return t;
}

// The transport URL given as the connection string itself (rabbit://...), already split by
// the URL parser: several hosts leave "h1,h2" in the host or ",u:p@h2:5672/vhost" in the path
// (decoded), which is taken apart here.
transport_parts parse_transport_cs(const connection_string& cs) {
  transport_parts t;
  t.scheme = cs.scheme;
  const std::uint16_t default_port = default_port_of(cs.scheme);
  std::string first = cs.host;
  if (first.find(':') != std::string::npos) first = "[" + first + "]";  // IPv6, as written
  if (cs.port) first += ":" + std::to_string(*cs.port);
  std::string_view path = cs.path;
  std::string more;
  if (path.starts_with(',')) {
    const auto last_at = path.rfind('@');
    const auto slash = path.find('/', last_at == std::string_view::npos ? 0 : last_at);
    more = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  std::vector<broker> hosts;
  add_hosts(hosts, first, false, default_port, cs.redacted);
  if (!cs.user.empty() || cs.has_password) {
    // The URL's credentials belong to its first host.
    if (!hosts.empty()) {
      hosts.front().user = cs.user;
      hosts.front().password = cs.password;
    }
  }
  add_hosts(hosts, more, false, default_port, cs.redacted);
  t.brokers = std::move(hosts);
  if (path.starts_with('/')) t.vhost = path.substr(1);
  t.params = cs.params;
  return t;
}

bool param_bool(const std::vector<std::pair<std::string, std::string>>& params, std::string_view key, bool fallback,
                const std::string& redacted) {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->first != key) continue;
    const std::string v = lower_trim(it->second);
    if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
    if (v == "0" || v == "false" || v == "no" || v == "off") return false;
    bad(redacted, "option '" + std::string(key) + "' must be true or false, not '" + it->second + "'");
  }
  return fallback;
}

const std::string* param(const std::vector<std::pair<std::string, std::string>>& params, std::string_view key) {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

std::uint64_t param_uint(const std::vector<std::pair<std::string, std::string>>& params, std::string_view key,
                         std::uint64_t fallback, std::uint64_t max, const std::string& redacted) {
  const std::string* text = param(params, key);
  if (text == nullptr) return fallback;
  std::uint64_t value = 0;
  const auto r = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || r.ec != std::errc{} || r.ptr != text->data() + text->size() || value > max) {
    bad(redacted, "option '" + std::string(key) + "' must be an integer from 0 to " + std::to_string(max) + ", not '" +
                      *text + "'");
  }
  return value;
}

std::chrono::milliseconds param_seconds(const std::vector<std::pair<std::string, std::string>>& params,
                                        std::string_view key, std::chrono::milliseconds fallback,
                                        const std::string& redacted) {
  const std::string* text = param(params, key);
  if (text == nullptr) return fallback;
  // Seconds, with a fraction (OSProfiler's --idle-timeout is a number of seconds).
  double value = -1;
  const auto r = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || r.ec != std::errc{} || r.ptr != text->data() + text->size() || !(value >= 0.001) ||
      value > 86400) {
    bad(redacted, "option '" + std::string(key) + "' must be a number of seconds from 0.001 to 86400, not '" +
                      *text + "'");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * 1000 + 0.5));
}

}  // namespace

std::string broker::text() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool is_transport_scheme(std::string_view scheme) noexcept {
  for (auto s : transport_schemes) {
    if (s == scheme) return true;
  }
  return false;
}

std::string redact_transport_url(std::string_view url) {
  // Every "user:password@" of the netloc becomes "user:***@".
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const auto start = scheme_end + 3;
  const auto query = url.find('?', start);
  const auto limit = query == std::string_view::npos ? url.size() : query;
  const auto last_at = url.substr(0, limit).rfind('@');
  if (last_at == std::string_view::npos || last_at < start) return std::string(url);
  std::string out(url.substr(0, start));
  std::string_view netloc = url.substr(start, last_at + 1 - start);
  // Items end at ','; only those with an '@' carry credentials.
  while (!netloc.empty()) {
    const auto at = netloc.find('@');
    if (at == std::string_view::npos) {
      out += netloc;
      break;
    }
    // The item holding this '@' starts after the last ',' before it.
    const auto item_start = netloc.substr(0, at).rfind(',');
    const std::size_t begin = item_start == std::string_view::npos ? 0 : item_start + 1;
    out += netloc.substr(0, begin);
    const std::string_view credentials = netloc.substr(begin, at - begin);
    const auto colon = credentials.find(':');
    out += credentials.substr(0, colon);
    if (colon != std::string_view::npos) out += ":***";
    out += '@';
    netloc = netloc.substr(at + 1);
  }
  out += url.substr(last_at + 1);
  return out;
}

messaging_options messaging_options::from(const connection_string& cs, std::chrono::milliseconds default_timeout,
                                          const char* environment_url) {
  messaging_options o;
  o.timeout = default_timeout;
  o.redacted = cs.redacted;
  transport_parts t;
  std::vector<std::pair<std::string, std::string>> params = cs.params;
  if (cs.scheme == "messaging") {
    if (!cs.host.empty() || cs.port || !cs.user.empty() || !cs.database().empty()) {
      bad(o.redacted, "messaging:// takes its broker from a transport URL (transport_url=, --transport-url or "
                      "OSPROF_TRANSPORT_URL), not from the connection string's host; or use the transport URL itself, "
                      "e.g. rabbit://user:password@host:5672/");
    }
    std::string url;
    if (const auto* given = param(cs.params, "transport_url")) {
      url = *given;
    } else if (environment_url != nullptr && *environment_url != '\0') {
      url = environment_url;
    } else {
      bad(o.redacted, "messaging:// needs a transport URL: give --transport-url, the option transport_url= or "
                      "OSPROF_TRANSPORT_URL, e.g. rabbit://user:password@host:5672/");
    }
    // Messages name the transport, never its passwords.
    const std::string redacted_url = redact_transport_url(url);
    t = parse_transport_text(url, "transport URL " + redacted_url);
    o.redacted = "messaging:// on " + redacted_url;
    params.insert(params.end(), t.params.begin(), t.params.end());
  } else if (is_transport_scheme(cs.scheme)) {
    if (cs.param("transport_url")) bad(o.redacted, "option 'transport_url' is for messaging://; this is a transport URL");
    t = parse_transport_cs(cs);
    // The URL parser's redaction cannot tell several hosts apart: name each, without passwords.
    o.redacted = t.scheme + "://";
    for (std::size_t i = 0; i < t.brokers.size(); ++i) {
      if (i != 0) o.redacted += ',';
      o.redacted += t.brokers[i].user + ":***@" + t.brokers[i].text();
    }
    o.redacted += "/" + t.vhost;
  } else {
    bad(o.redacted, "the messaging driver does not handle the scheme '" + cs.scheme + "'");
  }
  for (const auto& [key, value] : params) {
    bool known = false;
    for (auto k : known_options) known = known || k == key;
    if (known) continue;
    std::string list;
    for (auto k : known_options) list += (list.empty() ? "" : ", ") + std::string(k);
    bad(o.redacted, "unknown option '" + key + "' for " + cs.scheme + "://; known options: " + list);
  }
  if (t.brokers.empty()) t.brokers.push_back(broker{.host = "localhost", .port = default_port_of(t.scheme)});
  o.brokers = std::move(t.brokers);
  o.vhost = t.vhost.empty() ? "/" : t.vhost;  // kombu's default for "rabbit://host/" and "rabbit://host"

  o.tls = t.scheme == "rabbits" || t.scheme == "amqps";
  o.tls = param_bool(params, "ssl", o.tls, o.redacted);
  if ((t.scheme == "rabbits" || t.scheme == "amqps") && !o.tls) {
    bad(o.redacted, t.scheme + ":// always uses TLS; use rabbit:// for plain TCP");
  }
  o.tls_verify = param_bool(params, "ssl_verify", true, o.redacted);
  if (const auto* v = param(params, "ssl_ca_file")) o.ca_file = *v;
  if (const auto* v = param(params, "ssl_cert_file")) o.cert_file = *v;
  if (const auto* v = param(params, "ssl_key_file")) o.key_file = *v;
  if (o.cert_file.empty() != o.key_file.empty()) bad(o.redacted, "give both ssl_cert_file and ssl_key_file, or neither");
  if (!o.tls && (!o.ca_file.empty() || !o.cert_file.empty())) {
    bad(o.redacted, "ssl_ca_file, ssl_cert_file and ssl_key_file need TLS (ssl=1 or rabbits://)");
  }
  if (const auto* v = param(params, "control_exchange")) {
    if (!is_plain_name(*v, "-.:")) bad(o.redacted, "option 'control_exchange' must be letters, digits, '_', '-', '.', ':'");
    o.exchange = *v;
  }
  if (const auto* v = param(params, "topic")) {
    if (!is_plain_name(*v, "-.:")) bad(o.redacted, "option 'topic' must be letters, digits, '_', '-', '.', ':'");
    o.topic = *v;
  }
  o.durable = param_bool(params, "amqp_durable_queues", false, o.redacted);
  o.auto_delete = param_bool(params, "amqp_auto_delete", false, o.redacted);
  if (param(params, "timeout_ms") != nullptr) {
    const auto ms = param_uint(params, "timeout_ms", 0, 3600000, o.redacted);
    if (ms == 0) bad(o.redacted, "option 'timeout_ms' must be at least 1");
    o.timeout = std::chrono::milliseconds(ms);
  }
  o.idle_timeout = param_seconds(params, "idle_timeout", o.idle_timeout, o.redacted);
  const char* heartbeat_key = param(params, "heartbeat") != nullptr ? "heartbeat" : "heartbeat_timeout_threshold";
  o.heartbeat_s = static_cast<int>(param_uint(params, heartbeat_key, 60, 3600, o.redacted));
  return o;
}

}  // namespace osprof::detail::messaging
