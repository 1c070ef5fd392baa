// Elasticsearch indices shared with Python OSProfiler (Debian's python3-osprofiler 3.4.3 on
// python3-elasticsearch 7.17, through tests/http_drivers/python_es_peer.py and its own
// `osprofiler` command), on the loopback Elasticsearch playing 6.8 and 7.17, the versions that
// client speaks to and OSProfiler's driver writes to (it sends a mapping type, which 8.x no
// longer has). Python's writes leave dynamically mapped indices; osprof reads them with no
// option, and Python reads what osprof writes: `trace show --json` byte-identical both ways.
#include <gtest/gtest.h>

#include <string>

#include "cli/cli_test_support.hpp"
#include "loopback_util.hpp"

namespace {

using namespace osprof_test;
using osprof::test::run_command;

const std::string peer = "/usr/bin/python3 " + std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/http_drivers/python_es_peer.py";
const std::string cli = OSPROF_CLI_PATH;

std::string ok(const std::string& command) {
  const auto r = run_command(command);
  EXPECT_EQ(r.code, 0) << command << "\n" << r.out;
  return r.out;
}

// stdout only: the commands' warnings (deprecations, elasticsearch-py's) go elsewhere.
std::string stdout_of(const std::string& command) { return ok(command + " 2>/dev/null"); }

class EsPython : public ::testing::TestWithParam<const char*> {};

TEST_P(EsPython, OsprofReadsWhatPythonWrote) {
  loopback_process es("fake_elasticsearch.py", 0, {"--es-version", GetParam()});
  es.start();
  const std::string cs = "elasticsearch://127.0.0.1:" + std::to_string(es.port());
  std::string id = ok(peer + " write " + std::to_string(es.port()));
  ASSERT_EQ(id.size(), 37u) << id;
  id.pop_back();
  simdjson::dom::parser parser;
  auto mapping = http_json(parser, es.port(), "GET", "/osprofiler-notifications/_mapping");
  ASSERT_NE(simdjson::minify(mapping).find(R"("base_id":{"type":"text")"), std::string::npos)
      << "Python's writes leave base_id to dynamic mapping: " << simdjson::minify(mapping);

  const std::string theirs = stdout_of("/usr/bin/osprofiler trace show " + id + " --json --connection-string " + cs);
  ASSERT_NE(theirs.find("\"driver\""), std::string::npos) << theirs;
  EXPECT_EQ(stdout_of(cli + " trace show " + id + " --json --connection-string " + cs), theirs);
  EXPECT_NE(stdout_of(cli + " trace list --json --connection-string " + cs).find(id), std::string::npos);
  EXPECT_NE(stdout_of(cli + " trace list --error-trace --json --connection-string " + cs).find(id), std::string::npos);
}

TEST_P(EsPython, PythonReadsWhatOsprofWrote) {
  loopback_process es("fake_elasticsearch.py", 0, {"--es-version", GetParam()});
  es.start();
  const std::string cs = "elasticsearch://127.0.0.1:" + std::to_string(es.port());
  // One thread, events 2 ms apart: Python's report orders by the stored order within a
  // millisecond (its stats are a dict in that order), osprof's by the microsecond (see the
  // README), so the two agree when storage is chronological and no two events share one.
  std::string id;
  {
    osprof::emitter e{test_options(cs)};
    const auto step = [] { std::this_thread::sleep_for(2ms); };
    osprof::init("SECRET_KEY");
    id = osprof::get()->base_id().to_string();
    osprof::start("wsgi", {{"request", {{"path", "/v2.1/servers"}, {"method", "POST"}}}});
    step();
    osprof::start("rpc");
    step();
    osprof::start("db", {{"db", {{"statement", "SELECT 1"}}}});
    step();
    osprof::stop();
    step();
    osprof::stop();
    step();
    osprof::start("driver");
    step();
    osprof::stop({{"etype", "std::runtime_error"}, {"message", "boom: cannot spawn vm1"}});
    step();
    osprof::stop();
    osprof::clean();
    ASSERT_TRUE(e.flush(10s));
    e.shutdown(5s);
    ASSERT_EQ(e.get_stats().written, 8u) << balance_text(e.get_stats());
  }
  const std::string ours = stdout_of(cli + " trace show " + id + " --json --connection-string " + cs);
  ASSERT_NE(ours.find("\"driver\""), std::string::npos) << ours;
  EXPECT_EQ(stdout_of("/usr/bin/osprofiler trace show " + id + " --json --connection-string " + cs), ours);
}

INSTANTIATE_TEST_SUITE_P(Each, EsPython, ::testing::Values("6.8.23", "7.17.9"), [](const auto& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return name;
});

}  // namespace
