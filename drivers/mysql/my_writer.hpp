// The write side of mysql://: each batch is one transaction sent as one multi-statement query
// (one round trip): BEGIN, the claim of the batch's number in osprof_writers, one multi-row
// INSERT, COMMIT. A batch larger than the server's max_allowed_packet is sent as several
// INSERTs in the same transaction.
//
// A batch retried after a lost connection (same batch::id, so the same number) is stored at
// most once: its claim fails on the CHECK constraint when the first attempt committed, waits
// on InnoDB's row lock while that attempt's transaction is still open on the server, and passes
// when it rolled back. A first attempt the server runs only later fails its own claim then.
#pragma once

#include <cstdint>
#include <string>

#include <osprof/driver.hpp>

#include "drivers/mysql/my_connection.hpp"
#include "drivers/sql/sql_layout.hpp"
#include "drivers/sql/sql_writer.hpp"

namespace osprof::detail::mysql {

class my_writer final : public writer {
 public:
  my_writer(my_options options, const driver_context& context);

  asio::awaitable<write_result> write(const batch& b) override;
  asio::awaitable<close_result> close() override;

 private:
  asio::awaitable<write_result> write_batch(const batch& b);
  asio::awaitable<void> set_up_connection();
  asio::awaitable<void> rollback();
  write_result failure(const outcome& o, const std::string& what);

  my_connection conn_;
  sql::writer_columns columns_;
  sql::column_limits limits_;
  std::string constants_;  ///< project, host, service as escaped literals, for every row
  sql::batch_numbers numbers_;
  bool set_up_ = false;
  bool pruned_ = false;
  sql::row row_;
};

}  // namespace osprof::detail::mysql
