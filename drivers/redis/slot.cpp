#include "drivers/redis/slot.hpp"

#include <array>
#include <string>
#include <vector>

namespace osprof::detail::redis {

namespace {

constexpr std::array<std::uint16_t, 256> make_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int b = 0; b < 8; ++b) crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    table[i] = crc;
  }
  return table;
}

constexpr auto crc_table = make_table();

}  // namespace

std::uint16_t crc16(std::string_view data) noexcept {
  std::uint16_t crc = 0;
  for (const char c : data) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ crc_table[((crc >> 8) ^ static_cast<unsigned char>(c)) & 0xff]);
  }
  return crc;
}

std::uint16_t key_slot(std::string_view key) noexcept {
  const auto open = key.find('{');
  if (open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close != open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<std::uint16_t>(crc16(key) & (slot_count - 1));
}

std::string_view slot_tag(std::uint16_t slot) {
  // Built once: counting up in base 36 reaches every slot within ~200,000 candidates.
  static const std::vector<std::string> tags = [] {
    std::vector<std::string> out(slot_count);
    std::size_t missing = slot_count;
    static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (std::uint64_t n = 0; missing != 0; ++n) {
      std::string tag;
      std::uint64_t v = n;
      do {
        tag += digits[v % 36];
        v /= 36;
      } while (v != 0);
      std::string& slot_entry = out[crc16(tag) & (slot_count - 1)];
      if (slot_entry.empty()) {
        slot_entry = std::move(tag);
        --missing;
      }
    }
    return out;
  }();
  return tags[slot & (slot_count - 1)];
}

}  // namespace osprof::detail::redis
