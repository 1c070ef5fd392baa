// The options of `osprof bench` that shape a run (producers, rate, queue, batches, ...): each
// with its range and what it changes in run_settings. The command line and the values of a
// sweep go through the same definitions, so they are checked the same way.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bench_run.hpp"
#include "cli.hpp"

namespace osprof::cli {

/// What one option asks of the run settings; applied once all options are read, so that a
/// command that is not chosen never builds emitter options (nor reads their environment).
using settings_change = std::function<void(run_settings&)>;

/// Adds the run options to `command`; each one given appends its change to `changes`.
void add_run_options(CLI::App& command, std::vector<settings_change>& changes);

/// Applies `--name=value` to `s` as if it were on the command line; a bad value throws
/// usage_error naming the option.
void apply_run_option(run_settings& s, const std::string& name, const std::string& value);

}  // namespace osprof::cli
