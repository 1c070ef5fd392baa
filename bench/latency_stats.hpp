// Percentiles over latency samples, and the table/JSON the benchmark programs print.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace osprof_bench {

struct percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
  std::size_t samples = 0;
};

inline percentiles compute(std::vector<double> v) {
  percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]; };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size());
  p.samples = v.size();
  return p;
}

inline void print_table(const std::vector<std::pair<std::string, percentiles>>& rows) {
  std::printf("%-48s %8s %8s %8s %8s %10s\n", "case", "p50", "p90", "p99", "p99.9", "max");
  for (const auto& [name, p] : rows) {
    std::printf("%-48s %8.1f %8.1f %8.1f %8.1f %10.1f\n", name.c_str(), p.p50, p.p90, p.p99, p.p999, p.max);
  }
}

inline std::string to_json(const std::vector<std::pair<std::string, percentiles>>& rows) {
  std::string out = "[\n";
  char line[512];
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& [name, p] = rows[i];
    std::snprintf(line, sizeof line,
                  "  {\"case\": \"%s\", \"p50_ns\": %.2f, \"p90_ns\": %.2f, \"p99_ns\": %.2f, \"p999_ns\": %.2f, "
                  "\"max_ns\": %.2f, \"mean_ns\": %.2f, \"samples\": %zu}%s\n",
                  name.c_str(), p.p50, p.p90, p.p99, p.p999, p.max, p.mean, p.samples, i + 1 < rows.size() ? "," : "");
    out += line;
  }
  return out + "]\n";
}

}  // namespace osprof_bench
