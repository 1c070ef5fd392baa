// The PostgreSQL driver against the fixture's PostgreSQL 15 (tests/servers/postgresql.sh), a
// new database per test: OSProfiler's layout written by the emitter and read back, one
// transaction per batch, a retried batch stored once, values too long for their column,
// unix sockets, TLS with and without verification, and clear errors without the password.
#include <gtest/gtest.h>

#include <algorithm>

#include <set>

#include <osprof/error.hpp>
#include <osprof/report.hpp>

#include "drivers/sql/sql_layout.hpp"
#include "pg_test_util.hpp"

namespace {

using namespace osprof_test::pg;
using namespace std::chrono_literals;

class PgServer : public ::testing::Test {
 protected:
  void SetUp() override { db_ = pg_.new_database(); }
  admin check() { return admin("host=" + pg_.dir() + " port=" + std::to_string(pg_.port()) + " user=postgres dbname=" + db_); }

  server pg_;
  std::string db_;
};

TEST_F(PgServer, EmitterWritesOSProfilersLayoutAndTheReportReadsItBack) {
  std::string base;
  {
    osprof::emitter e{test_options(pg_.url(db_))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
    const auto s = e.get_stats();
    EXPECT_EQ(s.written, 8u);
    EXPECT_EQ(s.dropped(), 0u);
  }
  auto db = check();
  EXPECT_EQ(db.count("SELECT count(*) FROM data WHERE base_id = '" + base + "'"), 8);
  // Python's columns: project/service from the emitter, host the writer's, data double-encoded.
  const auto rows = db.query("SELECT project, service, host, name, data::text, json_typeof(data) FROM data WHERE name = 'wsgi-start'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "demo");
  EXPECT_EQ(rows[0][1], "api");
  EXPECT_EQ(rows[0][2], "vm");
  EXPECT_EQ(rows[0][5], "string") << "data holds a JSON string, as Python's driver stores it: " << rows[0][4];
  EXPECT_EQ(db.scalar("SELECT (data #>> '{}')::json -> 'info' -> 'request' ->> 'path' FROM data WHERE name = 'wsgi-start'"),
            "/v2.1/servers");
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_indexes WHERE tablename = 'data' AND indexname LIKE 'ix_data_%'"), 8);

  const auto report = osprof::read_report(pg_.url(db_), base);
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
  const auto list = osprof::list_traces(pg_.url(db_));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].base_id, base);
  EXPECT_EQ(osprof::list_traces(pg_.url(db_), true).size(), 1u);
  EXPECT_TRUE(osprof::read_report(pg_.url(db_), "00000000-0000-0000-0000-000000000000").empty());
}

// ?indexes=reading: a table this writer creates gets the two indexes reading uses, not eight.
TEST_F(PgServer, TheIndexesOptionChoosesTheIndexesOfTheTableItCreates) {
  std::string base;
  {
    osprof::emitter e{test_options(pg_.url(db_, "?indexes=reading"))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  }
  auto db = check();
  const auto names = db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'data' AND indexname LIKE 'ix_data_%' "
                              "ORDER BY indexname");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0][0], "ix_data_base_id");
  EXPECT_EQ(names[1][0], "ix_data_timestamp");
  EXPECT_EQ(osprof::read_report(pg_.url(db_), base).event_count, 8u);
  {
    const std::string m = osprof::test::writer_error(pg_.url(db_, "?indexes=some"));
    EXPECT_FALSE(m.empty()) << "indexes=some was accepted";
    EXPECT_NE(m.find("option 'indexes' must be all or reading"), std::string::npos) << m;
  }
}

TEST_F(PgServer, ListsNewestFirstAndErrorTracesOnly) {
  osprof::test::backend b(pg_.url(db_));
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
  // A stop whose data mentions etype only in a string is no error; a corrupt row fails nothing.
  check().exec("INSERT INTO data (timestamp, base_id, name, data) VALUES ('2025-11-24T09:00:00.000000', 'x', 'p-stop',"
               " to_json('{\"info\": {\"message\": \"etype\", \"host\": \"vm\"}}'::text)),"
               " ('2025-11-24T08:30:00.000000', 'y', 'p-stop', '\"{broken etype\"')");  // older than x: no tie
  const auto list = b.list();
  ASSERT_EQ(list.size(), 7u);
  EXPECT_EQ(list[0].base_id, "x");
  std::vector<std::string> ours;
  for (const auto& s : list) {
    if (s.base_id.size() == 36) ours.push_back(s.base_id);
  }
  ASSERT_EQ(ours.size(), 5u);
  for (int t = 0; t < 5; ++t) EXPECT_EQ(ours[static_cast<std::size_t>(t)], bases[static_cast<std::size_t>(4 - t)].to_string());
  const auto errors = b.errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].base_id, bases[3].to_string());
  EXPECT_EQ(errors[1].base_id, bases[1].to_string());
  EXPECT_EQ(errors[0].timestamp, "2025-11-24T03:00:00.000000");
}

TEST_F(PgServer, ABatchIsOneTransaction) {
  osprof::test::backend b(pg_.url(db_));
  const auto events = make_trace(osprof::uuid::random(), 100);
  ASSERT_EQ(b.write(events).status, osprof::write_status::ok);
  // One transaction: the rows share their xmin.
  EXPECT_EQ(check().count("SELECT count(DISTINCT xmin::text) FROM data"), 1);
  EXPECT_EQ(check().count("SELECT count(*) FROM data"), 200);
}

TEST_F(PgServer, EachBatchClaimsItsNumberAndAStoredNumberCannotBeClaimedAgain) {
  osprof::test::backend b(pg_.url(db_));
  const auto events = make_trace(osprof::uuid::random(), 10);
  ASSERT_EQ(b.write(events).status, osprof::write_status::ok);
  ASSERT_EQ(b.write(events).status, osprof::write_status::ok);
  auto db = check();
  const auto writer = db.query("SELECT writer_id, batch FROM osprof_writers");
  ASSERT_EQ(writer.size(), 1u);
  EXPECT_EQ(writer[0][0].size(), 32u);
  EXPECT_EQ(writer[0][1], "2");
  // What a retry of batch 2 sends first, after an answer was lost: it fails on the constraint.
  const std::string claim = osprof::detail::sql::claim_batch_sql(osprof::detail::sql::dialect::postgresql, writer[0][0], 2, 0);
  try {
    db.exec(claim);
    ADD_FAILURE() << "batch 2 was claimed twice";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("osprof_batch_stored"), std::string::npos) << e.what();
  }
  db.exec(osprof::detail::sql::claim_batch_sql(osprof::detail::sql::dialect::postgresql, writer[0][0], 3, 0));
  EXPECT_EQ(db.scalar("SELECT batch FROM osprof_writers"), "3");
  EXPECT_EQ(db.count("SELECT count(*) FROM data"), 40);
}

TEST_F(PgServer, EventsTooLongForTheirColumnAreRejectedOneByOne) {
  osprof::test::backend b(pg_.url(db_));
  const auto base = osprof::uuid::random();
  auto events = make_trace(base, 3);
  events[2].name = std::string(300, 'n') + "-start";  // 306 characters: the column takes 255
  auto r = b.write(events);
  ASSERT_EQ(r.status, osprof::write_status::ok);
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_NE(r.error.find("has 306 characters; the column takes 255"), std::string::npos) << r.error;
  EXPECT_EQ(check().count("SELECT count(*) FROM data"), 5);
  // 255 characters of several bytes each fit: the limit counts characters.
  events = make_trace(base, 1);
  std::string name;
  for (int i = 0; i < 249; ++i) name += "\xC3\xA9";  // é
  events[0].name = name + "-start";
  r = b.write(events);
  EXPECT_EQ(r.rejected, 0u) << r.error;
  // A table made with narrower columns: its limits are read from the table.
  const std::string other = pg_.new_database();
  pg_.superuser(other).exec(
      "CREATE TABLE data (id SERIAL PRIMARY KEY, timestamp VARCHAR(26), base_id VARCHAR(255), parent_id VARCHAR(255),"
      " trace_id VARCHAR(255), project VARCHAR(255), host VARCHAR(255), service VARCHAR(255), name VARCHAR(8),"
      " data JSON); ALTER TABLE data OWNER TO osprof");
  osprof::test::backend narrow(pg_.url(other));
  r = narrow.write(make_trace(base, 2));  // "point-start" has 11 characters
  EXPECT_EQ(r.status, osprof::write_status::ok);
  EXPECT_EQ(r.rejected, 4u);
  EXPECT_NE(r.error.find("the column takes 8"), std::string::npos) << r.error;
}

TEST_F(PgServer, InvalidUtf8AndNulInNamesBecomeReplacementCharacters) {
  osprof::test::backend b(pg_.url(db_));
  auto events = make_trace(osprof::uuid::random(), 1);
  events[0].name = std::string("bad\xFF\0name-start", 15);
  ASSERT_EQ(b.write(events).status, osprof::write_status::ok);
  EXPECT_EQ(check().scalar("SELECT name FROM data WHERE name LIKE 'bad%'"), "bad\xEF\xBF\xBD\xEF\xBF\xBDname-start");
}

TEST_F(PgServer, UsesATablePythonsLayoutAlreadyHasAndLeavesItAlone) {
  auto db = check();
  db.exec("CREATE TABLE data (id SERIAL NOT NULL, timestamp VARCHAR(26), base_id VARCHAR(255), parent_id VARCHAR(255),"
          " trace_id VARCHAR(255), project VARCHAR(255), host VARCHAR(255), service VARCHAR(255), name VARCHAR(255),"
          " data JSON, PRIMARY KEY (id)); ALTER TABLE data OWNER TO osprof;"
          " INSERT INTO data (timestamp, base_id, name, data) VALUES ('2025-01-01T00:00:00.000000', 'old', 'a-start', '\"{}\"')");
  osprof::test::backend b(pg_.url(db_));
  ASSERT_EQ(b.write(make_trace(osprof::uuid::random(), 2)).status, osprof::write_status::ok);
  EXPECT_EQ(db.count("SELECT count(*) FROM data"), 5);
  // As Python's create_all(): an existing table is not changed (no indexes added to it).
  EXPECT_EQ(db.count("SELECT count(*) FROM pg_indexes WHERE tablename = 'data'"), 1);
}

TEST_F(PgServer, DedupOffNeedsNoWritersTable) {
  osprof::test::backend b(pg_.url(db_, "?dedup=false"));
  ASSERT_EQ(b.write(make_trace(osprof::uuid::random(), 2)).status, osprof::write_status::ok);
  auto db = check();
  EXPECT_EQ(db.count("SELECT count(*) FROM data"), 4);
  EXPECT_EQ(db.scalar("SELECT to_regclass('osprof_writers') IS NULL"), "t");
}

TEST_F(PgServer, UnixSocketAsSQLAlchemyWritesIt) {
  const std::string url = "postgresql+psycopg2://osprof@/" + db_ + "?host=" + pg_.dir() + "&port=" + std::to_string(pg_.port());
  EXPECT_THROW(osprof::list_traces(url), osprof::error) << "port is in the URL or libpq's default, not an option";
  const std::string socket_url = "postgresql+psycopg2://osprof@:" + std::to_string(pg_.port()) + "/" + db_ + "?host=" + pg_.dir();
  osprof::test::backend b(socket_url);
  ASSERT_EQ(b.write(make_trace(osprof::uuid::random(), 2)).status, osprof::write_status::ok);
  EXPECT_EQ(b.list().size(), 1u);
}

TEST_F(PgServer, TlsWithVerificationWhenAskedFor) {
  const std::string tls = pg_.dir() + "/tls";
  auto db = check();
  {
    osprof::test::backend b(pg_.url(db_, "?sslmode=verify-full&sslrootcert=" + tls + "/ca.crt&application_name=tls_test"));
    const auto r = b.write(make_trace(osprof::uuid::random(), 1));
    ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
    EXPECT_EQ(db.count("SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                       " WHERE s.ssl AND a.application_name = 'tls_test'"),
              1);
  }
  // A CA that did not sign the server's certificate: refused for good, with libpq's reason.
  osprof::test::backend wrong(pg_.url(db_, "?sslmode=verify-full&sslrootcert=" + tls + "/other-ca.crt"));
  auto r = wrong.write(make_trace(osprof::uuid::random(), 1));
  EXPECT_EQ(r.status, osprof::write_status::failed);
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
  // verify-full checks the name: the certificate names 127.0.0.1 and localhost, not 127.0.0.2.
  // Without verification (sslmode=require) any certificate is taken, as libpq does.
  osprof::test::backend plain(pg_.url(db_, "?sslmode=require"));
  EXPECT_EQ(plain.write(make_trace(osprof::uuid::random(), 1)).status, osprof::write_status::ok);
  EXPECT_EQ(db.count("SELECT count(*) FROM data"), 4);
}

TEST_F(PgServer, ClearErrorsWithoutThePassword) {
  const std::string bad = "postgresql://osprof:hunter2-wrong@127.0.0.1:" + std::to_string(pg_.port()) + "/" + db_;
  osprof::test::backend b(bad);
  auto r = b.write(make_trace(osprof::uuid::random(), 1));
  EXPECT_EQ(r.status, osprof::write_status::failed);
  EXPECT_NE(r.error.find("password authentication failed for user \"osprof\""), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
  try {
    osprof::list_traces(bad);
    ADD_FAILURE() << "reading with a wrong password worked";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("password authentication failed"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
  osprof::test::backend missing(pg_.url("no_such_database"));
  r = missing.write(make_trace(osprof::uuid::random(), 1));
  EXPECT_EQ(r.status, osprof::write_status::failed);
  EXPECT_NE(r.error.find("database \"no_such_database\" does not exist"), std::string::npos) << r.error;
  // Options: unknown ones listed, a password as an option refused without showing it.
  {
    const std::string m = osprof::test::writer_error(pg_.url(db_, "?sslmod=require"));
    EXPECT_FALSE(m.empty()) << "an unknown option was taken";
    EXPECT_NE(m.find("unknown option 'sslmod'"), std::string::npos) << m;
    EXPECT_NE(m.find("sslmode"), std::string::npos) << m;
  }
  {
    const std::string m = osprof::test::writer_error(pg_.url(db_, "?password=hunter2"));
    EXPECT_FALSE(m.empty()) << "a password option was taken";
    EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
  }
  // A reader on an empty database says what is missing.
  try {
    osprof::list_traces(pg_.url(db_));
    ADD_FAILURE() << "listing a database without table data worked";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("no table data"), std::string::npos) << e.what();
  }
}

}  // namespace
