// The trace of osprofiler.md §4 (Debian OSProfiler 3.4.3 writing to Redis): wsgi containing
// rpc -> db, driver (RuntimeError) and ctx (ValueError). Ids, the timestamps of db, driver and
// wsgi-start, and the infos are the ones shown in §1.3/§4.2/§4.3; the elided timestamps are
// chosen to agree with every millisecond offset of the report printed in §4.3 (and ctx-stop
// with the error key's timestamp). Events are written as Python's jsonutils.dumps writes them.
#pragma once

#include <string>
#include <vector>

namespace osprof::test {

inline constexpr const char* reference_base_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
inline constexpr const char* wsgi_id = "8463ddf9-8007-4b25-9670-b169b05cc6d0";
inline constexpr const char* rpc_id = "1d2b2629-3156-458d-bc9a-4b7b9d2b358f";
inline constexpr const char* db_id = "68867ef9-3587-4c60-a39e-f2f5828bd934";
inline constexpr const char* driver_id = "5c27d481-b3b2-469a-80a6-1d53b2094860";
inline constexpr const char* ctx_id = "12e90f4b-88c9-4966-bfb9-3225c0cba1c3";

inline std::string reference_event(const std::string& name, const std::string& trace_id, const std::string& parent_id,
                                   const std::string& timestamp, const std::string& info) {
  return "{\"name\": \"" + name + "\", \"base_id\": \"" + reference_base_id + "\", \"trace_id\": \"" + trace_id +
         "\", \"parent_id\": \"" + parent_id + "\", \"timestamp\": \"2026-11-25T15:26:21." + timestamp +
         "\", \"info\": " + info + ", \"project\": \"demo\", \"service\": \"api\"}";
}

/// The 10 events in chronological order (the order they were emitted).
inline std::vector<std::string> reference_events_chronological() {
  const std::string base = reference_base_id;
  return {
      reference_event("wsgi-start", wsgi_id, base, "360902",
                      R"({"request": {"path": "/v2.1/servers", "query": "", "method": "POST", "scheme": "http"}, "host": "vm"})"),
      reference_event("rpc-start", rpc_id, wsgi_id, "361540",
                      R"j({"function": {"name": "__main__.Api.rpc_call", "args": "(<__main__.Api object at 0x7ffb3754a1d0>, 'vm1')", "kwargs": "{}"}, "host": "vm"})j"),
      reference_event("db-start", db_id, rpc_id, "361613",
                      R"j({"function": {"name": "__main__.db_get", "args": "(42,)", "kwargs": "{'deleted': False}"}, "host": "vm"})j"),
      reference_event("db-stop", db_id, rpc_id, "361690",
                      R"({"function": {"result": "{'id': 42, 'status': 'ACTIVE'}"}, "host": "vm"})"),
      reference_event("rpc-stop", rpc_id, wsgi_id, "361745", R"({"host": "vm"})"),
      reference_event("driver-start", driver_id, wsgi_id, "361939",
                      R"j({"function": {"name": "__main__.Driver.spawn", "args": "(<__main__.Driver object at 0x7ffb3754a3d0>, 'vm1')", "kwargs": "{}"}, "host": "vm"})j"),
      reference_event("driver-stop", driver_id, wsgi_id, "362054",
                      R"({"etype": "RuntimeError", "message": "boom: cannot spawn vm1", "host": "vm"})"),
      reference_event("ctx-start", ctx_id, wsgi_id, "362160", R"({"host": "vm"})"),
      reference_event("ctx-stop", ctx_id, wsgi_id, "362290",
                      R"({"etype": "ValueError", "message": "bad value", "host": "vm"})"),
      reference_event("wsgi-stop", wsgi_id, base, "362371", R"({"host": "vm"})"),
  };
}

/// As Redis returns them (LRANGE of an LPUSH list: newest first), which is what Python read.
inline std::vector<std::string> reference_events_redis_order() {
  auto events = reference_events_chronological();
  return {events.rbegin(), events.rend()};
}

}  // namespace osprof::test
