// Encoding helpers of the propagation sources that are theirs alone: Python's base64 decoding
// rules and uuids as 32 hex digits. The general ones are in common/text.hpp and
// common/json_writer.hpp. Internal to osprof.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <osprof/uuid.hpp>

namespace osprof::detail {

/// Python 3.11's base64.urlsafe_b64decode of a str, exactly: non-ASCII input is an error;
/// `-`/`_` and `+`/`/` both decode; other non-alphabet bytes are skipped; a complete padding
/// ends the data; an unfinished quad is an error ("Incorrect padding"). Written out rather
/// than taken from OpenSSL because the acceptance rules must be Python's, byte for byte.
std::optional<std::string> python_urlsafe_b64decode(std::string_view text);

/// 32 lowercase hex digits of a uuid, without hyphens.
std::string uuid_hex(const uuid& id);
/// Parses exactly 32 lowercase hex digits.
std::optional<uuid> parse_uuid_hex(std::string_view text) noexcept;

}  // namespace osprof::detail
