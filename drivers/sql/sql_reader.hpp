// The read side of the SQL drivers, written once: `trace show`, `trace list` and
// `trace list --error-trace` as queries on OSProfiler's `data` table (and the indexes Python
// makes), through whatever runs a query for the driver (query_runner).
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/driver.hpp>

#include "drivers/sql/sql_layout.hpp"

namespace osprof::detail::sql {

namespace asio = boost::asio;

/// The rows of a query's answer, every cell as text (nullopt for NULL).
struct result_rows {
  std::size_t columns = 0;
  std::vector<std::optional<std::string>> cells;  ///< row after row

  std::size_t size() const noexcept { return columns == 0 ? 0 : cells.size() / columns; }
  const std::optional<std::string>& at(std::size_t row, std::size_t column) const { return cells[row * columns + column]; }
  std::string_view text(std::size_t row, std::size_t column) const {
    const auto& cell = at(row, column);
    return cell ? std::string_view(*cell) : std::string_view();
  }
};

/// Runs one query for a reader. Parameters are text and appear in `sql` as placeholder(d, i).
/// Throws osprof::error (with a clear message, never a password) when the backend fails.
class query_runner {
 public:
  virtual ~query_runner() = default;
  virtual asio::awaitable<result_rows> query(std::string sql, std::vector<std::string> params) = 0;
};

/// The text of parameter `index` (1-based) in `d`: $1 for PostgreSQL, ? otherwise.
std::string placeholder(dialect d, std::size_t index);

class sql_reader final : public reader {
 public:
  sql_reader(dialect d, std::unique_ptr<query_runner> runner) : dialect_(d), runner_(std::move(runner)) {}

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override;
  asio::awaitable<std::vector<trace_summary>> list_traces() override;
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override;
  /// Walks the timestamp index newest first, in chunks, and stops once the page is certain
  /// (every trace that started after the walk's position is known); an id prefix is a range of
  /// the base_id index instead.
  asio::awaitable<trace_page> list_page(const list_query& query) override;

 private:
  /// Of `ids`: base_id -> start (earliest timestamp).
  asio::awaitable<std::vector<trace_summary>> starts_of(const std::vector<std::string>& ids);
  /// Of `ids`: those that pass the error and field filters.
  asio::awaitable<std::set<std::string>> passing(const list_query& query, const std::vector<std::string>& ids);
  /// The page rows' first point, service, latest event, event count and error flag.
  asio::awaitable<void> add_details(std::vector<trace_summary>& rows);

  dialect dialect_;
  std::unique_ptr<query_runner> runner_;
};

}  // namespace osprof::detail::sql
