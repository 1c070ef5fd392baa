#include "drivers/otlp/otlp_spans.hpp"

namespace osprof::detail::otlp {

span_record span_joiner::release(const uuid& trace_id, held_start&& h) const {
  span_record s;
  s.base_id = h.base_id;
  s.trace_id = trace_id;
  s.parent_id = h.parent_id;
  s.point = std::move(h.point);
  s.start_us = h.start_us;
  s.end_us = h.start_us;
  s.start_info = std::move(h.info);
  s.unfinished = true;
  (h.batch == batch_ ? s.events_in_batch : s.events_before) = 1;
  return s;
}

std::vector<span_record> span_joiner::join(std::span<const event_record> batch, std::int64_t now_us) {
  ++batch_;
  std::vector<span_record> out;
  // Starts first: within one batch a stop may precede its start when the point moved threads.
  for (const event_record& e : batch) {
    if (e.is_stop) continue;
    held_start h{e.base_id, e.parent_id, std::string(e.point_name()), e.time_us, e.info, batch_};
    auto [it, inserted] = held_.try_emplace(e.trace_id, std::move(h));
    if (!inserted) {
      // The same point id started twice: release the first as unfinished, hold the second.
      out.push_back(release(e.trace_id, std::move(it->second)));
      it->second = held_start{e.base_id, e.parent_id, std::string(e.point_name()), e.time_us, e.info, batch_};
    }
    arrival_.emplace_back(e.time_us, e.trace_id);
  }
  for (const event_record& e : batch) {
    if (!e.is_stop) continue;
    span_record s;
    s.base_id = e.base_id;
    s.trace_id = e.trace_id;
    s.parent_id = e.parent_id;
    s.point = std::string(e.point_name());
    s.end_us = e.time_us;
    s.stop_info = e.info;
    s.events_in_batch = 1;
    if (auto it = held_.find(e.trace_id); it != held_.end()) {
      s.start_us = it->second.start_us;
      s.start_info = std::move(it->second.info);
      (it->second.batch == batch_ ? s.events_in_batch : s.events_before) += 1;
      held_.erase(it);
    } else {
      s.start_us = e.time_us;
      s.missing_start = true;
    }
    out.push_back(std::move(s));
  }
  // Release starts held too long, and the oldest beyond the cap.
  const std::int64_t cutoff = now_us - std::chrono::duration_cast<std::chrono::microseconds>(options_.unfinished_timeout).count();
  while (!arrival_.empty()) {
    const auto [time_us, id] = arrival_.front();
    auto it = held_.find(id);
    if (it == held_.end() || it->second.start_us != time_us) {
      arrival_.pop_front();  // joined already (or restarted: its newer entry comes later)
      continue;
    }
    if (time_us > cutoff && held_.size() <= options_.max_pending) break;
    out.push_back(release(id, std::move(it->second)));
    held_.erase(it);
    arrival_.pop_front();
  }
  // A long-held start at the front keeps joined entries behind it: drop those once they
  // outnumber the held ones, so memory follows what is held, not the event rate.
  if (arrival_.size() > 2 * held_.size() + 1024) {
    std::erase_if(arrival_, [this](const auto& entry) {
      auto it = held_.find(entry.second);
      return it == held_.end() || it->second.start_us != entry.first;
    });
  }
  return out;
}

std::vector<span_record> span_joiner::drain() {
  ++batch_;  // none of them belongs to a batch being written
  std::vector<span_record> out;
  out.reserve(held_.size());
  for (const auto& [time_us, id] : arrival_) {
    auto it = held_.find(id);
    if (it == held_.end() || it->second.start_us != time_us) continue;
    out.push_back(release(id, std::move(it->second)));
    held_.erase(it);
  }
  arrival_.clear();
  for (auto& [id, h] : held_) out.push_back(release(id, std::move(h)));
  held_.clear();
  return out;
}

}  // namespace osprof::detail::otlp
