// Encoding helpers shared by the propagation sources: Python-compatible base64 and JSON
// strings, hex. Internal to osprof.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <osprof/uuid.hpp>

namespace osprof::detail {

/// Standard base64 with `=` padding, then `+` -> `-` and `/` -> `_` (Python's
/// base64.urlsafe_b64encode).
std::string urlsafe_b64encode(std::string_view bytes);

/// Python 3.11's base64.urlsafe_b64decode of a str, exactly: non-ASCII input is an error;
/// `-`/`_` and `+`/`/` both decode; other non-alphabet bytes are skipped; a complete padding
/// ends the data; an unfinished quad is an error ("Incorrect padding"). Written out rather
/// than taken from OpenSSL because the acceptance rules must be Python's, byte for byte.
std::optional<std::string> python_urlsafe_b64decode(std::string_view text);

/// Appends `text` as Python's json.dumps writes a str (ensure_ascii: non-ASCII as \uXXXX).
/// `text` must be valid UTF-8 (invalid bytes are written as U+FFFD).
void append_python_json_string(std::string& out, std::string_view text);

/// 32 lowercase hex digits of a uuid, without hyphens.
std::string uuid_hex(const uuid& id);
/// Parses exactly 32 lowercase hex digits.
std::optional<uuid> parse_uuid_hex(std::string_view text) noexcept;

void append_hex64(std::string& out, std::uint64_t value);

}  // namespace osprof::detail
