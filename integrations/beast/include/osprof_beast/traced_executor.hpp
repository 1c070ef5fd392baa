// Carries a propagated trace across Asio handlers and threads: an executor adaptor that, around
// every function it runs, makes the trace the thread's profiler and then restores what was
// there. Coroutines co_spawned on it keep their trace whichever io_context thread resumes
// them; completion handlers bound to it (bind_trace) run inside the trace; and nothing stays
// installed on the thread once the function returns.
//
//   auto ex = osprof::beast::make_traced(asio::make_strand(ioc), trace);
//   asio::co_spawn(ex, work(), asio::detached);  // trace points in work() join `trace`
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_executor.hpp>

#include <osprof/propagation.hpp>

namespace osprof::beast {

namespace asio = boost::asio;

/// An executor that runs functions on `Executor` with a propagated trace active. Handlers that
/// share one trace must not run concurrently: put it over a strand (make_traced_strand), which
/// a Beast session has anyway. A null trace makes it a plain pass-through.
template <class Executor>
class traced_executor {
 public:
  using inner_executor_type = Executor;

  traced_executor(Executor inner, std::shared_ptr<propagated_trace> trace) noexcept
      : inner_(std::move(inner)), trace_(std::move(trace)) {}

  template <class Other>
    requires std::is_constructible_v<Executor, const Other&>
  traced_executor(const traced_executor<Other>& other) noexcept
      : inner_(other.get_inner_executor()), trace_(other.trace()) {}

  const Executor& get_inner_executor() const noexcept { return inner_; }
  const std::shared_ptr<propagated_trace>& trace() const noexcept { return trace_; }

  template <class Property>
    requires asio::can_query<const Executor&, Property>::value
  decltype(auto) query(const Property& p) const
      noexcept(asio::is_nothrow_query<const Executor&, Property>::value) {
    return asio::query(inner_, p);
  }

  template <class Property>
    requires asio::can_require<const Executor&, Property>::value
  auto require(const Property& p) const {
    using inner_t = std::decay_t<typename asio::require_result<const Executor&, Property>::type>;
    return traced_executor<inner_t>(asio::require(inner_, p), trace_);
  }

  template <class Property>
    requires asio::can_prefer<const Executor&, Property>::value
  auto prefer(const Property& p) const {
    using inner_t = std::decay_t<typename asio::prefer_result<const Executor&, Property>::type>;
    return traced_executor<inner_t>(asio::prefer(inner_, p), trace_);
  }

  template <class Function>
  void execute(Function&& f) const {
    asio::execution::execute(inner_, invoker<std::decay_t<Function>>{trace_, std::forward<Function>(f)});
  }

  friend bool operator==(const traced_executor& a, const traced_executor& b) noexcept {
    return a.inner_ == b.inner_ && a.trace_ == b.trace_;
  }
  friend bool operator!=(const traced_executor& a, const traced_executor& b) noexcept { return !(a == b); }

 private:
  template <class Function>
  struct invoker {
    std::shared_ptr<propagated_trace> trace;
    Function function;
    void operator()() {
      propagated_scope scope(trace.get());
      std::move(function)();
    }
  };

  Executor inner_;
  std::shared_ptr<propagated_trace> trace_;
};

/// `ex` with `trace` active around everything it runs.
template <class Executor>
traced_executor<Executor> make_traced(const Executor& ex, std::shared_ptr<propagated_trace> trace) {
  return traced_executor<Executor>(ex, std::move(trace));
}

/// The same over a new strand of `ex`, so that handlers sharing the trace never run at once.
template <class Executor>
traced_executor<asio::strand<Executor>> make_traced_strand(const Executor& ex, std::shared_ptr<propagated_trace> trace) {
  return traced_executor<asio::strand<Executor>>(asio::make_strand(ex), std::move(trace));
}

/// The trace active on this thread, to hand to work that continues it elsewhere: the active
/// propagated trace itself (shared, same stack of points), or for a thread profiler (init())
/// a new propagated trace that continues from its current point. nullptr without a profiler.
inline std::shared_ptr<propagated_trace> current_trace() {
  if (propagated_trace* active = propagated_trace::active()) return active->shared_from_this();
  if (auto ctx = capture()) return propagated_trace::create(*ctx);
  return nullptr;
}

/// Binds the current trace to a completion handler: it runs with the trace active on whatever
/// thread completes it, through the handler's associated executor (or `ex`).
template <class Executor, class Handler>
auto bind_trace(const Executor& ex, Handler&& handler) {
  auto associated = asio::get_associated_executor(handler, ex);
  return asio::bind_executor(make_traced(associated, current_trace()), std::forward<Handler>(handler));
}
template <class Handler>
auto bind_trace(Handler&& handler) {
  return bind_trace(asio::system_executor(), std::forward<Handler>(handler));
}

/// An executor for a branch that runs concurrently with the current work (e.g. both sides of
/// `co_await (a() && b())`): a fork of the current trace (a new stack of points whose parent
/// is the current point) on its own strand of `ex`.
template <class Executor>
auto fork(const Executor& ex) {
  auto trace = current_trace();
  return make_traced_strand(ex, trace != nullptr ? trace->fork() : nullptr);
}

}  // namespace osprof::beast
