#include "drivers/mysql/my_options.hpp"

#include <algorithm>

#include <osprof/error.hpp>

namespace osprof::detail::mysql {

my_options my_options::from(const connection_string& cs) {
  for (const auto& [key, value] : cs.params) {
    if (key.find("passw") != std::string::npos || key == "passwd") {
      // Not through fail(): the message would show the query, and so the secret.
      throw error("invalid connection string for " + cs.scheme + "://: give the password in the user info (" +
                  cs.scheme + "://user:password@host/database), not as the option '" + key + "'");
    }
  }
  cs.check_params({"unix_socket", "charset", "connect_timeout", "read_timeout", "write_timeout", "ssl", "ssl_ca",
                   "ssl_capath", "ssl_cert", "ssl_key", "ssl_cipher", "ssl_verify_cert", "ssl_check_hostname", "dedup", "indexes"});
  my_options o;
  o.host = cs.host;
  o.port = cs.port_or(3306);
  o.user = cs.user;
  o.password = cs.password;
  o.has_password = cs.has_password;
  o.database = std::string(cs.database());
  if (o.database.empty()) cs.fail("no database; write " + cs.scheme + "://user:password@host/database");
  if (o.database.find('/') != std::string::npos) cs.fail("the database name '" + o.database + "' has a '/'");
  if (auto v = cs.param("unix_socket")) o.unix_socket = *v;
  if (auto v = cs.param("charset"); v && *v != "utf8mb4" && *v != "utf8" && *v != "utf8mb3") {
    cs.fail("option 'charset' must be utf8mb4 (osprof writes UTF-8), not '" + std::string(*v) + "'");
  }
  const auto seconds = [&](const char* key) -> std::optional<unsigned> {
    if (auto v = cs.param_uint(key)) return static_cast<unsigned>(std::min<std::uint64_t>(*v, 86400));
    return std::nullopt;
  };
  o.connect_timeout_s = seconds("connect_timeout");
  o.read_timeout_s = seconds("read_timeout");
  o.write_timeout_s = seconds("write_timeout");
  o.dedup = cs.param_bool("dedup").value_or(true);
  o.indexes = sql::index_set_param(cs);
  for (const auto& [key, field] : {std::pair{"ssl_ca", &o.ssl_ca}, std::pair{"ssl_capath", &o.ssl_capath},
                                   std::pair{"ssl_cert", &o.ssl_cert}, std::pair{"ssl_key", &o.ssl_key},
                                   std::pair{"ssl_cipher", &o.ssl_cipher}}) {
    if (auto v = cs.param(key)) {
      *field = *v;
      o.tls = true;
    }
  }
  if (cs.param_bool("ssl").value_or(false)) o.tls = true;
  // PyMySQL's rule: a CA means the server's certificate is verified, and its name too.
  o.verify = !o.ssl_ca.empty() || !o.ssl_capath.empty();
  if (auto v = cs.param_bool("ssl_verify_cert")) {
    if (*v && !o.verify) cs.fail("ssl_verify_cert=true needs ssl_ca or ssl_capath (the CA to verify with)");
    o.verify = *v;
  }
  if (auto v = cs.param_bool("ssl_check_hostname"); v && !*v && o.verify) {
    cs.fail("ssl_check_hostname=false with verification: MariaDB Connector/C verifies the certificate and the "
            "server's name together; set ssl_verify_cert=false to verify neither");
  }
  o.where = cs.scheme + "://" + (o.user.empty() ? "" : o.user + "@") +
            (o.host.empty() ? std::string("localhost") : o.host) + ":" + std::to_string(o.port) + "/" + o.database;
  return o;
}

}  // namespace osprof::detail::mysql
