// The write side of postgresql://: each batch is one transaction of one pipeline (one round
// trip): BEGIN, the claim of the batch's number in osprof_writers, one INSERT of every row
// (unnest() over binary arrays, a statement prepared once per connection), COMMIT.
//
// A batch retried after a lost connection (same batch::id, so the same number) is stored at
// most once: its claim fails on the CHECK constraint when the first attempt committed, waits
// on the row lock while that attempt's transaction is still open on the server, and passes
// when it rolled back. A first attempt whose bytes the server runs only later (a stalled
// server) fails its own claim then, because the retry advanced the number.
#pragma once

#include <cstdint>
#include <string>

#include <osprof/driver.hpp>

#include "drivers/postgresql/pg_connection.hpp"
#include "drivers/sql/sql_layout.hpp"
#include "drivers/sql/sql_writer.hpp"

namespace osprof::detail::postgresql {

class pg_writer final : public writer {
 public:
  pg_writer(pg_options options, const driver_context& context);

  asio::awaitable<write_result> write(const batch& b) override;
  asio::awaitable<close_result> close() override;

 private:
  asio::awaitable<write_result> write_batch(const batch& b);
  asio::awaitable<void> set_up_connection();
  asio::awaitable<void> rollback();
  write_result failure(const outcome& o, const std::string& what);

  pg_connection conn_;
  sql::writer_columns columns_;
  sql::column_limits limits_;
  sql::batch_numbers numbers_;
  bool set_up_ = false;  ///< this connection has the tables, the limits and the prepared INSERT
  bool pruned_ = false;
  sql::row row_;
  std::string arrays_[6];  ///< timestamp, base_id, parent_id, trace_id, name, data
};

}  // namespace osprof::detail::postgresql
