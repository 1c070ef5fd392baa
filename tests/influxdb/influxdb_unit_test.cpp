// The InfluxDB driver without a server: line protocol escaping, unique timestamps per series,
// batch encoding and splitting, partial-write counts, and the connection string's options.
#include <gtest/gtest.h>

#include <set>

#include <osprof/error.hpp>

#include <osprof/connection_string.hpp>
#include "common/text.hpp"
#include "drivers/influxdb/influxdb_options.hpp"
#include "drivers/influxdb/line_protocol.hpp"
#include "../http_drivers/records.hpp"

namespace {

using namespace osprof::detail::influxdb;
using osprof::connection_string;
using osprof_test::make_record;

std::string tag(std::string_view v) {
  std::string out;
  append_tag_value(out, v);
  return out;
}

std::string field(std::string_view v) {
  std::string out;
  append_string_field(out, v);
  return out;
}

TEST(InfluxLineProtocol, EscapesTagValues) {
  EXPECT_EQ(tag("db-start"), "db-start");
  EXPECT_EQ(tag("GET /v2.1/servers"), "GET\\ /v2.1/servers");
  EXPECT_EQ(tag("a,b=c d"), "a\\,b\\=c\\ d");
  // A backslash before a separator or at the end cannot be written: it becomes '/'.
  EXPECT_EQ(tag("C:\\dir\\"), "C:/dir/");
  EXPECT_EQ(tag("two\nlines\r"), "two lines ");
  EXPECT_EQ(tag("quote\"and'apostrophe"), "quote\"and'apostrophe");
}

TEST(InfluxLineProtocol, EscapesStringFieldsExactly) {
  EXPECT_EQ(field("plain"), "\"plain\"");
  EXPECT_EQ(field("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(field("a\\b\\"), "\"a\\\\b\\\\\"");
  EXPECT_EQ(field("line1\nline2"), "\"line1\nline2\"");  // line breaks are allowed inside quotes
  EXPECT_EQ(field("{\"k\": \"v\\\"w\"}"), "\"{\\\"k\\\": \\\"v\\\\\\\"w\\\"}\"");
  EXPECT_EQ(field(""), "\"\"");
}

TEST(InfluxTimestamps, UniqueWithinASeriesAndMicrosecond) {
  timestamp_assigner times;
  std::set<std::int64_t> seen;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const std::int64_t t = times.assign(42, 1'700'000'000'000'000, i * 7919);
    EXPECT_GE(t, 1'700'000'000'000'000'000);
    EXPECT_LT(t, 1'700'000'000'000'001'000);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 1000u) << "1000 points of one series in one microsecond get 1000 times";
  // The same seed in another series, or another microsecond, is not a conflict.
  EXPECT_EQ(times.assign(43, 1'700'000'000'000'000, 5), 1'700'000'000'000'000'005);
  EXPECT_EQ(times.assign(42, 1'700'000'000'000'001, 5), 1'700'000'000'000'001'005);
  // The first offset tried comes from the seed.
  timestamp_assigner fresh;
  EXPECT_EQ(fresh.assign(1, 10, 123456), 10'456);
  EXPECT_EQ(fresh.assign(1, 10, 123456), 10'457);
}

TEST(InfluxTimestamps, RemembersTwoGenerations) {
  timestamp_assigner times(4);
  EXPECT_EQ(times.assign(1, 1, 0), 1000);
  for (std::uint64_t s = 2; s < 7; ++s) times.assign(s, 1, 0);  // fills and rotates a generation
  EXPECT_EQ(times.assign(1, 1, 0), 1001) << "still remembered in the previous generation";
  for (std::uint64_t s = 10; s < 20; ++s) times.assign(s, 1, 0);
  EXPECT_EQ(times.assign(1, 1, 0), 1000) << "forgotten after two generations";
}

osprof::uuid id(std::uint64_t n) { return {0x1111111111114111ULL, 0x8000000000000000ULL | n}; }

TEST(InfluxEncoder, OnePointPerEventWithTagsAndFields) {
  std::vector<osprof_test::event_record> batch = {
      make_record("wsgi-start", id(1), id(2), id(1), 1'700'000'000'123'456, "\"path\": \"/a b\""),
      make_record("wsgi-stop", id(1), id(2), id(1), 1'700'000'000'223'456, "\"etype\": \"ValueError\"", true),
  };
  encoder_settings s;
  s.project = "my project";
  s.service = "api";
  s.host = "vm";
  timestamp_assigner times;
  const auto bodies = encode_batch(batch, s, times);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0].events, 2u);
  const std::string& text = bodies[0].body;
  const std::string first = text.substr(0, text.find('\n'));
  const std::string second = text.substr(first.size() + 1, text.size() - first.size() - 2);
  const std::string base = id(1).to_string();
  EXPECT_TRUE(first.starts_with("osprofiler_events,base_id=" + base + ",name=wsgi-start,project=my\\ project,service=api,host=vm event=\""))
      << first;
  EXPECT_NE(first.find("\\\"path\\\": \\\"/a b\\\""), std::string::npos) << first;
  // The event's microsecond and an offset inside it (nanoseconds).
  EXPECT_NE(first.find("\\\"host\\\": \\\"vm\\\"}, \\\"project\\\": \\\"demo\\\", \\\"service\\\": \\\"api\\\"}\" 1700000000123456"),
            std::string::npos)
      << first;
  EXPECT_EQ(first.size() - first.rfind(' ') - 1, 19u) << first;
  EXPECT_EQ(first.find("error="), std::string::npos);
  EXPECT_NE(second.find("\"}\",error=true 1700000000223456"), std::string::npos) << second;
  EXPECT_EQ(second.size() - second.rfind(' ') - 1, 19u) << second;
  EXPECT_TRUE(text.ends_with("\n"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);

  // No project: the tag is left out (line protocol has no empty tag values).
  s.project.clear();
  const auto plain = encode_batch(batch, s, times);
  EXPECT_EQ(plain[0].body.find("project="), std::string::npos);
}

TEST(InfluxEncoder, SameMicrosecondSameNameGetsDistinctTimes) {
  std::vector<osprof_test::event_record> batch;
  for (std::uint64_t i = 0; i < 300; ++i) batch.push_back(make_record("db-start", id(1), id(100 + i), id(1), 5'000'000));
  timestamp_assigner times;
  const auto bodies = encode_batch(batch, {}, times);
  std::set<std::string> stamps;
  std::string_view rest = bodies[0].body;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const auto line = rest.substr(0, nl);
    stamps.insert(std::string(line.substr(line.rfind(' ') + 1)));
    rest = rest.substr(nl + 1);
  }
  EXPECT_EQ(stamps.size(), 300u);
  // A retry of the same batch must not move the times: the driver encodes a batch once. A
  // second encoding (a new batch with the same events) does move them, to unused offsets.
  const auto again = encode_batch(batch, {}, times);
  EXPECT_NE(again[0].body, bodies[0].body);
}

TEST(InfluxEncoder, SplitsIntoBoundedBodies) {
  std::vector<osprof_test::event_record> batch;
  for (std::uint64_t i = 0; i < 100; ++i) {
    batch.push_back(make_record("p-start", id(i % 7), id(1000 + i), id(i % 7), 1'000'000 + static_cast<std::int64_t>(i),
                                "\"blob\": \"" + std::string(400, 'x') + "\""));
  }
  encoder_settings s;
  s.max_body_bytes = 4096;
  timestamp_assigner times;
  const auto bodies = encode_batch(batch, s, times);
  EXPECT_GT(bodies.size(), 10u);
  std::size_t events = 0;
  for (const auto& b : bodies) {
    EXPECT_LE(b.body.size(), 4096u);
    EXPECT_EQ(static_cast<std::size_t>(std::count(b.body.begin(), b.body.end(), '\n')), b.events);
    events += b.events;
  }
  EXPECT_EQ(events, 100u);
  // One point larger than the limit still goes out, alone.
  s.max_body_bytes = 100;
  const auto alone = encode_batch(std::span(batch).first(3), s, times);
  ASSERT_EQ(alone.size(), 3u);
  for (const auto& b : alone) EXPECT_EQ(b.events, 1u);
}

TEST(InfluxEncoder, PartialWriteCount) {
  EXPECT_EQ(parse_dropped("partial write: field type conflict: input field \"event\" on measurement \"m\" is type "
                          "string, already exists as type integer dropped=37"),
            37u);
  EXPECT_EQ(parse_dropped("partial write: max-values-per-tag limit exceeded (3/3): measurement=\"m\" tag=\"base_id\" "
                          "value=\"x\" dropped=2"),
            2u);
  EXPECT_EQ(parse_dropped("unable to parse 'x': invalid field format"), 0u);
}

TEST(InfluxOptions, DefaultsAndOptions) {
  auto o = influxdb_options::from(connection_string::parse("influxdb://127.0.0.1"), std::chrono::seconds(3));
  EXPECT_EQ(o.endpoint.client.host, "127.0.0.1");
  EXPECT_EQ(o.endpoint.client.port, 8086);
  EXPECT_FALSE(o.endpoint.client.tls);
  EXPECT_EQ(o.endpoint.client.timeout, std::chrono::seconds(3));
  EXPECT_EQ(o.database, "osprofiler");
  EXPECT_EQ(o.measurement, "osprofiler_events");
  EXPECT_TRUE(o.retention_policy.empty());
  EXPECT_TRUE(o.create_database);
  EXPECT_FALSE(o.endpoint.gzip);

  o = influxdb_options::from(
      connection_string::parse("influxdb+https://alice:s%40cret@influx.example:9999/traces?rp=week&measurement=spans&gzip=true"
                               "&create_database=false&max_body_bytes=65536&timeout_ms=250"),
      std::chrono::seconds(3));
  EXPECT_TRUE(o.endpoint.client.tls);
  EXPECT_EQ(o.endpoint.client.port, 9999);
  EXPECT_TRUE(o.endpoint.client.has_auth);
  EXPECT_EQ(o.endpoint.client.user, "alice");
  EXPECT_EQ(o.endpoint.client.password, "s@cret");
  EXPECT_EQ(o.endpoint.client.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(o.database, "traces");
  EXPECT_EQ(o.retention_policy, "week");
  EXPECT_EQ(o.measurement, "spans");
  EXPECT_TRUE(o.endpoint.gzip);
  EXPECT_FALSE(o.create_database);
  EXPECT_EQ(o.endpoint.max_body_bytes, 65536u);
  EXPECT_EQ(o.endpoint.client.redacted.find("s%40cret"), std::string::npos);
}

void expect_error(const std::string& url, const std::string& needle) {
  try {
    influxdb_options::from(connection_string::parse(url), std::chrono::seconds(1));
    ADD_FAILURE() << "no error for " << url;
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << "password shown: " << e.what();
  }
}

TEST(InfluxOptions, ClearErrors) {
  expect_error("influxdb://u:hunter2@h/db?nope=1", "unknown option 'nope'");
  expect_error("influxdb://u:hunter2@h/db?nope=1", "known options: rp, measurement");
  expect_error("influxdb://u:hunter2@h/db?measurement=a%20b", "option 'measurement'");
  expect_error("influxdb://u:hunter2@h/db?max_body_bytes=10", "at least 4096");
  expect_error("influxdb://u:hunter2@h/db?gzip=maybe", "gzip");
  expect_error("influxdb://u:hunter2@h/a/b", "contains '/'");
  expect_error("influxdb:///db", "no host");
}

TEST(InfluxQl, Quoting) {
  EXPECT_EQ(quote_identifier("my db"), "\"my db\"");
  EXPECT_EQ(quote_identifier("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(osprof::detail::backslash_quoted("o'clock\\", '\''), "'o\\'clock\\\\'");
}

}  // namespace
