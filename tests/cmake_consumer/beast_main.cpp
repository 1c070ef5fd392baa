// Builds against osprof::beast (header-only, Asio/Beast types) from the installed package.
#include <osprof_beast/beast.hpp>

#include <boost/beast/http.hpp>

int main() {
  namespace http = boost::beast::http;
  osprof::beast::server server;
  http::request<http::string_body> req{http::verb::get, "/", 11};
  // No trace headers: the handler runs untraced and its result comes back as is.
  const int status = server.handle(req, [] { return 200; });
  return status == 200 ? 0 : 1;
}
