// The Elasticsearch driver against the loopback Elasticsearch playing each version whose API
// differs in what the driver sends or reads (tests/servers/fake_elasticsearch.py
// --es-version): 5.x and 6.x want mapping types on every document and have no date_nanos,
// 5.x refuses track_total_hits, 7.x and OpenSearch 1 take types only when asked, 8.x and
// OpenSearch 2 refuse them. The driver asks the server's version (GET /) and writes and reads
// each of them with no option. These are the versions as their documentation describes them,
// played by the loopback server: no real cluster of any version was run here.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "loopback_util.hpp"

namespace {

using namespace osprof_test;

struct version_case {
  const char* spec;          ///< --es-version
  const char* mapping_type;  ///< the type the created index has (nullptr: none)
  const char* time_type;     ///< what osprof maps the timestamp as
};

const version_case versions[] = {
    {"5.6.16", "notification", "date"},        {"6.8.23", "notification", "date"},
    {"7.17.9", "notification", "date_nanos"},  {"8.11.0", nullptr, "date_nanos"},
    {"opensearch-1.3.14", "notification", "date_nanos"}, {"opensearch-2.11.1", nullptr, "date_nanos"},
};

void PrintTo(const version_case& v, std::ostream* os) { *os << v.spec; }

class EsVersions : public ::testing::TestWithParam<version_case> {};

TEST_P(EsVersions, WritesAndReadsWithoutOptions) {
  const version_case& v = GetParam();
  loopback_process es("fake_elasticsearch.py", 0, {"--es-version", v.spec});
  es.start();
  const std::string url = "elasticsearch://127.0.0.1:" + std::to_string(es.port());
  std::string failed, fine;
  osprof::stats st;
  {
    osprof::emitter e{test_options(url)};
    failed = emit_demo_trace();
    osprof::init("SECRET_KEY");
    fine = osprof::get()->base_id().to_string();
    osprof::start("fine");
    osprof::stop();
    osprof::clean();
    ASSERT_TRUE(e.flush(10s));
    e.shutdown(5s);
    st = e.get_stats();
  }
  EXPECT_EQ(st.emitted, 10u);
  EXPECT_EQ(st.written, 10u) << balance_text(st);

  // The indices osprof created, in the form this version takes.
  simdjson::dom::parser parser;
  auto mapping = http_json(parser, es.port(), "GET", "/osprofiler-notifications/_mapping?include_type_name=true");
  auto mappings = mapping["osprofiler-notifications"]["mappings"];
  auto properties = v.mapping_type != nullptr ? mappings[v.mapping_type]["properties"] : mappings["properties"];
  ASSERT_FALSE(properties.error()) << simdjson::minify(mapping);
  EXPECT_EQ(std::string_view(properties["timestamp"]["type"].get_string().value()), v.time_type);
  EXPECT_EQ(std::string_view(properties["base_id"]["type"].get_string().value()), "keyword");

  driver_handle reader(url);
  EXPECT_EQ(reader.trace(failed).size(), 8u);
  EXPECT_EQ(reader.trace(fine).size(), 2u);
  const auto list = reader.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].base_id, fine) << "newest first";
  EXPECT_EQ(list[1].base_id, failed);
  const auto errors = reader.errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].base_id, failed);
}

// A second run against indices that exist: nothing is created again, and a version with types
// finds the documents under the type it created.
TEST_P(EsVersions, WritesIntoIndicesThatExist) {
  const version_case& v = GetParam();
  loopback_process es("fake_elasticsearch.py", 0, {"--es-version", v.spec});
  es.start();
  const std::string url = "elasticsearch://127.0.0.1:" + std::to_string(es.port());
  std::vector<std::string> bases;
  for (int run = 0; run < 2; ++run) {
    osprof::emitter e{test_options(url)};
    bases.push_back(emit_demo_trace());
    ASSERT_TRUE(e.flush(10s));
    e.shutdown(5s);
    EXPECT_EQ(e.get_stats().written, 8u) << v.spec << " run " << run << ": " << balance_text(e.get_stats());
  }
  driver_handle reader(url);
  EXPECT_EQ(reader.list().size(), 2u);
  for (const auto& b : bases) EXPECT_EQ(reader.trace(b).size(), 8u);
}

INSTANTIATE_TEST_SUITE_P(Each, EsVersions, ::testing::ValuesIn(versions), [](const auto& info) {
  std::string name = info.param.spec;
  for (char& c : name) {
    if (c == '.' || c == '-') c = '_';
  }
  return name;
});

}  // namespace
