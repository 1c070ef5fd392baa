// A loopback TCP proxy that can lose a server's answer: armed, it passes the request on, lets
// the server finish (it reads the answer for `settle`), throws the answer away and closes both
// sides. The client then cannot know whether what it sent ran: the case a writer must settle
// without storing a batch twice.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

namespace osprof::test {

class lossy_proxy {
 public:
  explicit lossy_proxy(std::uint16_t upstream, std::chrono::milliseconds settle = std::chrono::milliseconds(200))
      : upstream_(upstream), settle_(settle) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~lossy_proxy() {
    stop_ = true;
    thread_.join();
    for (auto& [c, s] : pairs_) {
      ::close(c);
      ::close(s);
    }
    ::close(listener_);
  }
  lossy_proxy(const lossy_proxy&) = delete;
  lossy_proxy& operator=(const lossy_proxy&) = delete;

  std::uint16_t port() const { return port_; }
  /// The next answer from the server is lost (and that connection closed).
  void lose_next_answer() { lose_ = true; }
  /// Answers lost so far.
  int lost() const { return lost_; }

 private:
  void run() {
    while (!stop_) {
      std::vector<pollfd> fds = {{listener_, POLLIN, 0}};
      for (auto& [c, s] : pairs_) {
        fds.push_back({c, POLLIN, 0});
        fds.push_back({s, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) accept_one();
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int from = fds[i].fd;
        auto it = std::find_if(pairs_.begin(), pairs_.end(), [&](auto& p) { return p.first == from || p.second == from; });
        if (it == pairs_.end()) continue;
        const bool from_server = it->second == from;
        char buf[65536];
        const ssize_t n = ::read(from, buf, sizeof buf);
        if (n > 0 && from_server && lose_.exchange(false)) {
          // Let the server run the rest of what it was sent, read its answer, and drop it all.
          const auto until = std::chrono::steady_clock::now() + settle_;
          while (std::chrono::steady_clock::now() < until) {
            pollfd p{from, POLLIN, 0};
            if (::poll(&p, 1, 10) > 0 && ::read(from, buf, sizeof buf) <= 0) break;
          }
          ++lost_;
          close_pair(it);
          break;  // fds refer to closed sockets now
        }
        if (n <= 0) {
          close_pair(it);
          break;
        }
        const int to = from_server ? it->first : it->second;
        for (ssize_t done = 0; done < n;) {
          const ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
          if (w <= 0) break;
          done += w;
        }
      }
    }
  }
  void close_pair(std::vector<std::pair<int, int>>::iterator it) {
    ::close(it->first);
    ::close(it->second);
    pairs_.erase(it);
  }
  void accept_one() {
    const int c = ::accept(listener_, nullptr, nullptr);
    if (c < 0) return;
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(upstream_);
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(c);
      ::close(s);
      return;
    }
    pairs_.emplace_back(c, s);
  }

  std::uint16_t upstream_;
  std::chrono::milliseconds settle_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> lose_{false};
  std::atomic<int> lost_{0};
  std::vector<std::pair<int, int>> pairs_;
  std::thread thread_;
};

}  // namespace osprof::test
