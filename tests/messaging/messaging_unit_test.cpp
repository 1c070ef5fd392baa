// The messaging driver without a broker: connection strings and transport URLs (oslo.messaging's
// syntax), their errors (never a password), the notification body and its parser.
#include <gtest/gtest.h>

#include <regex>

#include <osprof/connection_string.hpp>
#include <osprof/error.hpp>

#include "drivers/messaging/messaging_options.hpp"
#include "drivers/messaging/notification.hpp"

namespace {

namespace mq = osprof::detail::messaging;

mq::messaging_options parse(const std::string& text, const char* env = nullptr) {
  return mq::messaging_options::from(osprof::connection_string::parse(text), std::chrono::seconds(10), env);
}

std::string error_of(const std::string& text, const char* env = nullptr) {
  try {
    parse(text, env);
  } catch (const osprof::error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(MessagingOptions, TransportUrlAsConnectionString) {
  const auto o = parse("rabbit://user:pw@10.0.0.1:5673/nova");
  ASSERT_EQ(o.brokers.size(), 1u);
  EXPECT_EQ(o.brokers[0].host, "10.0.0.1");
  EXPECT_EQ(o.brokers[0].port, 5673);
  EXPECT_EQ(o.brokers[0].user, "user");
  EXPECT_EQ(o.brokers[0].password, "pw");
  EXPECT_EQ(o.vhost, "nova");
  EXPECT_FALSE(o.tls);
  EXPECT_EQ(o.exchange, "openstack");
  EXPECT_EQ(o.routing_key(), "profiler.info");
  EXPECT_EQ(o.idle_timeout, std::chrono::milliseconds(1000));
}

TEST(MessagingOptions, VirtualHostDefaultsAsKombu) {
  // "rabbit://host/" and "rabbit://host" both mean "/", as kombu reads oslo.messaging's URL.
  EXPECT_EQ(parse("rabbit://u:p@h:5672/").vhost, "/");
  EXPECT_EQ(parse("rabbit://u:p@h:5672").vhost, "/");
  EXPECT_EQ(parse("rabbit://u:p@h:5672/%2F").vhost, "/");
  EXPECT_EQ(parse("rabbit://h").brokers[0].user, "guest");  // oslo.messaging's default credentials
  EXPECT_EQ(parse("rabbit://h").brokers[0].port, 5672);
}

TEST(MessagingOptions, SeveralHostsInOrder) {
  const auto o = parse("rabbit://u1:p1@h1:5672,u2:p2@h2:5673/vh");
  ASSERT_EQ(o.brokers.size(), 2u);
  EXPECT_EQ(o.brokers[0].text(), "h1:5672");
  EXPECT_EQ(o.brokers[0].user, "u1");
  EXPECT_EQ(o.brokers[0].password, "p1");
  EXPECT_EQ(o.brokers[1].text(), "h2:5673");
  EXPECT_EQ(o.brokers[1].user, "u2");
  EXPECT_EQ(o.brokers[1].password, "p2");
  EXPECT_EQ(o.vhost, "vh");
  // No password of either host in what messages show.
  EXPECT_EQ(o.redacted.find("p1"), std::string::npos) << o.redacted;
  EXPECT_EQ(o.redacted.find("p2"), std::string::npos) << o.redacted;
  EXPECT_NE(o.redacted.find("h2:5673"), std::string::npos) << o.redacted;

  const auto bare = parse("rabbit://h1,h2:5673/");
  ASSERT_EQ(bare.brokers.size(), 2u);
  EXPECT_EQ(bare.brokers[0].text(), "h1:5672");
  EXPECT_EQ(bare.brokers[1].text(), "h2:5673");

  const auto three = parse("amqp://a:1@h1:1,b:2@h2:2,c:3@h3:3/%2F");
  ASSERT_EQ(three.brokers.size(), 3u);
  EXPECT_EQ(three.brokers[2].password, "3");
  EXPECT_EQ(three.vhost, "/");
  // An IPv6 host after the first is not a URL the connection string parser takes: give the
  // transport URL to messaging:// (as --transport-url does).
  EXPECT_NE(error_of("amqp://a:1@h1:1,c:3@[::1]:3/").find("not a valid URL"), std::string::npos);
  const auto v6 = parse("messaging://", "amqp://a:1@h1:1,b:2@h2:2,c:3@[::1]:3/%2F");
  ASSERT_EQ(v6.brokers.size(), 3u);
  EXPECT_EQ(v6.brokers[2].host, "::1");
  EXPECT_EQ(v6.brokers[2].text(), "[::1]:3");
  EXPECT_EQ(v6.brokers[2].password, "3");
  EXPECT_EQ(v6.vhost, "/");
}

TEST(MessagingOptions, MessagingSchemeTakesItsTransport) {
  // From the option, %-encoded as the CLI writes it, or plain.
  const auto o = parse("messaging://?transport_url=rabbit%3A%2F%2Fu%3Ap%2540x@h1%3A5672%2Cu2%3Aq@h2%3A5673%2Fvh");
  ASSERT_EQ(o.brokers.size(), 2u);
  EXPECT_EQ(o.brokers[0].password, "p@x");
  EXPECT_EQ(o.brokers[1].user, "u2");
  EXPECT_EQ(o.vhost, "vh");
  EXPECT_EQ(o.redacted.find("p@x"), std::string::npos);
  EXPECT_EQ(parse("messaging://?transport_url=rabbit://u:p@h:1/").brokers[0].port, 1);
  // From OSPROF_TRANSPORT_URL; the option wins.
  EXPECT_EQ(parse("messaging://", "rabbit://u:p@envhost:5672/").brokers[0].host, "envhost");
  EXPECT_EQ(parse("messaging://?transport_url=rabbit://h2", "rabbit://u:p@envhost:5672/").brokers[0].host, "h2");
  // The bare name OSProfiler accepts.
  EXPECT_EQ(parse("messaging", "rabbit://h3").brokers[0].host, "h3");
  // The transport's own query options count too (oslo.messaging's ?ssl=1).
  EXPECT_TRUE(parse("messaging://", "rabbit://h:5671/?ssl=1").tls);
}

TEST(MessagingOptions, Tls) {
  const auto s = parse("rabbits://u:p@h/");
  EXPECT_TRUE(s.tls);
  EXPECT_TRUE(s.tls_verify);
  EXPECT_EQ(s.brokers[0].port, 5671);
  EXPECT_TRUE(parse("rabbit://h:5671/?ssl=1").tls);
  EXPECT_TRUE(parse("rabbit://h:5671/?ssl=true&ssl_ca_file=/ca.pem").tls);
  EXPECT_FALSE(parse("rabbit://h:5671/?ssl=1&ssl_verify=false").tls_verify);
  EXPECT_NE(error_of("rabbits://h/?ssl=0").find("always uses TLS"), std::string::npos);
  EXPECT_NE(error_of("rabbit://h/?ssl_ca_file=/ca.pem").find("need TLS"), std::string::npos);
  EXPECT_NE(error_of("rabbits://h/?ssl_cert_file=/c.pem").find("both ssl_cert_file and ssl_key_file"), std::string::npos);
}

TEST(MessagingOptions, Settings) {
  const auto o = parse("rabbit://h/?control_exchange=nova&topic=prof&amqp_durable_queues=true&idle_timeout=2.5&"
                       "timeout_ms=1500&heartbeat=0");
  EXPECT_EQ(o.exchange, "nova");
  EXPECT_EQ(o.routing_key(), "prof.info");
  EXPECT_TRUE(o.durable);
  EXPECT_EQ(o.idle_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(o.heartbeat_s, 0);
}

TEST(MessagingOptions, ErrorsNameTheProblemWithoutPasswords) {
  const std::string none = error_of("messaging://");
  EXPECT_NE(none.find("needs a transport URL"), std::string::npos) << none;
  EXPECT_NE(none.find("OSPROF_TRANSPORT_URL"), std::string::npos) << none;
  const std::string unknown = error_of("rabbit://u:secret@h/?colour=blue");
  EXPECT_NE(unknown.find("unknown option 'colour'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("control_exchange"), std::string::npos) << unknown;
  EXPECT_EQ(unknown.find("secret"), std::string::npos) << unknown;
  const std::string kafka = error_of("messaging://?transport_url=kafka://u:secret@h:9092/");
  EXPECT_NE(kafka.find("transport 'kafka' is not supported"), std::string::npos) << kafka;
  EXPECT_EQ(kafka.find("secret"), std::string::npos) << kafka;
  const std::string port = error_of("messaging://?transport_url=rabbit://u:secret@h:99999/");
  EXPECT_NE(port.find("from 1 to 65535"), std::string::npos) << port;
  EXPECT_EQ(port.find("secret"), std::string::npos) << port;
  EXPECT_NE(error_of("messaging://host:5672").find("not from the connection string's host"), std::string::npos);
  EXPECT_NE(error_of("rabbit://h/?idle_timeout=-1").find("number of seconds"), std::string::npos);
  EXPECT_NE(error_of("rabbit://h/?control_exchange=a%20b").find("control_exchange"), std::string::npos);
}

TEST(MessagingOptions, RedactsTransportUrls) {
  EXPECT_EQ(mq::redact_transport_url("rabbit://u:p@h1:1,v:q@h2:2/vh?ssl=1"), "rabbit://u:***@h1:1,v:***@h2:2/vh?ssl=1");
  EXPECT_EQ(mq::redact_transport_url("rabbit://h1,h2/"), "rabbit://h1,h2/");
  EXPECT_EQ(mq::redact_transport_url("rabbit://u@h/"), "rabbit://u@h/");
  // The core's redaction hides a transport URL inside a connection string's query.
  const std::string cs = osprof::redact_connection_string("messaging://?transport_url=rabbit%3A%2F%2Fu%3Asecret%40h%2F&x=1");
  EXPECT_EQ(cs.find("secret"), std::string::npos) << cs;
  EXPECT_NE(cs.find("&x=1"), std::string::npos) << cs;
  const std::string plain = osprof::redact_connection_string("messaging://?transport_url=rabbit://u:secret@h/");
  EXPECT_EQ(plain.find("secret"), std::string::npos) << plain;
}

TEST(Notification, OsloMessagingBody) {
  const std::string payload =
      R"({"name": "db-start", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "2026-01-02T03:04:05.000006", "info": {"host": "h\u00e9"}, "project": "demo", "service": "api"})";
  std::string body;
  // 2026-01-02 03:04:05.123456 UTC
  mq::append_notification(body, payload, "host-1", "api", 1767323045123456);
  const std::regex form(
      R"(\{"message_id": "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", "publisher_id": "host-1", )"
      R"("event_type": "profiler.api", "priority": "INFO", "payload": (\{.*\}), )"
      R"("timestamp": "2026-01-02 03:04:05.123456", "_unique_id": "[0-9a-f]{32}"\})");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(body, m, form)) << body;
  EXPECT_EQ(m[1].str(), payload);

  const auto n = mq::parse_notification(body);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->payload, payload);
  EXPECT_EQ(n->base_id, "b");
  EXPECT_EQ(n->event_type, "profiler.api");
  EXPECT_EQ(n->priority, "INFO");
  EXPECT_EQ(n->unique_id.size(), 32u);
}

TEST(Notification, PythonDatetimeText) {
  EXPECT_EQ(mq::python_datetime_text(1767323045123456), "2026-01-02 03:04:05.123456");
  // str(datetime) leaves the fraction out when it is zero.
  EXPECT_EQ(mq::python_datetime_text(1767323045000000), "2026-01-02 03:04:05");
  EXPECT_EQ(mq::python_datetime_text(1767323045000001), "2026-01-02 03:04:05.000001");
}

TEST(Notification, ParsesEnvelopesAndRefusesWhatIsNotOne) {
  // oslo.messaging's 2.0 envelope (what an RPC-style sender wraps messages in).
  const std::string envelope =
      R"({"oslo.version": "2.0", "oslo.message": "{\"event_type\": \"profiler.x\", \"payload\": {\"base_id\": \"B\", \"name\": \"a-start\"}, \"priority\": \"INFO\"}"})";
  const auto n = mq::parse_notification(envelope);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->base_id, "B");
  EXPECT_EQ(n->event_type, "profiler.x");
  EXPECT_FALSE(mq::parse_notification("not json"));
  EXPECT_FALSE(mq::parse_notification("[1, 2]"));
  EXPECT_FALSE(mq::parse_notification(R"({"payload": "a string"})"));
  EXPECT_FALSE(mq::parse_notification(R"({"event_type": "x"})"));
  const auto no_base = mq::parse_notification(R"({"payload": {"name": "x"}})");
  ASSERT_TRUE(no_base);
  EXPECT_EQ(no_base->base_id, "");
}

}  // namespace
