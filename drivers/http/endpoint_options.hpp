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

/// What an HTTP backend is called, where its server listens unless told otherwise, and what
/// `osprof drivers` says of it.
struct backend {
  std::string_view name;          ///< the schemes: name:// and name+https:// (TLS)
  std::string_view title;         ///< for messages: "<title> at <connection string>"
  std::uint16_t default_port = 80;
  std::size_t default_max_body = 8u << 20;  ///< bytes of one request body
  std::string_view path;          ///< what follows host:port in a connection string, e.g. "[/database]"
  std::string_view what;          ///< what the backend stores and how, in a few words

  /// "<title>: <name>://[user:password@]host[:port]<path> (<what>)", and with TLS.
  std::string summary(bool tls) const;
};

struct endpoint_options {
  client_options client;  ///< host, port, `+https`/?tls=, ?tls_verify=, ?ca_file=, ?timeout_ms=, user info
  bool gzip = false;      ///< ?gzip=true (or ?compression=gzip): compress request bodies
  std::size_t max_body_bytes = 8u << 20;  ///< ?max_body_bytes=: split a batch into bodies of at most this

  /// Parses the common options of a connection string for `b` (its defaults, and
  /// `default_timeout`, when absent) and checks that every other query parameter is one of
  /// `own`. Throws osprof::error naming a bad or unknown option, or a scheme not `b`'s.
  static endpoint_options parse(const connection_string& cs, const backend& b, std::chrono::milliseconds default_timeout,
                                std::initializer_list<std::string_view> own);

  /// "<title> at <connection string without its password>", for messages.
  std::string where(const backend& b) const { return std::string(b.title) + " at " + client.redacted; }
};

/// What every HTTP backend's options have: the endpoint, and messages that name the backend
/// (`Options::backend`).
template <class Options>
struct backend_options {
  endpoint_options endpoint;  ///< host, port, TLS, Basic auth, timeout, gzip, max body

  /// "<title> at <connection string without its password>", for messages.
  std::string where() const { return endpoint.where(Options::backend); }
};

}  // namespace osprof::detail::http
