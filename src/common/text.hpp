// Text helpers shared by the core, the drivers and the tools, written once: UTF-8 decoding,
// hex, base64, percent-coding, and excerpts of untrusted text for messages. JSON strings are
// in json_writer.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace osprof::detail {

inline constexpr char hex_digits[] = "0123456789abcdef";

/// Decodes the UTF-8 sequence at s[i]; returns its length, or 0 (and U+FFFD in `cp`) for bytes
/// that are not valid UTF-8 (overlong forms, surrogates, code points above U+10FFFF).
std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept;

/// Whether `s` is all valid UTF-8 (ASCII is checked eight bytes at a time).
bool is_valid_utf8(std::string_view s) noexcept;

/// `s` with each byte that is not valid UTF-8 replaced by U+FFFD, as Python decodes with
/// errors="replace".
std::string to_valid_utf8(std::string_view s);

/// The first `n` code points of `text` (not splitting a sequence).
std::string_view utf8_prefix(std::string_view text, std::size_t n) noexcept;

/// Appends `s` safe to print on a terminal: control characters, C1 controls and invalid
/// UTF-8 bytes become \n, \t, \r or \xHH; valid UTF-8 text is kept.
void append_terminal_safe(std::string& out, std::string_view s);

/// The start of an untrusted text (a server's answer, a stored event) for a message: at most
/// `max_bytes` (not splitting a UTF-8 sequence), terminal-safe, trailing white space removed,
/// "..." when cut.
std::string excerpt(std::string_view text, std::size_t max_bytes = 300);

/// Appends `value` as `digits` lowercase hex digits (the low ones), most significant first.
void append_hex(std::string& out, std::uint64_t value, int digits = 16);
/// Appends every byte of `bytes` as two lowercase hex digits.
void append_hex_bytes(std::string& out, std::string_view bytes);
/// The value of a hex digit (either case), or -1.
int hex_value(char c) noexcept;

/// RFC 4648 base64 with `=` padding; `url_safe` uses '-' and '_' (Python's urlsafe_b64encode).
std::string base64_encode(std::string_view bytes, bool url_safe = false);

/// %XX sequences decoded (either case); nullopt for a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text);
/// Percent-encodes everything but RFC 3986's unreserved characters (a query value or a path segment).
std::string percent_encode(std::string_view text);

/// Whether `s` is a non-empty name of letters, digits, '_' and the characters in `also` (for
/// names that go into queries and URLs).
bool is_plain_name(std::string_view s, std::string_view also = {}) noexcept;

/// `text` between two `quote` characters, with `quote` and '\\' escaped by a backslash (the
/// string and identifier literals of InfluxQL and ClickHouse SQL).
std::string backslash_quoted(std::string_view text, char quote);

}  // namespace osprof::detail
