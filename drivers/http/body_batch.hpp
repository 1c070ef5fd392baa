// A batch written as one or more request bodies (InfluxDB, ClickHouse), kept across the
// emitter's retries of it: bodies already stored are not sent again, and events the server
// refused for good are counted once. `Body` has a `std::size_t events` member.
#pragma once

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "driver/driver.hpp"
#include "drivers/http/batch_identity.hpp"

namespace osprof::detail::http {

template <class Body>
struct body_batch {
  batch_identity identity;
  std::vector<Body> bodies;
  std::size_t next = 0;      ///< the first body not yet stored
  std::size_t rejected = 0;  ///< events the server refused for good
  std::string rejection;     ///< why (the first reason, or the one that refused everything)

  /// Whether `batch` is this one again (the emitter retrying it).
  bool is(std::span<const event_record> batch) const noexcept { return identity == batch_identity::of(batch); }
  std::size_t size() const noexcept { return identity.size; }
  bool done() const noexcept { return next == bodies.size(); }

  /// Counts every body not yet stored as refused for `why`.
  void give_up_rest(const std::string& why) {
    for (; next < bodies.size(); ++next) rejected += bodies[next].events;
    if (rejection.empty() || rejected >= size()) rejection = why;
  }

  /// The outcome once every body is stored or given up: failed if nothing was stored, else
  /// ok with the refused events counted.
  write_result outcome() const {
    const std::size_t refused = std::min(rejected, size());
    if (refused == size()) return write_result::fatal(rejection);
    write_result r;
    r.rejected = refused;
    r.error = rejection;
    return r;
  }
};

}  // namespace osprof::detail::http
