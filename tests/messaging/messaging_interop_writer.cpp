// Writes one trace into a backend with the emitter and prints its base id: the osprof side
// of the messaging interop test (messaging_interop.py), which then reads it with Python
// OSProfiler's CLI. With OSPROF_INTEROP_BASE_ID and OSPROF_INTEROP_PARENT_ID set, the trace
// continues one that Python started (as an RPC callee's would). The trace nests, fails twice, has a hyphenated point name (the name
// quirk) and siblings that start within one millisecond (the sibling-order quirk).
//
//   osprof_messaging_interop_writer <connection-string> [points]
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <osprof/drivers.hpp>
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/uuid.hpp>

int main(int argc, char** argv) {
  osprof::register_builtin_drivers();
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <connection-string> [points]\n", argv[0]);
    return 2;
  }
  const int points = argc > 2 ? std::stoi(argv[2]) : 5;
  osprof::options o;
  o.connection_string = argv[1];
  o.project = "demo";
  o.service = "osprof-api";
  o.host = "cpp-host";
  osprof::emitter e{o};
  const char* join_base = std::getenv("OSPROF_INTEROP_BASE_ID");
  const char* join_parent = std::getenv("OSPROF_INTEROP_PARENT_ID");
  if (join_base != nullptr && join_parent != nullptr) {
    osprof::init("SECRET_KEY", *osprof::uuid::parse(join_base), *osprof::uuid::parse(join_parent));
  } else {
    osprof::init("SECRET_KEY");
  }
  const std::string base = osprof::get()->base_id().to_string();
  {
    osprof::trace wsgi("wsgi", {{"request", {{"path", "/v2.1/servers"}, {"query", ""}, {"method", "POST"}, {"scheme", "http"}}}});
    {
      osprof::trace rpc("rpc", {{"function", {{"name", "nova.compute.api.API.create"}}}});
      osprof::trace db("db", {{"db", {{"statement", "SELECT * FROM instances WHERE id = %s"}, {"params", 42}}}});
    }
    { osprof::trace hyphen("image-cache"); }
    for (int i = 0; i < points; ++i) {
      osprof::trace sibling("sibling", {{"i", i}});
    }
    try {
      osprof::trace driver("driver");
      throw std::runtime_error("boom: cannot spawn vm1");
    } catch (const std::exception&) {
    }
    try {
      osprof::trace ctx("ctx");
      throw std::invalid_argument("bad value");
    } catch (const std::exception&) {
    }
  }
  osprof::clean();
  if (!e.flush(std::chrono::seconds(10))) {
    std::fprintf(stderr, "not everything was written: %s\n", e.get_stats().last_error.c_str());
    return 1;
  }
  const auto s = e.get_stats();
  if (s.written != s.emitted) {
    std::fprintf(stderr, "%llu of %llu events written: %s\n", static_cast<unsigned long long>(s.written),
                 static_cast<unsigned long long>(s.emitted), s.last_error.c_str());
    return 1;
  }
  std::printf("%s\n", base.c_str());
  return 0;
}
