// `osprof serve`: its command line. The server itself is in serve_server.cpp.
#include <cstdlib>

#include "cli.hpp"
#include "serve.hpp"

namespace osprof::cli {

namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace

void add_serve_command(CLI::App& app, command_action& action) {
  struct options {
    std::optional<std::string> connection_string;
    serve::settings s;
    int timeout_s = 10;
    int readers = 4;
  };
  auto o = std::make_shared<options>();
  CLI::App* command = app.add_subcommand(
      "serve", "Serve the traces of a backend over HTTP: a JSON API and a web UI (read-only)");
  add_connection_string_option(*command, o->connection_string);
  command->add_option("--listen", o->s.listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free port)")
      ->option_text("HOST:PORT");
  command->add_option("--token", o->s.token,
                      "require `Authorization: Bearer TOKEN` (default $OSPROF_SERVE_TOKEN)")
      ->option_text("TOKEN");
  command->add_option("--basic-auth", o->s.basic_auth,
                      "require HTTP Basic auth with USER:PASSWORD (default $OSPROF_SERVE_BASIC_AUTH)")
      ->option_text("USER:PASSWORD");
  command->add_option("--timeout", o->timeout_s, "seconds one backend read may take before the request gets 503 (default 10)")
      ->check(integer_in(1, 3600))
      ->option_text("S");
  command->add_option("--readers", o->readers, "backend reads in progress at most (default 4)")
      ->check(integer_in(1, 64))
      ->option_text("N");
  command->callback([o, &action] {
    action = [o] {
      serve::settings s = o->s;
      s.connection_string = connection_string(o->connection_string);
      if (s.token.empty()) s.token = env_or_empty("OSPROF_SERVE_TOKEN");
      if (s.basic_auth.empty()) s.basic_auth = env_or_empty("OSPROF_SERVE_BASIC_AUTH");
      if (!s.basic_auth.empty() && s.basic_auth.find(':') == std::string::npos) {
        throw usage_error{"--basic-auth takes USER:PASSWORD"};
      }
      s.read_timeout = std::chrono::seconds(o->timeout_s);
      s.readers = static_cast<std::size_t>(o->readers);
      return serve::run(s);
    };
  });
}

}  // namespace osprof::cli
