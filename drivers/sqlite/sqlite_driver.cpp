// sqlite:///relative/path.db and sqlite:////absolute/path.db (SQLAlchemy's convention): the
// embedded default backend. Same layout as OSProfiler's SQL driver (table `data`, one indexed
// column per id/name field, the rest of the event double-encoded in the JSON `data` column),
// so tools that read OSProfiler's SQL schema read osprof's file.
//
// SQLite calls block, so they run on a thread of the driver's own; the emitter's coroutine
// awaits them. Batches go in one transaction each; the database uses WAL so `osprof trace show`
// can read while a service writes.
#include <sqlite3.h>

#include <filesystem>
#include <queue>
#include <unordered_set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <osprof/error.hpp>

#include "common/json_writer.hpp"
#include <osprof/driver.hpp>
#include <osprof/drivers/sqlite.hpp>

namespace osprof::detail {

namespace {

namespace asio = boost::asio;

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS data (
  id INTEGER NOT NULL,
  timestamp VARCHAR(26),
  base_id VARCHAR(255),
  parent_id VARCHAR(255),
  trace_id VARCHAR(255),
  project VARCHAR(255),
  host VARCHAR(255),
  service VARCHAR(255),
  name VARCHAR(255),
  data JSON,
  PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_data_timestamp ON data (timestamp);
CREATE INDEX IF NOT EXISTS ix_data_base_id ON data (base_id);
CREATE INDEX IF NOT EXISTS ix_data_parent_id ON data (parent_id);
CREATE INDEX IF NOT EXISTS ix_data_trace_id ON data (trace_id);
CREATE INDEX IF NOT EXISTS ix_data_project ON data (project);
CREATE INDEX IF NOT EXISTS ix_data_host ON data (host);
CREATE INDEX IF NOT EXISTS ix_data_service ON data (service);
CREATE INDEX IF NOT EXISTS ix_data_name ON data (name);
)sql";

struct sqlite_options {
  std::string path;
  int busy_timeout_ms = 5000;
  std::string synchronous = "NORMAL";
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
      return;
    }
    if (sqlite3_open_v2(opts_.path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      fail("cannot open or create the database");
    }
    sqlite3_busy_timeout(db_, opts_.busy_timeout_ms);
    exec("PRAGMA journal_mode=WAL");
    exec(("PRAGMA synchronous=" + opts_.synchronous).c_str());
    exec(schema);
  }

  ~database() {
    join();
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
  asio::thread_pool pool_{1};
};

class sqlite_writer final : public writer {
 public:
  sqlite_writer(sqlite_options opts, const driver_context& context)
      : db_(std::move(opts), database::mode::write),
        project_(context.project),
        service_(context.service),
        host_(context.host) {
    if (sqlite3_prepare_v3(db_.handle(),
                           "INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, SQLITE_PREPARE_PERSISTENT, &insert_.stmt, nullptr) != SQLITE_OK) {
      db_.fail("cannot prepare the insert statement");
    }
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
    char id[36];
    std::string data;
    for (const auto& e : batch) {
      // `data` is what OSProfiler's driver stores: the event minus its columns, JSON-encoded
      // as a string inside the JSON column.
      std::string inner = "{\"info\": " + e.info + "}";
      data.clear();
      append_json_string(data, inner);
      sqlite3_stmt* s = insert_.stmt;
      sqlite3_reset(s);
      sqlite3_bind_text(s, 1, e.timestamp.data(), static_cast<int>(e.timestamp.size()), SQLITE_TRANSIENT);
      e.base_id.format(id);
      sqlite3_bind_text(s, 2, id, 36, SQLITE_TRANSIENT);
      e.parent_id.format(id);
      sqlite3_bind_text(s, 3, id, 36, SQLITE_TRANSIENT);
      e.trace_id.format(id);
      sqlite3_bind_text(s, 4, id, 36, SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 5, project_.data(), static_cast<int>(project_.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 6, host_.data(), static_cast<int>(host_.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 7, service_.data(), static_cast<int>(service_.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 8, e.name.data(), static_cast<int>(e.name.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 9, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(s) != SQLITE_DONE) return error_result("insert failed");
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return error_result("COMMIT failed");
    return write_result::success();
  }

  // Declared before the statement: statements are finalized first, as sqlite3_close()
  // refuses to close a connection that still has some.
  database db_;
  std::string project_;
  std::string service_;
  std::string host_;
  statement insert_;
};

class sqlite_reader final : public reader {
 public:
  explicit sqlite_reader(sqlite_options opts) : db_(std::move(opts), database::mode::read) {}

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override {
    const std::string id(base_id);
    auto op = [this, &id]() -> asio::awaitable<std::vector<std::string>> { co_return read_blocking(id); };
    co_return co_await db_.run<std::vector<std::string>>(op);
  }

  asio::awaitable<std::vector<trace_summary>> list_traces() override {
    auto op = [this]() -> asio::awaitable<std::vector<trace_summary>> {
      co_return list_blocking("SELECT base_id, MIN(timestamp) AS started FROM data GROUP BY base_id ORDER BY started DESC");
    };
    co_return co_await db_.run<std::vector<trace_summary>>(op);
  }

  asio::awaitable<std::vector<trace_summary>> list_error_traces() override {
    auto op = [this]() -> asio::awaitable<std::vector<trace_summary>> {
      // `data` holds a JSON string (OSProfiler double-encodes it): unwrap, then look for
      // info.etype. json_valid() guards keep one corrupt row from failing the query.
      co_return list_blocking(R"sql(
        SELECT base_id, MIN(timestamp) AS started FROM data WHERE base_id IN (
          SELECT base_id FROM data
          WHERE name LIKE '%-stop' AND json_valid(data)
            AND json_valid(json_extract(data, '$'))
            AND json_extract(json_extract(data, '$'), '$.info.etype') IS NOT NULL)
        GROUP BY base_id ORDER BY started DESC)sql");
    };
    co_return co_await db_.run<std::vector<trace_summary>>(op);
  }

  asio::awaitable<trace_page> list_page(const list_query& query) override {
    const list_query* q = &query;
    auto op = [this, q]() -> asio::awaitable<trace_page> { co_return page_blocking(*q); };
    co_return co_await db_.run<trace_page>(op);
  }

 private:
  // One page. Without an id prefix: walk the timestamp index from the newest event (or the
  // cursor) down, look up the start of each trace met, and stop once the page is certain: every
  // event newer than the walk's position has been seen, so every trace that started after it
  // is known. A page costs the events of about its own traces, not the table. With an id
  // prefix: one grouped query over the base_id index's range.
  trace_page page_blocking(const list_query& query) {
    if (!query.id_prefix.empty()) return page_by_prefix(query);
    if (auto sparse = sparse_filter(query)) return page_grouped(query, sparse->first, sparse->second);
    std::string sql = "SELECT base_id, timestamp FROM data WHERE 1";
    std::vector<std::string> args;
    if (!query.until.empty()) {
      args.push_back(query.until);
      sql += " AND timestamp < ?" + std::to_string(args.size());
    }
    if (query.after) {
      args.push_back(query.after->timestamp);
      sql += " AND timestamp <= ?" + std::to_string(args.size());
    }
    sql += " ORDER BY timestamp DESC";
    statement walk, start;
    if (sqlite3_prepare_v2(db_.handle(), sql.c_str(), -1, &walk.stmt, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_.handle(), "SELECT MIN(timestamp) FROM data WHERE base_id = ?1", -1, &start.stmt,
                           nullptr) != SQLITE_OK) {
      db_.fail("cannot list traces");
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
      sqlite3_bind_text(walk.stmt, static_cast<int>(i + 1), args[i].data(), static_cast<int>(args[i].size()), SQLITE_TRANSIENT);
    }
    const auto newer = [](const trace_summary& a, const trace_summary& b) {
      return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.base_id > b.base_id;
    };
    const std::size_t wanted = query.limit == 0 ? SIZE_MAX : query.limit + 1;
    std::unordered_set<std::string> seen;
    std::vector<trace_summary> found;                 // traces that pass every filter
    std::priority_queue<std::string> pending;         // their starts not yet above the walk
    std::size_t certain = 0;                          // found traces that started after the walk's position
    int rc;
    while ((rc = sqlite3_step(walk.stmt)) == SQLITE_ROW) {
      const std::string position = column_text(walk.stmt, 1);
      while (!pending.empty() && pending.top() > position) {
        pending.pop();
        ++certain;
      }
      if (certain >= wanted) break;
      if (!query.since.empty() && position < query.since) break;  // every trace that started since is known
      std::string id = column_text(walk.stmt, 0);
      if (!seen.insert(id).second) continue;
      sqlite3_reset(start.stmt);
      sqlite3_bind_text(start.stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(start.stmt) != SQLITE_ROW) db_.fail("listing traces failed");
      trace_summary row{std::move(id), column_text(start.stmt, 0)};
      if (!in_page_range(query, row) || !passes_filters(query, row.base_id)) continue;
      pending.push(row.timestamp);
      found.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) db_.fail("listing traces failed");
    trace_page page;
    std::sort(found.begin(), found.end(), newer);
    if (query.limit != 0 && found.size() > query.limit) {
      found.resize(query.limit);
      page.more = true;
    }
    page.traces = std::move(found);
    for (auto& row : page.traces) add_details(row);
    return page;
  }

  // The error and field filters, for one trace.
  bool passes_filters(const list_query& query, const std::string& base_id) {
    const auto exists = [&](const char* where, std::initializer_list<std::string_view> values) {
      statement q;
      const std::string sql = std::string("SELECT 1 FROM data WHERE base_id = ?1 AND ") + where + " LIMIT 1";
      if (sqlite3_prepare_v2(db_.handle(), sql.c_str(), -1, &q.stmt, nullptr) != SQLITE_OK) db_.fail("cannot list traces");
      sqlite3_bind_text(q.stmt, 1, base_id.data(), static_cast<int>(base_id.size()), SQLITE_TRANSIENT);
      int i = 2;
      for (std::string_view v : values) sqlite3_bind_text(q.stmt, i++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      const int rc = sqlite3_step(q.stmt);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) db_.fail("listing traces failed");
      return rc == SQLITE_ROW;
    };
    if (!query.project.empty() && !exists("+project = ?2", {query.project})) return false;
    if (!query.service.empty() && !exists("+service = ?2", {query.service})) return false;
    if (!query.host.empty() && !exists("+host = ?2", {query.host})) return false;
    if (!query.name.empty() && !exists("+name IN (?2, ?3)", {query.name + "-start", query.name + "-stop"})) return false;
    if (query.errors_only && !exists(error_condition, {})) return false;
    return true;
  }

  static constexpr const char* error_condition =
      "name LIKE '%-stop' AND json_valid(data) AND json_valid(json_extract(data, '$'))"
      " AND json_extract(json_extract(data, '$'), '$.info.etype') IS NOT NULL";

  // A field filter that few events match (a walk would pass many traces for each one kept):
  // its condition and values, found by counting at most `sparse_rows` entries of its index.
  static constexpr int sparse_rows = 50000;
  std::optional<std::pair<std::string, std::vector<std::string>>> sparse_filter(const list_query& query) {
    std::vector<std::pair<std::string, std::vector<std::string>>> filters;
    if (!query.project.empty()) filters.push_back({"project = ?1", {query.project}});
    if (!query.service.empty()) filters.push_back({"service = ?1", {query.service}});
    if (!query.host.empty()) filters.push_back({"host = ?1", {query.host}});
    if (!query.name.empty()) filters.push_back({"name IN (?1, ?2)", {query.name + "-start", query.name + "-stop"}});
    for (auto& f : filters) {
      statement q;
      const std::string sql = "SELECT COUNT(*) FROM (SELECT 1 FROM data WHERE " + f.first + " LIMIT " +
                              std::to_string(sparse_rows) + ")";
      if (sqlite3_prepare_v2(db_.handle(), sql.c_str(), -1, &q.stmt, nullptr) != SQLITE_OK) db_.fail("cannot list traces");
      for (std::size_t i = 0; i < f.second.size(); ++i) {
        sqlite3_bind_text(q.stmt, static_cast<int>(i + 1), f.second[i].data(), static_cast<int>(f.second[i].size()), SQLITE_TRANSIENT);
      }
      if (sqlite3_step(q.stmt) != SQLITE_ROW) db_.fail("listing traces failed");
      if (sqlite3_column_int(q.stmt, 0) < sparse_rows) return std::move(f);
    }
    return std::nullopt;
  }

  // One grouped query over the traces whose id starts with the prefix (a range of the index).
  trace_page page_by_prefix(const list_query& query) {
    std::string end = query.id_prefix;
    end.back() = static_cast<char>(end.back() + 1);
    return page_grouped(query, "base_id >= ?1 AND base_id < ?2", {query.id_prefix, end});
  }

  // One grouped query over the traces with an event that meets `condition` (?1, ?2: values),
  // then the other filters per trace, and the page cut in memory.
  trace_page page_grouped(const list_query& query, const std::string& condition, const std::vector<std::string>& values) {
    statement q;
    const std::string sql = "SELECT base_id, MIN(timestamp) FROM data WHERE base_id IN (SELECT base_id FROM data WHERE " +
                            condition + ") GROUP BY base_id";
    if (sqlite3_prepare_v2(db_.handle(), sql.c_str(), -1, &q.stmt, nullptr) != SQLITE_OK) {
      db_.fail("cannot list traces");
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      sqlite3_bind_text(q.stmt, static_cast<int>(i + 1), values[i].data(), static_cast<int>(values[i].size()), SQLITE_TRANSIENT);
    }
    std::vector<trace_summary> rows;
    int rc;
    while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
      trace_summary row{column_text(q.stmt, 0), column_text(q.stmt, 1)};
      if (in_page_range(query, row) && passes_filters(query, row.base_id)) rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) db_.fail("listing traces failed");
    trace_page page = page_of(std::move(rows), query);
    for (auto& row : page.traces) add_details(row);
    return page;
  }

  static std::string column_text(sqlite3_stmt* stmt, int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
    return p != nullptr ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, col))) : std::string();
  }

  // The first event's point and service, the latest event, the count and the error flag.
  void add_details(trace_summary& row) {
    statement first, span, failed;
    if (sqlite3_prepare_v2(db_.handle(),
                           "SELECT name, service FROM data WHERE base_id = ?1 ORDER BY timestamp, id LIMIT 1", -1,
                           &first.stmt, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_.handle(), "SELECT MAX(timestamp), COUNT(*) FROM data WHERE base_id = ?1", -1,
                           &span.stmt, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_.handle(),
                           (std::string("SELECT 1 FROM data WHERE base_id = ?1 AND ") + error_condition + " LIMIT 1").c_str(),
                           -1, &failed.stmt, nullptr) != SQLITE_OK) {
      db_.fail("cannot list traces");
    }
    for (sqlite3_stmt* s : {first.stmt, span.stmt, failed.stmt}) {
      sqlite3_bind_text(s, 1, row.base_id.data(), static_cast<int>(row.base_id.size()), SQLITE_TRANSIENT);
    }
    if (sqlite3_step(first.stmt) == SQLITE_ROW) {
      row.name = column_text(first.stmt, 0);
      for (std::string_view suffix : {"-start", "-stop"}) {
        if (row.name.ends_with(suffix)) row.name.resize(row.name.size() - suffix.size());
      }
      row.service = column_text(first.stmt, 1);
    }
    if (sqlite3_step(span.stmt) == SQLITE_ROW) {
      row.finished = column_text(span.stmt, 0);
      row.events = static_cast<std::size_t>(sqlite3_column_int64(span.stmt, 1));
    }
    const int rc = sqlite3_step(failed.stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) db_.fail("listing traces failed");
    row.has_error = rc == SQLITE_ROW;
  }

  std::vector<std::string> read_blocking(const std::string& base_id) {
    statement q;
    if (sqlite3_prepare_v2(db_.handle(),
                           "SELECT name, base_id, trace_id, parent_id, timestamp, project, service,"
                           " CASE WHEN json_valid(data) THEN json_extract(data, '$') END, data"
                           " FROM data WHERE base_id = ?1 ORDER BY id",
                           -1, &q.stmt, nullptr) != SQLITE_OK) {
      db_.fail("cannot read traces");
    }
    sqlite3_bind_text(q.stmt, 1, base_id.data(), static_cast<int>(base_id.size()), SQLITE_TRANSIENT);
    std::vector<std::string> out;
    const auto text = [&](int col) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(q.stmt, col));
      return std::string_view(p != nullptr ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(q.stmt, col)));
    };
    int rc;
    while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
      // Rebuild the whole notification: the columns, then the members of `data`.
      std::string event = "{\"name\": ";
      append_json_string(event, text(0));
      event += ", \"base_id\": ";
      append_json_string(event, text(1));
      event += ", \"trace_id\": ";
      append_json_string(event, text(2));
      event += ", \"parent_id\": ";
      append_json_string(event, text(3));
      event += ", \"timestamp\": ";
      append_json_string(event, text(4));
      std::string_view inner = text(7);
      while (!inner.empty() && (inner.front() == ' ' || inner.front() == '\n')) inner.remove_prefix(1);
      while (!inner.empty() && (inner.back() == ' ' || inner.back() == '\n')) inner.remove_suffix(1);
      if (sqlite3_column_type(q.stmt, 7) == SQLITE_NULL || inner.size() < 2 || inner.front() != '{' ||
          inner.back() != '}') {
        // Not the JSON object OSProfiler stores: hand the raw text on so the report names
        // this event as corrupt instead of silently losing it.
        event += ", \"data\": ";
        event += text(8);
      } else if (inner.size() > 2) {
        event += ", ";
        event.append(inner.substr(1, inner.size() - 2));
      }
      event += ", \"project\": ";
      append_json_string(event, text(5));
      event += ", \"service\": ";
      append_json_string(event, text(6));
      event += '}';
      out.push_back(std::move(event));
    }
    if (rc != SQLITE_DONE) db_.fail("reading the trace failed");
    return out;
  }

  std::vector<trace_summary> list_blocking(const char* sql) {
    statement q;
    if (sqlite3_prepare_v2(db_.handle(), sql, -1, &q.stmt, nullptr) != SQLITE_OK) db_.fail("cannot list traces");
    std::vector<trace_summary> out;
    int rc;
    while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
      const auto* base = reinterpret_cast<const char*>(sqlite3_column_text(q.stmt, 0));
      const auto* ts = reinterpret_cast<const char*>(sqlite3_column_text(q.stmt, 1));
      out.push_back({base != nullptr ? base : "", ts != nullptr ? ts : ""});
    }
    if (rc != SQLITE_DONE) db_.fail("listing traces failed");
    return out;
  }

  database db_;
};

sqlite_options parse_options(const connection_string& cs) {
  cs.check_params({"busy_timeout_ms", "synchronous"});
  if (!cs.host.empty()) {
    throw error("invalid connection string '" + cs.redacted +
                "': sqlite:// takes a file path, not a host; write sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db");
  }
  sqlite_options o;
  // SQLAlchemy's convention: the path follows the third slash.
  o.path = std::string(cs.database());
  if (o.path.empty()) {
    throw error("invalid connection string '" + cs.redacted +
                "': no database file; write sqlite:///relative/path.db, sqlite:////absolute/path.db or "
                "sqlite:///:memory:");
  }
  if (auto v = cs.param_uint("busy_timeout_ms")) o.busy_timeout_ms = static_cast<int>(std::min<std::uint64_t>(*v, 600000));
  if (auto v = cs.param("synchronous")) {
    std::string s(*v);
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (s != "OFF" && s != "NORMAL" && s != "FULL" && s != "EXTRA") {
      throw error("invalid connection string '" + cs.redacted + "': option 'synchronous' must be off, normal, full or extra");
    }
    o.synchronous = s;
  }
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
        return std::make_unique<sqlite_reader>(parse_options(cs));
      },
  });
}

}  // namespace osprof::drivers
