// Bounds an awaitable by a deadline, the one way osprof does it (Asio 1.81 has no
// cancel_after): the operation and a timer run as a parallel group, and whichever ends first
// cancels the other. wait_for_one, not `||`: an operation that fails must end the wait too
// (`||` waits for a success).
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace osprof::detail {

/// `op`'s result, or nullopt when `timeout` passed first (`op` is then cancelled). An
/// exception from `op` is rethrown.
template <typename T>
boost::asio::awaitable<std::optional<T>> with_timeout(boost::asio::awaitable<T> op, std::chrono::steady_clock::duration timeout) {
  namespace asio = boost::asio;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex, timeout);
  auto [order, failure, value, timer_ec] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(op), asio::deferred),
                                                       timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 1) co_return std::nullopt;
  if (failure) std::rethrow_exception(failure);
  co_return std::optional<T>(std::move(value));
}

/// For an operation without a result: false when `timeout` passed first.
inline boost::asio::awaitable<bool> with_timeout(boost::asio::awaitable<void> op, std::chrono::steady_clock::duration timeout) {
  namespace asio = boost::asio;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex, timeout);
  auto [order, failure, timer_ec] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(op), asio::deferred),
                                                       timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 1) co_return false;
  if (failure) std::rethrow_exception(failure);
  co_return true;
}

}  // namespace osprof::detail
