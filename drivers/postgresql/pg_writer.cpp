#include "drivers/postgresql/pg_writer.hpp"

#include "drivers/sql/sql_writer.hpp"

#include <chrono>
#include <cstring>

#include <boost/system/system_error.hpp>


#include "common/text.hpp"

namespace osprof::detail::postgresql {

namespace {

// Every row of a batch in one statement: unnest() over one array per varying column, the
// writer's constant columns once.
constexpr const char* insert_sql =
    "INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data)"
    " SELECT u.ts, u.base_id, u.parent_id, u.trace_id, $5::varchar, $6::varchar, $7::varchar, u.name, u.data"
    " FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $8::varchar[], $9::json[])"
    " AS u(ts, base_id, parent_id, trace_id, name, data)";
constexpr const char* insert_name = "osprof_insert";

// A column's character limit from its type modifier: varchar(n) and char(n) keep n + 4.
constexpr const char* limits_sql =
    "SELECT attname, CASE WHEN atttypid IN (1042, 1043) AND atttypmod > 4 THEN atttypmod - 4 ELSE 0 END"
    " FROM pg_attribute WHERE attrelid = to_regclass('data') AND attnum > 0 AND NOT attisdropped";

constexpr std::int64_t writer_max_age_s = 7 * 24 * 3600;  // rows of writers gone this long are pruned

// Element types of the binary arrays (pg_type.oid): varchar and json.
constexpr std::uint32_t varchar_oid = 1043;
constexpr std::uint32_t json_oid = 114;
constexpr std::size_t array_header = 20;

void put32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                         static_cast<char>(v)};
  out.append(bytes, 4);
}

void patch32(std::string& out, std::size_t at, std::uint32_t v) {
  out[at] = static_cast<char>(v >> 24);
  out[at + 1] = static_cast<char>(v >> 16);
  out[at + 2] = static_cast<char>(v >> 8);
  out[at + 3] = static_cast<char>(v);
}

// PostgreSQL's binary array format (array_send): one dimension, no NULLs; the element count
// is written when known (finish_array).
void start_array(std::string& out, std::uint32_t element_oid) {
  out.clear();
  put32(out, 1);  // dimensions
  put32(out, 0);  // has NULLs
  put32(out, element_oid);
  put32(out, 0);  // elements, patched
  put32(out, 1);  // lower bound
}

void add_element(std::string& out, std::string_view value) {
  put32(out, static_cast<std::uint32_t>(value.size()));
  out.append(value);
}

void finish_array(std::string& out, std::uint32_t elements) { patch32(out, 12, elements); }

// SQLSTATEs a later attempt may get past: connection trouble, conflicts and locks, a server
// short of resources or shutting down, a table that went missing (created again).
bool retryable(const std::string& sqlstate) {
  for (const char* cls : {"08", "40", "53", "55", "57", "58"}) {
    if (sqlstate.starts_with(cls)) return true;
  }
  return sqlstate == "42P01" || sqlstate == "XX000";
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string describe(const outcome& o) { return o.message + (o.sqlstate.empty() ? "" : " (SQLSTATE " + o.sqlstate + ")"); }

}  // namespace

pg_writer::pg_writer(pg_options options, const driver_context& context)
    : conn_(context.executor, std::move(options)),
      columns_{sql::column_text(context.project), sql::column_text(context.host), sql::column_text(context.service)} {}

asio::awaitable<write_result> pg_writer::write(const batch& b) {
  if (b.empty()) co_return write_result::success();
  co_return co_await sql::settle_attempt<pg_failure>(conn_, numbers_, write_batch(b));
}

asio::awaitable<void> pg_writer::set_up_connection() {
  const auto require = [this](const outcome& o, const std::string& what) {
    if (o.ok) return;
    throw pg_failure(retryable(o.sqlstate) ? failure_kind::connection : failure_kind::refused,
                     conn_.where() + ": " + what + ": " + describe(o), o.sqlstate);
  };
  std::vector<statement> setup;
  // The server notices a client that went away while its statement waits (on a lock).
  if (conn_.server_version() >= 140000) setup.push_back({"SET client_connection_check_interval = 1000"});
  setup.push_back({"SELECT to_regclass('data') IS NOT NULL, to_regclass('osprof_writers') IS NOT NULL", {}, false, true});
  auto found = co_await conn_.run(setup);
  for (const auto& o : found) require(o, "cannot look for the tables");
  const sql::result_rows& tables = found.back().rows;
  const bool has_data = tables.size() == 1 && tables.text(0, 0) == "t";
  const bool has_writers = tables.size() == 1 && tables.text(0, 1) == "t";
  const bool dedup = conn_.options().dedup;

  if (!has_data || (dedup && !has_writers)) {
    // As Python's create_all(): only what is missing. One creator at a time (the advisory
    // lock): PostgreSQL's CREATE ... IF NOT EXISTS is not safe against a concurrent one.
    std::vector<statement> ddl;
    ddl.push_back({"BEGIN"});
    ddl.push_back({"SELECT pg_advisory_xact_lock(7310014163391308647)"});  // "osprofsq"
    if (!has_data) {
      for (auto& s : sql::data_table_ddl(sql::dialect::postgresql, conn_.options().indexes)) ddl.push_back({std::move(s)});
    }
    if (dedup && !has_writers) ddl.push_back({sql::writers_table_ddl(sql::dialect::postgresql)});
    ddl.push_back({"COMMIT"});
    auto created = co_await conn_.run(ddl);
    for (const auto& o : created) {
      if (o.ok || o.skipped) continue;
      co_await rollback();
      require(o, std::string("cannot create ") + (has_data ? "the table osprof_writers" : "the table data") +
                     (dedup ? " (the option dedup=false does without osprof_writers)" : ""));
    }
  }
  if (dedup && !pruned_) {
    statement prune{sql::prune_writers_sql(sql::dialect::postgresql, unix_now(), writer_max_age_s)};
    auto pruned = co_await conn_.run(std::span(&prune, 1));
    require(pruned.front(), "cannot prune osprof_writers");
    pruned_ = true;
  }
  std::vector<statement> prepare;
  prepare.push_back({limits_sql, {}, false, true});
  prepare.push_back({insert_sql, {}, false, false, insert_name});
  auto prepared = co_await conn_.run(prepare);
  require(prepared[0], "cannot read the columns of table data");
  require(prepared[1], "cannot prepare the INSERT into table data");
  limits_ = sql::column_limits{0, 0, 0, 0, 0, 0, 0};
  const sql::result_rows& limits = prepared[0].rows;
  for (std::size_t i = 0; i < limits.size(); ++i) {
    limits_.set(limits.text(i, 0), std::strtoull(std::string(limits.text(i, 1)).c_str(), nullptr, 10));
  }
}

asio::awaitable<void> pg_writer::rollback() {
  try {
    statement s{"ROLLBACK"};
    co_await conn_.run(std::span(&s, 1));
  } catch (const pg_failure&) {
    // The connection is gone, and the transaction with it.
  }
}

write_result pg_writer::failure(const outcome& o, const std::string& what) {
  std::string text = conn_.where() + ": " + what + ": " + describe(o);
  if (o.sqlstate == "42P01") set_up_ = false;  // a table was dropped: created again next time
  if (retryable(o.sqlstate)) return write_result::retryable(std::move(text));
  numbers_.settled();
  return write_result::fatal(std::move(text));
}

asio::awaitable<write_result> pg_writer::write_batch(const batch& b) {
  // The emitter's retry of the same batch keeps its number: the claim then tells whether an
  // attempt whose answer was lost committed.
  const std::uint64_t number = numbers_.claim(b.id);
  co_await conn_.ensure_connected();
  if (conn_.take_fresh()) set_up_ = false;
  if (!set_up_) {
    co_await set_up_connection();
    set_up_ = true;
  }

  // The rows, less those the table cannot take (counted as rejected, with the first reason).
  start_array(arrays_[0], varchar_oid);
  for (int i = 1; i < 5; ++i) start_array(arrays_[i], varchar_oid);
  start_array(arrays_[5], json_oid);
  std::uint32_t accepted = 0;
  std::size_t rejected = 0;
  std::string rejection;
  for (const event_record& e : b.events) {
    sql::make_row(e, row_);
    if (std::string why = sql::check_row(row_, columns_, limits_); !why.empty()) {
      if (rejection.empty()) rejection = conn_.where() + ": " + why;
      ++rejected;
      continue;
    }
    add_element(arrays_[0], e.timestamp_text());
    add_element(arrays_[1], row_.base_id_text());
    add_element(arrays_[2], row_.parent_id_text());
    add_element(arrays_[3], row_.trace_id_text());
    add_element(arrays_[4], row_.name);
    add_element(arrays_[5], row_.data);
    ++accepted;
  }
  write_result done;
  done.rejected = rejected;
  done.error = rejection;
  if (accepted == 0) {
    numbers_.settled();
    co_return done;
  }
  for (auto& a : arrays_) finish_array(a, accepted);

  const param params[9] = {{arrays_[0], true},     {arrays_[1], true},      {arrays_[2], true},
                           {arrays_[3], true},     {columns_.project},      {columns_.host},
                           {columns_.service},     {arrays_[4], true},      {arrays_[5], true}};
  const bool dedup = conn_.options().dedup;
  std::vector<statement> statements;
  statements.push_back({"BEGIN"});
  if (dedup) {
    statements.push_back({sql::claim_batch_sql(sql::dialect::postgresql, numbers_.writer_id(), number, unix_now())});
  }
  statements.push_back({insert_name, params, true});
  statements.push_back({"COMMIT"});
  const auto out = co_await conn_.run(statements);

  for (std::size_t i = 0; i < out.size(); ++i) {
    const outcome& o = out[i];
    if (o.ok) continue;
    co_await rollback();
    if (dedup && i == 1 && o.sqlstate == "23514" && o.constraint == sql::stored_constraint) {
      numbers_.settled();  // an earlier attempt of this batch committed
      co_return done;
    }
    const char* what = i == 0 ? "BEGIN failed" : (dedup && i == 1) ? "cannot claim the batch in table osprof_writers"
                                                : i + 1 == out.size() ? "COMMIT failed"
                                                                      : "the INSERT into table data failed";
    co_return failure(o, what);
  }
  numbers_.settled();
  co_return done;
}

asio::awaitable<close_result> pg_writer::close() {
  conn_.close();
  co_return close_result{};
}

}  // namespace osprof::detail::postgresql
