// `osprof trace show` and `osprof trace list`, as OSProfiler's CLI.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include <osprof/connection_string.hpp>
#include <osprof/error.hpp>
#include <osprof/render.hpp>
#include <osprof/report.hpp>
#include <osprof/uuid.hpp>

#include "cli.hpp"
#include "common/json_writer.hpp"

namespace osprof::cli {

namespace {

/// A saved report larger than this is refused: reports of a million points are far smaller.
constexpr off_t max_report_file_bytes = off_t{256} << 20;

// The saved report at `path`, or nullopt with `why` set. Only a regular file is read, so a FIFO
// or a device given by mistake fails at once instead of blocking or reading forever.
std::optional<std::string> read_report_file(const std::string& path, std::string& why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::optional<std::string> text;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = S_ISDIR(st.st_mode) ? "a directory" : "not a regular file";
  } else if (st.st_size > max_report_file_bytes) {
    why = std::to_string(st.st_size) + " bytes, more than the " + std::to_string(max_report_file_bytes >> 20) +
          " MiB a saved report may have";
  } else {
    text.emplace();
    text->resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    errno = 0;
    while (done < text->size()) {
      const ssize_t n = ::read(fd, text->data() + done, text->size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // an error, or the file shrank while it was read
      done += static_cast<std::size_t>(n);
    }
    if (done < text->size()) {
      why = errno != 0 ? std::strerror(errno) : "the file changed while it was read";
      text.reset();
    }
  }
  ::close(fd);
  return text;
}

// stdout, or the file given with --out; text always ends with a newline.
bool write_output(const std::string& text, const std::optional<std::string>& path) {
  const bool newline = text.empty() || text.back() != '\n';
  if (path) {
    write_file(*path, newline ? text + '\n' : text);
    return true;
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (newline) std::fputc('\n', stdout);
  return std::fflush(stdout) == 0;
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

int trace_show(const trace_show_settings& s) {
  const std::string& target = s.target;
  const bool terminal = !s.out && isatty(STDOUT_FILENO) != 0;
  const bool any_format = s.json || s.tree || s.html || s.dot || s.chrome;

  report r;
  if (uuid::parse(target)) {
    const std::string cs = connection_string(s.connection_string);
    r = with_timeout_hint([&] { return read_report(cs, target, read_options{std::chrono::seconds(s.timeout_s)}); });
    for (const auto& problem : r.problems) std::fprintf(stderr, "osprof: skipped a corrupt event: %s\n", problem.c_str());
    if (r.empty()) {
      std::fprintf(stderr, "osprof: trace %s not found in %s\n", target.c_str(),
                   redact_connection_string(cs).c_str());
      return 1;
    }
  } else {
    // Not a trace id: a report saved with --json (osprof's or OSProfiler's), as OSProfiler does.
    std::string why;
    const auto saved = read_report_file(target, why);
    if (!saved) {
      std::fprintf(stderr, "osprof: '%s' is neither a trace id (a uuid) nor a readable report file (%s)\n",
                   target.c_str(), why.c_str());
      return 1;
    }
    r = parse_report_json(*saved);
  }

  std::string text;
  if (s.json || (!any_format && !terminal)) {
    text = render_json(r, 2);
  } else if (s.html) {
    text = render_html(r);
  } else if (s.dot) {
    text = render_dot(r);
  } else if (s.chrome) {
    text = render_chrome(r);
  } else {
    const bool color = s.color || (terminal && !s.no_color && std::getenv("NO_COLOR") == nullptr);
    text = render_tree(r, color);
  }
  return write_output(text, s.out) ? 0 : 1;
}

int trace_list(const trace_list_settings& s) {
  const std::string cs = connection_string(s.connection_string);
  const bool errors_only = s.error_trace;
  const auto rows = with_timeout_hint(
      [&] { return list_traces(cs, errors_only, read_options{std::chrono::seconds(s.timeout_s)}); });
  std::string out;
  if (s.json) {
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

namespace {

void add_timeout_option(CLI::App& command, int& seconds) {
  command.add_option("--timeout", seconds, "seconds to wait for the backend's answer (default 30)")
      ->check(integer_in(1, 86400))
      ->option_text("S");
}

}  // namespace

void add_trace_commands(CLI::App& app, command_action& action) {
  CLI::App* trace = app.add_subcommand("trace", "Read traces back from a backend, as OSProfiler's `osprofiler trace` does");
  trace->require_subcommand(1);

  auto show = std::make_shared<trace_show_settings>();
  CLI::App* show_command = trace->add_subcommand(
      "show", "Show one trace as OSProfiler's report: an indented tree, OSProfiler's JSON, an HTML page, "
              "Graphviz DOT or Chrome/Perfetto trace events");
  show_command->add_option("trace-id|report.json", show->target, "a trace id, or a report file saved with --json")
      ->required();
  add_connection_string_option(*show_command, show->connection_string);
  CLI::Option* formats[] = {
      show_command->add_flag("--json", show->json, "OSProfiler's JSON report (the default when stdout is not a terminal)"),
      show_command->add_flag("--tree", show->tree, "an indented tree with durations (the default on a terminal)"),
      show_command->add_flag("--html", show->html, "a self-contained HTML page"),
      show_command->add_flag("--dot", show->dot, "a Graphviz DOT graph"),
      show_command->add_flag("--chrome", show->chrome, "Chrome/Perfetto trace events"),
  };
  for (CLI::Option* a : formats) {
    for (CLI::Option* b : formats) {
      if (a != b) a->excludes(b);
    }
  }
  show_command
      ->add_option_function<std::string>(
          "--out", [show](const std::string& path) { show->out = path; }, "write to FILE instead of stdout")
      ->option_text("FILE");
  show_command->add_flag("--color", show->color, "colour the tree even when stdout is not a terminal");
  show_command->add_flag("--no-color", show->no_color, "never colour the tree (as $NO_COLOR does)");
  add_timeout_option(*show_command, show->timeout_s);
  show_command->callback([show, &action] { action = [show] { return trace_show(*show); }; });

  auto list = std::make_shared<trace_list_settings>();
  CLI::App* list_command = trace->add_subcommand("list", "One row per trace, newest first");
  add_connection_string_option(*list_command, list->connection_string);
  list_command->add_flag("--error-trace", list->error_trace, "only the traces that contain an error");
  list_command->add_flag("--json", list->json, "a JSON array of {base_id, timestamp} instead of the table");
  add_timeout_option(*list_command, list->timeout_s);
  list_command->callback([list, &action] { action = [list] { return trace_list(*list); }; });
}

}  // namespace osprof::cli
