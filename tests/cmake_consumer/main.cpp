// Traces one point into a SQLite file given on the command line and checks it was written.
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/version.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  osprof::options o;
  o.connection_string = std::string("sqlite:///") + argv[1];
  osprof::emitter em(o);
  osprof::init("SECRET_KEY");
  {
    osprof::trace t("consumer", {{"version", OSPROF_VERSION_STRING}});
  }
  em.shutdown(std::chrono::seconds(10));
  const auto s = em.get_stats();
  std::printf("written %llu of %llu\n", static_cast<unsigned long long>(s.written),
              static_cast<unsigned long long>(s.emitted));
  return s.written == 2 && s.emitted == 2 ? 0 : 1;
}
