// One libpq connection driven from an io_context: libpq in non-blocking mode, its socket
// watched by Asio, statements sent as one pipeline (libpq's pipeline mode) so that a batch is
// one round trip. A cancelled or failed operation leaves the connection unusable; the next
// operation starts with a new one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "drivers/postgresql/pg_options.hpp"
#include "drivers/sql/library_socket.hpp"
#include "drivers/sql/sql_reader.hpp"

struct pg_conn;
struct pg_result;

namespace osprof::detail::postgresql {

namespace asio = boost::asio;

/// Why an operation failed, as far as a retry is concerned.
enum class failure_kind : std::uint8_t {
  connection,  ///< no connection, or it broke: what was sent may or may not have run
  refused,     ///< the server refuses us for good (password, database, privileges, TLS)
};

class pg_failure : public std::runtime_error {
 public:
  pg_failure(failure_kind kind, const std::string& what, std::string sqlstate = {})
      : std::runtime_error(what), kind_(kind), sqlstate_(std::move(sqlstate)) {}
  failure_kind kind() const noexcept { return kind_; }
  const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  failure_kind kind_;
  std::string sqlstate_;
};

/// A parameter's bytes and format (text, or binary as PostgreSQL's send functions write it).
struct param {
  std::string_view bytes;
  bool binary = false;
};

/// One statement of a pipeline: SQL text, or the name of a statement prepared earlier.
struct statement {
  std::string sql;
  std::span<const param> params = {};
  bool prepared = false;   ///< `sql` is a prepared statement's name
  bool keep_rows = false;  ///< return the rows (as text)
  /// With a name: prepare `sql` under it instead of running it.
  std::string prepare_as = {};
};

/// One statement's outcome.
struct outcome {
  bool ok = false;
  bool skipped = false;  ///< not run: an earlier statement of the pipeline failed
  std::string sqlstate;
  std::string constraint;
  std::string message;  ///< the server's message for a failure
  std::uint64_t rows_affected = 0;
  sql::result_rows rows;
};

class pg_connection {
 public:
  pg_connection(asio::any_io_executor executor, pg_options options);
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  const pg_options& options() const noexcept { return options_; }
  /// The server for messages (no password).
  const std::string& where() const noexcept { return options_.where; }

  /// Connects unless connected (and usable). Throws pg_failure.
  asio::awaitable<void> ensure_connected();
  /// Whether this connection is new since the last call (prepared statements are gone).
  bool take_fresh() noexcept { return std::exchange(fresh_, false); }
  /// Sends the statements as one pipeline and returns each one's outcome. A statement that
  /// fails makes the rest skipped (the server's rule); a transaction they opened is left to
  /// the caller. Throws pg_failure when the connection breaks (then closed).
  asio::awaitable<std::vector<outcome>> run(std::span<const statement> statements);
  /// Ends the connection (a clean Terminate when idle).
  void close() noexcept;
  bool is_open() const noexcept { return conn_ != nullptr; }
  int server_version() const noexcept;

 private:
  asio::awaitable<void> connect();
  asio::awaitable<void> flush();
  asio::awaitable<void> wait(bool read, bool write);
  void watch_socket();
  [[noreturn]] void broken(const std::string& what);

  asio::any_io_executor executor_;
  pg_options options_;
  pg_conn* conn_ = nullptr;
  sql::library_socket socket_;  ///< libpq's socket, as Asio waits on it
  bool busy_ = false;    ///< an operation is in progress (or was cut short: then unusable)
  bool fresh_ = false;
};

}  // namespace osprof::detail::postgresql
