// Connection strings: `<backend>://[[user[:password]]@][host][:port][/database][?options]`,
// parsed once with Boost.URL into parts that each driver turns into its typed options. A
// driver's factory receives one (<osprof/driver.hpp>); messages show `redacted`, never the
// password.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace osprof {
inline namespace v1 {

struct connection_string {
  std::string scheme;    ///< lowercase
  std::string user;      ///< percent-decoded
  std::string password;  ///< percent-decoded; never printed
  bool has_password = false;
  std::string host;      ///< without brackets for IPv6
  std::optional<std::uint16_t> port;
  std::string path;      ///< percent-decoded, with its leading '/' (empty if none)
  std::vector<std::pair<std::string, std::string>> params;  ///< the query, decoded, in order
  std::string redacted;  ///< the original text with the password replaced by "***"

  /// Throws osprof::error naming the problem (the message shows `redacted` only).
  static connection_string parse(std::string_view text);

  /// The path without its leading '/', e.g. the database name or number.
  std::string_view database() const noexcept {
    return std::string_view(path).substr(path.starts_with('/') ? 1 : 0);
  }
  std::optional<std::string_view> param(std::string_view key) const noexcept;
  std::uint16_t port_or(std::uint16_t fallback) const noexcept { return port.value_or(fallback); }

  /// Throws osprof::error if a query parameter is not in `known` (the message lists them).
  void check_params(std::initializer_list<std::string_view> known) const;
  void check_params(std::span<const std::string_view> known) const;
  /// Reads a parameter as a non-negative integer / a boolean; throws osprof::error on a bad value.
  std::optional<std::uint64_t> param_uint(std::string_view key) const;
  std::optional<bool> param_bool(std::string_view key) const;
  /// A parameter that must be a plain name: letters, digits, '_' and the characters in `also`;
  /// throws osprof::error naming the option otherwise.
  std::optional<std::string_view> param_name(std::string_view key, std::string_view also = {}) const;
  /// Throws osprof::error "invalid connection string '<redacted>': <why>".
  [[noreturn]] void fail(std::string_view why) const;
};

/// `text` with any password replaced by "***", for messages. Works on strings that do not parse.
std::string redact_connection_string(std::string_view text);

}  // namespace v1
}  // namespace osprof
