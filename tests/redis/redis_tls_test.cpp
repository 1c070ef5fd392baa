// The Redis driver over TLS against a real redis-server (tests/servers/redis.sh start-tls:
// TLS only, client certificates required, a private CA): certificates verified by default,
// the host name checked, a useful error when TLS and plain TCP are mixed up.
#include <gtest/gtest.h>

#include "redis_test_util.hpp"

namespace {

using namespace osprof_test;

std::string tls_url(const std::string& host, const std::string& options) {
  return "rediss://" + host + ":" + std::to_string(fixture_port("redis-tls")) + "?" + options;
}
std::string tls_file(const std::string& name) { return fixture_dir("redis-tls") + "/tls/" + name; }
std::string client_cert() { return "&ssl_certfile=" + tls_file("client.crt") + "&ssl_keyfile=" + tls_file("client.key"); }

osprof::stats emit_to(const std::string& url, std::string* base = nullptr,
                      std::chrono::milliseconds shutdown = std::chrono::seconds(5)) {
  auto o = test_options(url);
  o.shutdown_timeout = shutdown;
  osprof::emitter e{o};
  std::string id = emit_demo_trace();
  if (base != nullptr) *base = id;
  e.flush(std::chrono::seconds(5));
  e.shutdown(shutdown);
  return e.get_stats();
}

TEST(RedisTls, CertificatesVerified) {
  const std::string url = tls_url("127.0.0.1", "ssl_ca_certs=" + tls_file("ca.crt") + client_cert());
  std::string base;
  const auto s = emit_to(url, &base);
  EXPECT_EQ(s.written, 8u) << s.last_error;
  reader rd(url);
  EXPECT_EQ(rd.trace(base).size(), 8u);
  EXPECT_EQ(rd.list().size() >= 1, true);
  // The certificate names localhost too.
  EXPECT_EQ(emit_to(tls_url("localhost", "ssl_ca_certs=" + tls_file("ca.crt") + client_cert())).written, 8u);
}

TEST(RedisTls, AnUntrustedCertificateIsRefused) {
  const auto s = emit_to(tls_url("127.0.0.1", "ssl_ca_certs=" + tls_file("other-ca.crt") + client_cert()));
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, 8u);
  EXPECT_NE(s.last_error.find("certificate verify failed"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("self-signed certificate in certificate chain"), std::string::npos) << s.last_error;
  // The system's CAs (the default) do not know the test CA either.
  const auto d = emit_to(tls_url("127.0.0.1", client_cert().substr(1)));
  EXPECT_EQ(d.written, 0u);
  EXPECT_NE(d.last_error.find("certificate verify failed"), std::string::npos) << d.last_error;
  // Unless verification is turned off explicitly.
  EXPECT_EQ(emit_to(tls_url("127.0.0.1", "ssl_cert_reqs=none" + client_cert())).written, 8u);
}

TEST(RedisTls, TheHostNameIsChecked) {
  // 127.0.0.2 reaches the same server, but the certificate does not name it.
  const std::string ca = "ssl_ca_certs=" + tls_file("ca.crt") + client_cert();
  const auto s = emit_to(tls_url("127.0.0.2", ca));
  EXPECT_EQ(s.written, 0u);
  EXPECT_NE(s.last_error.find("IP address mismatch"), std::string::npos) << s.last_error;
  EXPECT_EQ(emit_to(tls_url("127.0.0.2", ca + "&ssl_check_hostname=false")).written, 8u);
}

TEST(RedisTls, AServerRequiringAClientCertificate) {
  const auto s = emit_to(tls_url("127.0.0.1", "ssl_ca_certs=" + tls_file("ca.crt")), nullptr, std::chrono::milliseconds(500));
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.emitted, s.written + s.dropped());
  EXPECT_NE(s.last_error.find("certificate required"), std::string::npos) << s.last_error;
}

TEST(RedisTls, PlainTcpToATlsPortSaysSo) {
  const auto s = emit_to("redis://127.0.0.1:" + std::to_string(fixture_port("redis-tls")), nullptr,
                         std::chrono::milliseconds(300));
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.emitted, s.written + s.dropped());
  EXPECT_GT(s.write_failures, 0u);
  EXPECT_NE(s.last_error.find("use rediss://"), std::string::npos) << s.last_error;
}

}  // namespace
