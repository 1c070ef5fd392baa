// The Elasticsearch driver without a server: options and their errors, the _bulk body (index,
// ids, error documents, doc_type), judging a _bulk answer, and the search/aggregation bodies
// and answers the driver reads.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <osprof/error.hpp>

#include "drivers/elasticsearch/es_options.hpp"
#include "drivers/elasticsearch/es_protocol.hpp"
#include "loopback_util.hpp"

namespace {

using namespace osprof::detail::elasticsearch;
using osprof::connection_string;
using osprof_test::make_event;
using osprof_test::make_id;

es_options parse(const std::string& text) {
  return es_options::from(connection_string::parse(text), std::chrono::milliseconds(7000));
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const osprof::error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(EsOptions, DefaultsAreOsprofilers) {
  const auto o = parse("elasticsearch://es.example:9201");
  EXPECT_EQ(o.endpoint.client.host, "es.example");
  EXPECT_EQ(o.endpoint.client.port, 9201);
  EXPECT_FALSE(o.endpoint.client.tls);
  EXPECT_EQ(o.endpoint.client.timeout, std::chrono::milliseconds(7000));
  EXPECT_EQ(o.index, "osprofiler-notifications");
  EXPECT_EQ(o.error_index, "osprofiler-notifications-error");
  EXPECT_EQ(o.doc_type, "");
  EXPECT_EQ(o.scroll, "2m");
  EXPECT_EQ(o.scroll_size, 10000u);
  EXPECT_TRUE(o.create_index);
  EXPECT_FALSE(o.endpoint.gzip);
  EXPECT_FALSE(o.keyword_subfields) << "unset: the index's mapping decides";
  EXPECT_FALSE(forced_fields(o));
  EXPECT_EQ(parse("elasticsearch://h").endpoint.client.port, 9200);
  EXPECT_TRUE(parse("elasticsearch+https://u:secret@h").endpoint.client.tls);
}

TEST(EsOptions, EveryOption) {
  const auto o = parse(
      "elasticsearch://h?index=a-events&error_index=a-errors&doc_type=notification&scroll=90s&scroll_size=500"
      "&list_size=20&keyword_subfields=true&create_index=false&refresh=wait_for&compression=gzip&timeout_ms=1500");
  EXPECT_EQ(o.index, "a-events");
  EXPECT_EQ(o.error_index, "a-errors");
  EXPECT_EQ(o.doc_type, "notification");
  EXPECT_EQ(o.scroll, "90s");
  EXPECT_EQ(o.scroll_size, 500u);
  EXPECT_EQ(o.list_size, 20u);
  ASSERT_TRUE(forced_fields(o));
  EXPECT_EQ(forced_fields(o)->id, "base_id.keyword");
  EXPECT_EQ(forced_fields(o)->time, "timestamp") << "dynamic mapping makes it a date, which sorts and aggregates";
  EXPECT_EQ(forced_fields(parse("elasticsearch://h?keyword_subfields=false"))->id, "base_id");
  EXPECT_FALSE(o.create_index);
  EXPECT_EQ(o.refresh, "wait_for");
  EXPECT_TRUE(o.endpoint.gzip);
  EXPECT_EQ(o.endpoint.client.timeout, std::chrono::milliseconds(1500));
}

TEST(EsOptions, BadValuesAreClearErrors) {
  EXPECT_NE(error_of("elasticsearch://h?idx=x").find("unknown option 'idx'"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h?index=Upper").find("lowercase"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h?index=_x").find("must not start"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h?index=a&error_index=a").find("must differ"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h?scroll_size=10001").find("scroll_size"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h?scroll_size=0").find("scroll_size"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h?scroll=2 minutes").find("scroll"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h?compression=br").find("gzip or none"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h?refresh=now").find("refresh"), std::string::npos);
  EXPECT_NE(error_of("elasticsearch://h/myindex").find("?index="), std::string::npos);
  const auto secret = error_of("elasticsearch://u:hunter2@h?bogus=1");
  EXPECT_EQ(secret.find("hunter2"), std::string::npos) << secret;
}

std::vector<osprof::event_record> sample_batch() {
  const auto base = make_id(0xaaaaaaaabbbbccccULL, 0xddddeeeeeeeeeeeeULL);
  const auto point = make_id(0x1111, 0x2222);
  return {make_event("wsgi", false, base, point, base, 1764000000000001, "{\"host\": \"vm\"}"),
          make_event("wsgi", true, base, point, base, 1764000000000901,
                     "{\"etype\": \"std::runtime_error\", \"message\": \"boom\", \"host\": \"vm\"}")};
}

TEST(EsBulk, OneActionPerEventPlusAnErrorDocumentAfterErrorStops) {
  const auto batch = sample_batch();
  const auto actions = plan_actions(batch, true);
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0].event, 0u);
  EXPECT_FALSE(actions[0].error_doc);
  EXPECT_EQ(actions[1].event, 1u);
  EXPECT_FALSE(actions[1].error_doc);
  EXPECT_EQ(actions[2].event, 1u);
  EXPECT_TRUE(actions[2].error_doc);
  EXPECT_EQ(plan_actions(batch, false).size(), 2u) << "no error documents without filter_error_trace";

  const auto o = parse("elasticsearch://h");
  const std::string body = encode_bulk(batch, actions, o, {});
  const std::string expected =
      "{\"index\":{\"_index\":\"osprofiler-notifications\",\"_id\":\"00000000-0000-1111-0000-000000002222-start\"}}\n" +
      batch[0].json + "\n" +
      "{\"index\":{\"_index\":\"osprofiler-notifications\",\"_id\":\"00000000-0000-1111-0000-000000002222-stop\"}}\n" +
      batch[1].json + "\n" +
      "{\"index\":{\"_index\":\"osprofiler-notifications-error\",\"_id\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\"}}\n"
      "{\"base_id\": \"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\", \"timestamp\": \"" +
      std::string(batch[1].timestamp_text()) + "\"}\n";
  EXPECT_EQ(body, expected);
  // Every line is JSON and the body ends with the newline _bulk requires.
  simdjson::dom::parser parser;
  std::size_t lines = 0;
  for (std::size_t from = 0; from < body.size();) {
    const auto nl = body.find('\n', from);
    ASSERT_NE(nl, std::string::npos);
    EXPECT_FALSE(parser.parse(body.substr(from, nl - from)).error()) << body.substr(from, nl - from);
    from = nl + 1;
    ++lines;
  }
  EXPECT_EQ(lines, 6u);
}

TEST(EsBulk, DocTypeForElasticsearch6AndASubsetOfActions) {
  const auto batch = sample_batch();
  const auto o = parse("elasticsearch://h?index=x");
  const std::vector<bulk_action> only_error{{1, true}};
  const std::string body = encode_bulk(batch, only_error, o, "notification");
  EXPECT_TRUE(body.starts_with(
      "{\"index\":{\"_index\":\"osprofiler-notifications-error\",\"_id\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\","
      "\"_type\":\"notification\"}}\n"))
      << body;
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 2);
}

TEST(EsBulk, ReadsPerItemResults) {
  const auto r = parse_bulk_response(R"({"took":3,"errors":true,"items":[
    {"index":{"_index":"i","_id":"1","_version":1,"result":"created","status":201}},
    {"index":{"_index":"i","_id":"2","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},
    {"create":{"_index":"i","_id":"3","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [timestamp]"}}},
    {"index":{"_index":"i","_id":"4","_version":2,"result":"updated","status":200}}]})");
  EXPECT_TRUE(r.errors);
  ASSERT_EQ(r.items.size(), 4u);
  EXPECT_EQ(r.items[0].status, 201u);
  EXPECT_EQ(r.items[0].error, "");
  EXPECT_EQ(r.items[1].status, 429u);
  EXPECT_EQ(r.items[1].error, "es_rejected_execution_exception: queue full");
  EXPECT_EQ(r.items[2].status, 400u);
  EXPECT_EQ(r.items[2].error, "mapper_parsing_exception: failed to parse field [timestamp]");
  EXPECT_EQ(r.items[3].status, 200u);
  EXPECT_FALSE(parse_bulk_response(R"({"errors":false,"items":[]})").errors);
  EXPECT_THROW(parse_bulk_response("<html>proxy error</html>"), std::runtime_error);
  EXPECT_THROW(parse_bulk_response(R"({"acknowledged":true})"), std::runtime_error);
  EXPECT_THROW(parse_bulk_response(R"({"items":[{"index":{"_id":"1"}}]})"), std::runtime_error);
}

TEST(EsQueries, MappingKeepsIdsExactAndInfoUnindexed) {
  simdjson::dom::parser parser;
  const std::string events = index_mapping(false, {}, true);
  auto doc = parser.parse(events);
  ASSERT_FALSE(doc.error()) << events;
  auto props = doc["mappings"]["properties"];
  EXPECT_EQ(std::string_view(props["base_id"]["type"].get_string().value()), "keyword");
  EXPECT_EQ(std::string_view(props["trace_id"]["type"].get_string().value()), "keyword");
  EXPECT_EQ(std::string_view(props["timestamp"]["type"].get_string().value()), "date_nanos");
  EXPECT_FALSE(props["info"]["enabled"].get_bool().value());
  const std::string errors = index_mapping(true, {}, true);
  auto edoc = parser.parse(errors);
  ASSERT_FALSE(edoc.error());
  EXPECT_TRUE(edoc["mappings"]["properties"]["info"].error()) << errors;
  // Elasticsearch 6: a mapping type level, and date (no date_nanos there).
  const std::string typed = index_mapping(false, "notification", false);
  auto tdoc = parser.parse(typed);
  ASSERT_FALSE(tdoc.error());
  EXPECT_EQ(std::string_view(tdoc["mappings"]["notification"]["properties"]["timestamp"]["type"].get_string().value()),
            "date");
}

TEST(EsVersions, FromGetRoot) {
  const auto es8 = parse_server_info(R"({"name":"n","version":{"number":"8.11.0","build_flavor":"default"},"tagline":"You Know, for Search"})");
  EXPECT_TRUE(es8.known);
  EXPECT_EQ(es8.name, "Elasticsearch 8.11.0");
  EXPECT_TRUE(es8.has_no_types());
  EXPECT_FALSE(es8.requires_types());
  EXPECT_TRUE(es8.date_nanos());
  EXPECT_TRUE(es8.track_total_hits());
  const auto es7 = parse_server_info(R"({"version":{"number":"7.17.9"}})");
  EXPECT_TRUE(es7.types_deprecated());
  EXPECT_TRUE(es7.date_nanos());
  const auto es6 = parse_server_info(R"({"version":{"number":"6.8.23"}})");
  EXPECT_TRUE(es6.requires_types());
  EXPECT_FALSE(es6.date_nanos());
  EXPECT_TRUE(es6.track_total_hits());
  const auto es5 = parse_server_info(R"({"version":{"number":"5.6.16"}})");
  EXPECT_TRUE(es5.requires_types());
  EXPECT_FALSE(es5.track_total_hits());
  const auto os1 = parse_server_info(R"({"version":{"distribution":"opensearch","number":"1.3.14"}})");
  EXPECT_EQ(os1.name, "OpenSearch 1.3.14");
  EXPECT_TRUE(os1.types_deprecated());
  EXPECT_TRUE(os1.date_nanos());
  const auto os2 = parse_server_info(R"({"version":{"distribution":"opensearch","number":"2.11.1"}})");
  EXPECT_TRUE(os2.has_no_types());
  for (const char* odd : {"", "<html>", R"({"version":{}})", R"({"version":{"number":"x"}})"}) {
    const auto unknown = parse_server_info(odd);
    EXPECT_FALSE(unknown.known) << odd;
    EXPECT_FALSE(unknown.requires_types() || unknown.has_no_types() || unknown.types_deprecated()) << odd;
    EXPECT_FALSE(unknown.track_total_hits()) << odd;
  }
}

TEST(EsQueries, FieldsFromTheIndexMapping) {
  // osprof's own mapping: keyword ids, a date_nanos timestamp.
  auto f = fields_from_mapping(R"({"ev":{"mappings":{"properties":{"base_id":{"type":"keyword"},"timestamp":{"type":"date_nanos"}}}}})");
  EXPECT_EQ(f.id, "base_id");
  EXPECT_EQ(f.time, "timestamp");
  // Dynamic mapping (Python OSProfiler's writes), typed as 6.x answers, the subfield's name as mapped.
  f = fields_from_mapping(R"({"ev":{"mappings":{"notification":{"properties":{
      "base_id":{"type":"text","fields":{"raw":{"type":"keyword","ignore_above":256}}},"timestamp":{"type":"date"}}}}}})");
  EXPECT_EQ(f.id, "base_id.raw");
  EXPECT_EQ(f.time, "timestamp");
  f = fields_from_mapping(R"({"ev":{"mappings":{"properties":{
      "base_id":{"type":"text","fields":{"keyword":{"type":"keyword"}}},"timestamp":{"type":"text","fields":{"keyword":{"type":"keyword"}}}}}}})");
  EXPECT_EQ(f.id, "base_id.keyword");
  EXPECT_EQ(f.time, "timestamp.keyword");
  // Nothing mapped yet, or an answer that is not a mapping: the plain names.
  for (const char* body : {R"({"ev":{"mappings":{}}})", "{}", "oops", R"({"ev":{"mappings":{"properties":{}}}})"}) {
    f = fields_from_mapping(body);
    EXPECT_EQ(f.id, "base_id") << body;
    EXPECT_EQ(f.time, "timestamp") << body;
  }
}

TEST(EsQueries, TraceSearchAndScroll) {
  simdjson::dom::parser parser;
  const auto o = parse("elasticsearch://h?scroll_size=250&scroll=30s");
  const std::string q = trace_query(o, query_fields{}, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  auto doc = parser.parse(q);
  ASSERT_FALSE(doc.error()) << q;
  EXPECT_EQ(doc["size"].get_int64().value(), 250);
  EXPECT_EQ(std::string_view(doc["query"]["bool"]["filter"].at(0)["term"]["base_id"].get_string().value()),
            "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(scroll_request(o, "abc=="), "{\"scroll\":\"30s\",\"scroll_id\":\"abc==\"}");
  EXPECT_EQ(clear_scroll_request("abc=="), "{\"scroll_id\":[\"abc==\"]}");
  const auto k = trace_query(o, {"base_id.keyword", "timestamp"}, "x");
  EXPECT_NE(k.find("\"base_id.keyword\":\"x\""), std::string::npos) << k;
}

TEST(EsQueries, SearchPageKeepsTheStoredSourceBytes) {
  const std::string source = R"({"name": "a-start", "info": {"x": [1, 2.5, "é\"q"]}, "project": "p"})";
  const std::string body = R"({"_scroll_id":"S1","took":1,"hits":{"total":{"value":2,"relation":"eq"},"hits":[)"
                           R"({"_index":"i","_id":"1","_score":null,"_source":)" + source + R"(,"sort":[1]},)"
                           R"({"_index":"i","_id":"2","_score":null,"_source": {"b": 1} })"
                           R"(]}})";
  const auto page = parse_search_page(body);
  EXPECT_EQ(page.scroll_id, "S1");
  ASSERT_EQ(page.sources.size(), 2u);
  EXPECT_EQ(page.sources[0], source);
  EXPECT_EQ(page.sources[1], "{\"b\": 1}");
  EXPECT_TRUE(parse_search_page(R"({"hits":{"hits":[]}})").sources.empty());
  EXPECT_THROW(parse_search_page("nope"), std::runtime_error);
}

TEST(EsQueries, ListAggregationAndItsAnswer) {
  simdjson::dom::parser parser;
  const auto o = parse("elasticsearch://h?list_size=50");
  const std::string q = list_query(o, query_fields{}, {}, false);
  auto doc = parser.parse(q);
  ASSERT_FALSE(doc.error()) << q;
  EXPECT_EQ(doc["size"].get_int64().value(), 0);
  auto terms = doc["aggs"]["traces"]["terms"];
  EXPECT_EQ(std::string_view(terms["field"].get_string().value()), "base_id");
  EXPECT_EQ(terms["size"].get_int64().value(), 50);
  EXPECT_EQ(std::string_view(terms["order"]["first"].get_string().value()), "desc");
  EXPECT_EQ(std::string_view(doc["aggs"]["traces"]["aggs"]["first"]["min"]["field"].get_string().value()), "timestamp");
  EXPECT_TRUE(doc["query"].error()) << "no filter without ids";
  EXPECT_TRUE(doc["track_total_hits"].error()) << "5.x refuses the key";
  EXPECT_FALSE(parser.parse(list_query(o, query_fields{}, {}, true))["track_total_hits"].get_bool().value());
  // A timestamp mapped as text: no min to order by, the top hit sorted on its keyword.
  auto text_time = parser.parse(list_query(o, {"base_id.keyword", "timestamp.keyword"}, {}, false));
  ASSERT_FALSE(text_time.error());
  EXPECT_TRUE(text_time["aggs"]["traces"]["aggs"]["first"].error());
  EXPECT_FALSE(text_time["aggs"]["traces"]["aggs"]["start"]["top_hits"]["sort"].at(0)["timestamp.keyword"].error());
  const std::vector<std::string> ids{"a", "b"};
  auto filtered = parser.parse(list_query(o, query_fields{}, ids, false));
  ASSERT_FALSE(filtered.error());
  EXPECT_EQ(filtered["query"]["bool"]["filter"].at(0)["terms"]["base_id"].get_array().size(), 2u);
  EXPECT_EQ(filtered["aggs"]["traces"]["terms"]["size"].get_int64().value(), 2);

  const auto rows = parse_list_response(R"({"hits":{"hits":[]},"aggregations":{"traces":{"buckets":[
    {"key":"b","doc_count":2,"first":{"value":1764000001000.0},"start":{"hits":{"hits":[{"_source":{"timestamp":"2025-11-24T16:00:01.000005"}}]}}},
    {"key":"a","doc_count":9,"first":{"value":1764000000000.0},"start":{"hits":{"hits":[{"_source":{"timestamp":"2025-11-24T16:00:00.000001"}}]}}}]}}})");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].base_id, "b");
  EXPECT_EQ(rows[0].timestamp, "2025-11-24T16:00:01.000005");
  EXPECT_EQ(rows[1].base_id, "a");
  EXPECT_THROW(parse_list_response(R"({"hits":{}})"), std::runtime_error);

  const auto keys = parse_bucket_keys(R"({"aggregations":{"traces":{"buckets":[{"key":"x","doc_count":1},{"key":"y","doc_count":3}]}}})");
  EXPECT_EQ(keys, (std::vector<std::string>{"x", "y"}));
}

TEST(EsQueries, ErrorBodies) {
  const std::string missing =
      R"({"error":{"root_cause":[],"type":"index_not_found_exception","reason":"no such index [x]"},"status":404})";
  EXPECT_EQ(error_summary(missing), "index_not_found_exception: no such index [x]");
  EXPECT_TRUE(error_is(missing, "index_not_found_exception"));
  EXPECT_FALSE(error_is(missing, "index_not"));
  EXPECT_EQ(error_summary(R"({"error":"no handler found"})"), "no handler found");
  EXPECT_EQ(error_summary("Bad Gateway"), "'Bad Gateway'");
}

}  // namespace
