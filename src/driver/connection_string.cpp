#include <osprof/connection_string.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <osprof/error.hpp>

#include "common/text.hpp"

namespace osprof {
inline namespace v1 {

namespace {

constexpr std::string_view expected_form =
    "expected <backend>://[[user[:password]]@][host][:port][/database][?option=value&...]";

[[noreturn]] void reject(std::string_view redacted, std::string_view why) {
  throw error("invalid connection string '" + std::string(redacted) + "': " + std::string(why) + "; " +
              std::string(expected_form));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The password of "scheme://user:password@..." hidden; the text may not parse at all.
std::string redact_authority(std::string_view text) {
  // By hand, not by the URL parser: the text may be mistyped ("redis//u:pw@h", "redis:/:pw@h",
  // "redis:://:pw@h") and must still not show a password. Whatever looks like user info, the
  // text between where the authority would start and the last '@' before the query, loses
  // everything after its first ':'.
  const auto query = text.find_first_of("?#");
  const auto at = text.rfind('@', query == std::string_view::npos ? std::string_view::npos : query);
  if (at == std::string_view::npos) return std::string(text);
  std::size_t start = 0;
  if (const auto slashes = text.find("//"); slashes != std::string_view::npos && slashes < at) {
    start = slashes + 2;
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos && colon < at) {
    // "scheme:..." without "//": the user info starts after the scheme.
    const std::string_view scheme = text.substr(0, colon);
    const bool looks_like_scheme = !scheme.empty() && std::all_of(scheme.begin(), scheme.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '+' || c == '-' || c == '.';
    });
    // A second ':' before the '@' is the one between user and password; without one, the
    // first ':' is.
    if (looks_like_scheme && text.find(':', colon + 1) < at) start = colon + 1;
  }
  const auto colon = text.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(text);
  std::string out(text.substr(0, colon + 1));
  out += "***";
  out += text.substr(at);
  return out;
}

}  // namespace

std::string redact_connection_string(std::string_view text) {
  // A URL inside the query (messaging://?transport_url=rabbit://user:password@host/) carries
  // passwords of its own, plain or %-encoded: the whole value is hidden after its scheme.
  static constexpr std::string_view inner = "transport_url=";
  if (const auto q = text.find('?'); q != std::string_view::npos) {
    const auto at = text.find(inner, q);
    if (at != std::string_view::npos && (text[at - 1] == '?' || text[at - 1] == '&')) {
      const auto value = at + inner.size();
      const auto end = std::min(text.find('&', value), text.size());
      std::string out = redact_authority(text.substr(0, value));
      const std::string_view url = text.substr(value, end - value);
      const auto decoded = detail::percent_decode(url);
      if (decoded && decoded->find('@') != std::string::npos) {
        out += std::string(url.substr(0, url.find_first_of(":%"))) + "://***";
      } else {
        out += url;
      }
      out += text.substr(end);
      return out;
    }
  }
  return redact_authority(text);
}

connection_string connection_string::parse(std::string_view text) {
  connection_string cs;
  std::string input(text);
  // OSProfiler accepts a bare backend name ("messaging") and appends "://".
  if (!input.empty() && input.find("://") == std::string::npos &&
      std::all_of(input.begin(), input.end(), [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; })) {
    input += "://";
  }
  cs.redacted = redact_connection_string(input);
  if (input.empty()) reject(cs.redacted, "it is empty");
  if (input.find("://") == std::string::npos) reject(cs.redacted, "there is no '://' after the backend name");

  auto parsed = boost::urls::parse_uri(input);
  if (!parsed) reject(cs.redacted, "it is not a valid URL (" + parsed.error().message() + ")");
  const boost::urls::url_view url = *parsed;

  cs.scheme = lower(url.scheme());
  if (url.has_userinfo()) {
    cs.user = url.user();
    cs.has_password = url.has_password();
    if (cs.has_password) cs.password = url.password();
  }
  if (!cs.has_password && redact_authority(input) != input) {
    // Something that looks like user:password@ outside the URL's user info ("redis:://:pw@h"):
    // refused here, before any part of it (the path, say) reaches a message.
    reject(cs.redacted, "a password appears outside the user info; write <backend>://user:password@host");
  }
  if (url.host_type() == boost::urls::host_type::ipv6) {
    cs.host = url.host_address();
  } else {
    cs.host = url.host();
  }
  if (url.has_port()) {
    const std::string_view port_text = url.port();
    unsigned value = 0;
    const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || r.ec != std::errc{} || r.ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      reject(cs.redacted, "the port in '" + std::string(url.encoded_host_and_port()) +
                            "' is not a number from 1 to 65535");
    }
    cs.port = static_cast<std::uint16_t>(value);
  }
  cs.path = url.path();
  if (url.has_fragment()) reject(cs.redacted, "a '#' fragment has no meaning here");
  for (const auto& p : url.params()) {
    if (p.key.empty()) reject(cs.redacted, "an option in the query has no name");
    cs.params.emplace_back(p.key, p.value);
  }
  return cs;
}

std::optional<std::string_view> connection_string::param(std::string_view key) const noexcept {
  for (const auto& [k, v] : params) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

void connection_string::check_params(std::initializer_list<std::string_view> known) const {
  check_params(std::span<const std::string_view>(known.begin(), known.size()));
}

void connection_string::check_params(std::span<const std::string_view> known) const {
  for (const auto& [k, v] : params) {
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    std::string list;
    for (auto name : known) {
      if (!list.empty()) list += ", ";
      list += name;
    }
    throw error("invalid connection string '" + redacted + "': unknown option '" + k + "' for " + scheme +
                "://" + (list.empty() ? std::string("; it takes no options") : "; known options: " + list));
  }
}

std::optional<std::uint64_t> connection_string::param_uint(std::string_view key) const {
  const auto text = param(key);
  if (!text) return std::nullopt;
  std::uint64_t value = 0;
  const auto r = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || r.ec != std::errc{} || r.ptr != text->data() + text->size()) {
    throw error("invalid connection string '" + redacted + "': option '" + std::string(key) +
                "' must be a non-negative integer, not '" + std::string(*text) + "'");
  }
  return value;
}

std::optional<bool> connection_string::param_bool(std::string_view key) const {
  const auto text = param(key);
  if (!text) return std::nullopt;
  const std::string v = lower(*text);
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  throw error("invalid connection string '" + redacted + "': option '" + std::string(key) +
              "' must be true or false, not '" + std::string(*text) + "'");
}

std::optional<std::string_view> connection_string::param_name(std::string_view key, std::string_view also) const {
  const auto value = param(key);
  if (value && !detail::is_plain_name(*value, also)) {
    std::string allowed = "letters, digits, '_'";
    for (const char c : also) allowed += std::string(", '") + c + "'";
    fail("option '" + std::string(key) + "' must be " + allowed + ", not '" + std::string(*value) + "'");
  }
  return value;
}

void connection_string::fail(std::string_view why) const {
  throw error("invalid connection string '" + redacted + "': " + std::string(why));
}

}  // namespace v1
}  // namespace osprof
