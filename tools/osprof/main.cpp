// osprof: read traces back from any backend, run the demo, list drivers, benchmark a backend.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <osprof/error.hpp>
#include <osprof/version.hpp>

#include "cli.hpp"
#include "driver_modules.hpp"
#include <osprof/driver.hpp>

namespace osprof::cli {

void add_drivers_command(CLI::App& app, command_action& action) {
  CLI::App* command = app.add_subcommand("drivers", "The backends osprof knows and their connection strings");
  command->callback([&action] {
    action = [] {
      const auto failures = load_all_driver_modules();
      for (const auto& d : registered_drivers()) {
        std::printf("%-16s %s\n", (d.scheme + "://").c_str(), d.summary.c_str());
      }
      for (const auto& why : failures) std::fprintf(stderr, "osprof: %s\n", why.c_str());
      return failures.empty() ? 0 : 1;
    };
  });
}

}  // namespace osprof::cli

namespace {

constexpr const char* footer = R"(The connection string defaults to $OSPROF_CONNECTION_STRING, then
$OSPROFILER_CONNECTION_STRING, then sqlite:///osprof.db (a file in this directory).
Exit codes: 0 success, 1 failure (not found, backend error), 2 usage error.
`osprof COMMAND --help` shows a command's options.)";

// The commands the parser went into, outermost first: osprof, trace, show.
std::vector<const CLI::App*> chosen_commands(const CLI::App& app) {
  std::vector<const CLI::App*> chain{&app};
  while (!chain.back()->get_subcommands().empty()) chain.push_back(chain.back()->get_subcommands().front());
  return chain;
}

// "trace show" (with_program: "osprof trace show").
std::string command_path(const CLI::App& command, bool with_program) {
  std::string path = command.get_name();
  for (const CLI::App* up = command.get_parent(); up != nullptr; up = up->get_parent()) {
    if (up->get_parent() == nullptr && !with_program) break;
    path = up->get_name() + " " + path;
  }
  return path;
}

// A word the parser could not place, said the way a user would look for it: an unknown
// option or command by name. Empty when every word was placed.
std::string misplaced_word(const CLI::App& command) {
  const std::vector<std::string> extra = command.remaining();
  if (extra.empty()) return "";
  for (const std::string& word : extra) {
    if (word.size() > 1 && word[0] == '-') return "unknown option '" + word.substr(0, word.find('=')) + "'";
  }
  if (!command.get_subcommands({}).empty()) return "unknown command '" + extra.front() + "'";
  if (command.get_options([](const CLI::Option* o) { return o->get_positional(); }).empty()) {
    return command_path(command, false) + " takes no positional arguments, not '" + extra.front() + "'";
  }
  return "unexpected argument '" + extra.front() + "'";
}

// "trace needs a command: show or list" for a command that has subcommands, since the
// deepest command chosen can only have them if none of them was chosen.
std::string missing_command(const CLI::App& command) {
  const auto subcommands = command.get_subcommands({});
  if (subcommands.empty()) return "";
  std::string names;
  for (std::size_t i = 0; i < subcommands.size(); ++i) {
    names += (i == 0 ? "" : i + 1 == subcommands.size() ? " or " : ", ") + subcommands[i]->get_name();
  }
  return command.get_name() + " needs a command: " + names;
}

// Reports a usage error with a hint to the chosen command's --help; exit code 2.
int usage_failure(const CLI::App& app, const std::string& message) {
  const auto chain = chosen_commands(app);
  std::string why;
  for (const CLI::App* command : chain) {
    if (why = misplaced_word(*command); !why.empty()) break;
  }
  if (why.empty()) why = missing_command(*chain.back());
  if (why.empty()) why = message;
  std::fprintf(stderr, "osprof: %s\nRun '%s --help' for its options.\n", why.c_str(),
               command_path(*chain.back(), true).c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  osprof::cli::register_drivers();
  CLI::App app("Read traces back from any backend, serve them over HTTP, run a demo, list the drivers, benchmark a backend.", "osprof");
  app.formatter(std::make_shared<osprof::cli::help_formatter>());
  // An option given twice takes its last value, so a script can append an override.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("-v,--version", std::string("osprof ") + OSPROF_VERSION_STRING);
  app.require_subcommand(1);

  osprof::cli::command_action action;
  osprof::cli::add_trace_commands(app, action);
  osprof::cli::add_demo_command(app, action);
  osprof::cli::add_drivers_command(app, action);
  osprof::cli::add_bench_command(app, action);
  osprof::cli::add_serve_command(app, action);
  osprof::cli::add_collect_command(app, action);
  app.footer(footer);  // after the commands: it is about the whole program, so they do not copy it

  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << app.help();
    return 2;
  }
  // `osprof help [COMMAND...]` is `osprof [COMMAND...] --help`.
  if (args.front() == "help") {
    args.erase(args.begin());
    args.emplace_back("--help");
  }
  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes a vector last word first
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    return usage_failure(app, e.what());
  }

  try {
    return action();
  } catch (const osprof::cli::usage_error& e) {
    return usage_failure(app, e.message);
  } catch (const osprof::error& e) {
    std::fprintf(stderr, "osprof: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "osprof: unexpected error: %s\n", e.what());
    return 1;
  }
}
