// A backend's writer and reader driven synchronously on a private io_context, as the tests
// use them: each write() is a new batch, retry() hands the last batch again as the emitter's
// retry would (same batch::id, next attempt).
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <osprof/driver.hpp>
#include <osprof/error.hpp>

namespace osprof::test {

class backend {
 public:
  /// The writer and reader are made on first use, with this project/service and host "vm".
  explicit backend(std::string url, std::string project = "demo", std::string service = "api")
      : url_(std::move(url)) {
    context_.executor = ioc_.get_executor();
    context_.project = std::move(project);
    context_.service = std::move(service);
    context_.host = "vm";
    context_.timeout = std::chrono::seconds(10);
  }
  ~backend() {
    // Connections close on this io_context: the writer and reader go first.
    writer_.reset();
    reader_.reset();
  }

  /// Runs the coroutine `make()` returns to completion on this backend's io_context.
  template <typename F>
  auto run(F&& make) {
    auto future = boost::asio::co_spawn(ioc_, make(), boost::asio::use_future);
    ioc_.restart();
    ioc_.run();
    return future.get();
  }

  osprof::writer& writer() {
    if (!writer_) writer_ = make_writer(url_, context_);
    return *writer_;
  }
  osprof::reader& reader() {
    if (!reader_) reader_ = make_reader(url_, context_);
    return *reader_;
  }

  /// Writes `events` as a new batch.
  write_result write(std::span<const event_record> events) {
    last_ = batch{events, ++batches_, 1};
    return write_last();
  }
  /// Writes the last batch again, as the emitter retries it.
  write_result retry(std::span<const event_record> events) {
    last_ = batch{events, last_.id, last_.attempt + 1};
    return write_last();
  }
  /// Writes, retrying what the writer asks to retry (as the emitter would), at most `tries` times.
  write_result write_until_done(std::span<const event_record> events, int tries = 20) {
    write_result r = write(events);
    for (int i = 1; i < tries && r.status == write_status::retry; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      r = retry(events);
    }
    return r;
  }
  close_result close() {
    return run([&] { return writer().close(); });
  }

  std::vector<std::string> trace(const std::string& id) {
    return run([&] { return reader().read_trace(id); });
  }
  std::vector<trace_summary> list() {
    return run([&] { return reader().list_traces(); });
  }
  std::vector<trace_summary> errors() {
    return run([&] { return reader().list_error_traces(); });
  }

 private:
  write_result write_last() {
    return run([&] { return writer().write(last_); });
  }

  boost::asio::io_context ioc_;
  std::string url_;
  driver_context context_;
  std::unique_ptr<osprof::writer> writer_;
  std::unique_ptr<osprof::reader> reader_;
  std::uint64_t batches_ = 0;
  batch last_{};
};

/// What making a writer for `url` throws (osprof::error's message), or empty when the writer is
/// made: for tests of options a driver refuses before it connects.
inline std::string writer_error(const std::string& url) {
  try {
    backend b(url);
    b.writer();
  } catch (const osprof::error& e) {
    return e.what();
  }
  return {};
}

}  // namespace osprof::test
