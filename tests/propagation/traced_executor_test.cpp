// The trace follows coroutines and completion handlers across co_await and thread hops, on a
// multi-threaded io_context, and never stays on a thread after its handler returns.
#include <osprof_beast/beast.hpp>

#include <osprof/emitter.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/string_body.hpp>

#include "support/memory_store.hpp"
#include "trace_events.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using osprof::uuid;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

class TracedExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = osprof::test::memory_store::get(name());
    store_->clear();
    emitter_ = std::make_unique<osprof::emitter>(osprof::options{.connection_string = "memory://" + name()});
  }
  void TearDown() override { emitter_.reset(); }
  std::string name() const { return std::string("executor_") + ::testing::UnitTest::GetInstance()->current_test_info()->name(); }
  std::vector<osprof::test::event> events(const uuid& base) {
    EXPECT_TRUE(emitter_->flush(std::chrono::seconds(30)));
    return osprof::test::parse_events(store_->events_of(base.to_string()));
  }

  std::shared_ptr<osprof::test::memory_store> store_;
  std::unique_ptr<osprof::emitter> emitter_;
};

// Runs every function on a new thread: each resumption of a coroutine happens on a thread that
// has never run it before, so a trace that survives is carried by the executor alone.
class thread_per_task {
 public:
  // Owned by the test, which joins every thread from its own thread (a thread cannot join
  // itself, and the last executor copy may well die on one of these threads).
  struct threads {
    std::mutex mutex;
    std::vector<std::thread> list;
    void join_all() {
      for (;;) {
        std::vector<std::thread> batch;
        {
          std::lock_guard lock(mutex);
          batch.swap(list);
        }
        if (batch.empty()) return;
        for (auto& t : batch) t.join();  // a thread may start another before it ends: loop
      }
    }
  };

  thread_per_task(threads& t, asio::execution_context& ctx) : threads_(&t), ctx_(&ctx) {}

  asio::execution_context& query(asio::execution::context_t) const noexcept { return *ctx_; }
  static constexpr asio::execution::blocking_t query(asio::execution::blocking_t) noexcept {
    return asio::execution::blocking.never;
  }
  thread_per_task require(asio::execution::blocking_t::never_t) const { return *this; }

  template <class F>
  void execute(F f) const {
    std::lock_guard lock(threads_->mutex);
    threads_->list.emplace_back([f = std::move(f)]() mutable { std::move(f)(); });
  }
  friend bool operator==(const thread_per_task& a, const thread_per_task& b) noexcept { return a.threads_ == b.threads_; }
  friend bool operator!=(const thread_per_task& a, const thread_per_task& b) noexcept { return !(a == b); }

 private:
  threads* threads_;
  asio::execution_context* ctx_;
};

TEST_F(TracedExecutorTest, EveryResumptionOnANewThread) {
  const uuid base = uuid::random(), parent = uuid::random();
  auto trace = osprof::propagated_trace::create(osprof::trace_context{base, parent, "K"});
  asio::io_context ctx;
  std::set<std::thread::id> seen;
  int hops_to_another_thread = 0;
  std::promise<void> finished;
  thread_per_task::threads threads;
  {
    // The concrete executor type, not any_io_executor: GCC 12's ThreadSanitizer does not model
    // the fence in the reference count of any_executor's heap-held targets (false reports).
    using executor = osprof::beast::traced_executor<thread_per_task>;
    const executor ex = osprof::beast::make_traced(thread_per_task(threads, ctx), trace);
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void, executor> {
          osprof::start("request");
          for (int i = 0; i < 8; ++i) {
            const auto before = std::this_thread::get_id();
            seen.insert(before);
            EXPECT_EQ(osprof::get()->base_id(), base);
            osprof::start("hop", {{"i", i}});
            co_await asio::post(asio::use_awaitable_t<executor>{});  // resumes on a new thread
            hops_to_another_thread += std::this_thread::get_id() != before ? 1 : 0;
            seen.insert(std::this_thread::get_id());
            EXPECT_EQ(osprof::get()->base_id(), base);
            osprof::stop();
          }
          osprof::stop();
        },
        [&](std::exception_ptr e) {
          EXPECT_FALSE(e);
          finished.set_value();
        });
    finished.get_future().wait();
  }
  threads.join_all();
  EXPECT_EQ(hops_to_another_thread, 8);  // every co_await resumed on another thread
  EXPECT_GE(seen.size(), 9u);
  EXPECT_EQ(trace->depth(), 0u);

  const auto ev = events(base);
  ASSERT_EQ(ev.size(), 18u);
  osprof::test::expect_one_tree(ev, base.to_string(), {parent.to_string()});
  const auto* req = osprof::test::only(ev, "request");
  for (const auto& e : ev) {
    if (e.point() == "hop") {
      EXPECT_EQ(e.parent_id, req->trace_id);
    }
  }
}

// Signed requests served concurrently by coroutines on a 4-thread io_context: each request's
// points land in its own trace, well nested, and no handler ever sees a trace it does not own.
TEST_F(TracedExecutorTest, ManyRequestsOnAMultiThreadedIoContext) {
  osprof::beast::server_options opts;
  opts.propagation.trace_incoming = true;
  opts.propagation.hmac_keys = {"K"};
  opts.enabled = true;
  const osprof::beast::server server(opts);
  asio::io_context ioc;
  auto guard = asio::make_work_guard(ioc);
  constexpr int requests = 48;
  constexpr int steps = 6;

  struct one {
    uuid base = uuid::random(), parent = uuid::random();
    request req;
    std::set<std::thread::id> threads;
    bool done = false;
  };
  std::vector<one> all(requests);
  std::atomic<int> leaks{0};
  std::atomic<int> remaining{requests};

  for (one& r : all) {
    r.req = request{http::verb::get, "/work", 11};
    const auto s = osprof::sign_trace_info("K", r.base, r.parent);
    r.req.set("X-Trace-Info", s.info);
    r.req.set("X-Trace-HMAC", s.hmac);
    asio::co_spawn(
        asio::make_strand(ioc),
        [&]() -> asio::awaitable<void> {
          if (osprof::get() != nullptr) ++leaks;
          const response res = co_await server.async_handle(r.req, [&]() -> asio::awaitable<response> {
            auto ex = co_await asio::this_coro::executor;
            for (int i = 0; i < steps; ++i) {
              OSPROF_TRACE("step", {{"i", i}});
              r.threads.insert(std::this_thread::get_id());
              if (osprof::get() == nullptr || osprof::get()->base_id() != r.base) ++leaks;
              asio::steady_timer timer(ex, std::chrono::microseconds(200 * (i % 3)));
              co_await timer.async_wait(asio::use_awaitable);
              co_await asio::post(ioc, asio::use_awaitable);  // via another executor, back to ours
              r.threads.insert(std::this_thread::get_id());
              if (osprof::get() == nullptr || osprof::get()->base_id() != r.base) ++leaks;
            }
            co_return response{http::status::ok, 11};
          });
          EXPECT_EQ(res.result(), http::status::ok);
          if (osprof::get() != nullptr) ++leaks;
          r.done = true;
          if (--remaining == 0) guard.reset();
        },
        asio::detached);
  }
  // Plain handlers in between must never find a profiler installed.
  std::atomic<bool> stop_probes{false};
  std::function<void()> probe = [&] {
    if (osprof::get() != nullptr) ++leaks;
    if (!stop_probes) asio::post(ioc, probe);
  };
  for (int i = 0; i < 2; ++i) asio::post(ioc, probe);
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) pool.emplace_back([&] { ioc.run_one(); while (remaining > 0 && ioc.run_one()) {} stop_probes = true; });
  for (auto& t : pool) t.join();
  ioc.restart();
  ioc.run();  // the last probes

  EXPECT_EQ(leaks.load(), 0);
  int hopped = 0;
  for (one& r : all) {
    EXPECT_TRUE(r.done);
    hopped += r.threads.size() > 1 ? 1 : 0;
    const auto ev = events(r.base);
    ASSERT_EQ(ev.size(), 2u * (1 + steps)) << r.base.to_string();
    osprof::test::expect_one_tree(ev, r.base.to_string(), {r.parent.to_string()});
    const auto* wsgi = osprof::test::only(ev, "wsgi");
    ASSERT_NE(wsgi, nullptr);
    EXPECT_EQ(wsgi->parent_id, r.parent.to_string());
    for (const auto& e : ev) {
      if (e.point() == "step") {
        EXPECT_EQ(e.parent_id, wsgi->trace_id);
      }
    }
  }
  std::printf("requests that resumed on more than one thread: %d of %d\n", hopped, requests);
}

// Concurrent branches of one request, each on a fork: their points nest correctly.
TEST_F(TracedExecutorTest, ForkedBranchesRunConcurrently) {
  using namespace asio::experimental::awaitable_operators;
  const uuid base = uuid::random(), parent = uuid::random();
  auto trace = osprof::propagated_trace::create(osprof::trace_context{base, parent, "K"});
  asio::io_context ioc;
  const auto branch = [&](const char* name) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 5; ++i) {
      OSPROF_TRACE(name, {{"i", i}});
      OSPROF_TRACE("leaf");
      asio::steady_timer timer(ex, std::chrono::microseconds(100 * (i % 2)));
      co_await timer.async_wait(asio::use_awaitable);
    }
  };
  std::string fork_parent;
  asio::co_spawn(
      osprof::beast::make_traced_strand(ioc.get_executor(), trace),
      [&]() -> asio::awaitable<void> {
        OSPROF_TRACE("fan-out");
        fork_parent = osprof::get()->id().to_string();
        auto ex = co_await asio::this_coro::executor;
        co_await (asio::co_spawn(osprof::beast::fork(ex), branch("a"), asio::use_awaitable) &&
                  asio::co_spawn(osprof::beast::fork(ex), branch("b"), asio::use_awaitable));
      },
      asio::detached);
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) pool.emplace_back([&] { ioc.run(); });
  for (auto& t : pool) t.join();

  const auto ev = events(base);
  ASSERT_EQ(ev.size(), 2u * (1 + 10 + 10));
  osprof::test::expect_one_tree(ev, base.to_string(), {parent.to_string()});
  const auto points = osprof::test::points_of(ev);
  for (const auto& e : ev) {
    if (!e.is_start()) continue;
    if (e.point() == "a" || e.point() == "b") {
      EXPECT_EQ(e.parent_id, fork_parent);
    }
    if (e.point() == "leaf") {
      const auto* up = points.at(e.parent_id).start;
      EXPECT_TRUE(up->point() == "a" || up->point() == "b") << e.json;
    }
  }
}

// Callback style: a completion handler bound with bind_trace runs inside the trace on whatever
// pool thread completes it, and the point it stops is the one its initiator started.
TEST_F(TracedExecutorTest, BoundCompletionHandlers) {
  const uuid base = uuid::random(), parent = uuid::random();
  auto trace = osprof::propagated_trace::create(osprof::trace_context{base, parent, "K"});
  asio::io_context ioc;
  auto guard = asio::make_work_guard(ioc);
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) pool.emplace_back([&] { ioc.run(); });

  constexpr int chain = 10;
  std::promise<void> done;
  std::atomic<int> outside{0};
  std::function<void(int)> next = [&](int i) {
    if (i == chain) {
      done.set_value();
      return;
    }
    osprof::start("wait", {{"i", i}});
    auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::microseconds(50));
    timer->async_wait(osprof::beast::bind_trace(ioc.get_executor(), [&, i, timer](boost::system::error_code) {
      if (osprof::get() == nullptr || osprof::get()->base_id() != base) ++outside;
      osprof::stop();
      next(i + 1);
    }));
  };
  asio::post(osprof::beast::make_traced_strand(ioc.get_executor(), trace), [&] { next(0); });
  done.get_future().wait();
  guard.reset();
  for (auto& t : pool) t.join();

  EXPECT_EQ(outside.load(), 0);
  const auto ev = events(base);
  ASSERT_EQ(ev.size(), 2u * chain);
  osprof::test::expect_one_tree(ev, base.to_string(), {parent.to_string()});
  for (const auto& e : ev) EXPECT_EQ(e.parent_id, parent.to_string()) << e.json;
}

}  // namespace
