// Trace and point identifiers. OSProfiler uses uuid4 strings for base_id, trace_id and
// parent_id; osprof keeps them as 128-bit values on the caller's thread and formats them
// (lowercase, hyphenated, 36 characters) on the worker side.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace osprof {
inline namespace v1 {

/// A 128-bit identifier with uuid text form. Trivially copyable; `{}` is the nil uuid.
struct uuid {
  std::uint64_t hi = 0;  ///< bytes 0..7, big-endian (the first 16 hex digits)
  std::uint64_t lo = 0;  ///< bytes 8..15 (the last 16 hex digits)

  /// A fresh random uuid4 from this thread's generator (no system call, no lock).
  static uuid random() noexcept;

  /// Parses the hyphenated text form (either case). Returns nullopt for anything else.
  static std::optional<uuid> parse(std::string_view text) noexcept;
  /// Also the other spellings of a uuid that Python's uuid module reads and oslo's
  /// is_uuid_like() accepts (what `osprofiler trace show` takes for a trace id): 32 hex digits
  /// in either case, hyphens anywhere or none, in braces, after `urn:uuid:`. For trusted
  /// input (code, a command line); trace headers from outside take parse()'s form only.
  static std::optional<uuid> parse_like(std::string_view text);

  /// Writes the 36-character lowercase hyphenated form into `out`.
  void format(char* out) const noexcept;
  std::string to_string() const;

  constexpr bool is_nil() const noexcept { return hi == 0 && lo == 0; }
  friend constexpr bool operator==(const uuid&, const uuid&) noexcept = default;
};

/// Length of uuid's text form.
inline constexpr std::size_t uuid_text_size = 36;

}  // namespace v1
}  // namespace osprof
