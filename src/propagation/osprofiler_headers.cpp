// OSProfiler's signed headers and RPC trace_info, matched to Python OSProfiler 3.4.3
// (osprofiler/_utils.py signed_pack/signed_unpack, web.py WsgiMiddleware, profiler.init).
// Every acceptance rule below names the Python behaviour it reproduces.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <simdjson.h>

#include <osprof/propagation.hpp>

#include "common/json_writer.hpp"
#include "common/text.hpp"
#include "propagation/codec.hpp"

namespace osprof {
inline namespace v1 {

namespace {

constexpr std::size_t sha1_hex_size = 40;

// HMAC-SHA1 into 40 lowercase hex digits.
void hmac_sha1_hex_into(std::string_view key, std::string_view data, char* out) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // An empty key is fine for HMAC, but OpenSSL wants a non-null pointer.
  static const unsigned char empty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&empty) : key.data();
  HMAC(EVP_sha1(), key_ptr, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &size);
  for (unsigned i = 0; i < 20; ++i) {
    out[2 * i] = detail::hex_digits[digest[i] >> 4];
    out[2 * i + 1] = detail::hex_digits[digest[i] & 0xF];
  }
}

// str.strip() on a header that WSGI decoded as latin-1: ASCII whitespace, the separators
// 0x1c-0x1f, and latin-1's NEL (0x85) and NBSP (0xa0).
bool python_space(unsigned char c) noexcept {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0;
}
std::string_view python_strip(std::string_view s) noexcept {
  while (!s.empty() && python_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && python_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Python's truth value of a JSON value: null, false, 0, 0.0, "", [] and {} are false.
bool json_falsy(const simdjson::dom::element& e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::NULL_VALUE: return true;
    case element_type::BOOL: return !bool(e.get_bool().value_unsafe());
    case element_type::INT64: return e.get_int64().value_unsafe() == 0;
    case element_type::UINT64: return e.get_uint64().value_unsafe() == 0;
    case element_type::DOUBLE: return e.get_double().value_unsafe() == 0.0;
    case element_type::STRING: return e.get_string().value_unsafe().empty();
    case element_type::ARRAY: return e.get_array().value_unsafe().size() == 0;
    case element_type::OBJECT: return e.get_object().value_unsafe().size() == 0;
  }
  return false;
}

enum class id_value { empty, ok, unsupported };

// An id as Python's profiler.init uses it: a false value means "none given"; osprof can only
// continue ids that are uuids.
id_value read_id(const simdjson::dom::element& e, uuid& out) {
  if (json_falsy(e)) return id_value::empty;
  if (e.type() != simdjson::dom::element_type::STRING) return id_value::unsupported;
  auto parsed = uuid::parse(e.get_string().value_unsafe());
  if (!parsed || parsed->is_nil()) return id_value::unsupported;
  out = *parsed;
  return id_value::ok;
}

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Parses `json` as Python's json.loads would accept it (strict JSON; a leading BOM is an
// error in Python too). Returns false when it does not parse.
bool parse_json(std::string_view json, simdjson::dom::element& out) {
  if (json.size() >= 3 && json.compare(0, 3, "\xEF\xBB\xBF") == 0) return false;
  return !thread_parser().parse(json.data(), json.size(), true).get(out);
}

}  // namespace

std::string hmac_sha1_hex(std::string_view key, std::string_view data) {
  std::string out(sha1_hex_size, '\0');
  hmac_sha1_hex_into(key, data, out.data());
  return out;
}

signed_trace_info sign_payload(std::string_view hmac_key, std::string_view json) {
  signed_trace_info s;
  s.info = detail::base64_encode(json, true);
  s.hmac = hmac_sha1_hex(hmac_key, s.info);
  return s;
}

signed_trace_info sign_trace_info(std::string_view hmac_key, const uuid& base_id, const uuid& parent_id) {
  // json.dumps({"base_id": ..., "parent_id": ...}) with Python's default separators.
  char json[] = R"({"base_id": "........-....-....-....-............", "parent_id": "........-....-....-....-............"})";
  base_id.format(json + 13);
  parent_id.format(json + 66);
  return sign_payload(hmac_key, std::string_view(json, sizeof json - 1));
}

std::string_view to_string(header_status status) noexcept {
  switch (status) {
    case header_status::accepted: return "accepted";
    case header_status::missing: return "missing";
    case header_status::incomplete: return "incomplete";
    case header_status::too_large: return "too_large";
    case header_status::bad_signature: return "bad_signature";
    case header_status::bad_encoding: return "bad_encoding";
    case header_status::bad_payload: return "bad_payload";
    case header_status::unsupported_id: return "unsupported_id";
  }
  return "unknown";
}

verified_trace_info verify_trace_info(std::optional<std::string_view> info, std::optional<std::string_view> hmac,
                                      std::span<const std::string> hmac_keys) {
  verified_trace_info result;
  if (!info && !hmac) return result;  // missing
  // signed_unpack: no HMAC (or only whitespace) or no data: untrusted.
  const std::string_view mac = python_strip(hmac.value_or(std::string_view{}));
  if (mac.empty() || !info || info->empty()) {
    result.status = header_status::incomplete;
    return result;
  }
  if (info->size() > max_trace_info_size) {
    result.status = header_status::too_large;
    return result;
  }

  // Every key in order; the digest is compared in constant time (hmac.compare_digest). A
  // different length (uppercase hex has the right length but other bytes) never matches.
  const std::string* matched = nullptr;
  char expected[sha1_hex_size];
  for (const std::string& key : hmac_keys) {
    if (key.empty()) continue;  // OSProfiler's config drops empty keys
    hmac_sha1_hex_into(key, *info, expected);
    if (mac.size() == sha1_hex_size && CRYPTO_memcmp(expected, mac.data(), sha1_hex_size) == 0) {
      matched = &key;
      break;
    }
  }
  if (matched == nullptr) {
    result.status = header_status::bad_signature;
    return result;
  }

  // json.loads(urlsafe_b64decode(data).decode("utf-8")); simdjson validates the UTF-8.
  const std::optional<std::string> json = detail::python_urlsafe_b64decode(*info);
  simdjson::dom::element doc;
  if (!json || !parse_json(*json, doc)) {
    result.status = header_status::bad_encoding;
    return result;
  }

  // WsgiMiddleware._trace_is_valid: a dict with base_id (hmac_key is added by signed_unpack,
  // overwriting any sent one) and nothing but parent_id besides. Duplicate keys: the last wins.
  simdjson::dom::object object;
  if (doc.get_object().get(object)) {
    result.status = header_status::bad_payload;
    return result;
  }
  std::optional<simdjson::dom::element> base, parent;
  for (const auto field : object) {
    if (field.key == "base_id") base = field.value;
    else if (field.key == "parent_id") parent = field.value;
    else if (field.key != "hmac_key") {
      result.status = header_status::bad_payload;  // e.g. trace_id
      return result;
    }
  }
  if (!base) {
    result.status = header_status::bad_payload;
    return result;
  }

  // profiler.init(hmac_key, base_id, parent_id): a false base means a new one; a false parent
  // means the base.
  uuid base_id, parent_id;
  const id_value b = read_id(*base, base_id);
  const id_value p = parent ? read_id(*parent, parent_id) : id_value::empty;
  if (b == id_value::unsupported || p == id_value::unsupported) {
    result.status = header_status::unsupported_id;
    return result;
  }
  if (b == id_value::empty) base_id = uuid::random();
  if (p == id_value::empty) parent_id = base_id;
  result.status = header_status::accepted;
  result.context = trace_context{base_id, parent_id, *matched};
  return result;
}

std::string rpc_trace_info_json(const trace_context& ctx) {
  std::string out;
  detail::json_members(out, detail::json_members::style::python, detail::json_escape::ascii)
      .string("hmac_key", ctx.hmac_key)
      .id("base_id", ctx.base_id)
      .id("parent_id", ctx.parent_id)
      .close();
  return out;
}

namespace {

std::optional<trace_context> rpc_from_object(const simdjson::dom::object& object) {
  std::optional<simdjson::dom::element> key, base, parent;
  for (const auto field : object) {
    if (field.key == "hmac_key") key = field.value;
    else if (field.key == "base_id") base = field.value;
    else if (field.key == "parent_id") parent = field.value;
    else return std::nullopt;  // init() has no such argument: TypeError in Python
  }
  if (!key) return std::nullopt;  // init()'s required argument
  trace_context ctx;
  if (key->type() == simdjson::dom::element_type::STRING) {
    ctx.hmac_key = std::string(key->get_string().value_unsafe());
  } else if (key->type() != simdjson::dom::element_type::NULL_VALUE) {
    return std::nullopt;
  }
  const id_value b = base ? read_id(*base, ctx.base_id) : id_value::empty;
  const id_value p = parent ? read_id(*parent, ctx.parent_id) : id_value::empty;
  if (b == id_value::unsupported || p == id_value::unsupported) return std::nullopt;
  if (b == id_value::empty) ctx.base_id = uuid::random();
  if (p == id_value::empty) ctx.parent_id = ctx.base_id;
  return ctx;
}

}  // namespace

std::optional<trace_context> parse_rpc_trace_info(std::string_view json) {
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (!parse_json(json, doc) || doc.get_object().get(object)) return std::nullopt;
  return rpc_from_object(object);
}

std::optional<trace_context> parse_rpc_context(std::string_view json) {
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (!parse_json(json, doc) || doc.get_object().get(object)) return std::nullopt;
  std::optional<simdjson::dom::element> info;
  for (const auto field : object) {
    if (field.key == "trace_info") info = field.value;
  }
  // deserialize_context: `if trace_info: profiler.init(**trace_info)`.
  simdjson::dom::object inner;
  if (!info || json_falsy(*info) || info->get_object().get(inner)) return std::nullopt;
  return rpc_from_object(inner);
}

}  // namespace v1
}  // namespace osprof
