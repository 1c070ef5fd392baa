// Uses osprof as a program outside its tree does: registers the backends it links (all of
// osprof's, or only the sqlite component) and its own myqueue://, traces a point into a
// SQLite file given on the command line and into myqueue://, and reads the second back
// through the report API.
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/report.hpp>
#include <osprof/version.hpp>
#ifdef OSPROF_CONSUMER_ALL_DRIVERS
#include <osprof/drivers.hpp>
#else
#include <osprof/drivers/sqlite.hpp>
#endif

#include <cstdio>

#include "myqueue_driver.hpp"

namespace {

osprof::stats trace_into(const std::string& connection_string) {
  osprof::options o;
  o.connection_string = connection_string;
  osprof::emitter em(o);
  osprof::init("SECRET_KEY");
  {
    osprof::trace t("consumer", {{"version", OSPROF_VERSION_STRING}});
  }
  osprof::clean();
  em.shutdown(std::chrono::seconds(10));
  return em.get_stats();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
#ifdef OSPROF_CONSUMER_ALL_DRIVERS
  osprof::register_builtin_drivers();
#else
  osprof::drivers::register_sqlite();
#endif
  myqueue::register_driver();

  const auto s = trace_into(std::string("sqlite:///") + argv[1]);
  std::printf("sqlite: written %llu of %llu\n", static_cast<unsigned long long>(s.written),
              static_cast<unsigned long long>(s.emitted));
  if (s.written != 2 || s.emitted != 2) return 1;

  const auto q = trace_into("myqueue://consumer");
  if (q.written != 2 || q.emitted != 2) return 1;
  const auto traces = osprof::list_traces("myqueue://consumer");
  if (traces.size() != 1) return 1;
  const osprof::report r = osprof::read_report("myqueue://consumer", traces[0].base_id);
  std::printf("myqueue: trace %s, %zu events, root point '%s'\n", r.base_id.c_str(), r.event_count,
              r.children.empty() ? "" : r.children[0].name.c_str());
  return r.event_count == 2 && r.children.size() == 1 && r.children[0].name == "consumer" ? 0 : 1;
}
