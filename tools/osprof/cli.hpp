// The `osprof` command line. Every command registers its options on one CLI11 parser
// (Debian's libcli11-dev) and, when it is the one chosen, the action that runs it; main()
// parses, then runs that action. Exit codes: 0 success, 1 failure (not found, backend
// error), 2 usage error.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace osprof::cli {

/// A usage error found once the options are read (a combination of options, a --sweep
/// value). main() reports it as it reports the parser's own: message, hint, exit 2.
struct usage_error {
  std::string message;
};

/// What the chosen command runs once the whole command line is parsed; returns the exit code.
using command_action = std::function<int()>;

/// The help layout of every command: one line per option, its value written as in the
/// README (`--timeout S`), without CLI11's type names and Excludes/Needs lists.
class help_formatter : public CLI::Formatter {
 public:
  help_formatter();
  std::string make_option_opts(const CLI::Option* opt) const override;
  // One blank line between groups of options rather than CLI11 2.1's two.
  std::string make_usage(const CLI::App* app, std::string name) const override;
  std::string make_positionals(const CLI::App* app) const override;
  std::string make_group(std::string group, bool is_positional, std::vector<const CLI::Option*> opts) const override;
};

/// An integer from min to max; the message names the range and the value given.
CLI::Validator integer_in(long long min, long long max);
/// A number (decimal or with an exponent) from min to max.
CLI::Validator number_in(double min, double max);
/// true/false, yes/no, on/off, 1/0 in any case (Python's True and False too).
CLI::Validator boolean_word();
/// The meaning of a word boolean_word() accepted.
bool boolean_value(const std::string& word);

/// Throws osprof::error "cannot write" when `path` cannot be written (checked before long work).
void check_writable(const std::string& path);
/// Writes `text` to the file at `path`, replacing it; throws osprof::error if it cannot.
void write_file(const std::string& path, const std::string& text);

/// --connection-string on `command`, stored in `value` when given.
void add_connection_string_option(CLI::App& command, std::optional<std::string>& value);

/// The option if given, else OSPROF_CONNECTION_STRING, else OSPROFILER_CONNECTION_STRING,
/// else the embedded default sqlite:///osprof.db.
std::string connection_string(const std::optional<std::string>& option);

// Each adds its command (and subcommands) to `app`; `action` is set when one is chosen.
void add_trace_commands(CLI::App& app, command_action& action);
void add_demo_command(CLI::App& app, command_action& action);
void add_drivers_command(CLI::App& app, command_action& action);
void add_bench_command(CLI::App& app, command_action& action);
void add_serve_command(CLI::App& app, command_action& action);
void add_collect_command(CLI::App& app, command_action& action);

/// What `trace show` and `trace list` take; `osprof demo` runs them too.
struct trace_show_settings {
  std::string target{};  ///< a trace id, or a report saved with --json
  std::optional<std::string> connection_string{};
  bool json = false, tree = false, html = false, dot = false, chrome = false;
  bool color = false, no_color = false;
  std::optional<std::string> out{};
  std::optional<std::string> render_dot{};  ///< OSProfiler's --render-dot: the graph to <FILE>.pdf
  int timeout_s = 30;
  std::optional<std::string> transport_url{};  ///< messaging:// only, as OSProfiler's CLI
  std::optional<double> idle_timeout_s{};
};
struct trace_list_settings {
  std::optional<std::string> connection_string{};
  bool error_trace = false;
  bool json = false;
  int timeout_s = 30;
  std::optional<std::string> transport_url{};
  std::optional<double> idle_timeout_s{};
};
int trace_show(const trace_show_settings& s);
int trace_list(const trace_list_settings& s);

}  // namespace osprof::cli
