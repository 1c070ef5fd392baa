// A latency histogram for `osprof bench`: log-linear buckets (16 per power of two, so a
// percentile is within ~6 % of the true value) in a fixed array, so a run of any length
// records every sample without allocating on the producer's thread.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace osprof::cli {

class latency_histogram {
 public:
  void record(std::uint64_t value) noexcept {
    ++counts_[index(value)];
    ++count_;
    sum_ += value;
    max_ = std::max(max_, value);
  }

  void merge(const latency_histogram& other) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
  }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  /// The value at quantile q (0..1): the middle of its bucket, never above the maximum seen.
  double quantile(double q) const noexcept {
    if (count_ == 0) return 0.0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        const double mid = (static_cast<double>(lower_bound(i)) + static_cast<double>(upper_bound(i))) / 2.0;
        return std::min(mid, static_cast<double>(max_));
      }
    }
    return static_cast<double>(max_);
  }

 private:
  static constexpr unsigned sub_bits = 4;  // 16 buckets per power of two
  static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;

  // Values below 16 are exact; above, the top 5 significant bits choose the bucket.
  static std::size_t index(std::uint64_t v) noexcept {
    if (v < sub_count) return static_cast<std::size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));
    const unsigned shift = msb - sub_bits;
    const std::uint64_t mantissa = v >> shift;  // in [16, 32)
    return static_cast<std::size_t>((shift + 1) * sub_count + (mantissa - sub_count));
  }
  static std::uint64_t lower_bound(std::size_t i) noexcept {
    if (i < sub_count) return i;
    const std::uint64_t shift = i / sub_count - 1;
    return (sub_count + i % sub_count) << shift;
  }
  static std::uint64_t upper_bound(std::size_t i) noexcept {
    if (i < sub_count) return i;
    const std::uint64_t shift = i / sub_count - 1;
    return ((sub_count + i % sub_count + 1) << shift) - 1;
  }

  std::array<std::uint64_t, 61 * sub_count> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace osprof::cli
