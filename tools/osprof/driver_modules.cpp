// Loading driver modules: dlopen() the module, check that it was built with this osprof, and
// call its registration, which registers the driver's schemes into this program's registry
// (the command exports its symbols, so the module uses the command's core, not a copy).
#include "driver_modules.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <string_view>

#include <osprof/error.hpp>
#include <osprof/version.hpp>

#include "driver/scheme_resolver.hpp"

namespace osprof::cli {

namespace {

struct module_state {
  std::mutex mutex;
  std::vector<loadable_driver> drivers;
  std::vector<std::string> loaded;  // names
};

module_state& state() {
  static auto* s = new module_state();  // never destroyed: drivers may be named during exit
  return *s;
}

bool has_scheme(const loadable_driver& d, std::string_view scheme) {
  std::string_view rest = d.schemes;
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    if (rest.substr(0, space) == scheme) return true;
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  return false;
}

std::string executable_dir() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return ".";
  std::string dir(path, static_cast<std::size_t>(n));
  const std::size_t slash = dir.rfind('/');
  return slash == std::string::npos ? std::string(".") : dir.substr(0, slash);
}

// Loads one module (the caller holds the state's lock). Throws osprof::error saying why not.
void load(module_state& s, const loadable_driver& d) {
  for (const auto& name : s.loaded) {
    if (name == d.name) return;
  }
  const std::string path = driver_module_dir() + "/osprof-" + d.name + ".so";
  const std::string hint = " (the " + std::string(d.name) +
                           " driver is a module of the osprof command; $OSPROF_DRIVER_DIR names the folder that holds it)";
  void* module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    const char* error_text = ::dlerror();
    std::string_view why = error_text != nullptr ? error_text : "unknown error";
    if (why.starts_with(path + ": ")) why.remove_prefix(path.size() + 2);  // dlerror() names the file too
    throw error("cannot load " + path + ": " + std::string(why) + hint);
  }
  using version_fn = const char* (*)();
  using register_fn = void (*)();
  auto version = reinterpret_cast<version_fn>(::dlsym(module, "osprof_driver_module_version"));
  auto register_driver = reinterpret_cast<register_fn>(::dlsym(module, "osprof_driver_module_register"));
  if (version == nullptr || register_driver == nullptr) {
    ::dlclose(module);
    throw error(path + " is not an osprof driver module" + hint);
  }
  if (std::string_view(version()) != OSPROF_VERSION_STRING) {
    const std::string built_with = version();
    ::dlclose(module);
    throw error(path + " was built with osprof " + built_with + ", this command is osprof " + OSPROF_VERSION_STRING + hint);
  }
  register_driver();  // never unloaded: its factories are registered
  s.loaded.emplace_back(d.name);
}

// The registry's resolver: the module of the driver that has `scheme`; for a scheme no module
// has, every module, so that the registry's "unknown backend" lists all the known ones.
void resolve(std::string_view scheme) {
  module_state& s = state();
  std::lock_guard lock(s.mutex);
  for (const auto& d : s.drivers) {
    if (has_scheme(d, scheme)) return load(s, d);
  }
  for (const auto& d : s.drivers) {
    try {
      load(s, d);
    } catch (const error&) {
      // Only to list the known schemes: a module that does not load is not one of them.
    }
  }
}

}  // namespace

void use_driver_modules(std::vector<loadable_driver> drivers) {
  {
    module_state& s = state();
    std::lock_guard lock(s.mutex);
    s.drivers = std::move(drivers);
  }
  detail::set_scheme_resolver(resolve);
}

std::vector<std::string> load_all_driver_modules() {
  module_state& s = state();
  std::lock_guard lock(s.mutex);
  std::vector<std::string> failures;
  for (const auto& d : s.drivers) {
    try {
      load(s, d);
    } catch (const error& e) {
      failures.emplace_back(e.what());
    }
  }
  return failures;
}

std::string driver_module_dir() {
  if (const char* dir = std::getenv("OSPROF_DRIVER_DIR"); dir != nullptr && *dir != '\0') return dir;
  return executable_dir() + "/" + OSPROF_MODULE_RELATIVE_DIR;
}

}  // namespace osprof::cli
