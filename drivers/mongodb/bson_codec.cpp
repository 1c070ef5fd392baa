#include "drivers/mongodb/bson_codec.hpp"

#include <cstring>
#include <limits>

#include "common/json_writer.hpp"

namespace osprof::detail::mongodb {

namespace {

namespace dom = simdjson::dom;

void append_document_json(std::string& out, bson_iter_t& it, bool skip_id);

// One value that JSON has no type for, as libmongoc's relaxed Extended JSON writes it.
void append_extended_json(std::string& out, const bson_iter_t& it) {
  bson_t tmp = BSON_INITIALIZER;
  bson_append_iter(&tmp, "v", 1, &it);
  size_t length = 0;
  char* text = bson_as_relaxed_extended_json(&tmp, &length);
  bson_destroy(&tmp);
  if (text == nullptr) {
    out += "null";
    return;
  }
  // "{ "v" : <value> }"
  std::string_view s(text, length);
  const auto colon = s.find(':');
  std::string_view value = colon == std::string_view::npos ? std::string_view("null") : s.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.ends_with(" }")) value.remove_suffix(2);
  out += value;
  bson_free(text);
}

void append_value_json(std::string& out, const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_UTF8: {
      uint32_t length = 0;
      const char* s = bson_iter_utf8(&it, &length);
      append_json_string(out, std::string_view(s, length));
      return;
    }
    case BSON_TYPE_INT32: append_json_int(out, bson_iter_int32(&it)); return;
    case BSON_TYPE_INT64: append_json_int(out, bson_iter_int64(&it)); return;
    case BSON_TYPE_DOUBLE: append_json_double(out, bson_iter_double(&it)); return;
    case BSON_TYPE_BOOL: out += bson_iter_bool(&it) ? "true" : "false"; return;
    case BSON_TYPE_NULL:
    case BSON_TYPE_UNDEFINED: out += "null"; return;
    case BSON_TYPE_DOCUMENT: {
      bson_iter_t child;
      if (!bson_iter_recurse(&it, &child)) {
        out += "null";
        return;
      }
      append_document_json(out, child, false);
      return;
    }
    case BSON_TYPE_ARRAY: {
      bson_iter_t child;
      out += '[';
      if (bson_iter_recurse(&it, &child)) {
        bool first = true;
        while (bson_iter_next(&child)) {
          if (!first) out += ", ";
          first = false;
          append_value_json(out, child);
        }
      }
      out += ']';
      return;
    }
    case BSON_TYPE_DECIMAL128: {
      // Integers beyond int64 are stored as Decimal128 (exact); written back as the number.
      bson_decimal128_t value;
      char text[BSON_DECIMAL128_STRING];
      if (bson_iter_decimal128(&it, &value)) {
        bson_decimal128_to_string(&value, text);
        const std::string_view s(text);
        const bool number = !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) ||
                                           (s.size() > 1 && s[0] == '-' && std::isdigit(static_cast<unsigned char>(s[1]))));
        out += number ? s : std::string_view("null");
        return;
      }
      out += "null";
      return;
    }
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(&it), hex);
      append_json_string(out, hex);
      return;
    }
    default: append_extended_json(out, it); return;
  }
}

void append_document_json(std::string& out, bson_iter_t& it, bool skip_id) {
  out += '{';
  bool first = true;
  while (bson_iter_next(&it)) {
    const std::string_view key(bson_iter_key(&it), bson_iter_key_len(&it));
    if (skip_id && key == "_id") continue;
    if (!first) out += ", ";
    first = false;
    append_json_string(out, key);
    out += ": ";
    append_value_json(out, it);
  }
  out += '}';
}

}  // namespace

std::string event_id(const event_record& e) {
  std::string id(uuid_text_size, '\0');
  e.trace_id.format(id.data());
  id += e.is_stop ? "-stop" : "-start";
  return id;
}

std::string_view event_encoder::id_text(int slot, const uuid& value) {
  // A batch repeats its ids (one base_id, a start and a stop per trace_id): formatting them
  // was a fifth of the encoding time.
  auto& cached = ids_[slot];
  if (!cached.valid || cached.value != value) {
    value.format(cached.text);
    cached.value = value;
    cached.valid = true;
  }
  return {cached.text, uuid_text_size};
}

std::size_t event_encoder::append(const event_record& e, std::vector<std::uint8_t>& out, std::string& error) {
  dom::element info;
  dom::object info_fields;
  if (parser_.parse(e.info).get(info) != simdjson::SUCCESS || info.get(info_fields) != simdjson::SUCCESS) {
    error = "the event's info is not a JSON object";
    return 0;
  }
  bson_reinit(&doc_);
  const auto utf8 = [&](const char* key, std::string_view value) {
    return bson_append_utf8(&doc_, key, -1, value.data(), static_cast<int>(value.size()));
  };
  std::string_view id = id_text(0, e.trace_id);  // `_id`: as event_id() makes it
  char key[uuid_text_size + 6];
  std::memcpy(key, id.data(), uuid_text_size);
  const std::string_view suffix = e.is_stop ? "-stop" : "-start";
  std::memcpy(key + uuid_text_size, suffix.data(), suffix.size());
  bool ok = utf8("_id", std::string_view(key, uuid_text_size + suffix.size())) && utf8("name", e.name) &&
            utf8("base_id", id_text(1, e.base_id)) && utf8("trace_id", id) && utf8("parent_id", id_text(2, e.parent_id));
  ok = ok && utf8("timestamp", e.timestamp_text());
  bson_t child;
  if (!ok || !bson_append_document_begin(&doc_, "info", 4, &child)) {
    error = "the event does not fit a BSON document";
    return 0;
  }
  for (const auto field : info_fields) {
    if (!append_value(&child, field.key, field.value, error)) {
      ok = false;
      break;
    }
  }
  ok = bson_append_document_end(&doc_, &child) && ok && utf8("project", project_) && utf8("service", service_);
  if (!ok) {
    if (error.empty()) error = "the event does not fit a BSON document";
    return 0;
  }
  const std::uint8_t* data = bson_get_data(&doc_);
  out.insert(out.end(), data, data + doc_.len);
  return doc_.len;
}

bool event_encoder::append_value(bson_t* doc, std::string_view key, dom::element value, std::string& error) {
  if (key.find('\0') != std::string_view::npos) {
    error = "a key contains a NUL character, which BSON cannot store";
    return false;
  }
  const char* k = key.data();
  const int n = static_cast<int>(key.size());
  bool ok = true;
  switch (value.type()) {
    case dom::element_type::OBJECT: {
      dom::object fields;
      bson_t child;
      if (value.get(fields) != simdjson::SUCCESS || !bson_append_document_begin(doc, k, n, &child)) {
        ok = false;
        break;
      }
      for (const auto field : fields) {
        if (!append_value(&child, field.key, field.value, error)) {
          ok = false;
          break;
        }
      }
      ok = bson_append_document_end(doc, &child) && ok;
      break;
    }
    case dom::element_type::ARRAY: {
      dom::array items;
      bson_t child;
      if (value.get(items) != simdjson::SUCCESS || !bson_append_array_begin(doc, k, n, &child)) {
        ok = false;
        break;
      }
      std::uint32_t i = 0;
      for (const auto item : items) {
        char buf[16];
        const char* index = nullptr;
        const size_t length = bson_uint32_to_string(i++, &index, buf, sizeof buf);
        if (!append_value(&child, std::string_view(index, length), item, error)) {
          ok = false;
          break;
        }
      }
      ok = bson_append_array_end(doc, &child) && ok;
      break;
    }
    case dom::element_type::STRING: {
      std::string_view s;
      ok = value.get(s) == simdjson::SUCCESS && bson_append_utf8(doc, k, n, s.data(), static_cast<int>(s.size()));
      break;
    }
    case dom::element_type::INT64: {
      std::int64_t v = 0;
      if (value.get(v) != simdjson::SUCCESS) {
        ok = false;
        break;
      }
      ok = v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()
               ? bson_append_int32(doc, k, n, static_cast<std::int32_t>(v))
               : bson_append_int64(doc, k, n, v);
      break;
    }
    case dom::element_type::UINT64: {
      // Beyond int64 (pymongo refuses these): Decimal128 keeps the value exact.
      std::uint64_t u = 0;
      if (value.get(u) != simdjson::SUCCESS) {
        ok = false;
        break;
      }
      const std::string text = std::to_string(u);
      bson_decimal128_t d;
      ok = bson_decimal128_from_string(text.c_str(), &d) && bson_append_decimal128(doc, k, n, &d);
      break;
    }
    case dom::element_type::DOUBLE: {
      double v = 0;
      ok = value.get(v) == simdjson::SUCCESS && bson_append_double(doc, k, n, v);
      break;
    }
    case dom::element_type::BOOL: {
      bool v = false;
      ok = value.get(v) == simdjson::SUCCESS && bson_append_bool(doc, k, n, v);
      break;
    }
    case dom::element_type::NULL_VALUE: ok = bson_append_null(doc, k, n); break;
  }
  if (!ok && error.empty()) error = "the event does not fit a BSON document";
  return ok;
}

std::string document_json(const bson_t* doc) {
  std::string out;
  out.reserve(doc->len + doc->len / 4);
  bson_iter_t it;
  if (!bson_iter_init(&it, doc)) return "<invalid BSON document>";
  append_document_json(out, it, true);
  return out;
}

}  // namespace osprof::detail::mongodb
