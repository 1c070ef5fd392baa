// A hook for programs that register some drivers only when a connection string first names
// them (the osprof CLI loads the drivers with large client libraries from modules, so that a
// run which reads Redis does not map libmongoc, libpq and libmariadb). Not public API.
#pragma once

#include <functional>
#include <string_view>

namespace osprof::detail {

/// Called, outside the registry's lock, with a scheme no registered driver has, before
/// make_writer() / make_reader() report it unknown. It may register drivers (then the lookup
/// is tried again) or throw osprof::error to say why the driver could not be had.
using scheme_resolver = std::function<void(std::string_view scheme)>;

/// Sets (or, with an empty function, clears) the resolver. @note Thread safe.
void set_scheme_resolver(scheme_resolver resolver);

/// Runs the resolver for `scheme` unless a driver has it already, as make_writer() and
/// make_reader() do, for a caller that looks at registered_drivers() before making either.
/// Throws what the resolver throws. @note Thread safe.
void resolve_scheme(std::string_view scheme);

}  // namespace osprof::detail
