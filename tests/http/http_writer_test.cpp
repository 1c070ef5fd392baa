// The HTTP write path (drivers/http/http_writer.hpp) with a scripted codec against a scripted
// loopback server: a retried batch resumes at the first part not stored (keyed on batch::id),
// a new batch starts afresh, refusals are counted exactly, events of earlier batches are
// revoked when lost, "again" sends a part once more, close() drains and accounts.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "drivers/http/http_writer.hpp"
#include "scripted_server.hpp"

namespace {

namespace asio = boost::asio;
namespace http = osprof::detail::http;
using osprof::test::reply;
using osprof::test::scripted_server;
using osprof::test::server_request;

// Answers by the request body: "<name>" -> the status the test set for that name (200 if
// none), and records every body it saw, in order.
struct scripted_answers {
  std::mutex mutex;
  std::vector<std::string> seen;
  std::vector<std::pair<std::string, std::vector<unsigned>>> plan;  ///< name -> statuses, one per request

  osprof::test::scripted_reply answer(const server_request& req) {
    std::lock_guard lock(mutex);
    seen.push_back(req.body());
    for (auto& [name, statuses] : plan) {
      if (name == req.body() && !statuses.empty()) {
        const unsigned status = statuses.front();
        statuses.erase(statuses.begin());
        return reply(status, "status " + std::to_string(status));
      }
    }
    return reply(200, "");
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

// Parts as the test lays them out; the server's status is judged: 2xx stored, 400 refuses the
// part's events, 409 asks for the part again, 401 gives the rest up, others retry.
struct scripted_codec final : http::codec {
  struct layout {
    std::string name;
    std::size_t events = 0;
    std::size_t earlier = 0;
  };
  std::vector<layout> parts;
  std::vector<layout> drained;
  int encodes = 0;
  int prepares = 0;

  scripted_codec() : http::codec("/w", "text/plain") {}

  std::vector<http::part> encode(const osprof::batch&) override {
    ++encodes;
    return make(parts);
  }
  std::vector<http::part> drain() override { return make(std::exchange(drained, {})); }
  asio::awaitable<std::optional<http::verdict>> prepare(http::client&) override {
    ++prepares;
    co_return std::nullopt;
  }
  asio::awaitable<http::verdict> judge(http::client&, const osprof::batch&, const http::response& r, http::part& p) override {
    if (r.status == 400) co_return http::verdict::stored_part(p.events + p.earlier, "bad part " + p.body);
    if (r.status == 409) co_return http::verdict::send_again();
    co_return http::judge_status(r, "test write");
  }

 private:
  static std::vector<http::part> make(const std::vector<layout>& from) {
    std::vector<http::part> out;
    for (const auto& l : from) {
      http::part p;
      p.body = l.name;
      p.events = l.events;
      p.earlier = l.earlier;
      out.push_back(std::move(p));
    }
    return out;
  }
};

class HttpWriter : public ::testing::Test {
 protected:
  HttpWriter() : server_([this](const server_request& req) { return answers_.answer(req); }) {
    auto codec = std::make_unique<scripted_codec>();
    codec_ = codec.get();
    http::endpoint_options options;
    options.client.host = "127.0.0.1";
    options.client.port = server_.port();
    options.client.timeout = std::chrono::seconds(2);
    writer_ = std::make_unique<http::http_writer>(ioc_.get_executor(), options, "test server", std::move(codec));
  }
  ~HttpWriter() override { writer_.reset(); }

  template <class F>
  auto run(F&& make) {
    auto future = asio::co_spawn(ioc_, make(), asio::use_future);
    ioc_.restart();
    ioc_.run();
    return future.get();
  }

  osprof::write_result write(std::uint64_t id, std::uint32_t attempt, std::size_t events) {
    records_.assign(events, osprof::event_record{});
    const osprof::batch b{records_, id, attempt};
    return run([&] { return writer_->write(b); });
  }
  osprof::close_result close() {
    return run([&] { return writer_->close(); });
  }
  scripted_answers answers_;
  scripted_server server_;
  asio::io_context ioc_;
  scripted_codec* codec_ = nullptr;
  std::unique_ptr<http::http_writer> writer_;
  std::vector<osprof::event_record> records_;
};

TEST_F(HttpWriter, ARetriedBatchResumesAtTheFirstPartNotStored) {
  codec_->parts = {{"a", 2}, {"b", 2}, {"c", 1}};
  answers_.plan = {{"b", {503}}};
  const auto first = write(7, 1, 5);
  EXPECT_EQ(first.status, osprof::write_status::retry);
  EXPECT_NE(first.error.find("test server: test write: HTTP 503"), std::string::npos) << first.error;
  const auto second = write(7, 2, 5);
  EXPECT_EQ(second.status, osprof::write_status::ok) << second.error;
  EXPECT_EQ(second.rejected, 0u);
  EXPECT_EQ(answers_.bodies(), (std::vector<std::string>{"a", "b", "b", "c"}));
  EXPECT_EQ(codec_->encodes, 1) << "the retry of batch 7 is not encoded again";
  EXPECT_EQ(codec_->prepares, 1);
}

TEST_F(HttpWriter, ANewBatchIdStartsAfreshAndRevokesWhatTheAbandonedOneCarried) {
  codec_->parts = {{"a", 1}, {"b", 1, 3}};
  answers_.plan = {{"b", {503}}};
  EXPECT_EQ(write(1, 1, 2).status, osprof::write_status::retry);
  // The emitter abandoned batch 1 (its shutdown deadline); "b" carried 3 events of earlier
  // batches that were counted written then.
  codec_->parts = {{"c", 4}};
  const auto r = write(2, 1, 4);
  EXPECT_EQ(r.status, osprof::write_status::ok);
  EXPECT_EQ(r.revoked, 3u);
  EXPECT_EQ(codec_->encodes, 2);
  EXPECT_EQ(answers_.bodies(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(HttpWriter, RefusedPartsAreCountedAndAGiveUpChargesTheRest) {
  codec_->parts = {{"a", 2}, {"b", 3}, {"c", 5}};
  answers_.plan = {{"a", {400}}, {"b", {401}}};
  const auto r = write(1, 1, 10);
  EXPECT_EQ(r.status, osprof::write_status::failed) << "nothing of the batch was stored";
  EXPECT_NE(r.error.find("authentication failed (HTTP 401)"), std::string::npos) << r.error;
  EXPECT_EQ(answers_.bodies(), (std::vector<std::string>{"a", "b"}));

  codec_->parts = {{"d", 2}, {"e", 3}, {"f", 5}};
  answers_.plan = {{"e", {400}}, {"f", {401}}};
  const auto partly = write(2, 1, 10);
  EXPECT_EQ(partly.status, osprof::write_status::ok);
  EXPECT_EQ(partly.rejected, 8u) << "e refused (3) and f given up (5); d stored";
  EXPECT_NE(partly.error.find("bad part e"), std::string::npos) << "the first reason: " << partly.error;
}

TEST_F(HttpWriter, EventsOfEarlierBatchesAreRevokedWhenTheirPartIsRefused) {
  codec_->parts = {{"a", 1, 4}, {"b", 2}};
  answers_.plan = {{"a", {400}}};
  const auto r = write(1, 1, 3);
  EXPECT_EQ(r.status, osprof::write_status::ok);
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_EQ(r.revoked, 4u);
}

TEST_F(HttpWriter, AgainSendsThePartOnceMoreThenRetries) {
  codec_->parts = {{"a", 1}};
  answers_.plan = {{"a", {409}}};
  EXPECT_EQ(write(1, 1, 1).status, osprof::write_status::ok);
  EXPECT_EQ(answers_.bodies(), (std::vector<std::string>{"a", "a"}));

  codec_->parts = {{"b", 1}};
  answers_.plan = {{"b", {409, 409}}};
  const auto r = write(2, 1, 1);
  EXPECT_EQ(r.status, osprof::write_status::retry) << "a fix that did not help is not a loop";
  EXPECT_NE(r.error.find("still refused after a fix"), std::string::npos) << r.error;
}

TEST_F(HttpWriter, CloseDeliversWhatTheCodecHoldsAndRevokesWhatItCannot) {
  codec_->drained = {{"held", 0, 6}};
  EXPECT_EQ(close().revoked, 0u);
  EXPECT_EQ(answers_.bodies(), (std::vector<std::string>{"held"}));

  codec_->drained = {{"lost", 0, 5}};
  answers_.plan = {{"lost", {500}}};
  const auto r = close();
  EXPECT_EQ(r.revoked, 5u);
  EXPECT_NE(r.error.find("at close"), std::string::npos) << r.error;
}

}  // namespace
