#include "cli.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <osprof/error.hpp>
#include <osprof/options.hpp>

namespace osprof::cli {

namespace {

template <class T>
bool parse_whole(const std::string& text, T& value) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

help_formatter::help_formatter() { column_width(32); }

std::string help_formatter::make_option_opts(const CLI::Option* opt) const {
  if (opt->get_positional()) return "";
  if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
  return opt->get_type_size() == 0 ? "" : " " + opt->get_type_name();
}

std::string help_formatter::make_usage(const CLI::App* app, std::string name) const {
  return CLI::Formatter::make_usage(app, std::move(name)) + "\n";
}

std::string help_formatter::make_positionals(const CLI::App* app) const {
  std::string text = CLI::Formatter::make_positionals(app);
  return text.empty() ? text : text + "\n";
}

std::string help_formatter::make_group(std::string group, bool is_positional,
                                       std::vector<const CLI::Option*> opts) const {
  std::string text = CLI::Formatter::make_group(std::move(group), is_positional, std::move(opts));
  return text.starts_with('\n') ? text.substr(1) : text;
}

CLI::Validator integer_in(long long min, long long max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        long long v = 0;
        if (parse_whole(text, v) && v >= min && v <= max) return "";
        return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", not '" + text + "'";
      },
      "");
}

CLI::Validator number_in(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        double v = 0;
        if (parse_whole(text, v) && v >= min && v <= max) return "";
        return "must be a number from " + number_text(min) + " to " + number_text(max) + ", not '" + text + "'";
      },
      "");
}

void check_writable(const std::string& path) {
  const bool existed = std::filesystem::exists(path);
  { std::ofstream probe(path, std::ios::binary | std::ios::app); if (!probe) throw error("cannot write '" + path + "'"); }
  if (!existed) std::filesystem::remove(path);
}

CLI::Validator boolean_word() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::string word = text;
        for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (const char* known : {"true", "false", "yes", "no", "on", "off", "1", "0"}) {
          if (word == known) return "";
        }
        return "must be true or false (also yes/no, on/off, 1/0), not '" + text + "'";
      },
      "");
}

bool boolean_value(const std::string& word) {
  std::string w = word;
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w == "true" || w == "yes" || w == "on" || w == "1";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw error("cannot write '" + path + "'");
}

void add_connection_string_option(CLI::App& command, std::optional<std::string>& value) {
  command
      .add_option_function<std::string>(
          "--connection-string", [&value](const std::string& v) { value = v; },
          "backend, e.g. redis://127.0.0.1:6379 (default: $OSPROF_CONNECTION_STRING, "
          "$OSPROFILER_CONNECTION_STRING, sqlite:///osprof.db)")
      ->option_text("CS");
}

std::string connection_string(const std::optional<std::string>& option) {
  return option ? *option : env::connection_string();
}

}  // namespace osprof::cli
