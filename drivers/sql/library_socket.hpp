// A client library's socket as Asio waits on it (postgresql://, mysql://): libpq and MariaDB
// Connector/C own their descriptor, close it themselves and may replace it when they
// reconnect, so Asio watches a duplicate, renewed whenever the library's descriptor changes.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace osprof::detail::sql {

class library_socket {
 public:
  explicit library_socket(const boost::asio::any_io_executor& executor) : socket_(executor) {}

  /// Follows the library's descriptor `fd` (negative: it has none, nothing is watched).
  /// Returns an empty string, or why the descriptor cannot be watched.
  std::string watch(int fd) {
    if (fd == watched_fd_ && socket_.is_open() && same_socket(fd, socket_.native_handle())) return {};
    close();
    if (fd < 0) return {};
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return "cannot watch the connection's socket";
    boost::system::error_code ec;
    socket_.assign(copy, ec);
    if (ec) {
      ::close(copy);
      return "cannot watch the connection's socket: " + ec.message();
    }
    watched_fd_ = fd;
    return {};
  }

  /// Closes the duplicate (before the library closes its own descriptor).
  void close() noexcept {
    boost::system::error_code ec;
    socket_.close(ec);
    watched_fd_ = -1;
  }

  bool is_open() const noexcept { return socket_.is_open(); }
  /// What Asio waits on (async_wait for reading or writing).
  boost::asio::posix::stream_descriptor& descriptor() noexcept { return socket_; }

 private:
  // The same descriptor number may name another socket after the library reconnected.
  static bool same_socket(int a, int b) noexcept {
    struct stat sa {};
    struct stat sb {};
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
  }

  boost::asio::posix::stream_descriptor socket_;
  int watched_fd_ = -1;  // the library's descriptor that socket_ duplicates
};

}  // namespace osprof::detail::sql
