#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "core/small_copy.hpp"

namespace {

// Every size through each of copy_bytes' paths (the overlapping moves of 1-3, 4-7, 8-15,
// 16-32 and 33-64 bytes, memcpy above): the bytes copied exactly, nothing written around them.
TEST(SmallCopy, CopiesEverySizeExactlyAndNothingAroundIt) {
  constexpr std::size_t guard = 64;
  for (std::size_t n = 0; n <= 200; ++n) {
    std::vector<unsigned char> source(n + 2 * guard), target(n + 2 * guard, 0xEE);
    for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<unsigned char>(i * 7 + n + 1);
    osprof::detail::copy_bytes(target.data() + guard, source.data() + guard, n);
    for (std::size_t i = 0; i < guard; ++i) {
      ASSERT_EQ(target[i], 0xEE) << "size " << n << ", byte before at " << i;
      ASSERT_EQ(target[guard + n + i], 0xEE) << "size " << n << ", byte after at " << i;
    }
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(target[guard + i], source[guard + i]) << "size " << n << " at " << i;
  }
}

}  // namespace
