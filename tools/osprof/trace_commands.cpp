// `osprof trace show` and `osprof trace list`, as OSProfiler's CLI.
#include <fcntl.h>
#include <malloc.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include <osprof/connection_string.hpp>
#include <osprof/error.hpp>
#include <osprof/render.hpp>
#include <osprof/report.hpp>
#include <osprof/uuid.hpp>

#include "cli.hpp"
#include "common/json_writer.hpp"
#include "common/text.hpp"
#include "report/report_internal.hpp"

namespace osprof::cli {

namespace {

/// A saved report larger than this is refused: reports of a million points are far smaller.
constexpr off_t max_report_file_bytes = off_t{256} << 20;

// The saved report at `path`, or nullopt with `why` set. Only a regular file is read, so a FIFO
// or a device given by mistake fails at once instead of blocking or reading forever.
// `exists` tells whether there is something at `path` (a trace id is tried only when not).
std::optional<std::string> read_report_file(const std::string& path, std::string& why, bool& exists) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  exists = fd >= 0 || errno != ENOENT;
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
  errno = 0;
  const bool written = std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
                       (!newline || std::fputc('\n', stdout) != EOF) && std::fflush(stdout) == 0;
  // A full disk or a closed pipe must not pass for a report written.
  if (!written) throw error(std::string("cannot write the standard output: ") + std::strerror(errno != 0 ? errno : EIO));
  return true;
}

// The report's JSON to stdout or --out as `render` writes it, in pieces: a large trace's text
// is never held whole. Ends with a newline, as write_output() does.
template <class Render>  // void(const text_sink&)
bool write_json_output(Render render, const std::optional<std::string>& path) {
  if (path) {
    std::ofstream out(*path, std::ios::binary | std::ios::trunc);
    render([&out](std::string_view piece) { out.write(piece.data(), static_cast<std::streamsize>(piece.size())); });
    out << '\n';
    out.close();
    if (!out) throw error("cannot write '" + *path + "'");
    return true;
  }
  errno = 0;
  const auto fail = [] {
    // A full disk or a closed pipe must not pass for a report written.
    throw error(std::string("cannot write the standard output: ") + std::strerror(errno != 0 ? errno : EIO));
  };
  render([&fail](std::string_view piece) {
    if (std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size()) fail();
  });
  if (std::fputc('\n', stdout) == EOF || std::fflush(stdout) != 0) fail();
  return true;
}

// Whether `program` is an executable file in one of PATH's directories.
bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    dirs.remove_prefix(colon + 1);
  }
}

constexpr const char* no_dot =
    "--render-dot needs Graphviz's dot program, which is not on PATH (Debian: apt-get install graphviz); "
    "--dot prints the graph without it";

// OSProfiler's --render-dot FILE: Graphviz's dot renders the graph to FILE.pdf. The DOT text
// goes through a temporary file, never through FILE itself (Python's graphviz writes FILE,
// then deletes it).
void render_pdf(const std::string& dot_text, const std::string& pdf) {
  std::string source = (std::filesystem::temp_directory_path() / "osprof-dot-XXXXXX").string();
  const int fd = ::mkstemp(source.data());
  if (fd < 0) throw error("--render-dot: cannot create a temporary file: " + std::string(std::strerror(errno)));
  const bool written = ::write(fd, dot_text.data(), dot_text.size()) == static_cast<ssize_t>(dot_text.size());
  ::close(fd);
  const auto remove_source = [&] { ::unlink(source.c_str()); };
  if (!written) {
    remove_source();
    throw error("--render-dot: cannot write the temporary file " + source);
  }
  const char* argv[] = {"dot", "-Tpdf", "-o", pdf.c_str(), source.c_str(), nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "dot", nullptr, nullptr, const_cast<char* const*>(argv), environ);
  if (spawned != 0) {
    remove_source();
    throw error(spawned == ENOENT ? std::string(no_dot) : "--render-dot: cannot run dot: " + std::string(std::strerror(spawned)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  remove_source();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw error("--render-dot: dot could not render '" + pdf + "' (" +
                (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                   : "killed by signal " + std::to_string(WTERMSIG(status))) +
                ")");
  }
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

// --transport-url and --idle-timeout (OSProfiler's, for messaging:// only) go to the driver as
// options of the connection string.
std::string with_messaging_options(std::string cs, const std::optional<std::string>& transport_url,
                                   const std::optional<double>& idle_timeout_s) {
  if (!transport_url && !idle_timeout_s) return cs;
  const auto scheme = cs.substr(0, cs.find("://"));
  const bool transport_scheme = scheme == "rabbit" || scheme == "rabbits" || scheme == "amqp" || scheme == "amqps";
  if (scheme != "messaging" && !(transport_scheme && !transport_url)) {
    throw usage_error{transport_url ? "--transport-url is for --connection-string messaging:// only"
                                    : "--idle-timeout is for messaging:// (or a rabbit:// transport URL) only"};
  }
  if (cs.find("://") == std::string::npos) cs += "://";
  char sep = cs.find('?') == std::string::npos ? '?' : '&';
  if (transport_url) {
    cs += sep + std::string("transport_url=") + detail::percent_encode(*transport_url);
    sep = '&';
  }
  if (idle_timeout_s) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", *idle_timeout_s);
    cs += sep + std::string("idle_timeout=") + text;
  }
  return cs;
}

void add_messaging_options(CLI::App& command, std::optional<std::string>& transport_url,
                           std::optional<double>& idle_timeout_s) {
  command
      .add_option_function<std::string>(
          "--transport-url", [&transport_url](const std::string& url) { transport_url = url; },
          "oslo.messaging transport URL for messaging://, e.g. rabbit://user:password@host:5672/")
      ->option_text("URL");
  command
      .add_option_function<double>(
          "--idle-timeout", [&idle_timeout_s](double s) { idle_timeout_s = s; },
          "messaging://: stop reading after S seconds without a new event of the trace (default 1)")
      ->check(number_in(0.001, 86400))
      ->option_text("S");
}

}  // namespace

int trace_show(const trace_show_settings& s) {
  // A large trace is read and rendered with a helper thread (report.cpp, json_render.hpp): in
  // the one malloc arena, its allocations reuse what the reading freed (the target is a tenth of
  // Python's memory, and an arena of its own starts empty).
#ifdef M_ARENA_MAX
  mallopt(M_ARENA_MAX, 1);
#endif
  const std::string& target = s.target;
  const bool terminal = !s.out && isatty(STDOUT_FILENO) != 0;
  const bool any_format = s.json || s.tree || s.html || s.dot || s.chrome;
  if (s.render_dot && !on_path("dot")) throw error(no_dot);  // before the backend is asked

  // As OSProfiler: a uuid in any spelling oslo calls uuid-like is a trace id (read in its
  // canonical form, the one stored), anything else a report saved with --json. When no such
  // file exists, other text is tried as a stored id too: Python stores whatever its code gave
  // profiler.init(). Such an id is bounded as the SQL layout's column is (255 bytes).
  std::optional<std::string> id;
  if (const auto u = uuid::parse_like(target)) id = u->to_string();
  std::optional<std::string> saved;
  if (!id) {
    std::string why;
    bool exists = false;
    saved = read_report_file(target, why, exists);
    const bool printable = std::none_of(target.begin(), target.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (!saved && (exists || target.empty() || target.size() > 255 || !printable)) {
      std::fprintf(stderr, "osprof: '%s' is neither a trace id nor a readable report file (%s)\n", target.c_str(),
                   exists ? why.c_str() : "no such file");
      return 1;
    }
    if (!saved) id = target;
  }

  const bool json = s.json || (!any_format && !terminal);
  // Never freed: the command exits once it is written, and freeing a large trace's events and
  // nodes one by one takes longer than the exit (static pointers: not leaks to LeakSanitizer).
  static report* kept = nullptr;
  kept = new report();
  report& r = *kept;
  if (id) {
    const std::string cs = with_messaging_options(connection_string(s.connection_string), s.transport_url, s.idle_timeout_s);
    const bool uuid_like = uuid::parse_like(target).has_value();
    static detail::report_impl::analysed_trace* trace = nullptr;
    try {
      auto events = with_timeout_hint([&] {
        return detail::report_impl::read_trace_events(cs, *id, read_options{std::chrono::seconds(s.timeout_s)});
      });
      trace = new detail::report_impl::analysed_trace(*id, std::move(events));
    } catch (const error& e) {
      if (uuid_like) throw;
      std::fprintf(stderr, "osprof: '%s' is not a readable report file, and reading it as a trace id failed: %s\n",
                   target.c_str(), e.what());
      return 1;
    }
    const report& head = trace->head();
    for (const auto& problem : head.problems) std::fprintf(stderr, "osprof: skipped a corrupt event: %s\n", problem.c_str());
    if (head.empty()) {
      if (uuid_like) {
        std::fprintf(stderr, "osprof: trace %s not found in %s\n", id->c_str(), redact_connection_string(cs).c_str());
      } else {
        std::fprintf(stderr, "osprof: '%s' is neither a readable report file nor a trace id in %s\n", target.c_str(),
                     redact_connection_string(cs).c_str());
      }
      return 1;
    }
    // The JSON is written from the analysed events: no report_node is needed for it.
    if (json && !s.render_dot) return write_json_output([](const text_sink& w) { trace->render_json(2, w); }, s.out) ? 0 : 1;
    r = trace->take_report();
  } else {
    // A report saved with --json (osprof's or OSProfiler's), as OSProfiler does.
    r = parse_report_json(*saved);
  }

  if (s.render_dot) render_pdf(render_dot(r), *s.render_dot + ".pdf");

  if (json) return write_json_output([&r](const text_sink& w) { render_json(r, 2, w); }, s.out) ? 0 : 1;
  std::string text;
  if (s.html) {
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
  const std::string cs = with_messaging_options(connection_string(s.connection_string), s.transport_url, s.idle_timeout_s);
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
  show_command
      ->add_option_function<std::string>(
          "--render-dot", [show](const std::string& path) { show->render_dot = path; },
          "also render the graph to FILE.pdf with Graphviz's dot, as OSProfiler does")
      ->option_text("FILE");
  show_command->add_flag("--local-libs")->description("accepted as OSProfiler takes it; osprof's HTML needs no libraries");
  show_command->add_flag("--color", show->color, "colour the tree even when stdout is not a terminal");
  show_command->add_flag("--no-color", show->no_color, "never colour the tree (as $NO_COLOR does)");
  add_timeout_option(*show_command, show->timeout_s);
  add_messaging_options(*show_command, show->transport_url, show->idle_timeout_s);
  show_command->callback([show, &action] { action = [show] { return trace_show(*show); }; });

  auto list = std::make_shared<trace_list_settings>();
  CLI::App* list_command = trace->add_subcommand("list", "One row per trace, newest first");
  add_connection_string_option(*list_command, list->connection_string);
  // A flag, or with a value as OSProfiler's `--error-trace True` (its value is read: False is false).
  list_command
      ->add_option_function<std::string>(
          "--error-trace", [list](const std::string& v) { list->error_trace = boolean_value(v); },
          "only the traces that contain an error; a value as in OSProfiler's `--error-trace True` is read as "
          "true or false")
      ->expected(0, 1)
      ->default_str("true")
      ->check(boolean_word())
      ->option_text("[BOOL]");
  list_command->add_flag("--json", list->json, "a JSON array of {base_id, timestamp} instead of the table");
  add_timeout_option(*list_command, list->timeout_s);
  add_messaging_options(*list_command, list->transport_url, list->idle_timeout_s);
  list_command->callback([list, &action] { action = [list] { return trace_list(*list); }; });
}

}  // namespace osprof::cli
