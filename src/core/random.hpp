// Per-thread pseudo-random generator for ids: wyrand (a 64-bit Weyl sequence through one
// 128-bit multiply, 3-4 instructions), seeded from the OS once per process (getrandom) and
// mixed with a per-thread counter. Reseeded in a child after fork(), so parent and child never
// produce the same ids.
#pragma once

#include <cstdint>

#include <osprof/uuid.hpp>

namespace osprof::detail {

struct rng_state {
  std::uint64_t s;
  std::uint64_t fork_epoch;  // the process's fork epoch this state was seeded in
};

inline constinit thread_local rng_state thread_rng{0, 0};

/// Bumped in the child after every fork(); 0 means "never seeded".
extern std::uint64_t fork_epoch;

void seed_thread_rng() noexcept;

inline std::uint64_t next_random() noexcept {
  rng_state& r = thread_rng;
  if (r.fork_epoch != fork_epoch) [[unlikely]] seed_thread_rng();
  r.s += 0xa0761d6478bd642full;
  __extension__ using u128 = unsigned __int128;  // GCC and Clang
  const u128 t = static_cast<u128>(r.s) * (r.s ^ 0xe7037ed1a0b428dbull);
  return static_cast<std::uint64_t>(t >> 64) ^ static_cast<std::uint64_t>(t);
}

/// A uuid4 from this thread's generator (uuid::random(), inlined for the trace points).
inline uuid random_uuid() noexcept {
  uuid id{next_random(), next_random()};
  id.hi = (id.hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  id.lo = (id.lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  return id;
}

}  // namespace osprof::detail
