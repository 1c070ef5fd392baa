// `osprof bench --sweep SETTING=V1,V2,...`: one run per value of one setting, then a table
// of the runs and the SVG chart of throughput and p99 emit latency against the setting.
#pragma once

#include <string>
#include <vector>

#include "bench_run.hpp"

namespace osprof::cli {

struct sweep_spec {
  std::string setting;              ///< the option's name without "--", e.g. "batch-size"
  std::vector<std::string> values;  ///< as typed, in order
};

/// Parses SETTING=V1,V2,... and checks every value against `base` before anything runs;
/// throws usage_error.
sweep_spec parse_sweep(const std::string& text, const run_settings& base);

/// Runs the sweep, printing each run and then the table; stops early after Ctrl-C. Writes
/// the chart to `svg_path`.
std::vector<run_result> run_sweep(const run_settings& base, const sweep_spec& sweep, const std::string& svg_path);

/// {"sweep": {"setting", "values"}, "runs": [run_json...]}
std::string sweep_json(const sweep_spec& sweep, const std::vector<run_result>& results);

}  // namespace osprof::cli
