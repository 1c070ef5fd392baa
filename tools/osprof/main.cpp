#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <cstdio>
int main() {
  osprof::emitter e{osprof::options{.connection_string = "sqlite:///smoke.db"}};
  osprof::init("SECRET_KEY");
  {
    osprof::trace t("wsgi", {{"request", {{"path", "/"}, {"method", "GET"}}}});
    osprof::start("db", {{"db", {{"statement", "SELECT 1"}}}});
    osprof::stop();
    try { osprof::trace t2("fail"); throw std::runtime_error("boom"); } catch (...) {}
  }
  e.flush();
  auto s = e.get_stats();
  std::printf("emitted %lu written %lu dropped %lu err %s\n", s.emitted, s.written, s.dropped(), s.last_error.c_str());
}
