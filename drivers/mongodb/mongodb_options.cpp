#include "drivers/mongodb/mongodb_options.hpp"

#include <mongoc/mongoc.h>

#include <algorithm>
#include <array>
#include <cctype>

#include <osprof/error.hpp>

#include "common/text.hpp"
#include "drivers/mongodb/mongo_client.hpp"

namespace osprof::detail::mongodb {

namespace {

// libmongoc 1.23's URI options (MONGOC_URI_*), lowercase: MongoDB's option names are
// case-insensitive. libmongoc only warns about others; osprof refuses them, as for any backend.
constexpr std::array libmongoc_options = {
    MONGOC_URI_APPNAME, MONGOC_URI_AUTHMECHANISM, MONGOC_URI_AUTHMECHANISMPROPERTIES, MONGOC_URI_AUTHSOURCE,
    MONGOC_URI_CANONICALIZEHOSTNAME, MONGOC_URI_CONNECTTIMEOUTMS, MONGOC_URI_COMPRESSORS,
    MONGOC_URI_DIRECTCONNECTION, MONGOC_URI_GSSAPISERVICENAME, MONGOC_URI_HEARTBEATFREQUENCYMS,
    MONGOC_URI_JOURNAL, MONGOC_URI_LOADBALANCED, MONGOC_URI_LOCALTHRESHOLDMS, MONGOC_URI_MAXIDLETIMEMS,
    MONGOC_URI_MAXPOOLSIZE, MONGOC_URI_MAXSTALENESSSECONDS, MONGOC_URI_MINPOOLSIZE,
    MONGOC_URI_READCONCERNLEVEL, MONGOC_URI_READPREFERENCE, MONGOC_URI_READPREFERENCETAGS,
    MONGOC_URI_REPLICASET, MONGOC_URI_RETRYREADS, MONGOC_URI_RETRYWRITES, MONGOC_URI_SAFE,
    MONGOC_URI_SERVERSELECTIONTIMEOUTMS, MONGOC_URI_SERVERSELECTIONTRYONCE, MONGOC_URI_SLAVEOK,
    MONGOC_URI_SOCKETCHECKINTERVALMS, MONGOC_URI_SOCKETTIMEOUTMS, MONGOC_URI_SRVSERVICENAME,
    MONGOC_URI_SRVMAXHOSTS, MONGOC_URI_TLS, MONGOC_URI_TLSCERTIFICATEKEYFILE,
    MONGOC_URI_TLSCERTIFICATEKEYFILEPASSWORD, MONGOC_URI_TLSCAFILE, MONGOC_URI_TLSALLOWINVALIDCERTIFICATES,
    MONGOC_URI_TLSALLOWINVALIDHOSTNAMES, MONGOC_URI_TLSINSECURE,
    MONGOC_URI_TLSDISABLECERTIFICATEREVOCATIONCHECK, MONGOC_URI_TLSDISABLEOCSPENDPOINTCHECK, MONGOC_URI_W,
    MONGOC_URI_WAITQUEUEMULTIPLE, MONGOC_URI_WAITQUEUETIMEOUTMS, MONGOC_URI_WTIMEOUTMS,
    MONGOC_URI_ZLIBCOMPRESSIONLEVEL, MONGOC_URI_SSL, MONGOC_URI_SSLCLIENTCERTIFICATEKEYFILE,
    MONGOC_URI_SSLCLIENTCERTIFICATEKEYPASSWORD, MONGOC_URI_SSLCERTIFICATEAUTHORITYFILE,
    MONGOC_URI_SSLALLOWINVALIDCERTIFICATES, MONGOC_URI_SSLALLOWINVALIDHOSTNAMES,
};
constexpr std::array osprof_options = {"create_indexes"};
// Options whose values are secrets, like the password.
constexpr std::array secret_options = {MONGOC_URI_TLSCERTIFICATEKEYFILEPASSWORD, MONGOC_URI_SSLCLIENTCERTIFICATEKEYPASSWORD};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

template <std::size_t N>
bool contains(const std::array<const char*, N>& names, std::string_view key) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return key == n; });
}

struct query_option {
  std::string key;      ///< decoded, lowercase
  std::string value;    ///< decoded
  std::string_view raw; ///< "key=value" as written
};

}  // namespace

mongodb_options mongodb_options::from(const connection_string& cs, std::chrono::milliseconds timeout) {
  ensure_libmongoc();
  mongodb_options o;
  if (cs.has_password && !cs.password.empty()) {
    o.secrets.push_back(cs.password);
    o.secrets.push_back(percent_encode(cs.password));
  }
  // `redacted` is the string as written with the password as ***: Boost.URL does not know
  // MongoDB's host lists (h1:27017,h2:27017), so the hosts are taken from the text.
  const std::string& text = cs.redacted;
  const auto start = text.find("://") + 3;
  const auto authority_end = std::min(text.find_first_of("/?", start), text.size());
  const auto at = text.rfind('@', authority_end);
  const std::string hosts = text.substr(at == std::string::npos || at < start ? start : at + 1,
                                        authority_end - (at == std::string::npos || at < start ? start : at + 1));
  const auto query_start = text.find('?', authority_end);
  const std::string path = text.substr(authority_end, std::min(query_start, text.size()) - authority_end);

  // The query as written, split; secrets are known before any message is made.
  std::vector<query_option> query;
  std::string redacted = text.substr(0, query_start == std::string::npos ? text.size() : query_start);
  bool malformed = false;
  if (query_start != std::string::npos) {
    std::string_view rest = std::string_view(text).substr(query_start + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view item = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (item.empty()) continue;
      const auto eq = item.find('=');
      auto key = percent_decode(item.substr(0, eq));
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
      malformed |= !key || !value;
      query_option q{lower(key.value_or("")), value.value_or(""), item};
      const bool secret = contains(secret_options, q.key);
      if (secret && eq != std::string_view::npos && eq + 1 < item.size()) {
        o.secrets.push_back(q.value);
        o.secrets.emplace_back(item.substr(eq + 1));
      }
      redacted += redacted.find('?') == std::string::npos ? '?' : '&';
      redacted += secret ? std::string(item.substr(0, eq)) + "=***" : std::string(item);
      query.push_back(std::move(q));
    }
  }
  o.redacted = std::move(redacted);
  const auto fail = [&](const std::string& why) {
    throw error("invalid connection string '" + o.redacted + "': " + o.scrub(why));
  };
  if (malformed) fail("the query has a malformed %-escape");

  std::string libmongoc_query;
  bool has_connect = false, has_socket = false, has_selection = false, has_appname = false;
  for (const auto& q : query) {
    if (contains(osprof_options, q.key)) {
      const std::string v = lower(q.value);
      if (v == "true" || v == "1" || v == "yes" || v == "on") {
        o.create_indexes = true;
      } else if (v == "false" || v == "0" || v == "no" || v == "off") {
        o.create_indexes = false;
      } else {
        fail("option 'create_indexes' must be true or false, not '" + q.value + "'");
      }
      continue;
    }
    if (!contains(libmongoc_options, q.key)) {
      std::string known;
      for (const char* n : osprof_options) known += std::string(known.empty() ? "" : ", ") + n;
      known += "; and libmongoc's URI options: ";
      for (std::size_t i = 0; i < libmongoc_options.size(); ++i) known += std::string(i ? ", " : "") + libmongoc_options[i];
      fail("unknown option '" + q.key + "' for mongodb://; known options: " + known);
    }
    has_connect |= q.key == MONGOC_URI_CONNECTTIMEOUTMS;
    has_socket |= q.key == MONGOC_URI_SOCKETTIMEOUTMS;
    has_selection |= q.key == MONGOC_URI_SERVERSELECTIONTIMEOUTMS;
    has_appname |= q.key == MONGOC_URI_APPNAME;
    libmongoc_query += libmongoc_query.empty() ? "" : "&";
    libmongoc_query += q.raw;
  }
  // libmongoc's defaults (socketTimeoutMS 5 minutes, serverSelectionTimeoutMS 30 s) would
  // keep the driver's thread far longer than the emitter waits for a write.
  const std::string ms = std::to_string(std::clamp<std::int64_t>(timeout.count(), 1, 2147483647));
  const auto add = [&](bool present, const char* key, const std::string& value) {
    if (present) return;
    libmongoc_query += libmongoc_query.empty() ? "" : "&";
    libmongoc_query += std::string(key) + "=" + value;
  };
  add(has_connect, "connectTimeoutMS", ms);
  add(has_socket, "socketTimeoutMS", ms);
  add(has_selection, "serverSelectionTimeoutMS", ms);
  add(has_appname, "appname", "osprof");

  o.uri = "mongodb://";
  if (!cs.user.empty() || cs.has_password) {
    o.uri += percent_encode(cs.user);
    if (cs.has_password) o.uri += ":" + percent_encode(cs.password);
    o.uri += "@";
  }
  o.uri += hosts + (path.empty() ? "/" : path);  // libmongoc wants the '/' before options
  if (!libmongoc_query.empty()) o.uri += "?" + libmongoc_query;

  // libmongoc parses and checks the rest (hosts, credentials, option values).
  bson_error_t error{};
  mongoc_uri_t* uri = nullptr;
  {
    const quiet_libmongoc quiet;  // its warnings say what the error below says
    uri = mongoc_uri_new_with_error(o.uri.c_str(), &error);
  }
  if (uri == nullptr) fail(error.message);
  const char* database = mongoc_uri_get_database(uri);
  if (database != nullptr && *database != '\0') o.database = database;
  mongoc_uri_destroy(uri);
  return o;
}

std::string mongodb_options::scrub(std::string message) const {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = message.find(secret); at != std::string::npos; at = message.find(secret, at + 3)) {
      message.replace(at, secret.size(), "***");
    }
  }
  return message;
}

}  // namespace osprof::detail::mongodb
