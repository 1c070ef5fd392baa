#include <osprof/uuid.hpp>

#include <sys/random.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>

#include "core/random.hpp"

namespace osprof::detail {

std::uint64_t fork_epoch = 1;

namespace {

std::atomic<std::uint64_t> process_seed{0};
std::atomic<std::uint64_t> thread_counter{0};

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t os_random64() noexcept {
  std::uint64_t value = 0;
  if (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
    // No entropy source: fall back to the clock, still unique per process in practice.
    value = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
            reinterpret_cast<std::uintptr_t>(&value);
  }
  return value;
}

}  // namespace

void seed_thread_rng() noexcept {
  std::uint64_t seed = process_seed.load(std::memory_order_acquire);
  if (seed == 0) {
    std::uint64_t fresh = os_random64() | 1;
    if (process_seed.compare_exchange_strong(seed, fresh)) seed = fresh;
  }
  std::uint64_t x = seed ^ (thread_counter.fetch_add(1, std::memory_order_relaxed) * 0xd1b54a32d192ed03ull);
  rng_state& r = thread_rng;
  r.s = splitmix64(x);
  r.fork_epoch = fork_epoch;
}

/// In the child after fork(): new process seed, and every thread (only the forking one exists)
/// reseeds on its next id.
void reseed_after_fork() noexcept {
  process_seed.store(0, std::memory_order_relaxed);
  ++fork_epoch;
}

}  // namespace osprof::detail

namespace osprof {
inline namespace v1 {

uuid uuid::random() noexcept { return detail::random_uuid(); }

namespace {
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<uuid> uuid::parse(std::string_view text) noexcept {
  if (text.size() != uuid_text_size) return std::nullopt;
  std::uint64_t words[2] = {0, 0};
  int nibble = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    const int v = hex_value(text[i]);
    if (v < 0) return std::nullopt;
    words[nibble / 16] = words[nibble / 16] << 4 | static_cast<std::uint64_t>(v);
    ++nibble;
  }
  return uuid{words[0], words[1]};
}

std::optional<uuid> uuid::parse_like(std::string_view text) {
  if (text.size() > 128) return std::nullopt;
  // oslo_utils.uuidutils._format_uuid_string: replace('urn:', ''), replace('uuid:', ''),
  // strip('{}'), replace('-', ''); what is left must be the uuid's 32 hex digits.
  std::string s(text);
  for (const std::string_view part : {std::string_view("urn:"), std::string_view("uuid:")}) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
      if (s.compare(i, part.size(), part) == 0) {
        i += part.size();
      } else {
        out += s[i++];
      }
    }
    s = std::move(out);
  }
  std::string_view v = s;
  while (!v.empty() && (v.front() == '{' || v.front() == '}')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '{' || v.back() == '}')) v.remove_suffix(1);
  std::uint64_t words[2] = {0, 0};
  int nibble = 0;
  for (const char c : v) {
    if (c == '-') continue;
    const int value = hex_value(c);
    if (value < 0 || nibble == 32) return std::nullopt;
    words[nibble / 16] = words[nibble / 16] << 4 | static_cast<std::uint64_t>(value);
    ++nibble;
  }
  if (nibble != 32) return std::nullopt;
  return uuid{words[0], words[1]};
}

namespace {

// "000102...feff": two hex digits per byte value, so a uuid is 16 two-byte copies rather than
// 32 shifts and lookups (the worker formats three ids per event, millions a second).
constexpr auto hex_pairs = [] {
  std::array<char, 512> table{};
  constexpr char hex[] = "0123456789abcdef";
  for (int b = 0; b < 256; ++b) {
    table[static_cast<std::size_t>(2 * b)] = hex[b >> 4];
    table[static_cast<std::size_t>(2 * b + 1)] = hex[b & 0xF];
  }
  return table;
}();

inline void put_byte(char* out, std::uint64_t byte) noexcept {
  std::memcpy(out, hex_pairs.data() + 2 * byte, 2);
}

}  // namespace

void uuid::format(char* out) const noexcept {
  // 8-4-4-4-12 digits: bytes 0-3 of hi, 4-5, 6-7; bytes 0-1 of lo, 2-7.
  static constexpr int at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
  for (int i = 0; i < 8; ++i) put_byte(out + at[i], (hi >> (56 - 8 * i)) & 0xFF);
  for (int i = 0; i < 8; ++i) put_byte(out + at[8 + i], (lo >> (56 - 8 * i)) & 0xFF);
  out[8] = out[13] = out[18] = out[23] = '-';
}

std::string uuid::to_string() const {
  std::string s(uuid_text_size, '\0');
  format(s.data());
  return s;
}

}  // namespace v1
}  // namespace osprof
