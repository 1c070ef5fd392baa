// What the writer knows about the batch in progress, event by event, across the emitter's
// attempts (keyed on batch::id): never sent, sent without a known outcome, stored, refused.
// A document sent again after an unknown outcome and refused as a duplicate of its own `_id`
// was stored by the earlier attempt, so it counts as stored; on a first send a duplicate means
// someone else's document holds that id, and it counts as refused. So emitted == written +
// dropped stays exact however attempts fail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <osprof/driver.hpp>

namespace osprof::detail::mongodb {

/// One sent document's outcome, from the server's answer.
enum class doc_outcome : std::uint8_t {
  stored,
  duplicate,  ///< 11000 on `_id`
  refused,    ///< any other per-document error that will not pass later
  retry,      ///< a per-document error that may pass later
  unknown,    ///< the command failed: stored or not, nobody knows
};

class batch_ledger {
 public:
  enum class state : std::uint8_t { pending, sent, stored, refused };

  /// Starts tracking `b`, or continues when it is the batch already in progress.
  void start(const batch& b) {
    if (active_ && b.id == id_ && states_.size() == b.size()) return;
    active_ = true;
    id_ = b.id;
    states_.assign(b.size(), state::pending);
    stored_ = refused_ = 0;
    first_refusal_.clear();
    flags_done_ = false;
  }

  state at(std::size_t i) const { return states_[i]; }
  bool settled(std::size_t i) const { return states_[i] == state::stored || states_[i] == state::refused; }
  std::size_t size() const { return states_.size(); }
  std::size_t stored() const { return stored_; }
  std::size_t refused() const { return refused_; }
  const std::string& first_refusal() const { return first_refusal_; }

  /// Before sending: the attempt's outcome may never arrive (a cancelled await).
  void sending(std::size_t i) {
    if (states_[i] == state::pending) states_[i] = state::sent;
  }
  void refuse(std::size_t i, const std::string& why) {
    if (settled(i)) return;
    states_[i] = state::refused;
    ++refused_;
    if (first_refusal_.empty()) first_refusal_ = why;
  }
  /// `was_sent`: whether the document had been sent by an earlier attempt of this batch.
  void apply(std::size_t i, doc_outcome outcome, bool was_sent, const std::string& why) {
    if (settled(i)) return;
    switch (outcome) {
      case doc_outcome::stored: store(i); break;
      case doc_outcome::duplicate:
        if (was_sent) {
          store(i);
        } else {
          refuse(i, why);
        }
        break;
      case doc_outcome::refused: refuse(i, why); break;
      case doc_outcome::retry:
      case doc_outcome::unknown: states_[i] = state::sent; break;
    }
  }
  std::size_t unsettled() const { return states_.size() - stored_ - refused_; }

  /// Error flags (profiler_error) are written once the events are settled.
  bool flags_done() const { return flags_done_; }
  void flags_written() { flags_done_ = true; }

  /// The batch is settled: stored, less what was refused.
  write_result done() const {
    write_result r;
    r.rejected = refused_;
    if (refused_ != 0) r.error = first_refusal_;
    return r;
  }
  /// The backend refused the rest for good: what earlier attempts stored stays written.
  write_result give_up(std::string why) const {
    if (stored_ == 0) return write_result::fatal(std::move(why));
    write_result r;
    r.rejected = states_.size() - stored_;
    r.error = std::move(why);
    return r;
  }

 private:
  void store(std::size_t i) {
    states_[i] = state::stored;
    ++stored_;
  }

  bool active_ = false;
  std::uint64_t id_ = 0;
  std::vector<state> states_;
  std::size_t stored_ = 0;
  std::size_t refused_ = 0;
  std::string first_refusal_;
  bool flags_done_ = false;
};

}  // namespace osprof::detail::mongodb
