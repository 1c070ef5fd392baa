// Numbers for people in `osprof bench`'s progress line, report and chart: three significant
// digits and an SI suffix (1234567 -> "1.23M").
#pragma once

#include <cstdio>
#include <string>

namespace osprof::cli {

inline std::string si(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.3gG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace osprof::cli
