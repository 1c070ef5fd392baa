// The SQL drivers' shared layout (drivers/sql) without a server: the DDL, an event as a row
// (OSProfiler's double encoding), a row back as the notification (corrupt data included), the
// error check, the column limits, and the claim of a batch number, run on SQLite.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <simdjson.h>

#include "drivers/sql/sql_layout.hpp"

namespace {

namespace sql = osprof::detail::sql;

osprof::event_record event(std::string name, std::string info) {
  osprof::event_record e;
  e.is_stop = name.ends_with("-stop");
  e.name = std::move(name);
  e.base_id = *osprof::uuid::parse("11111111-2222-3333-4444-555555555555");
  e.trace_id = *osprof::uuid::parse("66666666-7777-8888-9999-000000000000");
  e.parent_id = e.base_id;
  const std::string ts = "2025-11-24T16:00:00.123456";
  std::copy(ts.begin(), ts.end(), e.timestamp.begin());
  e.info = std::move(info);
  return e;
}

// The string a JSON text holds.
std::string json_string(const std::string& text) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(text);
  auto doc = parser.iterate(padded);
  return std::string(std::string_view(doc.get_string()));
}

TEST(SqlLayout, TheDdlIsSQLAlchemysForEachDialect) {
  const auto pg = sql::data_table_ddl(sql::dialect::postgresql);
  ASSERT_EQ(pg.size(), 9u);
  EXPECT_NE(pg[0].find("id SERIAL NOT NULL"), std::string::npos);
  EXPECT_NE(pg[0].find("timestamp VARCHAR(26)"), std::string::npos);
  EXPECT_NE(pg[0].find("data JSON"), std::string::npos);
  EXPECT_NE(pg[0].find("PRIMARY KEY (id)"), std::string::npos);
  EXPECT_EQ(pg[1], "CREATE INDEX IF NOT EXISTS ix_data_timestamp ON data (timestamp)");
  EXPECT_EQ(pg[8], "CREATE INDEX IF NOT EXISTS ix_data_name ON data (name)");
  EXPECT_NE(sql::data_table_ddl(sql::dialect::mysql)[0].find("id INTEGER NOT NULL AUTO_INCREMENT"), std::string::npos);
  EXPECT_NE(sql::data_table_ddl(sql::dialect::sqlite)[0].find("id INTEGER NOT NULL,"), std::string::npos);
}

// The reading set: the same table, and only the two indexes that trace show and the trace list
// walk use.
TEST(SqlLayout, TheReadingIndexSetIsTheTableAndTwoIndexes) {
  const auto all = sql::data_table_ddl(sql::dialect::sqlite, sql::index_set::all);
  const auto reading = sql::data_table_ddl(sql::dialect::sqlite, sql::index_set::reading);
  ASSERT_EQ(reading.size(), 3u);
  EXPECT_EQ(reading[0], all[0]);
  EXPECT_EQ(reading[1], "CREATE INDEX IF NOT EXISTS ix_data_timestamp ON data (timestamp)");
  EXPECT_EQ(reading[2], "CREATE INDEX IF NOT EXISTS ix_data_base_id ON data (base_id)");
}

TEST(SqlLayout, AnEventBecomesPythonsRow) {
  sql::row r;
  sql::make_row(event("wsgi-start", R"({"request": {"path": "/caf\u00e9"}, "host": "vm"})"), r);
  EXPECT_EQ(r.base_id_text(), "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(r.trace_id_text(), "66666666-7777-8888-9999-000000000000");
  EXPECT_EQ(r.name, "wsgi-start");
  // A JSON string holding {"info": ...}, as jsonutils.dumps(data) then the JSON column store it.
  EXPECT_EQ(r.data.front(), '"');
  EXPECT_EQ(json_string(r.data), R"({"info": {"request": {"path": "/caf\u00e9"}, "host": "vm"}})");
}

// A writer makes every row in the same buffers: each holds exactly its own event, whatever the
// one before (longer, with escapes) left there.
TEST(SqlLayout, ARowMadeAgainHoldsOnlyTheLatestEvent) {
  sql::row r;
  sql::make_row(event("a-much-longer-point-name-start", R"({"q": "say \"hi\" \\ there", "host": "vm"})"), r);
  EXPECT_EQ(json_string(r.data), R"({"info": {"q": "say \"hi\" \\ there", "host": "vm"}})");
  sql::make_row(event(std::string("db\0x-stop", 9), R"({"host": "vm"})"), r);
  EXPECT_EQ(r.name, "db\xEF\xBF\xBDx-stop");
  EXPECT_EQ(json_string(r.data), R"({"info": {"host": "vm"}})");
  sql::make_row(event("db-start", R"({"host": "vm"})"), r);
  EXPECT_EQ(r.name, "db-start");
}

TEST(SqlLayout, ColumnTextReplacesInvalidUtf8AndNul) {
  EXPECT_EQ(sql::column_text("plain é ✓"), "plain é ✓");
  EXPECT_EQ(sql::column_text(std::string("a\xFF" "b\0c", 5)), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
  EXPECT_EQ(sql::column_text("\xC3"), "\xEF\xBF\xBD");  // a sequence cut short
  EXPECT_EQ(sql::code_points("é✓x"), 3u);
}

TEST(SqlLayout, RowsLongerThanTheirColumnsAreNamed) {
  sql::row r;
  sql::make_row(event(std::string(249, 'x') + "-start", R"({"host": "vm"})"), r);
  sql::writer_columns w{"demo", "vm", "api"};
  sql::column_limits limits;
  EXPECT_EQ(sql::check_row(r, w, limits), "");
  sql::make_row(event(std::string(250, 'x') + "-stop-too-long", R"({"host": "vm"})"), r);
  EXPECT_NE(sql::check_row(r, w, limits).find("the name 'xxx"), std::string::npos);
  EXPECT_NE(sql::check_row(r, w, limits).find("has 264 characters; the column takes 255"), std::string::npos);
  sql::make_row(event("p-start", R"({"host": "vm"})"), r);
  w.service = std::string(300, 's');
  EXPECT_NE(sql::check_row(r, w, limits).find("the service"), std::string::npos);
  limits.service = 0;  // unlimited (TEXT)
  EXPECT_EQ(sql::check_row(r, w, limits), "");
  limits.row_bytes = 100;
  EXPECT_NE(sql::check_row(r, w, limits).find("the server takes at most 100"), std::string::npos);
  // Limits as a server reports them: the three id columns share the smallest.
  sql::column_limits read{0, 0, 0, 0, 0, 0, 0};
  read.set("base_id", 255);
  read.set("trace_id", 30);
  read.set("parent_id", 0);
  read.set("name", 64);
  EXPECT_EQ(read.ids, 30u);
  EXPECT_EQ(read.name, 64u);
  EXPECT_NE(sql::check_row(r, sql::writer_columns{}, read).find("the id columns take 30 characters"), std::string::npos);
}

TEST(SqlLayout, ARowBecomesTheStoredNotification) {
  sql::row r;
  sql::make_row(event("db-stop", R"({"etype": "RuntimeError", "message": "a \"quoted\" \\ word", "host": "vm"})"), r);
  sql::stored_row s{"db-stop", "b", "t", "p", "2025-11-24T16:00:00.123456", "demo", "api", std::string_view(r.data)};
  EXPECT_EQ(sql::rebuild_event(s),
            R"({"name": "db-stop", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "2025-11-24T16:00:00.123456", )"
            R"("info": {"etype": "RuntimeError", "message": "a \"quoted\" \\ word", "host": "vm"}, "project": "demo", "service": "api"})");
  EXPECT_TRUE(sql::data_has_error(r.data));
  // Not double-encoded (another writer stored the object itself): taken as it is.
  s.data = R"({"info": {"host": "h"}})";
  EXPECT_NE(sql::rebuild_event(s).find(R"("info": {"host": "h"}, "project")"), std::string::npos);
  // Corrupt, NULL, or not an object: handed on as "data", so the report names the event.
  s.data = R"("{\"info\": broken")";
  EXPECT_NE(sql::rebuild_event(s).find(R"("data": "{\"info\": broken")"), std::string::npos);
  s.data = std::nullopt;
  EXPECT_NE(sql::rebuild_event(s).find(R"("data": null)"), std::string::npos);
  s.data = "42";
  EXPECT_NE(sql::rebuild_event(s).find(R"("data": 42)"), std::string::npos);
}

TEST(SqlLayout, OnlyAnEtypeInInfoIsAnError) {
  const auto data = [](const std::string& info) {
    sql::row r;
    sql::make_row(event("x-stop", info), r);
    return r.data;
  };
  EXPECT_TRUE(sql::data_has_error(data(R"({"etype": "E", "host": "vm"})")));
  EXPECT_FALSE(sql::data_has_error(data(R"({"host": "vm"})")));
  EXPECT_FALSE(sql::data_has_error(data(R"({"message": "etype", "host": "vm"})")));
  EXPECT_FALSE(sql::data_has_error(data(R"({"etype": null, "host": "vm"})")));
  EXPECT_FALSE(sql::data_has_error(data(R"({"nested": {"etype": "E"}, "host": "vm"})")));
  EXPECT_TRUE(sql::data_has_error(R"({"info": {"etype": "E"}})"));
  EXPECT_FALSE(sql::data_has_error("\"{broken etype"));
  EXPECT_FALSE(sql::data_has_error(""));
}

// The claim's semantics, on SQLite (which has the same upsert and CHECK): a number can be
// claimed once, a smaller one never, and a missing row is made.
TEST(SqlLayout, ABatchNumberCanBeClaimedOnce) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  const auto exec = [&](const std::string& text) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &message);
    std::string why = message != nullptr ? message : "";
    sqlite3_free(message);
    return rc == SQLITE_OK ? std::string() : why.empty() ? "error" : why;
  };
  ASSERT_EQ(exec(sql::writers_table_ddl(sql::dialect::sqlite)), "");
  const std::string w = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(exec(sql::claim_batch_sql(sql::dialect::sqlite, w, 1, 100)), "");
  EXPECT_EQ(exec(sql::claim_batch_sql(sql::dialect::sqlite, w, 2, 101)), "");
  EXPECT_NE(exec(sql::claim_batch_sql(sql::dialect::sqlite, w, 2, 102)).find("osprof_batch_stored"), std::string::npos);
  EXPECT_NE(exec(sql::claim_batch_sql(sql::dialect::sqlite, w, 1, 102)).find("osprof_batch_stored"), std::string::npos);
  EXPECT_EQ(exec(sql::claim_batch_sql(sql::dialect::sqlite, w, 3, 103)), "");
  EXPECT_EQ(exec(sql::claim_batch_sql(sql::dialect::sqlite, "ffffffffffffffffffffffffffffffff", 1, 100)), "");
  EXPECT_EQ(exec(sql::prune_writers_sql(sql::dialect::sqlite, 1000, 900)), "");  // seen < 100: none
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), max(batch) FROM osprof_writers", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 2);
  EXPECT_EQ(sqlite3_column_int(q, 1), 3);
  sqlite3_finalize(q);
  EXPECT_EQ(exec(sql::prune_writers_sql(sql::dialect::sqlite, 1000, 899)), "");  // seen < 101: the second writer
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT writer_id FROM osprof_writers", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))), w);
  EXPECT_EQ(sqlite3_step(q), SQLITE_DONE);
  sqlite3_finalize(q);
  sqlite3_close(db);
}

}  // namespace
