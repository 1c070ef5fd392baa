// The SQLite driver against what another process or a careless user does to its file: a write
// lock held for longer than busy_timeout_ms (the batch is retried, not dropped), a directory or
// a NUL byte as the path (a clear error at start), a read-only directory holding a WAL database
// (still readable).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include <osprof/driver.hpp>
#include <osprof/emitter.hpp>
#include <osprof/error.hpp>
#include <osprof/profiler.hpp>
#include <osprof/report.hpp>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SqliteFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("osprof-sqlite-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(dir_, fs::perms::owner_all, ignored);
    fs::remove_all(dir_, ignored);
  }
  fs::path dir_;
};

int rows(const fs::path& db) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* q = nullptr;
  int n = -1;
  if (sqlite3_prepare_v2(h, "SELECT count(*) FROM data", -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
    n = sqlite3_column_int(q, 0);
  }
  sqlite3_finalize(q);
  sqlite3_close(h);
  return n;
}

TEST_F(SqliteFaults, AWriteLockHeldByAnotherProcessDelaysButDropsNothing) {
  const fs::path db = dir_ / "locked.db";
  osprof::options o;
  o.connection_string = "sqlite:///" + db.string() + "?busy_timeout_ms=50";
  o.retry_backoff = 20ms;
  o.retry_backoff_max = 200ms;
  o.flush_interval = 10ms;
  osprof::emitter tracing(o);  // creates the file and its schema
  // Another process takes the write lock for 2 s (longer than busy_timeout_ms many times over).
  const fs::path ready = dir_ / "ready";
  const std::string script = "import sqlite3, time, pathlib; c = sqlite3.connect('" + db.string() +
                             "', isolation_level=None); c.execute('BEGIN IMMEDIATE'); pathlib.Path('" +
                             ready.string() + "').touch(); time.sleep(2); c.execute('COMMIT')";
  std::thread holder([&] { (void)std::system(("/usr/bin/python3 -c \"" + script + "\"").c_str()); });
  while (!fs::exists(ready)) std::this_thread::sleep_for(10ms);
  osprof::init("k");
  for (int i = 0; i < 100; ++i) {
    osprof::start("while-locked");
    osprof::stop();
  }
  osprof::clean();
  holder.join();
  ASSERT_TRUE(tracing.flush(20s)) << tracing.get_stats().last_error;
  const auto s = tracing.get_stats();
  EXPECT_EQ(s.written, 200u) << s.last_error;
  EXPECT_EQ(s.dropped(), 0u) << s.last_error;
  EXPECT_GT(s.retries, 0u) << "the lock was not in the way: the test proves nothing";
  EXPECT_NE(s.last_error.find("locked"), std::string::npos) << s.last_error;
  EXPECT_EQ(rows(db), 200);
}

std::string start_error(const std::string& connection_string) {
  osprof::driver_context context;
  try {
    (void)osprof::make_writer(connection_string, context);
  } catch (const osprof::error& e) {
    return e.what();
  }
  return {};
}

TEST_F(SqliteFaults, PathsThatAreNoFileAreClearErrors) {
  EXPECT_NE(start_error("sqlite:///" + dir_.string()).find("is a directory"), std::string::npos);
  const std::string nul = start_error("sqlite:///" + (dir_ / "a%00b.db").string());
  EXPECT_NE(nul.find("NUL"), std::string::npos) << nul;
  EXPECT_FALSE(fs::exists(dir_ / "a")) << "a NUL byte cut the path short";
}

TEST_F(SqliteFaults, CacheSizeOutOfRangeIsAClearError) {
  for (const char* bad : {"0", "65537", "lots", "-1"}) {
    const std::string m = start_error("sqlite:///" + (dir_ / "c.db").string() + "?cache_mib=" + bad);
    EXPECT_NE(m.find("cache_mib"), std::string::npos) << bad << ": " << m;
  }
  EXPECT_EQ(start_error("sqlite:///" + (dir_ / "c.db").string() + "?cache_mib=8"), "");
}

// The data table's indexes in `db`, sorted by name.
std::vector<std::string> indexes(const fs::path& db) {
  std::vector<std::string> out;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return {"cannot open"};
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'data' ORDER BY name", -1,
                         &q, nullptr) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  }
  sqlite3_finalize(q);
  sqlite3_close(h);
  return out;
}

TEST_F(SqliteFaults, TheIndexesOptionChoosesTheIndexesAWriterCreates) {
  const std::string path = "sqlite:///" + (dir_ / "i.db").string();
  for (const char* bad : {"none", "All", "", "base_id"}) {
    const std::string m = start_error(path + "?indexes=" + bad);
    EXPECT_NE(m.find("option 'indexes' must be all or reading"), std::string::npos) << bad << ": " << m;
  }
  EXPECT_FALSE(fs::exists(dir_ / "i.db")) << "a refused option still created the file";

  ASSERT_EQ(start_error(path + "?indexes=reading"), "");
  EXPECT_EQ(indexes(dir_ / "i.db"), (std::vector<std::string>{"ix_data_base_id", "ix_data_timestamp"}));
  // A later writer with the default adds what is missing: a file has what any of its writers asked for.
  ASSERT_EQ(start_error(path), "");
  EXPECT_EQ(indexes(dir_ / "i.db"),
            (std::vector<std::string>{"ix_data_base_id", "ix_data_host", "ix_data_name", "ix_data_parent_id",
                                      "ix_data_project", "ix_data_service", "ix_data_timestamp", "ix_data_trace_id"}));
  ASSERT_EQ(start_error(path + "?indexes=reading"), "");
  EXPECT_EQ(indexes(dir_ / "i.db").size(), 8u) << "a reading writer dropped indexes it did not create";
}

TEST_F(SqliteFaults, WalCheckpointSizeOutOfRangeIsAClearError) {
  for (const char* bad : {"0", "65537", "big"}) {
    const std::string m = start_error("sqlite:///" + (dir_ / "w.db").string() + "?wal_checkpoint_mib=" + bad);
    EXPECT_NE(m.find("wal_checkpoint_mib"), std::string::npos) << bad << ": " << m;
  }
}

// Checkpoints run on a thread of their own once the WAL reaches wal_checkpoint_mib: the
// database file takes the rows while the writer waits for nothing, and nothing is lost.
TEST_F(SqliteFaults, TheWalIsCheckpointedInTheBackgroundWithoutLosingRows) {
  const fs::path db = dir_ / "w.db";
  const fs::path wal = dir_ / "w.db-wal";
  osprof::options o;
  o.connection_string = "sqlite:///" + db.string() + "?wal_checkpoint_mib=1";
  o.batch_size = 512;
  osprof::emitter tracing(o);
  osprof::init("k");
  for (int i = 0; i < 2000; ++i) {
    OSPROF_START("point", {{"db", {{"statement", "SELECT 1"}, {"params", i}}}});
    OSPROF_STOP();
  }
  osprof::clean();
  ASSERT_TRUE(tracing.flush(30s));
  // Below four times the setting the writer never checkpoints itself (and SQLite's own
  // automatic checkpoint is off), so only the checkpointer moves pages into the file.
  ASSERT_LT(fs::file_size(wal), 4u << 20) << "the writer's own checkpoint would hide the checkpointer's";
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (fs::file_size(db) < (1u << 20) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_GE(fs::file_size(db), 1u << 20) << "no checkpoint copied the WAL into the database file";
  EXPECT_EQ(rows(db), 4000);
  ASSERT_TRUE(tracing.shutdown(30s));
  EXPECT_EQ(rows(db), 4000);
}

// Batches go in as 32-row statements plus single rows for the rest: every event is stored once,
// whatever the batch size.
TEST_F(SqliteFaults, EveryRowOfBatchesOfAnySizeIsStoredOnce) {
  const fs::path db = dir_ / "rows.db";
  {
    osprof::options o;
    o.connection_string = "sqlite:///" + db.string() + "?synchronous=off&cache_mib=4";
    o.batch_size = 100;  // three 32-row statements and four single rows per full batch
    osprof::emitter tracing(o);
    osprof::init("k");
    for (int i = 0; i < 1001; ++i) {
      osprof::start("p");
      osprof::stop();
    }
    osprof::clean();
    ASSERT_TRUE(tracing.shutdown(30s));
  }
  EXPECT_EQ(rows(db), 2002);
}

TEST_F(SqliteFaults, AWalDatabaseInAReadOnlyDirectoryCanBeRead) {
  const fs::path db = dir_ / "traces.db";
  std::string base;
  {
    osprof::options o;
    o.connection_string = "sqlite:///" + db.string();
    osprof::emitter tracing(o);
    osprof::init("k");
    base = osprof::get()->base_id().to_string();
    osprof::start("kept");
    osprof::stop();
    osprof::clean();
    ASSERT_TRUE(tracing.shutdown(10s));
  }
  // The directory read-only for everyone, root included: a read-only bind mount of it, in a mount
  // namespace of the command's own; `osprof trace show` reads the database there.
  const std::string show = std::string(OSPROF_CLI_PATH) + " trace show " + base + " --json --connection-string sqlite:///" +
                           db.string();
  const std::string in_read_only = "unshare -m sh -c 'mount --bind " + dir_.string() + " " + dir_.string() +
                                   " && mount -o remount,bind,ro " + dir_.string() + " && touch " + dir_.string() +
                                   "/probe 2>/dev/null; test ! -e " + dir_.string() + "/probe && " + show + "' 2>&1";
  FILE* pipe = popen(in_read_only.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  if (out.find("unshare") != std::string::npos && out.find("Operation not permitted") != std::string::npos) {
    GTEST_SKIP() << "no mount namespace here: " << out;
  }
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("\"kept\""), std::string::npos) << out;
}

}  // namespace
