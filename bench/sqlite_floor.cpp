// SQLite's own floor on this machine: how many rows per second SQLite itself takes into
// OSProfiler's `data` table, with no osprof code in the loop. The rows are built up front
// (the size and shape of osprof's: a trace's events share a base_id, each point has new
// random trace and parent ids, `data` holds the info as the driver stores it), then inserted
// the way the sqlite:// driver does: WAL, a 64 MiB page cache, 32-row INSERT statements prepared once, one
// transaction per batch, a checkpoint on a thread of its own at each 64 MiB of WAL (the
// driver's wal_checkpointer). Variants (--variant KEY runs one; all by default):
//   - the layout: OSProfiler's (eight indexes: `all`, `all-off`), without the two indexes over
//     random ids (trace_id, parent_id: `no-random`), base_id and timestamp only (the driver's
//     ?indexes=reading: `reading`), without any index (`none`);
//   - the durability: synchronous=NORMAL (the driver's default) and OFF (`all-off`).
// Ten points per trace by default (a request's trace); `osprof bench` writes a hundred per
// trace, so --points-per-trace 100 gives SQLite the rows `osprof bench` sends it.
// Run it next to `osprof bench --connection-string sqlite://...` (bench/run-suite.sh does, in
// turns) to tell what the driver costs from what SQLite and the schema cost.
//
//   osprof_sqlite_floor [--rows N] [--batch B] [--points-per-trace P] [--variant KEY] [--dir DIR]
//                       [--json FILE]
#include <sqlite3.h>
#include <unistd.h>

#include "drivers/sqlite/wal_checkpointer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

struct row {
  std::string timestamp, base_id, parent_id, trace_id, project, host, service, name, data;
};

std::string uuid4(std::mt19937_64& rng) {
  static const char hex[] = "0123456789abcdef";
  std::string s(36, '-');
  for (int i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    s[static_cast<std::size_t>(i)] = hex[rng() & 15];
  }
  s[14] = '4';
  return s;
}

// Ten points per trace, a start and a stop each: the shape of a request's trace.
std::vector<row> make_rows(std::size_t n, std::size_t points_per_trace) {
  std::mt19937_64 rng(42);
  std::vector<row> rows;
  rows.reserve(n);
  std::string base, trace, parent;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % (2 * points_per_trace) == 0) base = parent = uuid4(rng);
    const bool start = i % 2 == 0;
    if (start) trace = uuid4(rng);
    char ts[32];
    std::snprintf(ts, sizeof ts, "2026-12-06T10:%02zu:%02zu.%06zu", (i / 60000000) % 60, (i / 1000000) % 60, i % 1000000);
    row r{ts, base, start ? parent : parent, trace, "nova", "host-1", "api", start ? "db-start" : "db-stop", {}};
    // As the driver (and Python OSProfiler's SQL driver) stores it: the other fields are columns,
    // `data` is {"info": ...} encoded as JSON twice; a stop has only the host in its info.
    r.data = start ? "\"{\\\"info\\\": {\\\"db\\\": {\\\"statement\\\": \\\"SELECT * FROM instances WHERE id = ?\\\", "
                     "\\\"params\\\": " + std::to_string(i) + "}, \\\"host\\\": \\\"host-1\\\"}}\""
                   : std::string("\"{\\\"info\\\": {\\\"host\\\": \\\"host-1\\\"}}\"");
    rows.push_back(std::move(r));
  }
  return rows;
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite_floor: %s: %s\n", sql.c_str(), err ? err : "?");
    std::exit(1);
  }
}

constexpr int rows_per_insert = 32;

sqlite3_stmt* prepare_insert(sqlite3* db, int rows) {
  std::string sql = "INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data) VALUES ";
  for (int r = 0; r < rows; ++r) sql += r == 0 ? "(?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?)";
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite_floor: prepare: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  return s;
}

void bind_row(sqlite3_stmt* s, int first, const row& r) {
  const std::string* cols[] = {&r.timestamp, &r.base_id, &r.parent_id, &r.trace_id, &r.project,
                               &r.host,      &r.service, &r.name,      &r.data};
  for (int c = 0; c < 9; ++c) {
    sqlite3_bind_text(s, first + c, cols[c]->data(), static_cast<int>(cols[c]->size()), SQLITE_STATIC);
  }
}

void step(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) {
    std::fprintf(stderr, "sqlite_floor: insert: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  sqlite3_reset(s);
}

struct variant {
  const char* key;
  const char* name;
  std::vector<const char*> indexed;
  const char* synchronous;
};

double run(const variant& v, const std::vector<row>& rows, std::size_t batch, const std::string& path) {
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite_floor: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, std::string("PRAGMA synchronous=") + v.synchronous);
  exec(db, "PRAGMA cache_size=-65536");
  exec(db, "PRAGMA temp_store=MEMORY");
  exec(db,
       "CREATE TABLE data (id INTEGER NOT NULL, timestamp VARCHAR(26), base_id VARCHAR(255), parent_id VARCHAR(255), "
       "trace_id VARCHAR(255), project VARCHAR(255), host VARCHAR(255), service VARCHAR(255), name VARCHAR(255), "
       "data JSON, PRIMARY KEY (id))");
  for (const char* column : v.indexed) {
    exec(db, std::string("CREATE INDEX ix_data_") + column + " ON data (" + column + ")");
  }
  auto checkpointer = std::make_unique<osprof::detail::sqlite::wal_checkpointer>(db, path, v.synchronous, 64u << 20);
  sqlite3_stmt* many = prepare_insert(db, rows_per_insert);
  sqlite3_stmt* one = prepare_insert(db, 1);
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t b = 0; b < rows.size(); b += batch) {
    const std::size_t end = std::min(rows.size(), b + batch);
    exec(db, "BEGIN");
    std::size_t i = b;
    for (; i + rows_per_insert <= end; i += rows_per_insert) {
      for (int r = 0; r < rows_per_insert; ++r) bind_row(many, r * 9 + 1, rows[i + static_cast<std::size_t>(r)]);
      step(db, many);
    }
    for (; i < end; ++i) {
      bind_row(one, 1, rows[i]);
      step(db, one);
    }
    exec(db, "COMMIT");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  checkpointer.reset();
  sqlite3_finalize(many);
  sqlite3_finalize(one);
  sqlite3_close(db);
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  return static_cast<double>(rows.size()) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 400000;
  std::size_t batch = 512;
  std::size_t points_per_trace = 10;
  std::string dir = "/tmp";
  std::string json_path;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rows") n = std::stoul(argv[i + 1]);
    else if (a == "--batch") batch = std::stoul(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--points-per-trace") points_per_trace = std::max<std::size_t>(1, std::stoul(argv[i + 1]));
    else if (a == "--json") json_path = argv[i + 1];
    else if (a == "--variant") only = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: osprof_sqlite_floor [--rows N] [--batch B] [--points-per-trace P] [--variant KEY] "
                   "[--dir DIR] [--json FILE]\n");
      return 2;
    }
  }
  const std::vector<const char*> all = {"timestamp", "base_id", "parent_id", "trace_id", "project", "host", "service", "name"};
  const std::vector<const char*> no_random = {"timestamp", "base_id", "project", "host", "service", "name"};
  const variant variants[] = {
      {"all", "OSProfiler's layout (8 indexes), synchronous=NORMAL", all, "NORMAL"},
      {"all-off", "OSProfiler's layout (8 indexes), synchronous=OFF", all, "OFF"},
      {"no-random", "without the trace_id and parent_id indexes, synchronous=NORMAL", no_random, "NORMAL"},
      {"reading", "base_id and timestamp indexes only (?indexes=reading), synchronous=NORMAL", {"timestamp", "base_id"},
       "NORMAL"},
      {"none", "no index, synchronous=NORMAL", {}, "NORMAL"},
  };
  if (!only.empty() && std::none_of(std::begin(variants), std::end(variants),
                                    [&](const variant& v) { return only == v.key; })) {
    std::fprintf(stderr, "osprof_sqlite_floor: no variant '%s' (all, all-off, no-random, reading, none)\n", only.c_str());
    return 2;
  }
  const std::vector<row> rows = make_rows(n, points_per_trace);
  const std::string path = dir + "/osprof-sqlite-floor-" + std::to_string(::getpid()) + ".db";
  std::string json = "{\"rows\": " + std::to_string(n) + ", \"batch\": " + std::to_string(batch) +
                     ", \"points_per_trace\": " + std::to_string(points_per_trace) + ", \"sqlite\": \"" +
                     sqlite3_libversion() + "\", \"variants\": [";
  std::printf("SQLite %s alone, %zu rows, %zu per transaction, 32-row inserts, %zu points per trace:\n",
              sqlite3_libversion(), n, batch, points_per_trace);
  bool first = true;
  for (const variant& v : variants) {
    if (!only.empty() && only != v.key) continue;
    const double rate = run(v, rows, batch, path);
    std::printf("  %-66s %9.0f rows/s\n", v.name, rate);
    std::fflush(stdout);
    json += std::string(first ? "" : ", ") + "{\"key\": \"" + v.key + "\", \"name\": \"" + v.name + "\", \"rows_per_s\": " + std::to_string(rate) + "}";
    first = false;
  }
  json += "]}\n";
  if (!json_path.empty()) std::ofstream(json_path) << json;
  return 0;
}
