// The caller side: OSProfiler's per-thread profiler and its trace points.
//
//   osprof::init("SECRET_KEY");                      // this thread joins a new trace
//   osprof::start("db", {{"db", {{"statement", sql}}}});
//   ...
//   osprof::stop();
//   {
//     osprof::trace point{"rpc"};                   // stops on scope exit; records the
//     ...                                           // exception's type and message if one leaves
//   }
//   void Driver::spawn() { OSPROF_TRACE_FUNCTION("driver"); ... }
//
// A trace point fills a fixed-size event and pushes it into a lock-free queue: no heap
// allocation (while name + info fit `inline_payload_budget`), no formatting, no lock and no
// system call. Without a profiler on the thread a trace point is one branch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <source_location>
#include <span>
#include <string>
#include <string_view>

#include <osprof/info.hpp>
#include <osprof/uuid.hpp>

namespace osprof::detail {
struct profiler_state;

/// The profiler active on this thread (nullptr: none). Swapped by context_scope and by the
/// Asio integration when a coroutine resumes on another thread.
inline constinit thread_local profiler_state* current = nullptr;

void start_point(profiler_state* state, std::string_view name, std::span<const info_field> fields,
                 const char* function) noexcept;
void stop_point(profiler_state* state, std::span<const info_field> fields) noexcept;
void stop_point_after_exception(profiler_state* state) noexcept;
}  // namespace osprof::detail

namespace osprof {
inline namespace v1 {

/// Point names longer than this are cut to it (counted in stats::cut_names).
inline constexpr std::size_t max_point_name_bytes = 1024;

/// This thread's profiler, as OSProfiler's `_Profiler`.
class profiler {
 public:
  uuid base_id() const noexcept;    ///< the trace (get_base_id)
  uuid id() const noexcept;         ///< the current trace point, or the init parent (get_id)
  uuid parent_id() const noexcept;  ///< the point that encloses the current one (get_parent_id)
  std::string_view hmac_key() const noexcept;
  std::size_t depth() const noexcept;  ///< trace points started and not yet stopped

 protected:
  profiler() = default;
  ~profiler() = default;
};

/// Creates this thread's profiler, unless it already has one (then returns that one and keeps
/// its key, as OSProfiler does). A nil base id means a new uuid4; a nil parent means the base.
profiler* init(std::string_view hmac_key, uuid base_id = {}, uuid parent_id = {});
/// As above with ids in text form: any spelling of a uuid (uuid::parse_like), stored in the
/// canonical lowercase hyphenated form. Returns nullptr (and creates nothing) if an id that is
/// not empty is not a uuid: osprof's ids are 128-bit, where Python takes any string.
profiler* init(std::string_view hmac_key, std::string_view base_id, std::string_view parent_id = {});
/// This thread's profiler, or nullptr.
inline profiler* get() noexcept { return reinterpret_cast<profiler*>(detail::current); }
/// Removes this thread's profiler: trace points become no-ops again.
void clean() noexcept;

/// Starts a trace point named `name`: emits `<name>-start`. No-op without a profiler.
inline void start(std::string_view name, info fields = {}) noexcept {
  if (auto* state = detail::current) detail::start_point(state, name, {fields.begin(), fields.size()}, nullptr);
}
inline void start(std::string_view name, std::span<const info_field> fields) noexcept {
  if (auto* state = detail::current) detail::start_point(state, name, fields, nullptr);
}
/// Stops the innermost trace point: emits `<name>-stop`. No-op without a profiler or an open
/// point (as OSProfiler 4.4).
inline void stop(info fields = {}) noexcept {
  if (auto* state = detail::current) detail::stop_point(state, {fields.begin(), fields.size()});
}
inline void stop(std::span<const info_field> fields) noexcept {
  if (auto* state = detail::current) detail::stop_point(state, fields);
}

/// A scoped trace point, as OSProfiler's `with Trace(name, info)`. If an exception leaves the
/// scope, the stop event carries `etype` (the exception's type) and `message` (its what()).
class trace {
 public:
  /// A guard that does nothing (what OSPROF_TRACE makes when no profiler is active).
  struct inactive_t {};
  static constexpr inactive_t inactive{};
  explicit trace(inactive_t) noexcept : state_(nullptr) {}

  explicit trace(std::string_view name, info fields = {}) noexcept : state_(detail::current) {
    if (state_ != nullptr) begin(name, {fields.begin(), fields.size()}, nullptr);
  }
  trace(std::string_view name, std::span<const info_field> fields) noexcept : state_(detail::current) {
    if (state_ != nullptr) begin(name, fields, nullptr);
  }
  ~trace() {
    if (state_ != nullptr) end();
  }
  trace(const trace&) = delete;
  trace& operator=(const trace&) = delete;

 protected:
  struct function_tag {
    const char* name;
  };
  trace(function_tag function, std::string_view name, info fields = {}) noexcept : state_(detail::current) {
    if (state_ != nullptr) begin(name, {fields.begin(), fields.size()}, function.name);
  }

 private:
  void begin(std::string_view name, std::span<const info_field> fields, const char* function) noexcept {
    uncaught_ = std::uncaught_exceptions();
    detail::start_point(state_, name, fields, function);
  }
  void end() noexcept {
    if (std::uncaught_exceptions() > uncaught_) {
      detail::stop_point_after_exception(detail::current);
    } else if (auto* state = detail::current) {
      detail::stop_point(state, {});
    }
  }

  detail::profiler_state* state_;
  int uncaught_ = 0;
};

/// What OSPROF_TRACE_FUNCTION creates: a scoped point whose info holds
/// `function: {name: <the enclosing function>}`, as OSProfiler's @trace decorator.
class function_trace : public trace {
 public:
  function_trace(const char* function, std::string_view name, info fields = {}) noexcept
      : trace(function_tag{function}, name, fields) {}
  explicit function_trace(inactive_t) noexcept : trace(inactive) {}
};

/// A trace's identity at one point: enough to continue it on another thread or coroutine.
/// Capture it where the work is handed off; resume it with context_scope where it runs.
struct trace_context {
  uuid base_id;
  uuid parent_id;  ///< the point new trace points attach to (the one current at capture)
  std::string hmac_key;
};

/// The context of this thread's profiler, or nullopt when it has none.
std::optional<trace_context> capture();

/// Makes `ctx` this thread's profiler for the scope's lifetime, then restores what was there
/// (a profiler or none). Trace points inside become children of `ctx.parent_id`.
class context_scope {
 public:
  explicit context_scope(const trace_context& ctx);
  ~context_scope();
  context_scope(const context_scope&) = delete;
  context_scope& operator=(const context_scope&) = delete;

 private:
  detail::profiler_state* saved_;
  detail::profiler_state* own_;
};

/// Creates this thread's queue producer ahead of time, so that even the first trace point on
/// the thread allocates nothing. init() and context_scope call it.
void prepare_thread();

}  // namespace v1
}  // namespace osprof

#define OSPROF_DETAIL_CAT2(a, b) a##b
#define OSPROF_DETAIL_CAT(a, b) OSPROF_DETAIL_CAT2(a, b)

// The macros test for a profiler before they evaluate their arguments, and keep the traced
// path out of line (a cold lambda), so without a profiler a trace point costs one branch,
// whatever its info. (The functions build their info arguments before they test.)
#if defined(OSPROF_DISABLE)
// Compiled out: the macros vanish; the functions above stay available.
#define OSPROF_START(...) static_cast<void>(0)
#define OSPROF_STOP(...) static_cast<void>(0)
#define OSPROF_TRACE(...) static_cast<void>(0)
#define OSPROF_TRACE_FUNCTION(...) static_cast<void>(0)
#else
#define OSPROF_DETAIL_COLD __attribute__((noinline, cold))
/// osprof::start() that evaluates its arguments only with a profiler: OSPROF_START("db", {{"k", v}}).
#define OSPROF_START(...)                                                                   \
  do {                                                                                      \
    if (::osprof::detail::current != nullptr) [[unlikely]]                                  \
      [&]() OSPROF_DETAIL_COLD { ::osprof::start(__VA_ARGS__); }();                         \
  } while (false)
/// osprof::stop(), likewise.
#define OSPROF_STOP(...)                                                                    \
  do {                                                                                      \
    if (::osprof::detail::current != nullptr) [[unlikely]]                                  \
      [&]() OSPROF_DETAIL_COLD { ::osprof::stop(__VA_ARGS__); }();                          \
  } while (false)
/// A scoped trace point for the rest of the enclosing block: OSPROF_TRACE("db", {{"k", v}}).
#define OSPROF_TRACE(...)                                                                   \
  [[maybe_unused]] ::osprof::trace OSPROF_DETAIL_CAT(osprof_trace_, __LINE__) =             \
      ::osprof::detail::current != nullptr                                                  \
          ? [&]() OSPROF_DETAIL_COLD { return ::osprof::trace(__VA_ARGS__); }()             \
          : ::osprof::trace(::osprof::trace::inactive)
/// Traces the enclosing function as a point named by the first argument, recording the
/// function's name in info: OSPROF_TRACE_FUNCTION("rpc") or OSPROF_TRACE_FUNCTION("db", {{...}}).
#define OSPROF_TRACE_FUNCTION(...)                                                                      \
  [[maybe_unused]] ::osprof::function_trace OSPROF_DETAIL_CAT(osprof_function_trace_, __LINE__) =       \
      ::osprof::detail::current != nullptr                                                              \
          ? [&, osprof_function_ = ::std::source_location::current().function_name()]() OSPROF_DETAIL_COLD { \
              return ::osprof::function_trace(osprof_function_, __VA_ARGS__);                           \
            }()                                                                                         \
          : ::osprof::function_trace(::osprof::trace::inactive)
#endif
