// Copies of a few bytes without a call into libc: trace-point names, info keys and short
// strings are mostly under 32 bytes, where memcpy's call and dispatch cost more than the copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace osprof::detail {

inline void copy_bytes(void* dst, const void* src, std::size_t n) noexcept {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  // Two overlapping moves cover every size in a range; the fixed-size memcpys compile to
  // single loads and stores.
  if (n >= 16) {
    if (n > 32) {
      if (n > 64) {
        std::memcpy(d, s, n);
        return;
      }
      // 33-64 bytes (a held start's info with its name, most span records): the first and
      // the last 32, overlapping, instead of libc's call and size dispatch.
      std::uint64_t a[4], b[4];
      std::memcpy(a, s, 32);
      std::memcpy(b, s + n - 32, 32);
      std::memcpy(d, a, 32);
      std::memcpy(d + n - 32, b, 32);
      return;
    }
    std::uint64_t a[2], b[2];
    std::memcpy(a, s, 16);
    std::memcpy(b, s + n - 16, 16);
    std::memcpy(d, a, 16);
    std::memcpy(d + n - 16, b, 16);
  } else if (n >= 8) {
    std::uint64_t a, b;
    std::memcpy(&a, s, 8);
    std::memcpy(&b, s + n - 8, 8);
    std::memcpy(d, &a, 8);
    std::memcpy(d + n - 8, &b, 8);
  } else if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    std::memcpy(d, &a, 4);
    std::memcpy(d + n - 4, &b, 4);
  } else if (n != 0) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

}  // namespace osprof::detail
