// The MariaDB driver against the fixture's MariaDB 10.11 (tests/servers/mysql.sh), a new
// database per test: OSProfiler's layout written by the emitter and read back, one transaction
// per batch, the claim of a batch number, values too long for their column, batches larger
// than max_allowed_packet, unix sockets, TLS with and without verification, and clear errors
// without the password.
#include <gtest/gtest.h>

#include <algorithm>

#include <osprof/error.hpp>
#include <osprof/report.hpp>

#include "drivers/sql/sql_layout.hpp"
#include "my_test_util.hpp"

namespace {

using namespace osprof_test::my;
using namespace std::chrono_literals;

class MyServer : public ::testing::Test {
 protected:
  void SetUp() override { db_ = my_.new_database(); }
  admin check() { return my_.root(db_); }

  server my_;
  std::string db_;
};

TEST_F(MyServer, EmitterWritesOSProfilersLayoutAndTheReportReadsItBack) {
  std::string base;
  {
    osprof::emitter e{test_options(my_.url(db_))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
    const auto s = e.get_stats();
    EXPECT_EQ(s.written, 8u);
    EXPECT_EQ(s.dropped(), 0u);
  }
  auto db = check();
  EXPECT_EQ(db.count("SELECT count(*) FROM data WHERE base_id = '" + base + "'"), 8);
  const auto rows = db.query("SELECT project, service, host, JSON_TYPE(data) FROM data WHERE name = 'wsgi-start'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "demo");
  EXPECT_EQ(rows[0][1], "api");
  EXPECT_EQ(rows[0][2], "vm");
  EXPECT_EQ(rows[0][3], "STRING") << "data holds a JSON string, as Python's driver stores it";
  EXPECT_EQ(db.scalar("SELECT JSON_VALUE(JSON_UNQUOTE(data), '$.info.request.path') FROM data WHERE name = 'wsgi-start'"),
            "/v2.1/servers");
  EXPECT_EQ(db.count("SELECT count(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = '" + db_ +
                     "' AND table_name = 'data' AND index_name LIKE 'ix_data_%'"),
            8);

  const auto report = osprof::read_report(my_.url(db_), base);
  ASSERT_EQ(report.event_count, 8u);
  EXPECT_TRUE(report.problems.empty());
  ASSERT_EQ(report.children.size(), 1u);
  EXPECT_EQ(report.children[0].name, "wsgi");
  ASSERT_EQ(report.children[0].children.size(), 2u);
  // rpc and driver may start in the same microsecond: then the report orders them by trace id.
  const auto& wsgi = report.children[0].children;
  const auto driver = std::find_if(wsgi.begin(), wsgi.end(), [](const auto& n) { return n.name == "driver"; });
  ASSERT_NE(driver, wsgi.end());
  EXPECT_EQ(driver->exception, "std::runtime_error");
  EXPECT_EQ(std::count_if(wsgi.begin(), wsgi.end(), [](const auto& n) { return n.name == "rpc" && n.exception == "None"; }), 1);
  const auto list = osprof::list_traces(my_.url(db_));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].base_id, base);
  EXPECT_EQ(osprof::list_traces(my_.url(db_), true).size(), 1u);
  EXPECT_TRUE(osprof::read_report(my_.url(db_), "00000000-0000-0000-0000-000000000000").empty());
}

// ?indexes=reading: a table this writer creates gets the two indexes reading uses, not eight.
TEST_F(MyServer, TheIndexesOptionChoosesTheIndexesOfTheTableItCreates) {
  std::string base;
  {
    osprof::emitter e{test_options(my_.url(db_, "?indexes=reading"))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  }
  auto db = check();
  const auto names = db.query("SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = '" +
                              db_ + "' AND table_name = 'data' AND index_name LIKE 'ix_data_%' ORDER BY index_name");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0][0], "ix_data_base_id");
  EXPECT_EQ(names[1][0], "ix_data_timestamp");
  EXPECT_EQ(osprof::read_report(my_.url(db_), base).event_count, 8u);
  {
    const std::string m = osprof::test::writer_error(my_.url(db_, "?indexes=some"));
    EXPECT_FALSE(m.empty()) << "indexes=some was accepted";
    EXPECT_NE(m.find("option 'indexes' must be all or reading"), std::string::npos) << m;
  }
}

TEST_F(MyServer, ListsNewestFirstAndErrorTracesOnly) {
  osprof::test::backend b(my_.url(db_));
  std::vector<osprof::uuid> bases;
  for (int t = 0; t < 5; ++t) {
    bases.push_back(osprof::uuid::random());
    auto events = make_trace(bases.back(), 3, t % 2);  // traces 1 and 3 fail
    for (auto& e : events) {  // hour 0t: trace t is newer
      e.timestamp[11] = '0';
      e.timestamp[12] = static_cast<char>('0' + t);
    }
    ASSERT_EQ(b.write(events).status, osprof::write_status::ok);
  }
  check().exec("INSERT INTO data (timestamp, base_id, name, data) VALUES ('2025-11-24T09:00:00.000000', 'x', 'p-stop',"
               " JSON_QUOTE('{\"info\": {\"message\": \"etype\", \"host\": \"vm\"}}'))");
  const auto list = b.list();
  ASSERT_EQ(list.size(), 6u);
  EXPECT_EQ(list[0].base_id, "x");
  for (int t = 0; t < 5; ++t) EXPECT_EQ(list[static_cast<std::size_t>(t + 1)].base_id, bases[static_cast<std::size_t>(4 - t)].to_string());
  const auto errors = b.errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].base_id, bases[3].to_string());
  EXPECT_EQ(errors[1].base_id, bases[1].to_string());
  EXPECT_EQ(errors[0].timestamp, "2025-11-24T03:00:00.000000") << "the failed trace's first stored row";
}

TEST_F(MyServer, EachBatchClaimsItsNumberAndAStoredNumberCannotBeClaimedAgain) {
  osprof::test::backend b(my_.url(db_));
  const auto events = make_trace(osprof::uuid::random(), 10);
  ASSERT_EQ(b.write(events).status, osprof::write_status::ok);
  ASSERT_EQ(b.write(events).status, osprof::write_status::ok);
  auto db = check();
  const auto writer = db.query("SELECT writer_id, batch FROM osprof_writers");
  ASSERT_EQ(writer.size(), 1u);
  EXPECT_EQ(writer[0][1], "2");
  try {
    db.exec(osprof::detail::sql::claim_batch_sql(osprof::detail::sql::dialect::mysql, writer[0][0], 2, 0));
    ADD_FAILURE() << "batch 2 was claimed twice";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("osprof_batch_stored"), std::string::npos) << e.what();
  }
  db.exec(osprof::detail::sql::claim_batch_sql(osprof::detail::sql::dialect::mysql, writer[0][0], 3, 0));
  EXPECT_EQ(db.scalar("SELECT batch FROM osprof_writers"), "3");
  EXPECT_EQ(db.count("SELECT count(*) FROM data"), 40);
}

TEST_F(MyServer, EventsTooLongForTheirColumnAreRejectedOneByOne) {
  osprof::test::backend b(my_.url(db_));
  const auto base = osprof::uuid::random();
  auto events = make_trace(base, 3);
  events[2].name = std::string(300, 'n') + "-start";
  auto r = b.write(events);
  ASSERT_EQ(r.status, osprof::write_status::ok);
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_NE(r.error.find("has 306 characters; the column takes 255"), std::string::npos) << r.error;
  EXPECT_EQ(check().count("SELECT count(*) FROM data"), 5);
  events = make_trace(base, 1);
  std::string name;
  for (int i = 0; i < 249; ++i) name += "\xE2\x9C\x93";  // ✓: 3 bytes, one character
  events[0].name = name + "-start";
  r = b.write(events);
  EXPECT_EQ(r.rejected, 0u) << r.error;
  EXPECT_EQ(check().count("SELECT CHAR_LENGTH(name) FROM data WHERE name LIKE '\xE2\x9C\x93%'"), 255);
}

TEST_F(MyServer, ABatchLargerThanMaxAllowedPacketIsSeveralInsertsInOneTransaction) {
  my_.root().exec("SET GLOBAL max_allowed_packet = 1048576");  // 1 MiB, for new connections
  osprof::test::backend b(my_.url(db_));
  std::vector<osprof::event_record> events;
  const auto base = osprof::uuid::random();
  const std::string big(20000, 'x');
  for (int i = 0; i < 200; ++i) {  // ~4 MB of rows
    events.push_back(make_event(base, osprof::uuid::random(), base, "big-start", "{\"blob\": \"" + big + "\", \"host\": \"vm\"}", i));
  }
  const auto r = b.write(events);
  my_.root().exec("SET GLOBAL max_allowed_packet = 16777216");
  ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
  EXPECT_EQ(r.rejected, 0u);
  EXPECT_EQ(check().count("SELECT count(*) FROM data"), 200);
  EXPECT_EQ(check().count("SELECT batch FROM osprof_writers"), 1);
}

TEST_F(MyServer, UsesATablePythonsLayoutAlreadyHasAndLeavesItAlone) {
  check().exec("CREATE TABLE data (id INTEGER NOT NULL AUTO_INCREMENT, timestamp VARCHAR(26), base_id VARCHAR(255),"
               " parent_id VARCHAR(255), trace_id VARCHAR(255), project VARCHAR(255), host VARCHAR(255),"
               " service VARCHAR(255), name VARCHAR(50), data JSON, PRIMARY KEY (id))");
  osprof::test::backend b(my_.url(db_));
  auto events = make_trace(osprof::uuid::random(), 2);
  events[0].name = std::string(60, 'n') + "-start";
  const auto r = b.write(events);
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_NE(r.error.find("the column takes 50"), std::string::npos) << r.error;
  EXPECT_EQ(check().count("SELECT count(*) FROM data"), 3);
  EXPECT_EQ(check().count("SELECT count(*) FROM information_schema.statistics WHERE table_schema = '" + db_ +
                          "' AND table_name = 'data'"),
            1);
}

TEST_F(MyServer, UnixSocketAsSQLAlchemyWritesIt) {
  osprof::test::backend b("mysql+pymysql://osprof:osprof-secret@localhost/" + db_ + "?unix_socket=" + my_.dir() + "/sock");
  ASSERT_EQ(b.write(make_trace(osprof::uuid::random(), 2)).status, osprof::write_status::ok);
  EXPECT_EQ(b.list().size(), 1u);
}

TEST_F(MyServer, TlsWithVerificationWhenAskedFor) {
  const std::string tls = my_.dir() + "/tls";
  {
    osprof::test::backend b(my_.url(db_, "?ssl_ca=" + tls + "/ca.crt"));
    const auto r = b.write(make_trace(osprof::uuid::random(), 1));
    ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
    EXPECT_EQ(b.list().size(), 1u);
  }
  osprof::test::backend wrong(my_.url(db_, "?ssl_ca=" + tls + "/other-ca.crt"));
  auto r = wrong.write(make_trace(osprof::uuid::random(), 1));
  EXPECT_EQ(r.status, osprof::write_status::failed);
  EXPECT_NE(r.error.find("error 2026"), std::string::npos) << r.error;
  osprof::test::backend unverified(my_.url(db_, "?ssl=true"));
  r = unverified.write(make_trace(osprof::uuid::random(), 1));
  EXPECT_EQ(r.status, osprof::write_status::ok) << r.error;
  EXPECT_EQ(check().count("SELECT count(*) FROM data"), 4);
  EXPECT_THROW(osprof::test::backend(my_.url(db_, "?ssl_ca=" + tls + "/ca.crt&ssl_check_hostname=false")).writer(),
               osprof::error);
}

TEST_F(MyServer, ClearErrorsWithoutThePassword) {
  const std::string bad = "mysql://osprof:hunter2-wrong@127.0.0.1:" + std::to_string(my_.port()) + "/" + db_;
  osprof::test::backend b(bad);
  auto r = b.write(make_trace(osprof::uuid::random(), 1));
  EXPECT_EQ(r.status, osprof::write_status::failed);
  EXPECT_NE(r.error.find("Access denied for user 'osprof'"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
  try {
    osprof::list_traces(bad);
    ADD_FAILURE() << "reading with a wrong password worked";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("Access denied"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
  osprof::test::backend missing(my_.url("no_such_database"));
  r = missing.write(make_trace(osprof::uuid::random(), 1));
  EXPECT_EQ(r.status, osprof::write_status::failed);
  EXPECT_NE(r.error.find("Unknown database 'no_such_database'"), std::string::npos) << r.error;
  {
    const std::string m = osprof::test::writer_error(my_.url(db_, "?passwd=hunter2"));
    EXPECT_FALSE(m.empty()) << "a password option was taken";
    EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
  }
  {
    const std::string m = osprof::test::writer_error(my_.url(db_, "?charset=latin1"));
    EXPECT_FALSE(m.empty()) << "charset latin1 was taken";
    EXPECT_NE(m.find("utf8mb4"), std::string::npos) << m;
  }
  try {
    osprof::list_traces(my_.url(db_));
    ADD_FAILURE() << "listing a database without table data worked";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("no table data"), std::string::npos) << e.what();
  }
}

}  // namespace
