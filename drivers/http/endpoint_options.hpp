// The settings every HTTP backend reads from its connection string, parsed once here
// (drivers/http/README.md): where the server is, TLS, Basic auth, the timeout, gzip and the
// largest request body. A backend adds its own options on top.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include <osprof/connection_string.hpp>

#include "drivers/http/client.hpp"

namespace osprof::detail::http {

struct endpoint_options {
  client_options client;  ///< host, port, `+https`/?tls=, ?tls_verify=, ?ca_file=, ?timeout_ms=, user info
  bool gzip = false;      ///< ?gzip=true (or ?compression=gzip): compress request bodies
  std::size_t max_body_bytes = 8u << 20;  ///< ?max_body_bytes=: split a batch into bodies of at most this

  /// Parses the common options (`default_port`, `default_max_body` and `default_timeout` when
  /// absent) and checks that every other query parameter is one of `own`. Throws
  /// osprof::error naming a bad or unknown option.
  static endpoint_options parse(const connection_string& cs, std::uint16_t default_port, std::size_t default_max_body,
                                std::chrono::milliseconds default_timeout, std::initializer_list<std::string_view> own);
};

}  // namespace osprof::detail::http
