// Binary encoding of trace-point info, written on the caller's thread with memcpy only
// (no formatting) and turned into JSON on the worker side.
//
// Layout: u32 field count, then per field: u8 key length, key bytes, u8 tag, value.
// Tags: 'z' null, 'T'/'F' booleans, 'i' i64, 'u' u64, 'd' f64 (8 bytes each),
// 's' u32 length + bytes, 'o' u32 field count + fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <osprof/info.hpp>

namespace osprof::detail {

// Nesting deeper than max_info_depth is encoded as tag 'Z' (null because cut); a key longer
// than max_info_key_bytes is cut to it and its length byte reads 255.

/// What decoding found that the stored JSON cannot show as the caller gave it.
struct info_notes {
  bool cut = false;           ///< a value nested too deep (stored as null) or a key cut
  bool invalid_utf8 = false;  ///< a key or string that is not UTF-8 (stored with U+FFFD)
};

/// Bytes that encode(fields) will write.
std::size_t encoded_info_size(std::span<const info_field> fields) noexcept;

/// Writes the encoding of `fields` at `out`; returns the end. `out` must have
/// encoded_info_size(fields) bytes.
std::byte* encode_info(std::byte* out, std::span<const info_field> fields) noexcept;

/// encode_info_bounded() for at least one field (out of line).
std::byte* encode_fields_bounded(std::byte* out, const std::byte* limit, std::span<const info_field> fields) noexcept;

/// Writes the encoding of `fields` at `out` if it fits before `limit`; returns the end, or
/// nullptr (with `out..limit` partly written) if it does not fit. One pass: the hot path. No
/// info, the usual case at a stop and common at a start, is its field count alone, written here
/// (a call into the encoder costs some thirty instructions for it).
inline std::byte* encode_info_bounded(std::byte* out, const std::byte* limit, std::span<const info_field> fields) noexcept {
  if (!fields.empty()) return encode_fields_bounded(out, limit, fields);
  if (limit - out < 4) return nullptr;
  const std::uint32_t none = 0;
  std::memcpy(out, &none, 4);
  return out + 4;
}

/// Appends the fields of an encoded object as JSON members (`"k": v, ...`, no braces) to `out`.
/// `first` tells whether a separator is needed before the first member; returns the updated
/// flag. Keys listed in `skip` (top level only) are left out. Malformed input stops decoding.
/// What had to be changed is added to `notes`.
bool append_info_members(std::string& out, std::span<const std::byte> encoded, bool first,
                         std::string_view skip, info_notes& notes);

}  // namespace osprof::detail
