#include "drivers/mysql/my_writer.hpp"

#include "drivers/sql/sql_writer.hpp"

#include <chrono>

#include <boost/system/system_error.hpp>


#include "common/text.hpp"

namespace osprof::detail::mysql {

namespace {

constexpr std::string_view insert_head =
    "INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data) VALUES ";
constexpr std::int64_t writer_max_age_s = 7 * 24 * 3600;  // rows of writers gone this long are pruned
constexpr std::size_t packet_margin = 8192;  // BEGIN, the claim, the INSERT's head, COMMIT

// Server errors a later attempt may get past: locks and deadlocks, a table that went missing
// (created again), a server short of room or connections, or shutting down.
bool retryable(unsigned code) {
  switch (code) {
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1213:  // ER_LOCK_DEADLOCK
    case 1146:  // ER_NO_SUCH_TABLE
    case 1040:  // ER_CON_COUNT_ERROR
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1317:  // ER_QUERY_INTERRUPTED
    case 1927:  // ER_CONNECTION_KILLED
    case 1969:  // ER_STATEMENT_TIMEOUT
    case 1021:  // ER_DISK_FULL
    case 1114:  // ER_RECORD_FILE_FULL
    case 1030:  // ER_GET_ERRNO (the storage engine)
    case 1180:  // ER_ERROR_DURING_COMMIT
      return true;
    default:
      return false;
  }
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string describe(const outcome& o) { return o.message + " (error " + std::to_string(o.code) + ")"; }

}  // namespace

my_writer::my_writer(my_options options, const driver_context& context)
    : conn_(context.executor, std::move(options), context.timeout),
      columns_{sql::column_text(context.project), sql::column_text(context.host), sql::column_text(context.service)} {}

asio::awaitable<write_result> my_writer::write(const batch& b) {
  if (b.empty()) co_return write_result::success();
  co_return co_await sql::settle_attempt<my_failure>(conn_, numbers_, write_batch(b));
}

asio::awaitable<void> my_writer::set_up_connection() {
  const auto require = [this](const outcome& o, const std::string& what) {
    if (o.ok) return;
    throw my_failure(retryable(o.code) ? failure_kind::connection : failure_kind::refused,
                     conn_.where() + ": " + what + ": " + describe(o), o.code);
  };
  const auto found = co_await conn_.run(
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'data';"
      " SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'osprof_writers'",
      2);
  for (const auto& o : found) require(o, "cannot look for the tables");
  const bool has_data = found[0].rows.text(0, 0) != "0";
  const bool has_writers = found[1].rows.text(0, 0) != "0";
  const bool dedup = conn_.options().dedup;
  // As Python's create_all(): only what is missing. IF NOT EXISTS keeps a concurrent creator
  // harmless (MariaDB's DDL takes a metadata lock).
  std::vector<std::string> ddl;
  if (!has_data) ddl = sql::data_table_ddl(sql::dialect::mysql, conn_.options().indexes);
  if (dedup && !has_writers) ddl.push_back(sql::writers_table_ddl(sql::dialect::mysql));
  if (!ddl.empty()) {
    std::string text;
    for (const auto& s : ddl) text += (text.empty() ? "" : "; ") + s;
    const auto created = co_await conn_.run(text, ddl.size());
    for (const auto& o : created) {
      require(o, std::string("cannot create ") + (has_data ? "the table osprof_writers" : "the table data") +
                     (dedup ? " (the option dedup=false does without osprof_writers)" : ""));
    }
  }
  if (dedup && !pruned_) {
    const auto pruned = co_await conn_.run(sql::prune_writers_sql(sql::dialect::mysql, unix_now(), writer_max_age_s), 1);
    require(pruned.front(), "cannot prune osprof_writers");
    pruned_ = true;
  }
  const auto limits = co_await conn_.run(
      "SELECT column_name, IFNULL(character_maximum_length, 0) FROM information_schema.columns"
      " WHERE table_schema = DATABASE() AND table_name = 'data'",
      1);
  require(limits.front(), "cannot read the columns of table data");
  limits_ = sql::column_limits{0, 0, 0, 0, 0, 0, 0};
  const sql::result_rows& rows = limits.front().rows;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    limits_.set(rows.text(i, 0), std::strtoull(std::string(rows.text(i, 1)).c_str(), nullptr, 10));
  }
  limits_.row_bytes = conn_.max_packet() > 2 * packet_margin ? conn_.max_packet() - packet_margin : packet_margin;
  // The constant columns, escaped for this connection once.
  constants_.clear();
  conn_.append_literal(constants_, columns_.project);
  constants_ += ", ";
  conn_.append_literal(constants_, columns_.host);
  constants_ += ", ";
  conn_.append_literal(constants_, columns_.service);
}

asio::awaitable<void> my_writer::rollback() {
  try {
    co_await conn_.run("ROLLBACK", 1);
  } catch (const my_failure&) {
    // The connection is gone, and the transaction with it.
  }
}

write_result my_writer::failure(const outcome& o, const std::string& what) {
  std::string text = conn_.where() + ": " + what + ": " + describe(o);
  if (o.code == 1146) set_up_ = false;  // a table was dropped: created again next time
  if (retryable(o.code)) return write_result::retryable(std::move(text));
  numbers_.settled();
  return write_result::fatal(std::move(text));
}

asio::awaitable<write_result> my_writer::write_batch(const batch& b) {
  // The emitter's retry of the same batch keeps its number: the claim then tells whether an
  // attempt whose answer was lost committed.
  const std::uint64_t number = numbers_.claim(b.id);
  co_await conn_.ensure_connected();
  if (conn_.take_fresh()) set_up_ = false;
  if (!set_up_) {
    co_await set_up_connection();
    set_up_ = true;
  }

  // The rows as literal tuples, in as few INSERTs as max_allowed_packet allows, less those
  // the table cannot take (counted as rejected, with the first reason).
  const std::size_t chunk_limit = limits_.row_bytes;
  std::vector<std::string> chunks(1);
  std::size_t rejected = 0;
  std::string rejection;
  std::string tuple;
  for (const event_record& e : b.events) {
    sql::make_row(e, row_);
    if (std::string why = sql::check_row(row_, columns_, limits_); !why.empty()) {
      if (rejection.empty()) rejection = conn_.where() + ": " + why;
      ++rejected;
      continue;
    }
    tuple.clear();
    tuple += "('";
    tuple += e.timestamp_text();  // digits, '-', ':', '.', 'T': nothing to escape
    tuple += "', '";
    tuple += row_.base_id_text();
    tuple += "', '";
    tuple += row_.parent_id_text();
    tuple += "', '";
    tuple += row_.trace_id_text();
    tuple += "', ";
    tuple += constants_;
    tuple += ", ";
    conn_.append_literal(tuple, row_.name);
    tuple += ", ";
    conn_.append_literal(tuple, row_.data);
    tuple += ')';
    if (!chunks.back().empty() && chunks.back().size() + tuple.size() + 2 > chunk_limit) chunks.emplace_back();
    if (!chunks.back().empty()) chunks.back() += ", ";
    chunks.back() += tuple;
  }
  write_result done;
  done.rejected = rejected;
  done.error = rejection;
  if (chunks.front().empty()) {
    numbers_.settled();
    co_return done;
  }

  const bool dedup = conn_.options().dedup;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    std::string text;
    std::size_t statements = 1;
    std::size_t claim_at = SIZE_MAX;
    if (k == 0) {
      text = "BEGIN; ";
      ++statements;
      if (dedup) {
        text += sql::claim_batch_sql(sql::dialect::mysql, numbers_.writer_id(), number, unix_now());
        text += "; ";
        claim_at = 1;
        ++statements;
      }
    }
    text += insert_head;
    text += chunks[k];
    chunks[k].clear();
    if (k + 1 == chunks.size()) {
      text += "; COMMIT";
      ++statements;
    }
    const auto out = co_await conn_.run(text, statements);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const outcome& o = out[i];
      if (o.ok) continue;
      co_await rollback();
      if (i == claim_at && o.code == 4025 && o.message.find(sql::stored_constraint) != std::string::npos) {
        numbers_.settled();  // an earlier attempt of this batch committed
        co_return done;
      }
      const bool is_commit = k + 1 == chunks.size() && i + 1 == out.size();
      co_return failure(o, i == claim_at ? "cannot claim the batch in table osprof_writers"
                           : is_commit   ? "COMMIT failed"
                           : (k == 0 && i == 0) ? "BEGIN failed"
                                                : "the INSERT into table data failed");
    }
  }
  numbers_.settled();
  co_return done;
}

asio::awaitable<close_result> my_writer::close() {
  conn_.close();
  co_return close_result{};
}

}  // namespace osprof::detail::mysql
