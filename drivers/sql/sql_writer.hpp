// What the SQL servers' writers (postgresql://, mysql://) share around their own SQL: the
// number a batch claims in osprof_writers, kept across the emitter's retries of that batch, and
// how an attempt's exception becomes the write_result the emitter acts on.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <osprof/driver.hpp>

namespace osprof::detail::sql {

/// A writer's id (32 random hex digits) and the number of its batch not yet known stored. A
/// retry of the same batch (same batch::id) keeps its number, so its claim tells whether an
/// attempt whose answer was lost committed; once the batch is settled (stored, refused, found
/// stored) the next batch gets the next number.
class batch_numbers {
 public:
  batch_numbers();

  const std::string& writer_id() const noexcept { return writer_id_; }

  /// The number batch `batch_id` claims.
  std::uint64_t claim(std::uint64_t batch_id) noexcept {
    if (!pending_ || pending_batch_ != batch_id) {
      pending_batch_ = batch_id;
      pending_number_ = ++last_number_;
      pending_ = true;
    }
    return pending_number_;
  }

  /// The pending batch's outcome is known: it will not be sent again.
  void settled() noexcept { pending_ = false; }

 private:
  std::string writer_id_;
  std::uint64_t last_number_ = 0;
  std::uint64_t pending_batch_ = 0;
  std::uint64_t pending_number_ = 0;
  bool pending_ = false;
};

/// Runs one attempt at a batch and says what the emitter does next: the driver's `Failure`
/// refused for good is fatal (and settles the batch); any other failure, a cancellation (the
/// emitter's write_timeout) or a socket error is retried, the last two on a new connection.
template <class Failure, class Connection>
boost::asio::awaitable<write_result> settle_attempt(Connection& conn, batch_numbers& numbers,
                                                    boost::asio::awaitable<write_result> attempt) {
  try {
    co_return co_await std::move(attempt);
  } catch (const Failure& f) {
    if (f.kind() == decltype(f.kind())::refused) {
      numbers.settled();
      co_return write_result::fatal(f.what());
    }
    co_return write_result::retryable(f.what());
  } catch (const boost::system::system_error& e) {
    // The connection is dropped; the batch's outcome is settled by its claim on the next attempt.
    conn.close();
    co_return write_result::retryable(conn.where() + ": " + e.what());
  } catch (const std::exception& e) {
    conn.close();  // write() never throws; a surprise costs the connection, not the batch
    co_return write_result::retryable(conn.where() + ": " + e.what());
  }
}

}  // namespace osprof::detail::sql
