// Cross-service propagation: how a trace leaves this process on a call and how a request
// that arrives with trace headers continues it. Two header kinds, both optional:
//   - OSProfiler's signed pair X-Trace-Info / X-Trace-HMAC (byte-identical to Python
//     OSProfiler; verified with the configured HMAC keys),
//   - W3C Trace Context (traceparent / tracestate; unsigned).
// Plus OSProfiler's RPC form (the `trace_info` object of an oslo.messaging context).
// Transport-neutral: osprof::beast (integrations/beast) applies it to Boost.Beast messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/options.hpp>
#include <osprof/profiler.hpp>
#include <osprof/uuid.hpp>

namespace osprof {
inline namespace v1 {

// ---------------------------------------------------------------------------------------
// Settings

/// Header kinds, as a bit set: `propagators::osprofiler | propagators::tracecontext`.
enum class propagators : std::uint8_t {
  none = 0,
  osprofiler = 1,    ///< X-Trace-Info + X-Trace-HMAC
  tracecontext = 2,  ///< W3C traceparent + tracestate
};
constexpr propagators operator|(propagators a, propagators b) noexcept {
  return static_cast<propagators>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool has(propagators set, propagators kind) noexcept {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(kind)) != 0;
}

namespace env {
/// Which header kinds to accept (`accept` true) or emit, from OSPROF_PROPAGATORS_ACCEPT /
/// OSPROF_PROPAGATORS_EMIT, then OSPROF_PROPAGATORS, then OTEL_PROPAGATORS (see
/// propagation_options). Values: comma list of `osprofiler`, `tracecontext`, `none`.
propagators propagator_set(bool accept);
}  // namespace env

/// Propagation settings. Each default comes from the environment when the struct is built.
struct propagation_options {
  /// Whether a request's trace headers are honoured at all, as Python OSProfiler's `[profiler]
  /// enabled` (off there too): while false, extract() and osprof::beast::server ignore them,
  /// so nothing from outside switches tracing on. Turn it on with keys of your own (a warning
  /// is logged when `hmac_keys` holds the well-known `SECRET_KEY`). Outgoing headers do not
  /// depend on it. OSPROF_TRACE_INCOMING; default false.
  bool trace_incoming = env::boolean("OSPROF_TRACE_INCOMING", false);
  /// Keys that verify incoming X-Trace-HMAC, tried in order; empty keys are ignored.
  /// OSPROF_HMAC_KEYS (comma-separated, as OSProfiler's `hmac_keys`); default `SECRET_KEY`.
  std::vector<std::string> hmac_keys = env::list("OSPROF_HMAC_KEYS", "SECRET_KEY");
  /// Header kinds an incoming request may continue a trace from. Default: `osprofiler` only,
  /// because a traceparent is unsigned and would let any client switch tracing on.
  /// OSPROF_PROPAGATORS_ACCEPT, else OSPROF_PROPAGATORS, else OTEL_PROPAGATORS (listing
  /// `tracecontext` there adds it; osprofiler stays on).
  propagators accept = env::propagator_set(true);
  /// Header kinds set on outgoing calls. Default: `osprofiler,tracecontext`.
  /// OSPROF_PROPAGATORS_EMIT, else OSPROF_PROPAGATORS, else OTEL_PROPAGATORS (as above).
  propagators emit = env::propagator_set(false);
};

/// Settings read from the environment once, on first use (what the helpers default to).
const propagation_options& default_propagation_options();

/// OSProfiler's default key, printed in every OSProfiler guide: headers it signs prove nothing.
inline constexpr std::string_view well_known_hmac_key = "SECRET_KEY";
/// Logs a warning, once per process, when `opts` honour incoming headers and one of their keys
/// is the well-known one. osprof::beast::server calls it when constructed, extract() when it
/// first looks at headers.
void warn_about_well_known_key(const propagation_options& opts);

// ---------------------------------------------------------------------------------------
// OSProfiler's signed headers

inline constexpr std::string_view trace_info_header = "X-Trace-Info";
inline constexpr std::string_view trace_hmac_header = "X-Trace-HMAC";
/// Longest X-Trace-Info osprof verifies (a real one is about 140 bytes); longer is rejected.
inline constexpr std::size_t max_trace_info_size = 8192;

struct signed_trace_info {
  std::string info;  ///< X-Trace-Info: URL-safe base64 (with `=` padding) of the JSON payload
  std::string hmac;  ///< X-Trace-HMAC: lowercase hex HMAC-SHA1 of `info`
};

/// HMAC-SHA1 of `data` keyed with `key` (its bytes, UTF-8), as 40 lowercase hex digits.
std::string hmac_sha1_hex(std::string_view key, std::string_view data);

/// What Python's web.get_trace_id_headers() sends for a profiler with this key, base and
/// current point: `{"base_id": "<base>", "parent_id": "<parent>"}` (Python's separators),
/// base64, signed. Byte-identical to Python OSProfiler.
signed_trace_info sign_trace_info(std::string_view hmac_key, const uuid& base_id, const uuid& parent_id);
/// Encodes and signs an arbitrary JSON text (tests, tools).
signed_trace_info sign_payload(std::string_view hmac_key, std::string_view json);

/// Why a pair of headers was or was not accepted.
enum class header_status : std::uint8_t {
  accepted,
  missing,         ///< neither header present
  incomplete,      ///< only one of the two, or an empty one
  too_large,       ///< X-Trace-Info above max_trace_info_size, or an HMAC above 1 KiB
  bad_signature,   ///< no configured key gives this HMAC (wrong key, tampered, uppercase hex)
  bad_encoding,    ///< signed, but not base64 as Python decodes it (no padding, non-ASCII),
                   ///< not UTF-8, or not JSON
  bad_payload,     ///< not an object holding `base_id`, or holding keys besides base_id,
                   ///< parent_id (and hmac_key, which Python overwrites)
  unsupported_id,  ///< accepted by Python, but an id is neither a uuid nor empty/null/false/0,
                   ///< so osprof cannot continue it (its ids are 128-bit)
};
std::string_view to_string(header_status status) noexcept;

struct verified_trace_info {
  header_status status = header_status::missing;
  /// With `accepted`: the trace to continue; `hmac_key` is the key that verified. A base that
  /// Python treats as empty gives a new random base (as profiler.init does); an empty parent
  /// gives the base.
  trace_context context;
  explicit operator bool() const noexcept { return status == header_status::accepted; }
};

/// Python OSProfiler's signed_unpack + WsgiMiddleware checks: tries every key (constant-time
/// comparison), decodes as Python does, and keeps what Python keeps. Nothing is counted here.
verified_trace_info verify_trace_info(std::optional<std::string_view> info, std::optional<std::string_view> hmac,
                                      std::span<const std::string> hmac_keys);

// ---------------------------------------------------------------------------------------
// W3C Trace Context

inline constexpr std::string_view traceparent_header = "traceparent";
inline constexpr std::string_view tracestate_header = "tracestate";

/// A parsed traceparent. OSProfiler ids map to it as OSProfiler's OTLP driver does:
/// trace-id = the 128-bit base_id, parent-id = the low 64 bits of the point's uuid.
struct traceparent {
  std::uint8_t version = 0;
  uuid trace_id;                ///< the 16-byte trace-id (`hi` = its first 8 bytes)
  std::uint64_t parent_id = 0;  ///< the caller's span id
  std::uint8_t flags = 0;       ///< 0x01 sampled, 0x02 random trace-id
  bool sampled() const noexcept { return (flags & 0x01) != 0; }
};

/// Parses one traceparent value by the spec's rules (OWS around it ignored; lowercase hex;
/// version ff and all-zero ids invalid; version 00 exactly 55 characters; a higher version
/// parsed by its first four fields). nullopt: ignore the header.
std::optional<traceparent> parse_traceparent(std::string_view value) noexcept;
/// Always version 00.
std::string format_traceparent(const traceparent& tp);

/// Validates a tracestate (several fields joined with ","): at most 32 members, keys and
/// values by the spec's grammar (multi-tenant keys included), no duplicate key; empty members
/// allowed. Returns it without OWS and empty members, or nullopt if invalid (then drop it).
std::optional<std::string> parse_tracestate(std::string_view combined);
/// `key=value` placed first, replacing the key's older entry, trimmed to 32 members.
std::string tracestate_put(std::string_view list, std::string_view key, std::string_view value);
/// The value of `key` in a validated list, or empty.
std::string_view tracestate_get(std::string_view list, std::string_view key) noexcept;

/// osprof's own tracestate key: its value is the 32-hex uuid of the caller's trace point, so
/// an osprof callee that continues from traceparent alone still links to the exact parent.
inline constexpr std::string_view tracestate_key = "osprof";

// ---------------------------------------------------------------------------------------
// Extracting (server side) and injecting (client side)

/// The trace headers of one incoming request, as found in its carrier. Header names are
/// case-insensitive; a carrier adaptor fills this and counts repeated fields.
struct incoming_headers {
  std::optional<std::string_view> trace_info;
  std::optional<std::string_view> trace_hmac;
  std::optional<std::string_view> traceparent;
  std::string_view tracestate;  ///< every tracestate field, joined with ","
  bool repeated_osprofiler = false;   ///< X-Trace-Info or X-Trace-HMAC appeared twice: rejected
  bool repeated_traceparent = false;  ///< traceparent appeared twice: ignored
  bool any() const noexcept { return trace_info || trace_hmac || traceparent; }
};

/// Where a continued trace came from.
enum class trace_source : std::uint8_t { none, osprofiler, tracecontext };

/// The outcome of extract().
struct extracted_context {
  trace_source source = trace_source::none;  ///< none: do not trace this request
  trace_context context;                     ///< base, parent, and the key for outgoing calls
  std::uint8_t trace_flags = 0x01;           ///< W3C flags to pass on
  std::string tracestate;                    ///< validated tracestate to pass on
  header_status osprofiler_status = header_status::missing;
  bool rejected = false;  ///< some accepted kind was present and invalid (counted in stats)
  explicit operator bool() const noexcept { return source != trace_source::none; }
};

/// Decides whether a request continues a trace. Nothing does unless `opts.trace_incoming`
/// (then the headers are not even looked at). Precedence: a valid signed OSProfiler header
/// wins; otherwise a valid, sampled traceparent (if `accept` has tracecontext); otherwise the
/// request is not traced. An invalid header is never an error for the caller: it counts in
/// stats::rejected_headers (once per request) and the request runs untraced.
/// A trace continued from traceparent signs outgoing OSProfiler headers with the first key.
extracted_context extract(const incoming_headers& headers, const propagation_options& opts);

/// What an outgoing call carries. Empty strings are headers not to set.
struct outgoing_headers {
  std::string trace_info;   ///< X-Trace-Info
  std::string trace_hmac;   ///< X-Trace-HMAC
  std::string traceparent;
  std::string tracestate;
  bool empty() const noexcept { return trace_info.empty() && traceparent.empty(); }
};

/// The headers for a call made now from this thread: the thread's current trace point becomes
/// the callee's parent. Empty without a profiler. OSProfiler headers need a non-empty key (as
/// in Python); W3C headers carry the flags and tracestate of the propagated trace, if any.
outgoing_headers current_headers(const propagation_options& opts = default_propagation_options());
/// The same for an explicit context (its parent_id is the callee's parent).
outgoing_headers make_headers(const trace_context& ctx, const propagation_options& opts,
                              std::uint8_t trace_flags = 0x01, std::string_view tracestate = {});

// ---------------------------------------------------------------------------------------
// RPC form (oslo.messaging context `trace_info`; unsigned: the key travels in clear)

/// `{"hmac_key": "...", "base_id": "...", "parent_id": "..."}` as Python's json.dumps writes
/// it (the serializer OpenStack services use). The parent is `ctx.parent_id`.
std::string rpc_trace_info_json(const trace_context& ctx);
/// Python's `profiler.init(**trace_info)`: an object with `hmac_key` (string or null) and
/// optionally base_id and parent_id (uuid strings, or empty/null for a new base / the base).
/// Any other key, or a non-object, gives nullopt.
std::optional<trace_context> parse_rpc_trace_info(std::string_view json);
/// The same, from a whole serialized context holding `trace_info` (nullopt when it holds none).
std::optional<trace_context> parse_rpc_context(std::string_view json);

// ---------------------------------------------------------------------------------------
// A propagated trace being continued here

/// The trace of one incoming request (or message): owns the profiler state its trace points
/// use and the W3C state to pass on. Activate it wherever the request's work runs: with
/// propagated_scope on a thread, or with osprof::beast::traced_executor across Asio handlers
/// and threads. Work that shares it must not run concurrently (use fork() for that).
class propagated_trace : public std::enable_shared_from_this<propagated_trace> {
  struct private_tag {};

 public:
  /// Continues `ctx`: trace points become children of ctx.parent_id (a nil base: a new trace).
  static std::shared_ptr<propagated_trace> create(const trace_context& ctx, std::uint8_t trace_flags = 0x01,
                                                  std::string tracestate = {});
  /// nullptr when `x` says not to trace.
  static std::shared_ptr<propagated_trace> create(const extracted_context& x);

  propagated_trace(private_tag, const trace_context& ctx, std::uint8_t trace_flags, std::string tracestate);
  ~propagated_trace();
  propagated_trace(const propagated_trace&) = delete;
  propagated_trace& operator=(const propagated_trace&) = delete;

  uuid base_id() const noexcept;
  /// The current point of this trace (its origin parent before any point started).
  uuid current_id() const noexcept;
  std::string_view hmac_key() const noexcept;
  std::uint8_t trace_flags() const noexcept { return flags_; }
  std::string_view tracestate() const noexcept { return tracestate_; }
  /// Open trace points.
  std::size_t depth() const noexcept;

  /// A new trace that continues from this one's current point, for work that runs
  /// concurrently with it (each concurrent branch needs its own stack of points).
  std::shared_ptr<propagated_trace> fork() const;

  /// What activate() replaced, to give back to deactivate().
  struct activation {
    detail::profiler_state* state;
    propagated_trace* trace;
  };
  /// Makes this the thread's profiler (osprof::get() and trace points use it).
  activation activate() noexcept;
  /// Restores what was active before the matching activate().
  static void deactivate(activation previous) noexcept;
  /// The propagated trace active on this thread, or nullptr (none, or another profiler).
  static propagated_trace* active() noexcept;

 private:
  detail::profiler_state* state_;
  std::uint8_t flags_;
  std::string tracestate_;
};

/// Activates a propagated trace for the scope's lifetime (nullptr: does nothing).
class propagated_scope {
 public:
  explicit propagated_scope(propagated_trace* trace) noexcept
      : trace_(trace), saved_(trace != nullptr ? trace->activate() : propagated_trace::activation{}) {}
  ~propagated_scope() {
    if (trace_ != nullptr) propagated_trace::deactivate(saved_);
  }
  propagated_scope(const propagated_scope&) = delete;
  propagated_scope& operator=(const propagated_scope&) = delete;

 private:
  propagated_trace* trace_;
  propagated_trace::activation saved_;
};

}  // namespace v1
}  // namespace osprof
