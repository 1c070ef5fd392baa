// Structured `info` for trace points, as OSProfiler's info dict: nested objects, strings,
// integers, floats, booleans and null. Values are views: they are read while the trace point
// runs and encoded into the event; nothing is kept afterwards, so temporaries are fine.
//
//   osprof::start("db", {{"db", {{"statement", sql}, {"params", params}}}});
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <type_traits>

namespace osprof {
inline namespace v1 {

struct info_field;

/// One value of trace-point info. Holds views only; see the file comment.
class info_value {
 public:
  enum class kind : std::uint8_t { null, boolean, integer, unsigned_integer, floating, string, object };

  constexpr info_value() noexcept : kind_(kind::null) {}
  constexpr info_value(std::nullptr_t) noexcept : kind_(kind::null) {}
  constexpr info_value(bool value) noexcept : kind_(kind::boolean) { u_.boolean = value; }

  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char> && !std::same_as<T, char8_t>)
  constexpr info_value(T value) noexcept {
    if constexpr (std::is_signed_v<T>) {
      kind_ = kind::integer;
      u_.integer = value;
    } else {
      kind_ = kind::unsigned_integer;
      u_.unsigned_integer = value;
    }
  }

  template <std::floating_point T>
  constexpr info_value(T value) noexcept : kind_(kind::floating) {
    u_.floating = static_cast<double>(value);
  }

  constexpr info_value(std::string_view text) noexcept : kind_(kind::string) {
    u_.string.data = text.data();
    u_.string.size = text.size();
  }
  /// Anything that converts to std::string_view (std::string, ...).
  template <class T>
    requires(std::convertible_to<const T&, std::string_view> && !std::same_as<T, std::string_view> &&
             !std::convertible_to<const T&, const char*>)
  constexpr info_value(const T& text) noexcept : info_value(std::string_view(text)) {}
  /// A null pointer gives a JSON null, as Python's None would.
  constexpr info_value(const char* text) noexcept {
    if (text == nullptr) {
      kind_ = kind::null;
    } else {
      *this = info_value(std::string_view(text));
    }
  }

  /// A nested object: `{{"key", value}, ...}`.
  constexpr info_value(std::initializer_list<info_field> fields) noexcept;
  /// A nested object from fields built at run time.
  constexpr info_value(std::span<const info_field> fields) noexcept;

  constexpr kind type() const noexcept { return kind_; }
  constexpr bool as_bool() const noexcept { return u_.boolean; }
  constexpr std::int64_t as_int() const noexcept { return u_.integer; }
  constexpr std::uint64_t as_uint() const noexcept { return u_.unsigned_integer; }
  constexpr double as_double() const noexcept { return u_.floating; }
  constexpr std::string_view as_string() const noexcept { return {u_.string.data, u_.string.size}; }
  constexpr std::span<const info_field> as_object() const noexcept;

 private:
  kind kind_;
  union {
    bool boolean;
    std::int64_t integer;
    std::uint64_t unsigned_integer;
    double floating;
    struct {
      const char* data;
      std::size_t size;
    } string;
    struct {
      const info_field* data;
      std::size_t size;
    } object;
  } u_{};
};

/// A key and its value.
struct info_field {
  std::string_view key;
  info_value value;

  constexpr info_field(std::string_view k, info_value v) noexcept : key(k), value(v) {}
  /// A scalar or string value is built where the field lies: built apart and copied in, its
  /// one-byte kind and eight-byte value were read back as one 16-byte load, which the CPU
  /// cannot forward from the two stores (a stall of a dozen cycles per field).
  template <class T>
    requires(std::constructible_from<info_value, T &&> && !std::same_as<std::remove_cvref_t<T>, info_value>)
  constexpr info_field(std::string_view k, T&& v) noexcept : key(k), value(static_cast<T&&>(v)) {}
};

constexpr info_value::info_value(std::initializer_list<info_field> fields) noexcept : kind_(kind::object) {
  u_.object.data = fields.begin();
  u_.object.size = fields.size();
}

constexpr info_value::info_value(std::span<const info_field> fields) noexcept : kind_(kind::object) {
  u_.object.data = fields.data();
  u_.object.size = fields.size();
}

constexpr std::span<const info_field> info_value::as_object() const noexcept {
  return {u_.object.data, u_.object.size};
}

/// The info of one trace point: a braced list of fields.
using info = std::initializer_list<info_field>;

/// Bytes of point name plus encoded info that travel inside the fixed-size event without any
/// heap allocation. The name costs its length; the info 4 bytes plus, per field, its key's length
/// + 2 and its value: a string's length + 4, 8 for a number, 4 for a nested object (plus its
/// fields), nothing for a boolean or null. Larger payloads are copied to the heap once (counted
/// as `spilled_events`); payloads above `options::max_event_bytes`, or that would take the
/// queue past `options::queue_max_bytes`, have their info replaced by a truncation marker
/// (counted as `truncated_events`).
inline constexpr std::size_t inline_payload_budget = 168;

/// Objects nested deeper than this are stored as null; keys longer than max_info_key_bytes are
/// cut to it. Each event so changed is counted in stats::cut_info.
inline constexpr int max_info_depth = 16;
inline constexpr std::size_t max_info_key_bytes = 254;

}  // namespace v1
}  // namespace osprof
