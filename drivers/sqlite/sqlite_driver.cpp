// sqlite:///relative/path.db and sqlite:////absolute/path.db (SQLAlchemy's convention): the
// embedded default backend. Same layout as OSProfiler's SQL driver (table `data`, one indexed
// column per id/name field, the rest of the event double-encoded in the JSON `data` column),
// so tools that read OSProfiler's SQL schema read osprof's file. The layout, the row mapping and
// the report queries are the SQL drivers' shared ones (drivers/sql).
//
// SQLite calls block, so they run on a thread of the driver's own; the emitter's coroutine
// awaits them. Batches go in one transaction each; the database uses WAL so `osprof trace show`
// can read while a service writes.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <osprof/error.hpp>

#include <osprof/driver.hpp>
#include <osprof/drivers/sqlite.hpp>

#include "drivers/sql/sql_layout.hpp"
#include "drivers/sql/sql_reader.hpp"
#include "drivers/sqlite/wal_checkpointer.hpp"

namespace osprof::detail {

namespace {

namespace asio = boost::asio;


struct sqlite_options {
  std::string path;
  int busy_timeout_ms = 5000;
  std::string synchronous = "NORMAL";
  // SQLite's default page cache is 2 MiB: the eight indexes of `data` (three over random ids)
  // outgrow it within seconds and every insert then reads its index pages back through the
  // kernel. A larger cache keeps them in memory; it is allocated as pages are used.
  std::uint64_t cache_mib = 64;
  // WAL size that starts a checkpoint (copying the WAL back into the database file). A larger
  // WAL means fewer checkpoints and more disk; readers also search a longer WAL.
  std::uint64_t wal_checkpoint_mib = 64;
  // Each index costs every insert a B-tree update. Of the eight, base_id and timestamp serve
  // reading traces, four serve `osprof serve`'s field filters, two (random ids) nothing at all.
  sql::index_set indexes = sql::index_set::all;
};

struct statement {
  sqlite3_stmt* stmt = nullptr;
  statement() = default;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { sqlite3_finalize(stmt); }
};

// One connection to the database file, and the thread its blocking calls run on. The
// lambdas handed to run() are named and capture only trivially destructible things: GCC 12
// destroys a lambda temporary inside a co_await expression twice.
class database {
 public:
  enum class mode : std::uint8_t { write, read };

  database(sqlite_options opts, mode m) : opts_(std::move(opts)) {
    // Fail early, with the path, when the file cannot be created or opened.
    if (m == mode::read) {
      if (opts_.path != ":memory:" && !std::filesystem::exists(opts_.path)) {
        throw error("sqlite://: database file '" + opts_.path + "' does not exist");
      }
      if (sqlite3_open_v2(opts_.path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        fail("cannot open the database for reading");
      }
      sqlite3_busy_timeout(db_, opts_.busy_timeout_ms);
      if (sqlite3_exec(db_, "PRAGMA schema_version", nullptr, nullptr, nullptr) == SQLITE_CANTOPEN) {
        // A WAL database in a directory this process may not write to: its -shm file cannot be
        // made. Nobody can be writing there either, so read it as immutable.
        sqlite3_close_v2(db_);
        db_ = nullptr;
        std::string uri = "file:";
        for (const char c : opts_.path) {
          if (c == '%') uri += "%25";
          else if (c == '?') uri += "%3f";
          else if (c == '#') uri += "%23";
          else uri += c;
        }
        uri += "?immutable=1";
        if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nullptr) !=
            SQLITE_OK) {
          fail("cannot open the database for reading");
        }
      }
      return;
    }
    if (std::filesystem::is_directory(opts_.path)) {
      throw error("sqlite://: '" + opts_.path + "' is a directory, not a database file");
    }
    if (sqlite3_open_v2(opts_.path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      fail("cannot open or create the database");
    }
    sqlite3_busy_timeout(db_, opts_.busy_timeout_ms);
    exec("PRAGMA journal_mode=WAL");
    exec(("PRAGMA synchronous=" + opts_.synchronous).c_str());
    exec(("PRAGMA cache_size=-" + std::to_string(opts_.cache_mib * 1024)).c_str());
    exec("PRAGMA temp_store=MEMORY");
    for (const std::string& statement : sql::data_table_ddl(sql::dialect::sqlite, opts_.indexes)) exec(statement.c_str());
    // Each commit appends every page it dirtied to the WAL, and with random ids in three indexes
    // that is several pages per row; checkpointing every 1000 pages, SQLite's default, ran after
    // almost every batch. Checkpoints start at wal_checkpoint_mib of WAL instead, on the
    // checkpointer's thread; SQLite's own (on this connection) is off.
    if (opts_.path != ":memory:") {
      checkpointer_ = std::make_unique<sqlite::wal_checkpointer>(db_, opts_.path, opts_.synchronous,
                                                                 opts_.wal_checkpoint_mib << 20);
    }
  }

  ~database() {
    join();
    checkpointer_.reset();
    sqlite3_close_v2(db_);
  }

  /// Waits for a blocking call still running (the emitter may stop its io_context first).
  void join() { pool_.join(); }

  template <class T, class Operation>
  asio::awaitable<T> run(Operation& op) {
    co_return co_await asio::co_spawn(pool_.get_executor(), op, asio::use_awaitable);
  }

  sqlite3* handle() const noexcept { return db_; }
  const sqlite_options& options() const noexcept { return opts_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw error("sqlite://: " + what + " (database '" + opts_.path + "')" +
                (db_ != nullptr ? std::string(": ") + sqlite3_errmsg(db_) : std::string()));
  }

 private:
  void exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "unknown error";
      sqlite3_free(message);
      throw error("sqlite://: " + text + " (database '" + opts_.path + "')");
    }
  }

  sqlite_options opts_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite::wal_checkpointer> checkpointer_;
  asio::thread_pool pool_{1};
};

class sqlite_writer final : public writer {
 public:
  sqlite_writer(sqlite_options opts, const driver_context& context)
      : db_(std::move(opts), database::mode::write),
        columns_{sql::column_text(context.project), sql::column_text(context.host), sql::column_text(context.service)} {
    prepare(insert_one_, 1);
    prepare(insert_many_, rows_per_insert);
  }

  ~sqlite_writer() override { db_.join(); }  // before the statement is finalized

  asio::awaitable<write_result> write(const batch& b) override {
    const std::span<const event_record> events = b.events;
    auto op = [this, events]() -> asio::awaitable<write_result> { co_return write_blocking(events); };
    co_return co_await db_.run<write_result>(op);
  }

 private:
  write_result write_blocking(std::span<const event_record> batch) {
    sqlite3* db = db_.handle();
    const auto error_result = [&](std::string what) {
      // The code first: ROLLBACK overwrites it.
      const int code = sqlite3_errcode(db) & 0xFF;
      std::string text = "sqlite://: " + what + ": " + sqlite3_errmsg(db) + " (database '" + db_.options().path + "')";
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      // Busy/locked/full/I/O errors may pass; anything else will not.
      if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_FULL || code == SQLITE_IOERR ||
          code == SQLITE_CANTOPEN || code == SQLITE_READONLY) {
        return write_result::retryable(std::move(text));
      }
      return write_result::fatal(std::move(text));
    };
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return error_result("BEGIN failed");
    // Rows go in `rows_per_insert` at a time (one statement step for many rows), the rest one
    // by one; both statements are prepared once. Each row's text is bound where it lies
    // (SQLITE_STATIC), so the row buffers live until the statement has run.
    std::size_t i = 0;
    while (i < batch.size()) {
      const std::size_t n = batch.size() - i >= rows_per_insert ? rows_per_insert : 1;
      sqlite3_stmt* s = n == 1 ? insert_one_.stmt : insert_many_.stmt;
      for (std::size_t r = 0; r < n; ++r) {
        const event_record& e = batch[i + r];
        sql::row& row = rows_[r];
        sql::make_row(e, row);
        const int first = static_cast<int>(r) * 9;
        bind(s, first + 1, e.timestamp_text());
        bind(s, first + 2, row.base_id_text());
        bind(s, first + 3, row.parent_id_text());
        bind(s, first + 4, row.trace_id_text());
        bind(s, first + 5, columns_.project);
        bind(s, first + 6, columns_.host);
        bind(s, first + 7, columns_.service);
        bind(s, first + 8, row.name);
        bind(s, first + 9, row.data);
      }
      if (sqlite3_step(s) != SQLITE_DONE) {
        write_result failed = error_result("insert failed");
        sqlite3_reset(s);
        return failed;
      }
      sqlite3_reset(s);  // the rows' buffers are reused for the next statement
      i += n;
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return error_result("COMMIT failed");
    return write_result::success();
  }

  // Declared before the statement: statements are finalized first, as sqlite3_close()
  // refuses to close a connection that still has some.
  static constexpr std::size_t rows_per_insert = 32;  // 288 parameters; SQLite 3.32+ takes 32766

  static void bind(sqlite3_stmt* s, int index, std::string_view text) {
    sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }

  void prepare(statement& st, std::size_t rows) {
    std::string sql = "INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data) VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
      sql += r == 0 ? "(" : ", (";
      for (int c = 1; c <= 9; ++c) {
        sql += '?';
        sql += std::to_string(r * 9 + static_cast<std::size_t>(c));
        sql += c == 9 ? ")" : ", ";
      }
    }
    if (sqlite3_prepare_v3(db_.handle(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st.stmt, nullptr) != SQLITE_OK) {
      db_.fail("cannot prepare the insert statement");
    }
  }

  database db_;
  sql::writer_columns columns_;
  std::array<sql::row, rows_per_insert> rows_;
  statement insert_one_;
  statement insert_many_;
};

// Runs the shared reader's queries on the database's thread.
class sqlite_runner final : public sql::query_runner {
 public:
  explicit sqlite_runner(sqlite_options opts) : db_(std::move(opts), database::mode::read) {}

  asio::awaitable<sql::result_rows> query(std::string sql, std::vector<std::string> params) override {
    auto op = [this, &sql, &params]() -> asio::awaitable<sql::result_rows> { co_return query_blocking(sql, params); };
    co_return co_await db_.run<sql::result_rows>(op);
  }

 private:
  sql::result_rows query_blocking(const std::string& text, const std::vector<std::string>& params) {
    statement q;
    if (sqlite3_prepare_v2(db_.handle(), text.c_str(), -1, &q.stmt, nullptr) != SQLITE_OK) db_.fail("cannot read traces");
    for (std::size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(q.stmt, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()), SQLITE_STATIC);
    }
    sql::result_rows rows;
    rows.columns = static_cast<std::size_t>(sqlite3_column_count(q.stmt));
    int rc;
    while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
      for (int c = 0; c < static_cast<int>(rows.columns); ++c) {
        if (sqlite3_column_type(q.stmt, c) == SQLITE_NULL) {
          rows.cells.emplace_back();
          continue;
        }
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(q.stmt, c));
        rows.cells.emplace_back(std::string(p != nullptr ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(q.stmt, c))));
      }
    }
    if (rc != SQLITE_DONE) db_.fail("reading traces failed");
    return rows;
  }

  database db_;
};

sqlite_options parse_options(const connection_string& cs) {
  cs.check_params({"busy_timeout_ms", "synchronous", "cache_mib", "indexes", "wal_checkpoint_mib"});
  if (!cs.host.empty()) {
    throw error("invalid connection string '" + cs.redacted +
                "': sqlite:// takes a file path, not a host; write sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db");
  }
  sqlite_options o;
  // SQLAlchemy's convention: the path follows the third slash.
  o.path = std::string(cs.database());
  if (o.path.find('\0') != std::string::npos) {
    cs.fail("the path contains a NUL byte (%00), which would cut it short");
  }
  if (o.path.empty()) {
    throw error("invalid connection string '" + cs.redacted +
                "': no database file; write sqlite:///relative/path.db, sqlite:////absolute/path.db or "
                "sqlite:///:memory:");
  }
  if (auto v = cs.param_uint("busy_timeout_ms")) o.busy_timeout_ms = static_cast<int>(std::min<std::uint64_t>(*v, 600000));
  // Sizes in MiB, 1 to 64 GiB.
  for (const auto& [key, field] :
       {std::pair{"cache_mib", &o.cache_mib}, std::pair{"wal_checkpoint_mib", &o.wal_checkpoint_mib}}) {
    if (auto v = cs.param_uint(key)) {
      if (*v < 1 || *v > 65536) cs.fail("option '" + std::string(key) + "' must be 1 to 65536 (MiB)");
      *field = *v;
    }
  }
  if (auto v = cs.param("synchronous")) {
    std::string s(*v);
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (s != "OFF" && s != "NORMAL" && s != "FULL" && s != "EXTRA") {
      throw error("invalid connection string '" + cs.redacted + "': option 'synchronous' must be off, normal, full or extra");
    }
    o.synchronous = s;
  }
  o.indexes = sql::index_set_param(cs);
  return o;
}

}  // namespace

}  // namespace osprof::detail

namespace osprof::drivers {

void register_sqlite() {
  using namespace osprof::detail;
  register_driver({
      .scheme = "sqlite",
      .summary = "sqlite:///relative.db or sqlite:////absolute.db: embedded, OSProfiler's SQL layout (default)",
      .make_writer = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<writer> {
        return std::make_unique<sqlite_writer>(parse_options(cs), context);
      },
      .make_reader = [](const connection_string& cs, const driver_context&) -> std::unique_ptr<reader> {
        return std::make_unique<sql::sql_reader>(sql::dialect::sqlite, std::make_unique<sqlite_runner>(parse_options(cs)));
      },
  });
}

}  // namespace osprof::drivers
