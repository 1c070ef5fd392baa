// The ClickHouse driver without a server: JSONEachRow rows (valid JSON, every column, the
// event text exact after decoding), batch splitting, RowBinary strings, exception codes and
// their classes, and the connection string's options.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <osprof/error.hpp>

#include <osprof/connection_string.hpp>
#include "common/text.hpp"
#include "drivers/clickhouse/clickhouse_options.hpp"
#include "drivers/clickhouse/json_each_row.hpp"
#include "../http_drivers/records.hpp"

namespace {

using namespace osprof::detail::clickhouse;
using osprof::connection_string;
using osprof_test::make_record;

osprof::uuid id(std::uint64_t n) { return {0x2222222222224222ULL, 0x9000000000000000ULL | n}; }

TEST(ClickHouseRows, OneJsonObjectPerEventWithEveryColumn) {
  // Quotes, backslashes, a slash, a control character and non-ASCII text in the info.
  const auto e = make_record("db-stop", id(1), id(2), id(3), 1'700'000'000'654'321,
                             "\"etype\": \"std::runtime_error\", \"message\": \"say \\\"hi\\\" \\\\ a/b \\u0001 caf\u00e9\"",
                             true, "proj", "api");
  row_settings s;
  s.project = "proj";
  s.service = "api";
  s.host = "vm";
  std::string row;
  append_row(row, e, s);
  ASSERT_TRUE(row.ends_with("}\n"));
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(row);
  EXPECT_EQ(std::string_view(doc["base_id"]), id(1).to_string());
  EXPECT_EQ(std::string_view(doc["trace_id"]), id(2).to_string());
  EXPECT_EQ(std::string_view(doc["parent_id"]), id(3).to_string());
  EXPECT_EQ(std::string_view(doc["name"]), "db-stop");
  EXPECT_EQ(std::string_view(doc["project"]), "proj");
  EXPECT_EQ(std::string_view(doc["service"]), "api");
  EXPECT_EQ(std::string_view(doc["host"]), "vm");
  EXPECT_EQ(std::int64_t(doc["time_us"]), 1'700'000'000'654'321);
  EXPECT_EQ(std::string_view(doc["timestamp"]), "2023-11-14T22:13:20.654321");
  EXPECT_EQ(std::int64_t(doc["is_stop"]), 1);
  EXPECT_EQ(std::int64_t(doc["has_error"]), 1);
  EXPECT_EQ(std::string_view(doc["info"]), e.info);
  EXPECT_EQ(std::string_view(doc["event"]), e.json) << "the stored event is the exact text";
  EXPECT_EQ(std::string_view(doc["date"]), "2023-11-14");
  EXPECT_EQ(doc.get_object().size(), 14u);
}

TEST(ClickHouseRows, SplitsIntoBoundedBodies) {
  std::vector<osprof_test::event_record> batch;
  for (std::uint64_t i = 0; i < 50; ++i) {
    batch.push_back(make_record("p-start", id(1), id(100 + i), id(1), 1'000'000, "\"blob\": \"" + std::string(300, 'y') + "\""));
  }
  row_settings s;
  s.max_body_bytes = 4096;
  const auto bodies = encode_batch(batch, s);
  EXPECT_GT(bodies.size(), 5u);
  std::size_t events = 0;
  for (const auto& b : bodies) {
    EXPECT_LE(b.body.size(), 4096u);
    EXPECT_EQ(static_cast<std::size_t>(std::count(b.body.begin(), b.body.end(), '\n')), b.events);
    events += b.events;
  }
  EXPECT_EQ(events, 50u);
  s.max_body_bytes = 10;  // every row alone
  EXPECT_EQ(encode_batch(std::span(batch).first(4), s).size(), 4u);
  s.max_body_bytes = 64u << 20;
  const auto one = encode_batch(batch, s);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].events, 50u);
}

TEST(ClickHouseRowBinary, ReadsStrings) {
  const std::string big(300, 'z');  // a two-byte LEB128 length
  std::string data;
  data += '\x03';
  data += "abc";
  data += '\x00';
  data += static_cast<char>(0x80 | (300 & 0x7f));
  data += static_cast<char>(300 >> 7);
  data += big;
  const auto strings = parse_row_binary_strings(data);
  ASSERT_TRUE(strings.has_value());
  EXPECT_EQ(*strings, (std::vector<std::string>{"abc", "", big}));
  EXPECT_FALSE(parse_row_binary_strings(data.substr(0, data.size() - 1)).has_value()) << "cut short";
  EXPECT_FALSE(parse_row_binary_strings(std::string(1, '\x85')).has_value()) << "length cut short";
  EXPECT_TRUE(parse_row_binary_strings("")->empty());
}

TEST(ClickHouseErrors, CodesAndClasses) {
  EXPECT_EQ(exception_code("Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist., e.what() = DB::Exception\n"), 60);
  EXPECT_EQ(exception_code("Code: 252, e.displayText() = DB::Exception: Too many parts (300)"), 252);
  EXPECT_EQ(exception_code("<html>bad gateway</html>"), 0);
  EXPECT_TRUE(permanent_error(27));   // cannot parse input
  EXPECT_TRUE(permanent_error(164));  // readonly user
  EXPECT_TRUE(permanent_error(193));  // wrong password
  EXPECT_TRUE(authentication_error(192));
  EXPECT_FALSE(authentication_error(164));
  EXPECT_FALSE(permanent_error(252));  // too many parts: later
  EXPECT_FALSE(permanent_error(241));  // memory limit: later
  EXPECT_FALSE(permanent_error(202));  // too many simultaneous queries: later
  EXPECT_FALSE(permanent_error(0));
}

TEST(ClickHouseSchema, MergeTreeOrderedByTrace) {
  const std::string sql = create_table_sql("`db`.`t`");
  EXPECT_TRUE(sql.starts_with("CREATE TABLE IF NOT EXISTS `db`.`t` (")) << sql;
  EXPECT_NE(sql.find("time_us UInt64"), std::string::npos);
  EXPECT_NE(sql.find("event String"), std::string::npos);
  EXPECT_NE(sql.find("ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (base_id, time_us)"), std::string::npos);
}

TEST(ClickHouseOptions, DefaultsAndOptions) {
  auto o = clickhouse_options::from(connection_string::parse("clickhouse://127.0.0.1"), std::chrono::seconds(4));
  EXPECT_EQ(o.endpoint.client.port, 8123);
  EXPECT_FALSE(o.endpoint.client.tls);
  EXPECT_EQ(o.database, "default");
  EXPECT_EQ(o.table, "osprofiler_events");
  EXPECT_EQ(o.qualified_table(), "`default`.`osprofiler_events`");
  EXPECT_TRUE(o.create_table);
  EXPECT_FALSE(o.endpoint.gzip);
  EXPECT_EQ(o.endpoint.client.timeout, std::chrono::seconds(4));

  o = clickhouse_options::from(
      connection_string::parse("clickhouse+https://writer:secret@ch.example:8443/tracing?table=events_all&create_table=false&gzip=1"),
      std::chrono::seconds(4));
  EXPECT_TRUE(o.endpoint.client.tls);
  EXPECT_EQ(o.endpoint.client.port, 8443);
  EXPECT_EQ(o.endpoint.client.user, "writer");
  EXPECT_EQ(o.endpoint.client.password, "secret");
  EXPECT_EQ(o.database, "tracing");
  EXPECT_EQ(o.table, "events_all");
  EXPECT_FALSE(o.create_table);
  EXPECT_TRUE(o.endpoint.gzip);
}

void expect_error(const std::string& url, const std::string& needle) {
  try {
    clickhouse_options::from(connection_string::parse(url), std::chrono::seconds(1));
    ADD_FAILURE() << "no error for " << url;
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << "password shown: " << e.what();
  }
}

TEST(ClickHouseOptions, ClearErrors) {
  expect_error("clickhouse://u:hunter2@h/db?nope=1", "unknown option 'nope'");
  expect_error("clickhouse://u:hunter2@h/db?table=a;DROP", "option 'table'");
  expect_error("clickhouse://u:hunter2@h/my-db", "letters, digits and '_'");
  expect_error("clickhouse://u:hunter2@h/db?max_body_bytes=1", "at least 4096");
  expect_error("clickhouse:///db", "no host");
}

TEST(ClickHouseSql, Quoting) {
  EXPECT_EQ(osprof::detail::backslash_quoted("o'clock\\", '\''), "'o\\'clock\\\\'");
  EXPECT_EQ(quote_identifier("a`b"), "`a\\`b`");
}

}  // namespace
