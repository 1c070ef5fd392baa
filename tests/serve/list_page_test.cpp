// reader::list_page()'s default: every trace from list_traces()/list_error_traces(), paged in
// memory (what a backend without its own paging gives osprof serve). The cursor keeps traces
// that share a start timestamp, pages hold every trace once, newest first, and filters the
// default cannot apply are refused, not ignored.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <osprof/driver.hpp>
#include <osprof/error.hpp>

namespace {

namespace asio = boost::asio;
using osprof::list_query;
using osprof::trace_page;
using osprof::trace_summary;

// Rows in no particular order; every third one failed; pairs share a timestamp.
class fixed_reader final : public osprof::reader {
 public:
  explicit fixed_reader(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      char ts[32];
      std::snprintf(ts, sizeof ts, "2026-11-01T00:%02zu:%02zu.000000", (i / 2) / 60, (i / 2) % 60);
      char id[40];
      std::snprintf(id, sizeof id, "%08zx-0000-4000-8000-000000000000", (i * 7919) % 1000);
      rows_.push_back({id, ts});
      if (i % 3 == 0) errors_.push_back({id, ts});
    }
    std::reverse(rows_.begin() + static_cast<std::ptrdiff_t>(n / 2), rows_.end());
  }
  asio::awaitable<std::vector<std::string>> read_trace(std::string_view) override { co_return std::vector<std::string>{}; }
  asio::awaitable<std::vector<trace_summary>> list_traces() override { co_return rows_; }
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override { co_return errors_; }

  std::vector<trace_summary> rows_, errors_;
};

trace_page page(osprof::reader& r, const list_query& q) {
  asio::io_context ioc;
  auto f = asio::co_spawn(ioc, r.list_page(q), asio::use_future);
  ioc.run();
  return f.get();
}

bool newer(const trace_summary& a, const trace_summary& b) {
  return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.base_id > b.base_id;
}

std::vector<trace_summary> all_pages(osprof::reader& r, list_query q, std::size_t* pages = nullptr) {
  std::vector<trace_summary> out;
  std::size_t n = 0;
  for (;;) {
    const trace_page p = page(r, q);
    ++n;
    out.insert(out.end(), p.traces.begin(), p.traces.end());
    if (!p.more) break;
    EXPECT_EQ(p.traces.size(), q.limit);
    q.after = p.traces.back();
    if (n > 1000) break;
  }
  if (pages) *pages = n;
  return out;
}

TEST(ListPage, PagesHoldEveryTraceOnceNewestFirst) {
  fixed_reader r(101);
  list_query q;
  q.limit = 10;
  std::size_t pages = 0;
  const auto rows = all_pages(r, q, &pages);
  EXPECT_EQ(pages, 11u);
  ASSERT_EQ(rows.size(), 101u);
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end(), newer));
  std::set<std::string> ids;
  for (const auto& row : rows) ids.insert(row.base_id);
  EXPECT_EQ(ids.size(), 101u);
}

TEST(ListPage, ErrorsTimeRangeAndIdPrefix) {
  fixed_reader r(60);
  list_query q;
  q.limit = 7;
  q.errors_only = true;
  EXPECT_EQ(all_pages(r, q).size(), r.errors_.size());

  q = {};
  q.limit = 4;
  q.since = "2026-11-01T00:00:10";
  q.until = "2026-11-01T00:00:20";
  const auto ranged = all_pages(r, q);
  const auto in_range = std::count_if(r.rows_.begin(), r.rows_.end(), [&](const trace_summary& t) {
    return t.timestamp >= q.since && t.timestamp < q.until;
  });
  EXPECT_EQ(static_cast<std::ptrdiff_t>(ranged.size()), in_range);
  EXPECT_EQ(in_range, 20);
  for (const auto& t : ranged) EXPECT_TRUE(t.timestamp >= q.since && t.timestamp < q.until) << t.timestamp;

  q = {};
  q.limit = 0;  // all
  q.id_prefix = r.rows_[5].base_id.substr(0, 7);
  const auto matched = page(r, q).traces;
  const auto want = std::count_if(r.rows_.begin(), r.rows_.end(),
                                  [&](const trace_summary& t) { return t.base_id.starts_with(q.id_prefix); });
  EXPECT_GE(want, 1);
  EXPECT_EQ(static_cast<std::ptrdiff_t>(matched.size()), want);
}

TEST(ListPage, FieldFiltersTheDefaultCannotApplyAreRefused) {
  fixed_reader r(3);
  list_query q;
  q.service = "api";
  EXPECT_THROW(page(r, q), osprof::error);
}

}  // namespace
