// `osprof demo`: a small instrumented workload shaped like an OpenStack API request, traced
// into a backend (by default the SQLite file osprof.db here), then `trace list` and the tree.
// It is also the shortest complete example of the API.
#include <osprof/emitter.hpp>
#include <osprof/error.hpp>
#include <osprof/profiler.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "cli.hpp"
#include <osprof/connection_string.hpp>

namespace osprof::cli {

namespace {

using namespace std::chrono_literals;

void pause(std::chrono::microseconds d) { std::this_thread::sleep_for(d); }

void insert_instance(const std::string& vm) {
  osprof::start("db", {{"db", {{"statement", "INSERT INTO instances (uuid, display_name, host) VALUES (?, ?, ?)"},
                               {"params", {{"display_name", vm}, {"host", "compute-1"}}}}}});
  pause(1500us);
  osprof::stop({{"db", {{"rows", 1}}}});
}

void schedule(const std::string& vm) {
  OSPROF_TRACE_FUNCTION("rpc", {{"method", "select_destinations"}});
  {
    osprof::trace filters("scheduler", {{"filters", "ComputeFilter,ImagePropertiesFilter"}, {"hosts", 3}});
    pause(800us);
  }
  insert_instance(vm);
}

struct compute_driver {
  void spawn(const std::string& vm) {
    OSPROF_TRACE_FUNCTION("driver", {{"vm", vm}});
    pause(1200us);
    throw std::runtime_error("cannot spawn " + vm + ": no valid host was found");
  }
};

// POST /v2.1/servers: nested points, a database call with info, work handed to another
// thread with its trace context, and a point that fails with an exception.
void handle_request() {
  osprof::trace request("wsgi", {{"request", {{"path", "/v2.1/servers"}, {"query", ""}, {"method", "POST"},
                                              {"scheme", "http"}}}});
  schedule("vm1");
  const auto context = osprof::capture();
  std::thread image_worker([&context] {
    osprof::context_scope scope(*context);
    osprof::trace fetch("image", {{"image", "cirros-0.6.2"}, {"size_mb", 21.4}, {"cached", false}});
    pause(900us);
  });
  image_worker.join();
  try {
    compute_driver{}.spawn("vm1");
  } catch (const std::exception&) {
    // The API answers 500; the failure is recorded on the driver point.
  }
}

struct demo_settings {
  std::optional<std::string> connection_string;
  std::string project = "osprof-demo";
  std::string service = "api";
};

int demo(const demo_settings& settings) {
  const std::string cs = connection_string(settings.connection_string);

  osprof::options o;
  o.connection_string = cs;
  o.project = settings.project;
  o.service = settings.service;
  o.strict = true;  // the demo exists to show tracing: a bad backend is its error
  std::string base_id;
  {
    osprof::emitter tracing(o);
    osprof::init("SECRET_KEY");
    base_id = osprof::get()->base_id().to_string();
    handle_request();
    osprof::clean();
    tracing.shutdown(10s);
    const auto s = tracing.get_stats();
    std::printf("traced %llu events into %s: %llu written, %llu dropped\n",
                static_cast<unsigned long long>(s.emitted), redact_connection_string(cs).c_str(),
                static_cast<unsigned long long>(s.written), static_cast<unsigned long long>(s.dropped()));
    if (s.written != s.emitted) {
      std::fprintf(stderr, "osprof: the backend did not take every event%s%s\n", s.last_error.empty() ? "" : ": ",
                   s.last_error.c_str());
      return 1;
    }
  }

  std::printf("\n$ osprof trace list --connection-string %s\n", redact_connection_string(cs).c_str());
  std::fflush(stdout);
  if (const int rc = trace_list({.connection_string = cs}); rc != 0) return rc;
  std::printf("\n$ osprof trace show %s --connection-string %s --tree\n", base_id.c_str(),
              redact_connection_string(cs).c_str());
  std::fflush(stdout);
  return trace_show({.target = base_id, .connection_string = cs, .tree = true});
}

}  // namespace

void add_demo_command(CLI::App& app, command_action& action) {
  auto settings = std::make_shared<demo_settings>();
  CLI::App* command =
      app.add_subcommand("demo", "Trace a small instrumented request into the backend, then list and show it");
  add_connection_string_option(*command, settings->connection_string);
  command->add_option("--project", settings->project, "`project` of the stored events (default osprof-demo)")
      ->option_text("P");
  command->add_option("--service", settings->service, "`service` of the stored events (default api)")
      ->option_text("S");
  command->callback([settings, &action] { action = [settings] { return demo(*settings); }; });
}

}  // namespace osprof::cli
