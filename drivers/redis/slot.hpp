// Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its {hash tag}, modulo 16384,
// exactly as the server computes it (cluster.c keyHashSlot), so keys go straight to the node
// that owns them.
#pragma once

#include <cstdint>
#include <string_view>

namespace osprof::detail::redis {

inline constexpr std::uint16_t slot_count = 16384;

std::uint16_t crc16(std::string_view data) noexcept;

/// The slot of `key`, honouring a non-empty {hash tag}.
std::uint16_t key_slot(std::string_view key) noexcept;

/// A short text whose slot is `slot`: written as "{tag}" inside a key, it places that key in
/// `slot` (used for the per-slot writer keys of the cluster mode).
std::string_view slot_tag(std::uint16_t slot);

}  // namespace osprof::detail::redis
