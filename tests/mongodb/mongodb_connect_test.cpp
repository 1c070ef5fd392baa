// What libmongoc brings, through the driver, against loopback MongoDB processes of the test's
// own: SCRAM-SHA-256 and SCRAM-SHA-1 with a password that needs escaping and authSource, a
// replica set found from a seed list whose first host is down (and a wrong set name), TLS
// with a CA of the test's own (and without trusting it, and plain TCP to a TLS port), and
// unacknowledged writes (w=0).
#include <gtest/gtest.h>

#include <filesystem>

#include "mongo_test_util.hpp"

namespace {

using namespace osprof_test;
namespace fs = std::filesystem;

osprof::uuid id(std::uint64_t hi, std::uint64_t lo) { return osprof::uuid{hi, lo}; }

std::vector<osprof::event_record> trace_events(std::uint64_t tag) {
  const auto base = id(tag, 1);
  return {make_record("a-start", base, id(tag, 2), base, 1764590400000000),
          make_record("a-stop", base, id(tag, 2), base, 1764590400000500, R"("etype": "E", "message": "m")", true)};
}

TEST(MongodbConnect, ScramSha256AndSha1WithAuthSource) {
  fake_mongodb server({"--user", "osprof:p@ss:w0rd/1"});
  server.start();
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  const std::string creds = "osprof:p%40ss%3Aw0rd%2F1@";
  for (const std::string options : {"?authSource=admin", "?authSource=admin&authMechanism=SCRAM-SHA-1",
                                     "?authSource=admin&authMechanism=SCRAM-SHA-256"}) {
    const std::string url = "mongodb://" + creds + host + "/auth" + options;
    const auto events = trace_events(options.size());
    backend d(url);
    const auto r = d.write(events);
    EXPECT_EQ(r.status, osprof::write_status::ok) << options << ": " << r.error;
    EXPECT_EQ(d.trace(events[0].base_id.to_string()).size(), 2u) << options;
  }
  // MongoDB's rule: without authSource the path's database is where the user is looked up.
  backend wrong_source("mongodb://" + creds + host + "/auth");
  const auto r = wrong_source.write(trace_events(99));
  EXPECT_EQ(r.status, osprof::write_status::failed);
  EXPECT_NE(r.error.find("authentication failed"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("w0rd"), std::string::npos) << r.error;
  EXPECT_THROW(wrong_source.list(), osprof::error);
}

TEST(MongodbConnect, ReplicaSetFromASeedListWithADeadHost) {
  fake_mongodb server({"--replica-set", "rs0"});
  server.start();
  const std::string dead = "127.0.0.1:" + std::to_string(free_port());
  const std::string live = "127.0.0.1:" + std::to_string(server.port());
  const auto events = trace_events(1);
  {
    backend d("mongodb://" + dead + "," + live + "/rs?replicaSet=rs0");
    const auto r = d.write(events);
    EXPECT_EQ(r.status, osprof::write_status::ok) << r.error;
    EXPECT_EQ(d.list().size(), 1u);
  }
  EXPECT_EQ(mongo_admin(server.port()).count("rs", "profiler"), 2);
  // A set of another name: no primary is found; that may change, so it is retried.
  backend other("mongodb://" + live + "/rs?replicaSet=other&serverSelectionTimeoutMS=500");
  const auto r = other.write(trace_events(2));
  EXPECT_EQ(r.status, osprof::write_status::retry) << r.error;
  EXPECT_NE(r.error.find("No suitable servers"), std::string::npos) << r.error;
  // directConnection talks to that one member whatever the set.
  backend direct("mongodb://" + live + "/rs?directConnection=true");
  EXPECT_EQ(direct.write(trace_events(3)).status, osprof::write_status::ok);
}

TEST(MongodbConnect, TlsWithTheTestsOwnCertificateAuthority) {
  const fs::path dir = fs::temp_directory_path() / ("osprof-mongodb-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string d = dir.string();
  const auto made = shell(
      "cd " + d + " && "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=osprof test CA' -keyout ca.key -out ca.crt 2>/dev/null && "
      "openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr 2>/dev/null && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt 2>/dev/null");
  ASSERT_EQ(made.code, 0) << made.out;
  fake_mongodb server({"--tls-cert", d + "/server.crt", "--tls-key", d + "/server.key"});
  server.start();
  const std::string host = "mongodb://127.0.0.1:" + std::to_string(server.port()) + "/tls";
  {
    backend ok(host + "?tls=true&tlsCAFile=" + d + "/ca.crt");
    const auto r = ok.write(trace_events(1));
    EXPECT_EQ(r.status, osprof::write_status::ok) << r.error;
    EXPECT_EQ(ok.list().size(), 1u);
  }
  {
    // The system's CAs do not know this one: refused for good, with OpenSSL's reason.
    backend untrusted(host + "?tls=true");
    const auto r = untrusted.write(trace_events(2));
    EXPECT_EQ(r.status, osprof::write_status::failed) << "[" << r.error << "]";
    EXPECT_NE(r.error.find("certificate verify failed"), std::string::npos) << r.error;
  }
  {
    // Plain TCP to a TLS port: the server hangs up; retried (it might be a restart).
    backend plain(host + "?connectTimeoutMS=1000");
    const auto r = plain.write(trace_events(3));
    EXPECT_EQ(r.status, osprof::write_status::retry) << r.error;
  }
  EXPECT_EQ(mongo_admin(host + "?tls=true&tlsCAFile=" + d + "/ca.crt").count("tls", "profiler"), 2);
  fs::remove_all(dir);
}

TEST(MongodbConnect, UnacknowledgedWritesAreCountedWhenSent) {
  fake_mongodb server;
  server.start();
  const auto events = trace_events(1);
  backend d(server.url("/wzero?w=0"));
  const auto r = d.write(events);
  EXPECT_EQ(r.status, osprof::write_status::ok) << r.error;
  // The server answers nothing to w=0 (OP_MSG moreToCome); the events arrive all the same.
  std::int64_t n = 0;
  for (int i = 0; i < 100 && n < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    n = mongo_admin(server.port()).count("wzero", "profiler");
  }
  EXPECT_EQ(n, 2);
}

}  // namespace
