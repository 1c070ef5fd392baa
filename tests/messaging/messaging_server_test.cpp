// The messaging driver against the real rabbitmq-server of the CTest fixture
// (tests/servers/rabbitmq.sh): what is published (exchange, queue, body), reading a trace back
// while other traces' events go back to the queue, TLS, several brokers in order, and clear
// errors for wrong credentials and an unknown vhost. Each test uses a topic of its own.
#include <gtest/gtest.h>

#include <set>

#include <osprof/error.hpp>

#include "messaging_test_util.hpp"
#include "support/backend.hpp"

namespace {

using namespace osprof_test;

// ---------------------------------------------------------------- publishing

TEST(MessagingServer, PublishesOsloNotifications) {
  const std::string topic = fresh_topic();
  std::string base;
  osprof::stats s;
  {
    osprof::emitter e{test_options(url("?topic=" + topic))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(std::chrono::seconds(10)));
    s = e.get_stats();
  }
  EXPECT_EQ(s.emitted, 8u);
  EXPECT_EQ(s.written, 8u);
  EXPECT_EQ(s.dropped(), 0u);

  const auto got = drain(topic, std::chrono::milliseconds(500), "", 8);
  ASSERT_EQ(got.size(), 8u);
  std::vector<std::string> names;
  std::set<std::string> ids;
  for (const auto& d : got) {
    const auto n = mq::parse_notification(d.body);
    ASSERT_TRUE(n) << d.body;
    EXPECT_EQ(n->base_id, base);
    EXPECT_EQ(n->event_type, "profiler.api");
    EXPECT_EQ(n->priority, "INFO");
    EXPECT_TRUE(d.body.starts_with("{\"message_id\": \"")) << d.body;
    EXPECT_NE(d.body.find("\"publisher_id\": \"vm\""), std::string::npos) << d.body;
    EXPECT_NE(n->payload.find("\"project\": \"demo\", \"service\": \"api\"}"), std::string::npos) << n->payload;
    ids.insert(n->unique_id);
    names.push_back(field(n->payload, "name"));
  }
  EXPECT_EQ(ids.size(), 8u);  // a _unique_id per message
  EXPECT_EQ(names, (std::vector<std::string>{"wsgi-start", "rpc-start", "db-start", "db-stop", "rpc-stop", "driver-start",
                                             "driver-stop", "wsgi-stop"}));
}

TEST(MessagingServer, ControlExchangeAndLargeBatches) {
  // 20,000 events in batches of 4096, all confirmed, on an exchange of another name.
  const std::string topic = fresh_topic();
  auto o = test_options(url("?topic=" + topic + "&control_exchange=nova"));
  o.batch_size = 4096;
  o.queue_capacity = 1 << 15;
  osprof::stats s;
  {
    osprof::emitter e{o};
    osprof::init("SECRET_KEY");
    for (int i = 0; i < 10000; ++i) osprof::trace t("p");
    osprof::clean();
    ASSERT_TRUE(e.flush(std::chrono::seconds(30)));
    s = e.get_stats();
  }
  EXPECT_EQ(s.written, 20000u);
  EXPECT_EQ(s.dropped(), 0u);
  EXPECT_EQ(drain(topic, std::chrono::milliseconds(500), "&control_exchange=nova", 20000).size(), 20000u);
}

TEST(MessagingServer, UsesExistingExchangeAndQueueAsTheyAre) {
  // A deployment with amqp_durable_queues=true declared them durable: a writer with the
  // default (non-durable) settings must not be refused (PRECONDITION_FAILED).
  const std::string topic = fresh_topic();
  drain(topic, std::chrono::milliseconds(10), "&control_exchange=durable_x&amqp_durable_queues=true");
  osprof::test::backend b(url("?topic=" + topic + "&control_exchange=durable_x"));
  std::vector<osprof::event_record> none;
  osprof::event_record e;
  e.name = "x-start";
  e.json = R"({"name": "x-start", "base_id": "b", "project": "p", "service": "s"})";
  none.push_back(e);
  const auto r = b.write(none);
  EXPECT_EQ(r.status, osprof::write_status::ok) << r.error;
  EXPECT_EQ(drain(topic, std::chrono::milliseconds(300), "&control_exchange=durable_x", 1).size(), 1u);
}

// ---------------------------------------------------------------- reading

TEST(MessagingServer, ReadsATraceAndReturnsOtherTracesToTheQueue) {
  const std::string topic = fresh_topic();
  std::string first, second;
  {
    osprof::emitter e{test_options(url("?topic=" + topic))};
    first = emit_demo_trace();
    second = emit_demo_trace();
    ASSERT_TRUE(e.flush(std::chrono::seconds(10)));
  }
  {
    osprof::test::backend b(url("?topic=" + topic + "&idle_timeout=0.3"));
    const auto events = b.trace(first);
    ASSERT_EQ(events.size(), 8u);
    for (const auto& ev : events) EXPECT_EQ(field(ev, "base_id"), first);
  }
  // The other trace is still there, whole; the first is gone (read, as Python's reader does).
  {
    osprof::test::backend b(url("?topic=" + topic + "&idle_timeout=0.3"));
    EXPECT_EQ(b.trace(first).size(), 0u);
    EXPECT_EQ(b.trace(second).size(), 8u);
  }
  EXPECT_EQ(drain(topic).size(), 0u);
}

TEST(MessagingServer, ReportThroughTheApi) {
  const std::string topic = fresh_topic();
  std::string base;
  {
    osprof::emitter e{test_options(url("?topic=" + topic))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(std::chrono::seconds(10)));
  }
  const auto r = osprof::read_report(url("?topic=" + topic + "&idle_timeout=0.3"), base);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.event_count, 8u);
  try {
    osprof::list_traces(url("?topic=" + topic));
    ADD_FAILURE() << "listing should fail";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("osprof collect"), std::string::npos) << e.what();
  }
}

TEST(MessagingServer, ReaderStopsBeforeTheCallersDeadline) {
  // A trace whose events keep coming: the read ends within its deadline with what it has.
  const std::string topic = fresh_topic();
  std::atomic<bool> stop{false};
  std::string base;
  std::thread producer([&] {
    osprof::emitter e{test_options(url("?topic=" + topic))};
    osprof::init("SECRET_KEY");
    base = osprof::get()->base_id().to_string();
    while (!stop) {
      { osprof::trace t("tick"); }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    osprof::clean();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  osprof::report r;
  EXPECT_NO_THROW(r = osprof::read_report(url("?topic=" + topic + "&idle_timeout=5"), base,
                                          osprof::read_options{std::chrono::seconds(3)}));
  const auto took = std::chrono::steady_clock::now() - start;
  stop = true;
  producer.join();
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_GT(r.event_count, 0u);
  drain(topic);
}

// ---------------------------------------------------------------- connecting

TEST(MessagingServer, SeveralBrokersTriedInOrder) {
  // The first host has nothing listening; the second is the broker.
  const std::string topic = fresh_topic();
  osprof::test::backend b("rabbit://guest:guest@127.0.0.1:1,guest:guest@127.0.0.1:" + port() + "/?topic=" + topic);
  osprof::event_record e;
  e.name = "x-start";
  e.json = R"({"name": "x-start", "base_id": "b"})";
  std::vector<osprof::event_record> one{e};
  const auto r = b.write(one);
  EXPECT_EQ(r.status, osprof::write_status::ok) << r.error;
  EXPECT_EQ(drain(topic, std::chrono::milliseconds(500), "", 1).size(), 1u);
  // Only the dead one: retried, and the error says what is wrong (not a stale errno).
  osprof::test::backend dead("rabbit://guest:guest@127.0.0.1:1/?topic=" + topic);
  const auto d = dead.write(one);
  EXPECT_EQ(d.status, osprof::write_status::retry) << d.error;
  EXPECT_NE(d.error.find("127.0.0.1:1: cannot connect"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("is the broker running"), std::string::npos) << d.error;
  EXPECT_EQ(d.error.find("in progress"), std::string::npos) << d.error;
}

TEST(MessagingServer, Tls) {
  const std::string topic = fresh_topic();
  osprof::event_record e;
  e.name = "x-start";
  e.json = R"({"name": "x-start", "base_id": "b"})";
  std::vector<osprof::event_record> one{e};
  {
    // Verified against the fixture's CA by the name in its certificate, both spellings.
    osprof::test::backend b("rabbits://guest:guest@localhost:" + tls_port() + "/?topic=" + topic + "&ssl_ca_file=" + ca_file());
    const auto r = b.write(one);
    EXPECT_EQ(r.status, osprof::write_status::ok) << r.error;
    osprof::test::backend n("rabbit://guest:guest@localhost:" + tls_port() + "/?ssl=1&topic=" + topic + "&ssl_ca_file=" + ca_file());
    const auto rn = n.write(one);
    EXPECT_EQ(rn.status, osprof::write_status::ok) << rn.error;
  }
  {
    // rabbitmq-c 0.11 matches DNS names only, so the certificate's IP address entry does not
    // count: refused, with the reason.
    osprof::test::backend b("rabbits://guest:guest@127.0.0.1:" + tls_port() + "/?topic=" + topic + "&ssl_ca_file=" + ca_file());
    const auto r = b.write(one);
    EXPECT_EQ(r.status, osprof::write_status::failed) << r.error;
    EXPECT_NE(r.error.find("host name"), std::string::npos) << r.error;
  }
  EXPECT_EQ(drain(topic, std::chrono::milliseconds(500), "", 2).size(), 2u);
  {
    // Not trusted (the system's CAs): refused for good, and said so.
    osprof::test::backend b("rabbits://guest:guest@localhost:" + tls_port() + "/?topic=" + topic);
    const auto r = b.write(one);
    EXPECT_EQ(r.status, osprof::write_status::failed) << r.error;
    EXPECT_NE(r.error.find("verif"), std::string::npos) << r.error;
  }
  {
    // Verification off: accepted.
    osprof::test::backend b("rabbits://guest:guest@127.0.0.1:" + tls_port() + "/?topic=" + topic + "&ssl_verify=false");
    EXPECT_EQ(b.write(one).status, osprof::write_status::ok);
  }
  {
    // Plain AMQP to the TLS port: retried, with a hint.
    osprof::test::backend b("rabbit://guest:guest@127.0.0.1:" + tls_port() + "/?topic=" + topic + "&timeout_ms=2000");
    const auto r = b.write(one);
    EXPECT_EQ(r.status, osprof::write_status::retry) << r.error;
  }
  EXPECT_EQ(drain(topic, std::chrono::milliseconds(500), "", 1).size(), 1u);
}

TEST(MessagingServer, WrongCredentialsAndUnknownVhostAreClearErrors) {
  osprof::event_record e;
  e.name = "x-start";
  e.json = R"({"name": "x-start", "base_id": "b"})";
  std::vector<osprof::event_record> one{e};
  {
    osprof::test::backend b("rabbit://guest:not-the-password@127.0.0.1:" + port() + "/");
    const auto r = b.write(one);
    EXPECT_EQ(r.status, osprof::write_status::failed);
    EXPECT_NE(r.error.find("ACCESS_REFUSED"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("not-the-password"), std::string::npos) << r.error;
  }
  {
    osprof::test::backend b("rabbit://guest:guest@127.0.0.1:" + port() + "/no_such_vhost");
    const auto r = b.write(one);
    EXPECT_EQ(r.status, osprof::write_status::failed);
    EXPECT_NE(r.error.find("NOT_ALLOWED"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("no_such_vhost"), std::string::npos) << r.error;
  }
  {
    osprof::test::backend b("rabbit://guest:guest@127.0.0.1:1/?timeout_ms=1000");
    const auto r = b.write(one);
    EXPECT_EQ(r.status, osprof::write_status::retry);
    EXPECT_NE(r.error.find("127.0.0.1:1"), std::string::npos) << r.error;
  }
  // A reader says the same, as an osprof::error.
  try {
    osprof::read_report("rabbit://guest:not-the-password@127.0.0.1:" + port() + "/", "00000000-0000-0000-0000-000000000000");
    ADD_FAILURE() << "no error";
  } catch (const osprof::error& err) {
    EXPECT_NE(std::string(err.what()).find("ACCESS_REFUSED"), std::string::npos) << err.what();
    EXPECT_EQ(std::string(err.what()).find("not-the-password"), std::string::npos) << err.what();
  }
}

}  // namespace
