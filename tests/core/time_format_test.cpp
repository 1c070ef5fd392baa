#include <gtest/gtest.h>

#include "common/time_format.hpp"

namespace {

using osprof::detail::format_timestamp;
using osprof::detail::parse_timestamp;

TEST(Timestamp, FormatsLikePythonStrftimeWithMicroseconds) {
  // 2026-11-25T15:26:21.360902 UTC, from the OSProfiler capture in the reference.
  const std::int64_t us = 1795620381360902;
  EXPECT_EQ(format_timestamp(us), "2026-11-25T15:26:21.360902");
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000000");
  EXPECT_EQ(format_timestamp(951782400000001), "2000-02-29T00:00:00.000001");  // leap day
  EXPECT_EQ(format_timestamp(1704067199999999), "2023-12-31T23:59:59.999999");
}

TEST(Timestamp, ParsesWhatItFormats) {
  for (std::int64_t us : {std::int64_t{0}, std::int64_t{951782400000001}, std::int64_t{1795620381360902},
                          std::int64_t{4102444800123456}}) {
    const auto parsed = parse_timestamp(format_timestamp(us));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, us);
  }
}

TEST(Timestamp, RequiresMicroseconds) {
  EXPECT_FALSE(parse_timestamp("2026-11-25T15:26:21"));
  EXPECT_FALSE(parse_timestamp("2026-11-25T15:26:21.36090"));
  EXPECT_FALSE(parse_timestamp("2026-11-25 15:26:21.360902"));
  EXPECT_FALSE(parse_timestamp("2026-13-25T15:26:21.360902"));
  EXPECT_FALSE(parse_timestamp("2026-11-25T15:26:21.36090x"));
}

}  // namespace
