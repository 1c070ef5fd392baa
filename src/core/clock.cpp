#include "core/clock.hpp"

#include <fstream>
#include <string>

#include "common/log.hpp"

namespace osprof::detail {

bool tsc_is_invariant() {
#if OSPROF_HAVE_TSC
  static const bool invariant = [] {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
      if (line.rfind("flags", 0) == 0) {
        const auto has = [&](const char* flag) { return (line + ' ').find(std::string(" ") + flag + ' ') != std::string::npos; };
        return has("constant_tsc") && has("nonstop_tsc");
      }
    }
    return false;
  }();
  return invariant;
#else
  return false;
#endif
}

bool use_tsc(clock_source requested) {
  switch (requested) {
    case clock_source::realtime: return false;
    case clock_source::automatic: return tsc_is_invariant();
    case clock_source::tsc:
      if (tsc_is_invariant()) return true;
      log_message("OSPROF_CLOCK=tsc requested, but this machine has no invariant TSC; using realtime");
      return false;
  }
  return false;
}

}  // namespace osprof::detail
