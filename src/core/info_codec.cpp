#include "core/info_codec.hpp"

#include <algorithm>
#include <cstring>

#include "common/json_writer.hpp"
#include "common/text.hpp"
#include "core/small_copy.hpp"

namespace osprof::detail {

namespace {

constexpr std::size_t max_key_size = max_info_key_bytes;
// The length byte of a key that was cut (max_key_size bytes follow).
constexpr std::uint8_t cut_key_length = 255;
static_assert(max_key_size < cut_key_length);

std::uint8_t key_length_byte(std::string_view key) noexcept {
  return key.size() > max_key_size ? cut_key_length : static_cast<std::uint8_t>(key.size());
}

std::size_t fields_size(std::span<const info_field> fields, int depth) noexcept;

std::size_t value_size(const info_value& v, int depth) noexcept {
  switch (v.type()) {
    case info_value::kind::null:
    case info_value::kind::boolean: return 0;
    case info_value::kind::integer:
    case info_value::kind::unsigned_integer:
    case info_value::kind::floating: return 8;
    case info_value::kind::string: return 4 + v.as_string().size();
    case info_value::kind::object: return depth >= max_info_depth ? 0 : fields_size(v.as_object(), depth + 1);
  }
  return 0;
}

std::size_t fields_size(std::span<const info_field> fields, int depth) noexcept {
  std::size_t total = 4;
  for (const auto& f : fields) total += 2 + std::min(f.key.size(), max_key_size) + value_size(f.value, depth);
  return total;
}

template <class T>
std::byte* put(std::byte* out, T value) noexcept {
  std::memcpy(out, &value, sizeof value);
  return out + sizeof value;
}

std::byte* put_bytes(std::byte* out, std::string_view s) noexcept {
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

std::byte* encode_fields(std::byte* out, std::span<const info_field> fields, int depth) noexcept;

std::byte* encode_value(std::byte* out, const info_value& v, int depth) noexcept {
  switch (v.type()) {
    case info_value::kind::null: return put(out, 'z');
    case info_value::kind::boolean: return put(out, v.as_bool() ? 'T' : 'F');
    case info_value::kind::integer: return put(put(out, 'i'), v.as_int());
    case info_value::kind::unsigned_integer: return put(put(out, 'u'), v.as_uint());
    case info_value::kind::floating: return put(put(out, 'd'), v.as_double());
    case info_value::kind::string: {
      const auto s = v.as_string();
      return put_bytes(put(put(out, 's'), static_cast<std::uint32_t>(s.size())), s);
    }
    case info_value::kind::object:
      if (depth >= max_info_depth) return put(out, 'Z');
      return encode_fields(put(out, 'o'), v.as_object(), depth + 1);
  }
  return put(out, 'z');
}

std::byte* encode_fields(std::byte* out, std::span<const info_field> fields, int depth) noexcept {
  out = put(out, static_cast<std::uint32_t>(fields.size()));
  for (const auto& f : fields) {
    const auto key = f.key.substr(0, max_key_size);
    out = put(out, key_length_byte(f.key));
    out = put_bytes(out, key);
    out = encode_value(out, f.value, depth);
  }
  return out;
}

// The bounded encoder: the same layout, checking room before each write. The write position
// stays in a local (a register): stores through std::byte* may alias anything, so a position
// kept in memory would be reloaded after every byte written.
template <class T>
std::byte* store(std::byte* p, T value) noexcept {
  std::memcpy(p, &value, sizeof value);
  return p + sizeof value;
}

}  // namespace

// One loop over the fields of every nested object, with the objects being encoded on a stack
// of its own: no call per nested object (a call saves and restores six registers here), and
// one dispatch on each value's type.
std::byte* encode_fields_bounded(std::byte* p, const std::byte* limit, std::span<const info_field> fields) noexcept {
  struct open_object {
    const info_field* next;
    const info_field* end;
  };
  open_object enclosing[max_info_depth];  // uninitialised: only [0, depth) is read
  int depth = 0;
  if (limit - p < 4) return nullptr;
  p = store(p, static_cast<std::uint32_t>(fields.size()));
  const info_field* f = fields.data();
  const info_field* end = f + fields.size();
  for (;;) {
    if (f == end) {
      if (depth == 0) return p;
      --depth;
      f = enclosing[depth].next;
      end = enclosing[depth].end;
      continue;
    }
    const std::string_view key = f->key;
    const info_value& v = f->value;
    ++f;
    const std::size_t key_size = key.size() < max_key_size ? key.size() : max_key_size;
    // Room for the key's length byte, the key and the tag; each value checks its own.
    if (static_cast<std::size_t>(limit - p) < 2 + key_size) return nullptr;
    *p++ = static_cast<std::byte>(key_length_byte(key));
    copy_bytes(p, key.data(), key_size);
    p += key_size;
    const std::size_t room = static_cast<std::size_t>(limit - p) - 1;  // after the tag
    switch (v.type()) {
      case info_value::kind::null: *p++ = std::byte{'z'}; break;
      case info_value::kind::boolean: *p++ = std::byte{static_cast<unsigned char>(v.as_bool() ? 'T' : 'F')}; break;
      case info_value::kind::integer:
        if (room < 8) return nullptr;
        *p++ = std::byte{'i'};
        p = store(p, v.as_int());
        break;
      case info_value::kind::unsigned_integer:
        if (room < 8) return nullptr;
        *p++ = std::byte{'u'};
        p = store(p, v.as_uint());
        break;
      case info_value::kind::floating:
        if (room < 8) return nullptr;
        *p++ = std::byte{'d'};
        p = store(p, v.as_double());
        break;
      case info_value::kind::string: {
        const auto text = v.as_string();
        if (room < 4 || room - 4 < text.size()) return nullptr;
        *p++ = std::byte{'s'};
        p = store(p, static_cast<std::uint32_t>(text.size()));
        copy_bytes(p, text.data(), text.size());
        p += text.size();
        break;
      }
      case info_value::kind::object: {
        // Fields at depth max_info_depth are written; an object there is cut to 'Z'.
        if (depth >= max_info_depth) {
          *p++ = std::byte{'Z'};
          break;
        }
        if (room < 4) return nullptr;
        const auto inner = v.as_object();
        *p++ = std::byte{'o'};
        p = store(p, static_cast<std::uint32_t>(inner.size()));
        enclosing[depth++] = {f, end};
        f = inner.data();
        end = f + inner.size();
        break;
      }
    }
  }
}

namespace {

// Decoding reads untrusted-length data defensively: a short read stops the decoder.
struct reader {
  const std::byte* p;
  const std::byte* end;
  info_notes& notes;

  bool take(void* dst, std::size_t n) noexcept {
    if (static_cast<std::size_t>(end - p) < n) return false;
    std::memcpy(dst, p, n);
    p += n;
    return true;
  }
  bool take_view(std::string_view& dst, std::size_t n) noexcept {
    if (static_cast<std::size_t>(end - p) < n) return false;
    dst = {reinterpret_cast<const char*>(p), n};
    p += n;
    return true;
  }
};

bool decode_members(std::string& out, reader& in, bool first, std::string_view skip, int depth);

bool decode_value(std::string& out, reader& in, int depth) {
  char tag;
  if (!in.take(&tag, 1)) return false;
  switch (tag) {
    case 'z': out += "null"; return true;
    case 'Z':
      in.notes.cut = true;
      out += "null";
      return true;
    case 'T': out += "true"; return true;
    case 'F': out += "false"; return true;
    case 'i': {
      std::int64_t v;
      if (!in.take(&v, 8)) return false;
      append_json_int(out, v);
      return true;
    }
    case 'u': {
      std::uint64_t v;
      if (!in.take(&v, 8)) return false;
      append_json_uint(out, v);
      return true;
    }
    case 'd': {
      double v;
      if (!in.take(&v, 8)) return false;
      append_json_double(out, v);
      return true;
    }
    case 's': {
      std::uint32_t n;
      std::string_view s;
      if (!in.take(&n, 4) || !in.take_view(s, n)) return false;
      if (!is_valid_utf8(s)) in.notes.invalid_utf8 = true;
      append_json_string(out, s);
      return true;
    }
    case 'o': {
      if (depth > max_info_depth) return false;
      out += '{';
      const bool ok = decode_members(out, in, true, {}, depth + 1);
      out += '}';
      return ok;
    }
    default: return false;
  }
}

bool decode_members(std::string& out, reader& in, bool first, std::string_view skip, int depth) {
  std::uint32_t count;
  if (!in.take(&count, 4)) return false;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint8_t key_size;
    std::string_view key;
    if (!in.take(&key_size, 1)) return false;
    if (key_size == cut_key_length) {
      in.notes.cut = true;
      key_size = max_key_size;
    }
    if (!in.take_view(key, key_size)) return false;
    if (!is_valid_utf8(key)) in.notes.invalid_utf8 = true;
    if (!skip.empty() && key == skip) {
      // Decode into a scratch string to advance past the value.
      std::string scratch;
      if (!decode_value(scratch, in, depth)) return false;
      continue;
    }
    if (!first) out += ", ";
    first = false;
    append_json_string(out, key);
    out += ": ";
    if (!decode_value(out, in, depth)) return false;
  }
  return true;
}

}  // namespace

std::size_t encoded_info_size(std::span<const info_field> fields) noexcept { return fields_size(fields, 0); }

std::byte* encode_info(std::byte* out, std::span<const info_field> fields) noexcept {
  return encode_fields(out, fields, 0);
}

bool append_info_members(std::string& out, std::span<const std::byte> encoded, bool first, std::string_view skip,
                         info_notes& notes) {
  reader in{encoded.data(), encoded.data() + encoded.size(), notes};
  // A malformed tail would leave the JSON open; decode into a copy and only keep it if whole.
  const std::size_t mark = out.size();
  const bool was_first = first;
  std::uint32_t count;
  {
    reader peek = in;
    if (!peek.take(&count, 4)) return was_first;
  }
  if (!decode_members(out, in, first, skip, 0)) {
    out.resize(mark);
    return was_first;
  }
  return out.size() == mark ? was_first : false;
}

}  // namespace osprof::detail
