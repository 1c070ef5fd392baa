// Recognises the batch the emitter retries: it passes the same span again after a failed
// write, so a driver that keeps per-event progress across attempts (Elasticsearch items
// already stored, an OTLP body already built) resumes instead of starting over.
#pragma once

#include <cstdint>
#include <span>

#include "driver/event_record.hpp"

namespace osprof::detail::http {

struct batch_identity {
  const event_record* data = nullptr;
  std::size_t size = 0;
  std::uint64_t fingerprint = 0;

  static batch_identity of(std::span<const event_record> batch) noexcept {
    batch_identity id{batch.data(), batch.size(), 0};
    auto mix = [](std::uint64_t h, std::uint64_t v) { return (h ^ v) * 0x100000001b3ULL; };
    std::uint64_t h = 0xcbf29ce484222325ULL;
    h = mix(h, batch.size());
    if (!batch.empty()) {
      for (const event_record* e : {&batch.front(), &batch.back()}) {
        h = mix(h, e->trace_id.hi);
        h = mix(h, e->trace_id.lo);
        h = mix(h, static_cast<std::uint64_t>(e->time_us));
        h = mix(h, e->json.size());
      }
    }
    id.fingerprint = h;
    return id;
  }
  friend bool operator==(const batch_identity&, const batch_identity&) = default;
};

}  // namespace osprof::detail::http
