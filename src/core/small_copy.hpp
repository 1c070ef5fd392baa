// Copies of a few bytes without a call into libc: trace-point names, info keys and short
// strings are mostly under 32 bytes, where memcpy's call and dispatch cost more than the copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace osprof::detail {

/// Copies `n` bytes, `width` <= n <= 2 x `width`, as the first and the last `width` bytes
/// (overlapping): fixed-size memcpys compile to single loads and stores.
template <std::size_t width>
inline void copy_first_and_last(unsigned char* d, const unsigned char* s, std::size_t n) noexcept {
  unsigned char first[width], last[width];
  std::memcpy(first, s, width);
  std::memcpy(last, s + n - width, width);
  std::memcpy(d, first, width);
  std::memcpy(d + n - width, last, width);
}

inline void copy_bytes(void* dst, const void* src, std::size_t n) noexcept {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (n >= 16) {
    if (n > 64) {
      std::memcpy(d, s, n);
    } else if (n > 32) {
      // A held start's info with its name, most span records' payloads.
      copy_first_and_last<32>(d, s, n);
    } else {
      copy_first_and_last<16>(d, s, n);
    }
  } else if (n >= 8) {
    copy_first_and_last<8>(d, s, n);
  } else if (n >= 4) {
    copy_first_and_last<4>(d, s, n);
  } else if (n != 0) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

}  // namespace osprof::detail
