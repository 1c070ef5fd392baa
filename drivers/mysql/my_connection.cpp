#include "drivers/mysql/my_connection.hpp"

#include <poll.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace osprof::detail::mysql {

namespace {

std::once_flag library_once;

// Connection failures a retry cannot cure: credentials, the database, privileges, TLS.
bool refused_for_good(unsigned code) {
  switch (code) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_BAD_DB_ERROR:
    case 1130:  // ER_HOST_NOT_PRIVILEGED
    case 1251:  // ER_NOT_SUPPORTED_AUTH_MODE
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
    case CR_SSL_CONNECTION_ERROR:
    case 2059:  // CR_AUTH_PLUGIN_CANNOT_LOAD
      return true;
    default:
      return false;
  }
}

// Errors that mean the connection is gone, not that a statement failed.
bool connection_lost(unsigned code) {
  return code == CR_SERVER_LOST || code == CR_SERVER_GONE_ERROR || code == CR_CONNECTION_ERROR ||
         code == CR_CONN_HOST_ERROR || code == 2055 /* CR_SERVER_LOST_EXTENDED */ || code == 1927 /* killed */ ||
         code == 1053 /* shutdown in progress */ || code == CR_UNKNOWN_HOST;
}

}  // namespace

my_connection::my_connection(asio::any_io_executor executor, my_options options, std::chrono::milliseconds timeout)
    : executor_(std::move(executor)), options_(std::move(options)), timeout_(timeout), socket_(executor_), timer_(executor_) {}

my_connection::~my_connection() { close(); }

void my_connection::close() noexcept {
  socket_.close();  // our duplicate of the library's socket
  timer_.cancel();
  if (mysql_ != nullptr) {
    // Cut short in the middle of a query: the library must not wait to say goodbye.
    if (busy_ && mysql_get_socket(mysql_) >= 0) ::shutdown(mysql_get_socket(mysql_), SHUT_RDWR);
    mysql_close(mysql_);
  }
  mysql_ = nullptr;
  busy_ = false;
}

void my_connection::broken(const std::string& what) {
  const std::string message = mysql_ != nullptr ? mysql_error(mysql_) : "";
  const unsigned code = mysql_ != nullptr ? mysql_errno(mysql_) : 0;
  close();
  throw my_failure(failure_kind::connection, where() + ": " + what + (message.empty() ? "" : ": " + message), code);
}

void my_connection::watch_socket() {
  if (std::string why = socket_.watch(mysql_get_socket(mysql_)); !why.empty()) broken(why);
}

asio::awaitable<int> my_connection::wait(int status) {
  using asio::posix::stream_descriptor;
  watch_socket();
  if (!socket_.is_open()) broken("the connection has no socket");
  // The library's own timeout when it asks for one; else the emitter's deadline bounds the wait.
  if ((status & MYSQL_WAIT_TIMEOUT) != 0) {
    timer_.expires_after(std::chrono::milliseconds(mysql_get_timeout_value_ms(mysql_)));
  } else {
    timer_.expires_after(std::chrono::hours(1));
  }
  const bool read = (status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT)) != 0;
  const bool write = (status & MYSQL_WAIT_WRITE) != 0;
  if (read && write) {
    auto [order, read_ec, write_ec, timer_ec] =
        co_await asio::experimental::make_parallel_group(socket_.descriptor().async_wait(stream_descriptor::wait_read, asio::deferred),
                                                         socket_.descriptor().async_wait(stream_descriptor::wait_write, asio::deferred),
                                                         timer_.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    const boost::system::error_code first = order[0] == 0 ? read_ec : order[0] == 1 ? write_ec : timer_ec;
    if (first) throw boost::system::system_error(first);
    co_return order[0] == 0 ? MYSQL_WAIT_READ : order[0] == 1 ? MYSQL_WAIT_WRITE : MYSQL_WAIT_TIMEOUT;
  }
  auto [order, socket_ec, timer_ec] =
      co_await asio::experimental::make_parallel_group(
          socket_.descriptor().async_wait(read ? stream_descriptor::wait_read : stream_descriptor::wait_write, asio::deferred),
          timer_.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  const boost::system::error_code first = order[0] == 0 ? socket_ec : timer_ec;
  if (first) throw boost::system::system_error(first);  // cancelled (the write's deadline), or a socket error
  co_return order[0] == 0 ? (read ? MYSQL_WAIT_READ : MYSQL_WAIT_WRITE) : MYSQL_WAIT_TIMEOUT;
}

asio::awaitable<void> my_connection::ensure_connected() {
  if (mysql_ != nullptr && !busy_) {
    // An idle connection has nothing to read: if it has, the server closed it (a restart, its
    // wait_timeout) and this shows here, not in the middle of a batch.
    pollfd p{mysql_get_socket(mysql_), POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) co_return;
  }
  close();
  co_await connect();
}

asio::awaitable<void> my_connection::connect() {
  std::call_once(library_once, [] { mysql_library_init(0, nullptr, nullptr); });
  busy_ = true;
  mysql_ = mysql_init(nullptr);
  if (mysql_ == nullptr) throw my_failure(failure_kind::connection, where() + ": cannot allocate a connection");
  mysql_options(mysql_, MYSQL_OPT_NONBLOCK, nullptr);
  mysql_options(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const auto set_seconds = [this](mysql_option option, const std::optional<unsigned>& value) {
    if (!value) return;
    const unsigned seconds = *value;
    mysql_options(mysql_, option, &seconds);
  };
  set_seconds(MYSQL_OPT_CONNECT_TIMEOUT, options_.connect_timeout_s);
  set_seconds(MYSQL_OPT_READ_TIMEOUT, options_.read_timeout_s);
  set_seconds(MYSQL_OPT_WRITE_TIMEOUT, options_.write_timeout_s);
  if (options_.tls) {
    const auto set_text = [this](mysql_option option, const std::string& value) {
      if (!value.empty()) mysql_options(mysql_, option, value.c_str());
    };
    set_text(MYSQL_OPT_SSL_CA, options_.ssl_ca);
    set_text(MYSQL_OPT_SSL_CAPATH, options_.ssl_capath);
    set_text(MYSQL_OPT_SSL_CERT, options_.ssl_cert);
    set_text(MYSQL_OPT_SSL_KEY, options_.ssl_key);
    set_text(MYSQL_OPT_SSL_CIPHER, options_.ssl_cipher);
    const my_bool enforce = 1;
    mysql_options(mysql_, MYSQL_OPT_SSL_ENFORCE, &enforce);
  }
  const my_bool verify = options_.verify ? 1 : 0;
  mysql_options(mysql_, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);

  MYSQL* connected = nullptr;
  const char* host = options_.host.empty() ? nullptr : options_.host.c_str();
  int status = mysql_real_connect_start(&connected, mysql_, host, options_.user.c_str(),
                                        options_.has_password ? options_.password.c_str() : nullptr,
                                        options_.database.c_str(), options_.port,
                                        options_.unix_socket.empty() ? nullptr : options_.unix_socket.c_str(),
                                        CLIENT_MULTI_STATEMENTS);
  while (status != 0) {
    const int events = co_await wait(status);
    status = mysql_real_connect_cont(&connected, mysql_, events);
  }
  if (connected == nullptr) {
    const unsigned code = mysql_errno(mysql_);
    std::string message = mysql_error(mysql_);
    // "Can't connect to server on '127.0.0.1' (111)": the errno in words too.
    if (const auto open = message.rfind(" ("); open != std::string::npos && message.ends_with(")")) {
      const std::string digits = message.substr(open + 2, message.size() - open - 3);
      if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos) {
        message += ": " + std::string(std::strerror(std::stoi(digits)));
      }
    }
    close();
    throw my_failure(refused_for_good(code) ? failure_kind::refused : failure_kind::connection,
                     where() + ": " + message + " (error " + std::to_string(code) + ")", code);
  }
  watch_socket();
  busy_ = false;
  // A lock held elsewhere (LOCK TABLES, a long transaction) ends a statement with an error
  // within the writer's time, instead of after MariaDB's default of a day.
  const auto wait_s = std::to_string(std::max<long long>(1, timeout_.count() / 2000));
  const auto set = co_await run("SET SESSION lock_wait_timeout = " + wait_s + ", innodb_lock_wait_timeout = " + wait_s +
                                    "; SELECT @@max_allowed_packet",
                                2);
  if (!set[1].ok || set[1].rows.size() != 1) {
    close();
    throw my_failure(failure_kind::connection, where() + ": cannot set the session up: " + set[0].message + set[1].message);
  }
  max_packet_ = std::stoull(std::string(set[1].rows.text(0, 0)));
  fresh_ = true;
}

void my_connection::append_literal(std::string& out, std::string_view value) const {
  const std::size_t at = out.size();
  out.resize(at + 2 * value.size() + 3);
  out[at] = '\'';
  const unsigned long n = mysql_real_escape_string(mysql_, out.data() + at + 1, value.data(), value.size());
  out.resize(at + 1 + n);
  out += '\'';
}

asio::awaitable<std::vector<outcome>> my_connection::run(const std::string& text, std::size_t statements) {
  if (mysql_ == nullptr || busy_) throw my_failure(failure_kind::connection, where() + ": not connected");
  busy_ = true;  // stays set if this is cut short: the connection is then in an unknown state
  std::vector<outcome> out(statements);
  const auto failed = [&](std::size_t index) {
    const unsigned code = mysql_errno(mysql_);
    if (connection_lost(code)) broken("the connection was lost");
    if (index < out.size()) {
      out[index].code = code;
      out[index].message = mysql_error(mysql_);
    }
    for (std::size_t i = index + 1; i < out.size(); ++i) out[i].skipped = true;
  };
  int error = 0;
  int status = mysql_real_query_start(&error, mysql_, text.data(), text.size());
  while (status != 0) {
    const int events = co_await wait(status);
    status = mysql_real_query_cont(&error, mysql_, events);
  }
  if (error != 0) {
    failed(0);
    busy_ = false;
    co_return out;
  }
  for (std::size_t index = 0;; ++index) {
    const std::uint64_t affected = mysql_affected_rows(mysql_);
    MYSQL_RES* result = nullptr;
    status = mysql_store_result_start(&result, mysql_);
    while (status != 0) {
      const int events = co_await wait(status);
      status = mysql_store_result_cont(&result, mysql_, events);
    }
    if (result == nullptr && mysql_field_count(mysql_) != 0) {
      failed(index);
      break;
    }
    if (index < out.size()) {
      outcome& o = out[index];
      o.ok = true;
      o.rows_affected = affected;
      if (result != nullptr) {
        const unsigned columns = mysql_num_fields(result);
        o.rows.columns = columns;
        while (MYSQL_ROW row = mysql_fetch_row(result)) {
          const unsigned long* lengths = mysql_fetch_lengths(result);
          for (unsigned c = 0; c < columns; ++c) {
            if (row[c] == nullptr) {
              o.rows.cells.emplace_back();
            } else {
              o.rows.cells.emplace_back(std::string(row[c], lengths[c]));
            }
          }
        }
      }
    }
    if (result != nullptr) mysql_free_result(result);
    if (!mysql_more_results(mysql_)) break;
    int next = 0;
    status = mysql_next_result_start(&next, mysql_);
    while (status != 0) {
      const int events = co_await wait(status);
      status = mysql_next_result_cont(&next, mysql_, events);
    }
    if (next > 0) {
      failed(index + 1);
      break;
    }
  }
  busy_ = false;
  co_return out;
}

}  // namespace osprof::detail::mysql
