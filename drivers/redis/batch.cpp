#include "drivers/redis/batch.hpp"

#include <unordered_map>

#include "drivers/redis/client.hpp"
#include "drivers/redis/slot.hpp"

namespace osprof::detail::redis {

namespace {

struct uuid_hash {
  std::size_t operator()(const uuid& id) const noexcept { return static_cast<std::size_t>(id.hi ^ (id.lo * 0x9e3779b97f4a7c15ULL)); }
};

enum class command_kind : std::uint8_t { lpush, expire, set_error };

struct planned_command {
  command_kind kind;
  std::size_t trace;  // index into traces
  std::uint16_t slot;
};

struct trace_entry {
  std::string base_id;
  std::string list_key;
  std::vector<std::uint32_t> events;  // indices into the batch, oldest first
  std::int64_t last_error = -1;       // index of the latest error event
};

}  // namespace

std::string error_flag_json(std::string_view base_id, std::string_view timestamp) {
  std::string out = "{\"base_id\": \"";
  out += base_id;
  out += "\", \"timestamp\": \"";
  out += timestamp;
  out += "\"}";
  return out;
}

std::vector<encoded_group> encode_batch(std::span<const event_record> batch, const encode_settings& settings,
                                        std::vector<std::string>* spare) {
  std::vector<trace_entry> traces;
  std::unordered_map<uuid, std::size_t, uuid_hash> index;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const event_record& e = batch[i];
    auto [it, inserted] = index.try_emplace(e.base_id, traces.size());
    if (inserted) {
      trace_entry t;
      t.base_id = e.base_id.to_string();
      t.list_key.reserve(list_prefix.size() + t.base_id.size());
      t.list_key.append(list_prefix).append(t.base_id);
      traces.push_back(std::move(t));
    }
    trace_entry& t = traces[it->second];
    t.events.push_back(static_cast<std::uint32_t>(i));
    if (settings.filter_error_trace && e.is_stop && e.has_error) t.last_error = static_cast<std::int64_t>(i);
  }

  // The data commands, each with the slot of its key.
  std::vector<planned_command> commands;
  std::vector<std::string> error_keys(traces.size());
  for (std::size_t t = 0; t < traces.size(); ++t) {
    const std::uint16_t list_slot = settings.cluster ? key_slot(traces[t].list_key) : 0;
    commands.push_back({command_kind::lpush, t, list_slot});
    if (settings.ttl_seconds != 0) commands.push_back({command_kind::expire, t, list_slot});
    if (traces[t].last_error >= 0) {
      error_keys[t].append(error_prefix).append(traces[t].base_id);
      commands.push_back({command_kind::set_error, t, settings.cluster ? key_slot(error_keys[t]) : std::uint16_t{0}});
    }
  }

  // Which group each command joins: one per batch, per slot (cluster), or per key (no dedup;
  // an EXPIRE stays with its LPUSH).
  std::vector<std::size_t> group_of(commands.size());
  std::vector<std::uint16_t> group_slots;
  if (settings.dedup) {
    std::unordered_map<std::uint16_t, std::size_t> by_slot;
    for (std::size_t c = 0; c < commands.size(); ++c) {
      auto [it, inserted] = by_slot.try_emplace(commands[c].slot, group_slots.size());
      if (inserted) group_slots.push_back(commands[c].slot);
      group_of[c] = it->second;
    }
  } else {
    for (std::size_t c = 0; c < commands.size(); ++c) {
      if (commands[c].kind == command_kind::expire) {
        group_of[c] = group_of[c - 1];
        continue;
      }
      group_of[c] = group_slots.size();
      group_slots.push_back(commands[c].slot);
    }
  }

  std::vector<encoded_group> groups(group_slots.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    groups[g].slot = group_slots[g];
    if (spare != nullptr && !spare->empty()) {
      // A large payload's fresh allocation costs page faults on every batch; reuse one.
      groups[g].payload = std::move(spare->back());
      spare->pop_back();
      groups[g].payload.clear();
    }
    if (settings.dedup) command_writer(groups[g].payload).command("MULTI");
  }
  for (std::size_t c = 0; c < commands.size(); ++c) {
    encoded_group& g = groups[group_of[c]];
    const trace_entry& t = traces[commands[c].trace];
    command_writer w(g.payload);
    switch (commands[c].kind) {
      case command_kind::lpush: {
        // Oldest first: the last value pushed ends up at the head, so the list reads newest
        // first, exactly as one LPUSH per event would leave it.
        std::size_t bytes = 0;
        for (const auto i : t.events) bytes += batch[i].json.size() + 16;
        g.payload.reserve(g.payload.size() + bytes + 64);
        w.begin(2 + t.events.size()).arg("LPUSH").arg(t.list_key);
        for (const auto i : t.events) w.arg(batch[i].json);
        g.events_per_command.push_back(static_cast<std::uint32_t>(t.events.size()));
        g.events += static_cast<std::uint32_t>(t.events.size());
        if (g.first_key.empty()) g.first_key = t.list_key;
        break;
      }
      case command_kind::expire:
        w.command("EXPIRE", t.list_key, static_cast<std::int64_t>(settings.ttl_seconds));
        g.events_per_command.push_back(0);
        break;
      case command_kind::set_error: {
        const event_record& e = batch[static_cast<std::size_t>(t.last_error)];
        const std::string value = error_flag_json(t.base_id, e.timestamp_text());
        const std::string& key = error_keys[commands[c].trace];
        if (settings.ttl_seconds != 0) {
          w.command("SET", key, value, "EX", static_cast<std::int64_t>(settings.ttl_seconds));
        } else {
          w.command("SET", key, value);
        }
        g.events_per_command.push_back(0);
        if (g.first_key.empty()) g.first_key = key;
        break;
      }
    }
  }
  for (encoded_group& g : groups) {
    const std::size_t data = g.events_per_command.size();
    if (!settings.dedup) {
      g.replies = data;
      continue;
    }
    g.writer_key.append(writer_prefix).append(settings.writer_id);
    if (settings.cluster) g.writer_key.append(":{").append(slot_tag(g.slot)).append("}");
    command_writer(g.payload)
        .command("SET", g.writer_key, static_cast<std::int64_t>(settings.sequence), "EX", writer_key_ttl_seconds)
        .command("EXEC");
    g.replies = data + 3;  // +OK, QUEUED for each command and the writer key, the EXEC array
  }
  return groups;
}

namespace {

group_outcome not_applied(const encoded_group& group, const resp_value& cause) {
  group_outcome out;
  out.error = cause.text;
  const std::string_view code = cause.error_code();
  if (code == "MOVED" || code == "ASK") {
    out.redirect = parse_redirect(cause);
    if (out.redirect) {
      out.what = code == "MOVED" ? group_outcome::verdict::moved : group_outcome::verdict::ask;
      return out;
    }
    out.what = group_outcome::verdict::retry;
    out.failure = failure_kind::busy;
    return out;
  }
  out.failure = classify_error(cause);
  if (out.failure == failure_kind::busy || out.failure == failure_kind::connection) {
    out.what = group_outcome::verdict::retry;
    return out;
  }
  out.what = group_outcome::verdict::refused;
  out.rejected = group.events;
  return out;
}

}  // namespace

group_outcome evaluate_group(const encoded_group& group, std::span<const resp_value> replies, bool dedup) {
  group_outcome out;
  if (!dedup) {
    for (std::size_t i = 0; i < replies.size() && i < group.events_per_command.size(); ++i) {
      const resp_value& r = replies[i];
      if (!r.is_error()) continue;
      const std::string_view code = r.error_code();
      const failure_kind kind = classify_error(r);
      if (code == "MOVED" || code == "ASK" || kind == failure_kind::busy || kind == failure_kind::auth) {
        return not_applied(group, r);
      }
      // WRONGTYPE and the like: these events cannot be stored under this key.
      out.rejected += group.events_per_command[i];
      if (out.error.empty()) out.error = r.text;
    }
    return out;
  }
  const resp_value& exec = replies.back();
  if (exec.is_array()) {
    for (std::size_t i = 0; i < exec.elements.size() && i < group.events_per_command.size(); ++i) {
      const resp_value& r = exec.elements[i];
      if (!r.is_error()) continue;
      out.rejected += group.events_per_command[i];
      if (out.error.empty()) out.error = r.text + " (key " + group.first_key + ")";
    }
    return out;
  }
  // Not applied: the first error explains why (EXEC only says EXECABORT).
  for (std::size_t i = 0; i + 1 < replies.size(); ++i) {
    if (replies[i].is_error()) return not_applied(group, replies[i]);
  }
  if (exec.is_error()) return not_applied(group, exec);
  // EXEC answered nil (a WATCHed key changed; this driver watches none): try again.
  out.what = group_outcome::verdict::retry;
  out.failure = failure_kind::busy;
  out.error = "the transaction was aborted (EXEC returned " + exec.describe() + ")";
  return out;
}

}  // namespace osprof::detail::redis
