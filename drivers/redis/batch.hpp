// Turns a batch of events into Redis commands in OSProfiler's layout, and judges the replies.
//
// Layout: each event is LPUSHed to osprofiler_opt:<base_id> (one LPUSH per trace per batch,
// values oldest first, so the list stays newest-first as OSProfiler's one-LPUSH-per-event
// writes leave it); a stop event with `etype` sets osprofiler_error:<base_id> to
// {"base_id", "timestamp"} (the batch's latest error per trace).
//
// Groups: with dedup on (the default) a group is one MULTI ... EXEC transaction that also
// sets this writer's sequence key to the batch number, so after a lost reply the driver can
// ask whether the transaction ran. A transaction must stay within one cluster slot, hence one
// group per slot in cluster mode and one group per batch otherwise. With dedup off, every key
// is a group of its own, sent as plain pipelined commands.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <osprof/driver.hpp>
#include "drivers/redis/connection.hpp"
#include "drivers/redis/redis_options.hpp"
#include "drivers/redis/resp.hpp"

namespace osprof::detail::redis {

inline constexpr std::string_view list_prefix = "osprofiler_opt:";
inline constexpr std::string_view error_prefix = "osprofiler_error:";
inline constexpr std::string_view legacy_prefix = "osprofiler:";
inline constexpr std::string_view writer_prefix = "osprof_writer:";

struct encode_settings {
  bool cluster = false;
  bool dedup = true;
  bool filter_error_trace = true;
  std::uint64_t ttl_seconds = 0;
  std::string writer_id;  ///< unique per driver instance
  std::uint64_t sequence = 0;  ///< this batch's number
};

struct encoded_group {
  std::uint16_t slot = 0;       ///< cluster: every key of the group hashes here
  std::string payload;          ///< the commands, ready to send
  std::size_t replies = 0;      ///< replies the payload produces
  std::vector<std::uint32_t> events_per_command;  ///< per data command: events it stores (0: flag, EXPIRE)
  std::uint32_t events = 0;     ///< events in the group
  std::string writer_key;       ///< dedup: the key EXEC sets to `sequence`
  std::string first_key;        ///< for messages
};

/// `spare`: strings whose capacity the payloads may reuse (taken from the back).
std::vector<encoded_group> encode_batch(std::span<const event_record> batch, const encode_settings& settings,
                                        std::vector<std::string>* spare = nullptr);

/// The error flag's value, as OSProfiler writes it.
std::string error_flag_json(std::string_view base_id, std::string_view timestamp);

struct group_outcome {
  enum class verdict : std::uint8_t {
    stored,    ///< applied (less `rejected` events refused for good, e.g. WRONGTYPE)
    moved,     ///< the slot lives elsewhere: update the map, send again
    ask,       ///< the slot is migrating: send again to `redirect` with ASKING
    retry,     ///< not applied; trying later may work (`failure` tells why)
    refused,   ///< not applied and never will be (auth, ACL, unknown error): drop the events
  };
  verdict what = verdict::stored;
  std::uint32_t rejected = 0;
  std::string error;
  failure_kind failure = failure_kind::server;
  std::optional<std::pair<std::uint16_t, endpoint>> redirect;
};

/// Judges the replies of one group (`replies` holds exactly group.replies values).
group_outcome evaluate_group(const encoded_group& group, std::span<const resp_value> replies, bool dedup);

}  // namespace osprof::detail::redis
