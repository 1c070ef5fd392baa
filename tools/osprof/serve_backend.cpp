// The backend side of `osprof serve`: a few readers, each used by one read at a time (the
// reader contract), on a thread pool of their own so that a reader that blocks (SQLite) or a
// slow backend never holds up the accept loop or other connections. The connection's coroutine
// waits for a read with a deadline; past it the client gets 503 and the read is abandoned (its
// reader returns to the pool when the read ends, whenever that is).
#include <mutex>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <osprof/connection_string.hpp>
#include <osprof/error.hpp>

#include "serve.hpp"

namespace osprof::cli::serve {

namespace asio = boost::asio;

struct backend::pool {
  std::string connection_string;
  std::string redacted;
  std::chrono::milliseconds timeout;
  std::size_t max_readers;
  asio::thread_pool threads{2};

  struct slot {
    std::unique_ptr<reader> r;
    asio::strand<asio::thread_pool::executor_type> strand;
  };
  std::mutex mutex;
  std::vector<std::shared_ptr<slot>> idle;
  std::size_t busy = 0;
  bool stopped = false;

  explicit pool(const settings& s)
      : connection_string(s.connection_string),
        redacted(redact_connection_string(s.connection_string)),
        timeout(s.read_timeout),
        max_readers(s.readers) {}

  /// A free reader (a new one while fewer than max_readers exist), or nullptr when all are busy.
  std::shared_ptr<slot> try_acquire() {
    std::lock_guard lock(mutex);
    if (stopped) throw backend_unavailable{"the server is stopping"};
    if (!idle.empty()) {
      ++busy;
      auto s = std::move(idle.back());
      idle.pop_back();
      return s;
    }
    if (busy >= max_readers) return nullptr;
    ++busy;
    return std::make_shared<slot>(slot{nullptr, asio::make_strand(threads.get_executor())});
  }

  // A reader whose read failed is dropped: the next read makes a new one.
  void release(std::shared_ptr<slot> s, bool healthy) {
    std::lock_guard lock(mutex);
    --busy;
    if (healthy && !stopped) idle.push_back(std::move(s));
  }
};

namespace {

template <typename T>
struct read_state {
  explicit read_state(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<T> value;
  std::exception_ptr failure;
  bool done = false;
};

// Runs `op(reader)` on a pooled reader's strand and waits for it on the caller's executor, at
// most the pool's timeout.
template <typename T, typename Op>
asio::awaitable<T> run_read(std::shared_ptr<backend::pool> p, const Op& op) {
  auto caller = co_await asio::this_coro::executor;
  auto state = std::make_shared<read_state<T>>(caller);
  // All readers busy: wait for one, polling, within the same deadline.
  const auto deadline = std::chrono::steady_clock::now() + p->timeout;
  auto s = p->try_acquire();
  for (auto pause = std::chrono::milliseconds(1); !s; pause = std::min(pause * 2, std::chrono::milliseconds(20))) {
    if (std::chrono::steady_clock::now() + pause > deadline) {
      throw backend_unavailable{"busy: " + std::to_string(p->max_readers) + " reads from " + p->redacted +
                                " took the whole " + std::to_string(p->timeout.count()) + " ms"};
    }
    state->timer.expires_after(pause);
    co_await state->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    s = p->try_acquire();
  }
  state->timer.expires_at(deadline);
  auto read = [p, s, op]() -> asio::awaitable<T> {
    if (!s->r) {
      driver_context context;
      context.executor = s->strand;
      context.timeout = p->timeout;
      s->r = make_reader(p->connection_string, context);
    }
    co_return co_await op(*s->r);
  };
  asio::co_spawn(s->strand, std::move(read), [p, s, state, caller](std::exception_ptr e, T value) mutable {
    p->release(std::move(s), e == nullptr);
    // The state is only touched on the caller's executor.
    asio::post(caller, [state, e, value = std::move(value)]() mutable {
      state->done = true;
      state->failure = e;
      if (!e) state->value = std::move(value);
      state->timer.cancel();
    });
  });
  if (!state->done) co_await state->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!state->done) {
    throw backend_unavailable{"no answer from " + p->redacted + " within " + std::to_string(p->timeout.count()) +
                              " ms"};
  }
  if (state->failure) {
    try {
      std::rethrow_exception(state->failure);
    } catch (const backend_unavailable&) {
      throw;
    } catch (const std::exception& e) {
      throw backend_unavailable{e.what()};
    }
  }
  co_return std::move(*state->value);
}

}  // namespace

backend::backend(const settings& s)
    : pool_(std::make_shared<pool>(s)), redacted_(pool_->redacted), timeout_(s.read_timeout) {}

backend::~backend() { stop(); }

void backend::stop() {
  {
    std::lock_guard lock(pool_->mutex);
    if (pool_->stopped) return;
    pool_->stopped = true;
  }
  pool_->threads.stop();
  pool_->threads.join();
  std::lock_guard lock(pool_->mutex);
  pool_->idle.clear();
}

namespace {

// The operations are named objects, not lambdas inside a co_await expression (GCC 12 destroys
// those twice); run_read copies them into the read's own coroutine.
struct read_trace_op {
  std::string id;
  asio::awaitable<std::vector<std::string>> operator()(reader& r) const { return r.read_trace(id); }
};

struct list_page_op {
  list_query query;
  asio::awaitable<trace_page> operator()(reader& r) const { return r.list_page(query); }
};

}  // namespace

asio::awaitable<std::vector<std::string>> backend::read_trace(const std::string& base_id) {
  const read_trace_op op{base_id};
  co_return co_await run_read<std::vector<std::string>>(pool_, op);
}

asio::awaitable<trace_page> backend::list_page(const list_query& query) {
  const list_page_op op{query};
  try {
    co_return co_await run_read<trace_page>(pool_, op);
  } catch (const backend_unavailable& e) {
    // A filter the backend cannot apply is the request's fault: a 400, not a 503.
    if (e.what.find("cannot filter") != std::string::npos) throw error(e.what);
    throw;
  }
}

}  // namespace osprof::cli::serve
