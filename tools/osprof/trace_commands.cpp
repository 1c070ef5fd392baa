// `osprof trace show` and `osprof trace list`, as OSProfiler's CLI.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <osprof/connection_string.hpp>
#include <osprof/error.hpp>
#include <osprof/uuid.hpp>

#include "cli.hpp"
#include "common/json_writer.hpp"
#include <osprof/render.hpp>
#include <osprof/report.hpp>

namespace osprof::cli {

namespace {


bool write_output(const std::string& text, const std::optional<std::string>& path) {
  if (!path) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (!text.empty() && text.back() != '\n') std::fputc('\n', stdout);
    return std::fflush(stdout) == 0;
  }
  std::ofstream out(*path, std::ios::binary);
  out << text;
  if (text.empty() || text.back() != '\n') out << '\n';
  out.close();
  if (!out) {
    std::fprintf(stderr, "osprof: cannot write '%s'\n", path->c_str());
    return false;
  }
  return true;
}

read_options read_options_of(const arguments& args) {
  return read_options{std::chrono::seconds(args.integer("--timeout", 1, 86400).value_or(30))};
}

// A backend that did not answer in time: the message names the option that sets the time.
template <class Read>
auto with_timeout_hint(Read read) {
  try {
    return read();
  } catch (const error& e) {
    const std::string what = e.what();
    if (what.starts_with("no answer from ")) throw error(what + " (see --timeout)");
    throw;
  }
}

}  // namespace

int trace_show(const std::vector<std::string>& raw) {
  const arguments args(raw, {{"--connection-string", true}, {"--json", false}, {"--tree", false}, {"--html", false},
                             {"--dot", false}, {"--chrome", false}, {"--out", true}, {"--color", false},
                             {"--no-color", false}, {"--timeout", true}});
  if (args.positional().size() != 1) throw usage_error{"trace show needs exactly one trace id or report file"};
  const std::string& target = args.positional()[0];

  int formats = 0;
  for (const char* f : {"--json", "--tree", "--html", "--dot", "--chrome"}) formats += args.flag(f) ? 1 : 0;
  if (formats > 1) throw usage_error{"choose one of --json, --tree, --html, --dot, --chrome"};
  const auto out_path = args.value("--out");
  const bool terminal = !out_path && isatty(STDOUT_FILENO) != 0;

  report r;
  if (uuid::parse(target)) {
    const std::string cs = connection_string(args);
    r = with_timeout_hint([&] { return read_report(cs, target, read_options_of(args)); });
    for (const auto& problem : r.problems) std::fprintf(stderr, "osprof: skipped a corrupt event: %s\n", problem.c_str());
    if (r.empty()) {
      std::fprintf(stderr, "osprof: trace %s not found in %s\n", target.c_str(),
                   redact_connection_string(cs).c_str());
      return 1;
    }
  } else {
    // Not a trace id: a report saved with --json (osprof's or OSProfiler's), as OSProfiler does.
    std::ifstream in(target, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "osprof: '%s' is neither a trace id (a uuid) nor a readable report file\n", target.c_str());
      return 1;
    }
    std::stringstream text;
    text << in.rdbuf();
    r = parse_report_json(text.str());
  }

  std::string text;
  if (args.flag("--json") || (formats == 0 && !terminal)) {
    text = render_json(r, 2);
  } else if (args.flag("--html")) {
    text = render_html(r);
  } else if (args.flag("--dot")) {
    text = render_dot(r);
  } else if (args.flag("--chrome")) {
    text = render_chrome(r);
  } else {
    const bool color = args.flag("--color") || (terminal && !args.flag("--no-color") && std::getenv("NO_COLOR") == nullptr);
    text = render_tree(r, color);
  }
  return write_output(text, out_path) ? 0 : 1;
}

int trace_list(const std::vector<std::string>& raw) {
  const arguments args(raw, {{"--connection-string", true}, {"--error-trace", false}, {"--json", false},
                             {"--timeout", true}});
  if (!args.positional().empty()) throw usage_error{"trace list takes no positional arguments"};
  const std::string cs = connection_string(args);
  const bool errors_only = args.flag("--error-trace");
  const auto rows = with_timeout_hint([&] { return list_traces(cs, errors_only, read_options_of(args)); });
  std::string out;
  if (args.flag("--json")) {
    out = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      out += i == 0 ? "\n  " : ",\n  ";
      out += "{\"base_id\": ";
      detail::append_json_string(out, rows[i].base_id);
      out += ", \"timestamp\": ";
      detail::append_json_string(out, rows[i].timestamp);
      out += '}';
    }
    out += rows.empty() ? "]" : "\n]";
  } else {
    // The table OSProfiler prints, newest first.
    const std::string rule = "+--------------------------------------+----------------------------+\n";
    out = rule + "| base_id                              | timestamp                  |\n" + rule;
    for (const auto& row : rows) {
      char line[128];
      std::snprintf(line, sizeof line, "| %-36s | %-26s |\n", row.base_id.c_str(), row.timestamp.c_str());
      out += line;
    }
    out += rule;
    out += std::to_string(rows.size()) + (errors_only ? " trace(s) with errors" : " trace(s)");
  }
  return write_output(out, std::nullopt) ? 0 : 1;
}

}  // namespace osprof::cli
