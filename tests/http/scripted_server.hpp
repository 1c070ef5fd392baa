// A blocking HTTP/1.1 server on a loopback port for the HTTP client and writer tests: one
// connection at a time, each request answered with what a handler returns.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace osprof::test {

using server_request = boost::beast::http::request<boost::beast::http::string_body>;
using server_response = boost::beast::http::response<boost::beast::http::string_body>;

// What the scripted server does with one request.
enum class after_reply { keep_open, close_connection };
struct scripted_reply {
  server_response response;
  after_reply then = after_reply::keep_open;
  bool never_answer = false;
};

// A blocking HTTP/1.1 server on a loopback port, one connection at a time, answering each
// request with the handler's reply.
class scripted_server {
  using tcp = boost::asio::ip::tcp;

 public:
  explicit scripted_server(std::function<scripted_reply(const server_request&)> handler)
      : handler_(std::move(handler)), acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_server() {
    stopping_ = true;
    boost::system::error_code ec;
    {
      // shutdown() wakes a blocking read on Linux; close() from another thread does not.
      std::lock_guard lock(mutex_);
      if (current_) current_->shutdown(tcp::socket::shutdown_both, ec);
    }
    // Wake the blocking accept with a connection of our own.
    tcp::socket waker(ioc_);
    waker.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stopping_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      if (stopping_) return;
      ++connections_;
      {
        std::lock_guard lock(mutex_);
        current_ = &socket;
      }
      boost::beast::flat_buffer buffer;
      while (!stopping_) {
        server_request req;
        boost::beast::http::read(socket, buffer, req, ec);
        if (ec) break;
        ++requests_;
        auto reply = handler_(req);
        if (reply.never_answer) {
          while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          break;
        }
        reply.response.version(11);
        reply.response.prepare_payload();
        boost::beast::http::write(socket, reply.response, ec);
        if (ec || reply.then == after_reply::close_connection) break;
      }
      {
        std::lock_guard lock(mutex_);
        current_ = nullptr;
      }
      socket.close(ec);
    }
  }

  std::function<scripted_reply(const server_request&)> handler_;
  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  tcp::socket* current_ = nullptr;  ///< the connection being served, guarded by mutex_
};

inline scripted_reply reply(unsigned status, std::string body, after_reply then = after_reply::keep_open) {
  scripted_reply r;
  r.response.result(status);
  r.response.body() = std::move(body);
  r.response.keep_alive(then == after_reply::keep_open);
  r.then = then;
  return r;
}

}  // namespace osprof::test
