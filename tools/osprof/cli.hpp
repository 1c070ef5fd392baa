// The `osprof` command line: argument parsing shared by the subcommands, and their entry
// points. Exit codes: 0 success, 1 failure (not found, backend error), 2 usage error.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace osprof::cli {

/// Thrown for a usage error; main() prints the message and the command's usage, exits 2.
struct usage_error {
  std::string message;
};

/// One option a command accepts: "--name" taking a value, or a flag.
struct option_spec {
  std::string name;
  bool takes_value;
};

/// Parsed arguments: positionals in order, options by name (last one wins), flags present.
class arguments {
 public:
  arguments(const std::vector<std::string>& args, const std::vector<option_spec>& specs);

  const std::vector<std::string>& positional() const noexcept { return positional_; }
  std::optional<std::string> value(std::string_view name) const;
  bool flag(std::string_view name) const;
  /// Values given to a repeatable option, in order.
  std::vector<std::string> values(std::string_view name) const;
  /// An integer option, checked; throws usage_error naming the option if it is not one.
  std::optional<long long> integer(std::string_view name, long long min, long long max) const;

 private:
  std::vector<std::string> positional_;
  std::multimap<std::string, std::string, std::less<>> values_;
};

/// --connection-string, else OSPROF_CONNECTION_STRING, else OSPROFILER_CONNECTION_STRING,
/// else the embedded default sqlite:///osprof.db.
std::string connection_string(const arguments& args);

int trace_show(const std::vector<std::string>& args);
int trace_list(const std::vector<std::string>& args);
int demo(const std::vector<std::string>& args);
int drivers(const std::vector<std::string>& args);
int bench(const std::vector<std::string>& args);

}  // namespace osprof::cli
