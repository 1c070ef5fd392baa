#include "cli.hpp"

#include <charconv>
#include <cstdlib>

namespace osprof::cli {

arguments::arguments(const std::vector<std::string>& args, const std::vector<option_spec>& specs) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional_.insert(positional_.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const option_spec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) throw usage_error{"unknown option '" + name + "'"};
    if (!spec->takes_value) {
      if (inline_value) throw usage_error{"option '" + name + "' takes no value"};
      values_.emplace(name, "");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) throw usage_error{"option '" + name + "' needs a value"};
      inline_value = args[++i];
    }
    values_.emplace(name, *inline_value);
  }
}

std::optional<std::string> arguments::value(std::string_view name) const {
  auto [first, last] = values_.equal_range(name);
  if (first == last) return std::nullopt;
  return std::prev(last)->second;
}

bool arguments::flag(std::string_view name) const { return values_.find(name) != values_.end(); }

std::vector<std::string> arguments::values(std::string_view name) const {
  std::vector<std::string> out;
  auto [first, last] = values_.equal_range(name);
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  return out;
}

std::optional<long long> arguments::integer(std::string_view name, long long min, long long max) const {
  const auto text = value(name);
  if (!text) return std::nullopt;
  long long v = 0;
  const auto r = std::from_chars(text->data(), text->data() + text->size(), v);
  if (text->empty() || r.ec != std::errc{} || r.ptr != text->data() + text->size() || v < min || v > max) {
    throw usage_error{"option '" + std::string(name) + "' must be an integer from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", not '" + *text + "'"};
  }
  return v;
}

std::string connection_string(const arguments& args) {
  if (auto v = args.value("--connection-string")) return *v;
  for (const char* name : {"OSPROF_CONNECTION_STRING", "OSPROFILER_CONNECTION_STRING"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return "sqlite:///osprof.db";
}

}  // namespace osprof::cli
