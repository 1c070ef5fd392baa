#include <osprof/uuid.hpp>

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/random.hpp"

namespace {

TEST(Uuid, RandomIsVersion4LowercaseHyphenated) {
  for (int i = 0; i < 1000; ++i) {
    const std::string s = osprof::uuid::random().to_string();
    ASSERT_EQ(s.size(), 36u);
    EXPECT_EQ(s[8], '-');
    EXPECT_EQ(s[13], '-');
    EXPECT_EQ(s[18], '-');
    EXPECT_EQ(s[23], '-');
    EXPECT_EQ(s[14], '4') << s;                        // version
    EXPECT_NE(std::string("89ab").find(s[19]), std::string::npos) << s;  // variant
    for (char c : s) EXPECT_TRUE(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << s;
  }
}

TEST(Uuid, RoundTripsThroughText) {
  const auto id = osprof::uuid::random();
  const auto parsed = osprof::uuid::parse(id.to_string());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, id);
  const auto fixed = osprof::uuid::parse("11111111-2222-3333-4444-555555555555");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->hi, 0x1111111122223333ull);
  EXPECT_EQ(fixed->lo, 0x4444555555555555ull);
  EXPECT_EQ(osprof::uuid::parse("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE")->to_string(),
            "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
}

TEST(Uuid, FormatsEveryDigitInPlace) {
  const osprof::uuid id{0x0123456789abcdefull, 0xfedcba9876543210ull};
  EXPECT_EQ(id.to_string(), "01234567-89ab-cdef-fedc-ba9876543210");
  EXPECT_EQ((osprof::uuid{0, 0}).to_string(), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ((osprof::uuid{~0ull, ~0ull}).to_string(), "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

TEST(Uuid, RejectsMalformedText) {
  for (const char* bad : {"", "a", "11111111-2222-3333-4444-55555555555", "11111111-2222-3333-4444-5555555555555",
                          "111111112222-3333-4444-555555555555-", "1111111g-2222-3333-4444-555555555555",
                          "11111111_2222_3333_4444_555555555555", "{11111111-2222-3333-4444-5555555555}"}) {
    EXPECT_FALSE(osprof::uuid::parse(bad)) << bad;
  }
}

TEST(Uuid, ParseLikeTakesTheOtherSpellingsOfAUuid) {
  const osprof::uuid want = *osprof::uuid::parse("0123abcd-4567-89ef-0123-456789abcdef");
  for (const char* good : {"0123abcd-4567-89ef-0123-456789abcdef", "0123ABCD-4567-89EF-0123-456789ABCDEF",
                           "0123abcd456789ef0123456789abcdef", "{0123abcd-4567-89ef-0123-456789abcdef}",
                           "urn:uuid:0123abcd-4567-89ef-0123-456789abcdef", "uuid:0123abcd456789ef0123456789abcdef",
                           "0123-abcd-4567-89ef-0123-4567-89ab-cdef", "{{0123abcd456789ef0123456789abcdef}"}) {
    const auto parsed = osprof::uuid::parse_like(good);
    ASSERT_TRUE(parsed) << good;
    EXPECT_EQ(*parsed, want) << good;
  }
  for (const char* bad : {"", "run-42", "0123abcd456789ef0123456789abcde", "0123abcd456789ef0123456789abcdef0",
                          " 0123abcd456789ef0123456789abcdef", "0123abcd_456789ef0123456789abcdef",
                          "URN:UUID:0123abcd456789ef0123456789abcdef", "0x0123abcd456789ef0123456789abcdef"}) {
    EXPECT_FALSE(osprof::uuid::parse_like(bad)) << bad;
  }
}

TEST(Uuid, ThreadsDrawDistinctIds) {
  std::vector<std::vector<osprof::uuid>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 5000; ++i) out.push_back(osprof::uuid::random());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::pair<std::uint64_t, std::uint64_t>> all;
  for (const auto& v : per_thread) {
    for (const auto& id : v) all.emplace(id.hi, id.lo);
  }
  EXPECT_EQ(all.size(), 20000u);
}

}  // namespace
