// One MariaDB Connector/C connection driven from an io_context: the library's non-blocking API
// (the *_start/*_cont calls), its socket watched by Asio and its timeouts by a timer. A query
// may hold several statements (CLIENT_MULTI_STATEMENTS), so a batch is one round trip. A
// cancelled or failed operation leaves the connection unusable; the next starts a new one.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "drivers/mysql/my_options.hpp"
#include "drivers/sql/library_socket.hpp"
#include "drivers/sql/sql_reader.hpp"

struct st_mysql;

namespace osprof::detail::mysql {

namespace asio = boost::asio;

enum class failure_kind : std::uint8_t {
  connection,  ///< no connection, or it broke: what was sent may or may not have run
  refused,     ///< the server refuses us for good (credentials, database, privileges, TLS)
};

class my_failure : public std::runtime_error {
 public:
  my_failure(failure_kind kind, const std::string& what, unsigned code = 0)
      : std::runtime_error(what), kind_(kind), code_(code) {}
  failure_kind kind() const noexcept { return kind_; }
  unsigned code() const noexcept { return code_; }

 private:
  failure_kind kind_;
  unsigned code_;
};

/// One statement's outcome.
struct outcome {
  bool ok = false;
  bool skipped = false;  ///< not run: an earlier statement of the query failed
  unsigned code = 0;     ///< the server's error number
  std::string message;
  std::uint64_t rows_affected = 0;
  sql::result_rows rows;
};

class my_connection {
 public:
  my_connection(asio::any_io_executor executor, my_options options, std::chrono::milliseconds timeout);
  ~my_connection();
  my_connection(const my_connection&) = delete;
  my_connection& operator=(const my_connection&) = delete;

  const my_options& options() const noexcept { return options_; }
  const std::string& where() const noexcept { return options_.where; }

  /// Connects unless connected (and usable). Throws my_failure.
  asio::awaitable<void> ensure_connected();
  bool take_fresh() noexcept { return std::exchange(fresh_, false); }
  /// Runs `text` (one or more statements separated by ';') and returns the outcome of each of
  /// the `statements` it has. Throws my_failure when the connection breaks (then closed).
  asio::awaitable<std::vector<outcome>> run(const std::string& text, std::size_t statements);
  /// Appends `value` as a quoted string literal, escaped for this connection.
  void append_literal(std::string& out, std::string_view value) const;
  /// The largest statement text the server takes (max_allowed_packet), once connected.
  std::size_t max_packet() const noexcept { return max_packet_; }
  void close() noexcept;

 private:
  asio::awaitable<void> connect();
  /// Waits for what a *_start/*_cont call asked for; returns the MYSQL_WAIT_* that happened.
  asio::awaitable<int> wait(int status);
  void watch_socket();
  [[noreturn]] void broken(const std::string& what);

  asio::any_io_executor executor_;
  my_options options_;
  std::chrono::milliseconds timeout_;
  st_mysql* mysql_ = nullptr;
  sql::library_socket socket_;
  asio::steady_timer timer_;
  std::size_t max_packet_ = 1 << 20;
  bool busy_ = false;
  bool fresh_ = false;
};

}  // namespace osprof::detail::mysql
