// What a redis://, rediss://, redissentinel:// or rediscluster:// connection string means, as
// a plain struct: where the servers are, how to authenticate, TLS settings and the driver's
// own options. Parsed once when the driver is created; a bad value is an osprof::error that
// names the option (and never shows the password).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <osprof/connection_string.hpp>

namespace osprof::detail::redis {

enum class redis_mode : std::uint8_t {
  standalone,  ///< one server (redis://, rediss://)
  sentinel,    ///< the master that Sentinel names (redissentinel://)
  cluster,     ///< Redis Cluster, keys routed by slot (rediscluster://, or ?cluster=true)
};

struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  /// "host:port", with brackets around an IPv6 address.
  std::string text() const;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// Parses "host:port" or "[v6]:port"; `fallback_port` when the port is omitted. Throws
/// osprof::error naming `what`.
endpoint parse_endpoint(std::string_view text, std::uint16_t fallback_port, std::string_view what);

struct tls_options {
  bool enabled = false;         ///< rediss:// or ?tls=true
  bool verify_peer = true;      ///< ssl_cert_reqs=required (default) or none
  bool check_hostname = true;   ///< ssl_check_hostname; the certificate must name the host
  std::string ca_file;          ///< ssl_ca_certs: PEM bundle of trusted CAs (default: the system's)
  std::string ca_path;          ///< ssl_ca_path: directory of hashed CA certificates
  std::string cert_file;        ///< ssl_certfile: client certificate (PEM), for tls-auth-clients
  std::string key_file;         ///< ssl_keyfile: its private key (PEM)
};

struct redis_options {
  redis_mode mode = redis_mode::standalone;
  /// The server (standalone), the Sentinels (sentinel) or the seed nodes (cluster).
  std::vector<endpoint> endpoints;
  std::string user;      ///< ACL user (Redis 6+); empty: the default user
  std::string password;  ///< sent with AUTH when has_password
  bool has_password = false;
  std::int64_t db = 0;   ///< SELECT; the path "/N" or ?db=N

  std::string service_name = "mymaster";  ///< sentinel: the monitored master's name
  std::string sentinel_user;              ///< sentinel: ACL user for the Sentinels themselves
  std::string sentinel_password;          ///< sentinel: AUTH for the Sentinels themselves
  bool has_sentinel_password = false;

  tls_options tls;
  /// Connecting, and each request, give up after this long. ?timeout_ms=; default: the
  /// emitter's write timeout (10 s).
  std::chrono::milliseconds timeout{10000};
  /// MULTI/EXEC per batch plus a writer sequence key, so a batch whose reply was lost is not
  /// stored twice. ?dedup=false sends plain pipelined commands instead.
  bool dedup = true;
  /// ?ttl=SECONDS: EXPIRE trace keys after this long (0, the default, keeps them as OSProfiler does).
  std::uint64_t ttl_seconds = 0;

  /// The connection string with its passwords hidden, for messages.
  std::string redacted;

  static redis_options from(const connection_string& cs, std::chrono::milliseconds default_timeout);

 private:
  static redis_options parse(const connection_string& cs, std::chrono::milliseconds default_timeout);
};

/// How long the per-writer sequence key lives after the writer's last batch.
inline constexpr std::int64_t writer_key_ttl_seconds = 24 * 3600;

}  // namespace osprof::detail::redis
