// For the tests that drive the built binaries (osprof, osprof-demo-service) as a user would:
// run a command line through the shell and collect what it prints; check usage errors.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

namespace osprof::test {

struct command_result {
  int code;         ///< the exit status; -1 if killed by a signal
  std::string out;  ///< stdout and stderr, interleaved
};

inline command_result run_command(const std::string& command_line) {
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed: " + command_line};
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

struct usage_case {
  std::string args;     ///< after the program
  std::string message;  ///< what the error must say
};

/// Each case exits 2 and prints its message and `hint` (where to read about the options).
inline void expect_usage_errors(const std::string& program, const std::vector<usage_case>& cases,
                                const std::string& hint) {
  for (const auto& c : cases) {
    const auto r = run_command(program + " " + c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(hint), std::string::npos) << c.args << "\n" << r.out;
  }
}

}  // namespace osprof::test
