// What `osprof bench` reports for one run: the block of text on stdout, and the JSON object
// that --json writes (bench/run-suite.sh keeps it and bench/make_report.py reads it).
#pragma once

#include <string>

#include "bench_run.hpp"

namespace osprof::cli {

void print_run(const run_result& r);
std::string run_json(const run_result& r);

}  // namespace osprof::cli
