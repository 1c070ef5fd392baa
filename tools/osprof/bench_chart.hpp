// The SVG chart of `osprof bench --sweep`: throughput and p99 emit latency against the swept
// setting, on two y axes, so choosing a setting is a matter of looking at one picture.
#pragma once

#include <string>
#include <vector>

namespace osprof::cli {

struct sweep_point {
  std::string setting_value;  ///< the x label, e.g. "1024"
  double throughput = 0;      ///< events written per second
  double p99_ns = 0;          ///< p99 emit latency on the caller's thread
};

/// A self-contained SVG document (no script, no external reference).
std::string sweep_chart_svg(const std::string& title, const std::string& setting,
                            const std::vector<sweep_point>& points);

}  // namespace osprof::cli
