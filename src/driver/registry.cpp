// The scheme -> backend registry behind register_driver(), make_writer() and make_reader().
// The core registers nothing itself: the drivers shipped with osprof are registered by
// register_builtin_drivers() in the osprof::drivers target, which alone knows their list.
#include <algorithm>
#include <cctype>
#include <mutex>

#include <osprof/driver.hpp>
#include <osprof/error.hpp>

#include "driver/scheme_resolver.hpp"

namespace osprof {
inline namespace v1 {

namespace {

struct registry {
  std::mutex mutex;
  std::vector<driver_registration> drivers;
  detail::scheme_resolver resolver;
};

registry& the_registry() {
  static auto* r = new registry();  // never destroyed: factories may run during exit
  return *r;
}

const driver_registration* registered(const registry& r, std::string_view scheme) {
  for (const auto& d : r.drivers) {
    if (d.scheme == scheme) return &d;
  }
  return nullptr;
}

// The registration for the connection string's scheme, copied out of the lock.
driver_registration find(const connection_string& cs) {
  detail::resolve_scheme(cs.scheme);
  registry& r = the_registry();
  std::lock_guard lock(r.mutex);
  if (const auto* d = registered(r, cs.scheme)) return *d;
  std::string known;
  for (const auto& d : r.drivers) {
    if (!known.empty()) known += ", ";
    known += d.scheme;
  }
  if (known.empty()) {
    cs.fail("unknown backend '" + cs.scheme +
            "': no backend is registered in this program (link osprof::drivers and call "
            "osprof::register_builtin_drivers(), or register one with osprof::register_driver())");
  }
  cs.fail("unknown backend '" + cs.scheme + "'; known backends: " + known);
}

}  // namespace

boost::asio::awaitable<close_result> writer::close() { co_return close_result{}; }

namespace {

// Newest first: start timestamp, then base_id, both descending.
bool newer(const trace_summary& a, const trace_summary& b) noexcept {
  return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.base_id > b.base_id;
}

}  // namespace

bool in_page_range(const list_query& query, const trace_summary& row) noexcept {
  if (query.after && !newer(*query.after, row)) return false;
  if (!query.since.empty() && row.timestamp < query.since) return false;
  if (!query.until.empty() && row.timestamp >= query.until) return false;
  return row.base_id.starts_with(query.id_prefix);
}

trace_page page_of(std::vector<trace_summary> rows, const list_query& query) {
  std::erase_if(rows, [&](const trace_summary& row) { return !in_page_range(query, row); });
  trace_page page;
  if (query.limit != 0 && rows.size() > query.limit) {
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(query.limit), rows.end(), newer);
    rows.resize(query.limit);
    page.more = true;
  } else {
    std::sort(rows.begin(), rows.end(), newer);
  }
  page.traces = std::move(rows);
  return page;
}

boost::asio::awaitable<trace_page> reader::list_page(const list_query& query) {
  if (query.has_field_filter()) {
    throw error("this backend cannot filter traces by project, service, host or name");
  }
  // Not `cond ? co_await a : co_await b`: GCC 12 destroys the result of such an expression twice.
  std::vector<trace_summary> rows;
  if (query.errors_only) {
    rows = co_await list_error_traces();
  } else {
    rows = co_await list_traces();
  }
  co_return page_of(std::move(rows), query);
}

void register_driver(driver_registration registration) {
  if (registration.scheme.empty()) throw error("register_driver: the scheme is empty");
  if (!registration.make_writer && !registration.make_reader) {
    throw error("register_driver: " + registration.scheme + ":// has neither a writer nor a reader factory");
  }
  std::transform(registration.scheme.begin(), registration.scheme.end(), registration.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  registry& r = the_registry();
  std::lock_guard lock(r.mutex);
  auto it = std::find_if(r.drivers.begin(), r.drivers.end(), [&](const auto& d) { return d.scheme == registration.scheme; });
  if (it != r.drivers.end()) {
    *it = std::move(registration);
  } else {
    r.drivers.push_back(std::move(registration));
  }
}

std::vector<driver_description> registered_drivers() {
  registry& r = the_registry();
  std::lock_guard lock(r.mutex);
  std::vector<driver_description> out;
  out.reserve(r.drivers.size());
  for (const auto& d : r.drivers) {
    out.push_back({d.scheme, d.summary, static_cast<bool>(d.make_writer), static_cast<bool>(d.make_reader)});
  }
  return out;
}

std::unique_ptr<writer> make_writer(std::string_view text, const driver_context& context) {
  const connection_string cs = connection_string::parse(text);
  const driver_registration d = find(cs);
  if (!d.make_writer) cs.fail(cs.scheme + ":// is read-only: events cannot be written to it");
  return d.make_writer(cs, context);
}

std::unique_ptr<reader> make_reader(std::string_view text, const driver_context& context) {
  const connection_string cs = connection_string::parse(text);
  const driver_registration d = find(cs);
  if (!d.make_reader) {
    throw error(cs.scheme + "://: " +
                (d.why_no_reader.empty() ? std::string("this backend is write-only, so traces cannot be read back from it")
                                         : d.why_no_reader));
  }
  return d.make_reader(cs, context);
}

}  // namespace v1
}  // namespace osprof

namespace osprof::detail {

void set_scheme_resolver(scheme_resolver resolver) {
  auto& r = v1::the_registry();
  std::lock_guard lock(r.mutex);
  r.resolver = std::move(resolver);
}

void resolve_scheme(std::string_view scheme) {
  auto& r = v1::the_registry();
  scheme_resolver resolver;
  {
    std::lock_guard lock(r.mutex);
    if (v1::registered(r, scheme) != nullptr) return;
    resolver = r.resolver;
  }
  // Outside the lock: the resolver registers drivers.
  if (resolver) resolver(scheme);
}

}  // namespace osprof::detail
