#include <osprof/uuid.hpp>

#include <sys/random.h>

#include <atomic>
#include <chrono>
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

void uuid::format(char* out) const noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[pos++] = '-';
    const std::uint64_t word = i < 16 ? hi : lo;
    const int shift = 60 - 4 * (i % 16);
    out[pos++] = hex[(word >> shift) & 0xF];
  }
}

std::string uuid::to_string() const {
  std::string s(uuid_text_size, '\0');
  format(s.data());
  return s;
}

}  // namespace v1
}  // namespace osprof
