// Interop with the real peer: Debian's python3-osprofiler (3.4.3), run by Debian's
// /usr/bin/python3 through tests/propagation/interop/osprofiler_peer.py.
//   - headers Python signs verify in C++, and C++'s are byte-identical to Python's;
//   - headers C++ signs are accepted by Python's own WsgiMiddleware;
//   - acceptance matches Python's on thousands of generated headers (a differential test);
//   - the RPC trace_info travels both ways;
//   - a Python client's request continues into osprof-demo-service, and a chain
//     Python client -> demo service -> demo service is one tree in the backend.
#include <osprof/propagation.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <osprof/driver.hpp>

#include "support/backend.hpp"
#include "propagation/codec.hpp"
#include "trace_events.hpp"

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using osprof::uuid;

std::string python() {
  const char* v = std::getenv("OSPROF_TEST_PYTHON");
  return v != nullptr && *v != '\0' ? v : "/usr/bin/python3";
}
const std::string peer_script = std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/propagation/interop/osprofiler_peer.py";

fs::path temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "osprof-interop-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// Runs argv; returns its exit status and stdout.
int run(const std::vector<std::string>& argv, std::string& out) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return -1;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// JSON text of a string (escapes only what these tests need; UTF-8 passes through).
std::string q(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 0xF];
  }
  return out;
}

// One JSON object per line from the peer.
struct reply {
  simdjson::dom::element doc;
  std::string str(const char* key) const {
    std::string_view v;
    return doc[key].get_string().get(v) ? std::string() : std::string(v);
  }
  bool flag(const char* key) const {
    bool v = false;
    return !doc[key].get_bool().get(v) && v;
  }
  std::int64_t number(const char* key) const {
    std::int64_t v = 0;
    return doc[key].get_int64().get(v) ? -1 : v;
  }
};

class peer_output {
 public:
  std::vector<reply> lines;
  std::string raw;

 private:
  friend peer_output ask_python(const std::string& command, const std::vector<std::string>& cases);
  std::vector<std::unique_ptr<simdjson::dom::parser>> parsers_;
};

peer_output ask_python(const std::string& command, const std::vector<std::string>& cases) {
  static const fs::path dir = temp_dir();
  static int counter = 0;
  const fs::path input = dir / ("cases-" + std::to_string(++counter) + ".jsonl");
  {
    std::ofstream f(input, std::ios::binary);
    for (const auto& c : cases) f << c << "\n";
  }
  peer_output out;
  const int rc = run({python(), peer_script, command, input.string()}, out.raw);
  EXPECT_EQ(rc, 0) << "the Python peer failed (" << python() << " " << peer_script << " " << command << ")";
  std::istringstream lines(out.raw);
  std::string line;
  while (std::getline(lines, line)) {
    out.parsers_.push_back(std::make_unique<simdjson::dom::parser>());
    reply r;
    if (out.parsers_.back()->parse(line).get(r.doc)) {
      ADD_FAILURE() << "not JSON from the peer: " << line;
      continue;
    }
    out.lines.push_back(r);
  }
  EXPECT_EQ(out.lines.size(), cases.size()) << out.raw;
  return out;
}

class Interop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string out;
    const int rc = run({python(), "-c", "import osprofiler.web, webob; print(osprofiler.__file__)"}, out);
    ready_ = rc == 0;
    if (!ready_) {
      std::fprintf(stderr, "%s cannot import osprofiler: install python3-osprofiler (tools/install-deps.sh --test)\n",
                   python().c_str());
    }
  }
  void SetUp() override { ASSERT_TRUE(ready_) << "Debian's python3-osprofiler is required for the interop tests"; }
  static inline bool ready_ = false;
};

const std::vector<std::string> key_set = {"SECRET_KEY", "OTHER_KEY", "cl\xC3\xA9", "k,with;odd=chars"};

TEST_F(Interop, PythonSignsCppVerifiesByteIdentical) {
  std::vector<std::string> cases;
  struct expected {
    std::string key;
    uuid base, parent;
  };
  std::vector<expected> sent;
  for (const auto& key : key_set) {
    for (int i = 0; i < 4; ++i) {
      const uuid base = uuid::random(), parent = uuid::random();
      cases.push_back("{\"key\": " + q(key) + ", \"base\": " + q(base.to_string()) + ", \"parent\": " +
                      q(parent.to_string()) + ", \"start\": " + (i % 2 != 0 ? "true" : "false") + "}");
      sent.push_back({key, base, parent});
    }
  }
  const auto out = ask_python("sign", cases);
  ASSERT_EQ(out.lines.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const reply& r = out.lines[i];
    const uuid id = *uuid::parse(r.str("id"));  // the parent Python sent: its current point
    // Byte-identical signing.
    const auto mine = osprof::sign_trace_info(sent[i].key, sent[i].base, id);
    EXPECT_EQ(mine.info, r.str("info"));
    EXPECT_EQ(mine.hmac, r.str("hmac"));
    // Verification with several keys: the one Python used is found wherever it is.
    std::vector<std::string> keys = key_set;
    std::rotate(keys.begin(), keys.begin() + static_cast<long>(i % keys.size()), keys.end());
    const auto v = osprof::verify_trace_info(r.str("info"), r.str("hmac"), keys);
    ASSERT_TRUE(v) << to_string(v.status);
    EXPECT_EQ(v.context.base_id, sent[i].base);
    EXPECT_EQ(v.context.parent_id, id);
    EXPECT_EQ(v.context.hmac_key, sent[i].key);
    // Without Python's key it is rejected.
    std::vector<std::string> others;
    for (const auto& k : key_set) {
      if (k != sent[i].key) others.push_back(k);
    }
    EXPECT_EQ(osprof::verify_trace_info(r.str("info"), r.str("hmac"), others).status,
              osprof::header_status::bad_signature);
  }
}

TEST_F(Interop, CppSignsPythonMiddlewareAccepts) {
  std::vector<std::string> cases;
  struct expected {
    std::string key;
    uuid base, parent;
  };
  std::vector<expected> sent;
  for (const auto& key : key_set) {
    for (int i = 0; i < 3; ++i) {
      const uuid base = uuid::random(), parent = uuid::random();
      const auto s = osprof::sign_trace_info(key, base, parent);
      // Python checks against several keys; ours is among them, not necessarily first.
      std::string keys = "[" + q("NOT_THIS_ONE") + ", " + q(key) + "]";
      cases.push_back("{\"keys\": " + keys + ", \"info_hex\": " + q(hex(s.info)) + ", \"hmac_hex\": " + q(hex(s.hmac)) + "}");
      sent.push_back({key, base, parent});
    }
  }
  const auto out = ask_python("middleware", cases);
  ASSERT_EQ(out.lines.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const reply& r = out.lines[i];
    ASSERT_TRUE(r.flag("traced")) << out.raw;
    EXPECT_EQ(r.str("base"), sent[i].base.to_string());
    EXPECT_EQ(r.str("parent"), sent[i].parent.to_string());
    EXPECT_EQ(r.str("key"), sent[i].key);
  }
}

// Generated headers, each decided by Python's WsgiMiddleware and by osprof: same verdict, same
// ids. Mutated headers are re-signed with a configured key, so the comparison reaches the
// decoding and payload rules rather than stopping at the HMAC.
TEST_F(Interop, DifferentialAcceptanceAgainstPython) {
  std::mt19937_64 rng(4242);
  const auto below = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  const std::vector<std::string> server_keys = {"K1", "cl\xC3\xA9"};
  const auto random_key = [&] { return below(4) == 0 ? std::string("WRONG") : server_keys[below(2)]; };
  const auto mutate = [&](std::string s) {
    for (int e = 0, n = 1 + static_cast<int>(below(3)); e < n; ++e) {
      switch (below(9)) {
        case 0:
          if (!s.empty()) s.pop_back();
          break;
        case 1: s += '='; break;
        case 2: {
          static constexpr std::string_view inserted = " \t\n.!*\xA0-_+/=";
          s.insert(below(s.size() + 1), 1, inserted[below(inserted.size())]);
          break;
        }
        case 3:
          if (!s.empty()) {
            static constexpr std::string_view replacement = "ABCxyz019-_+/=";
            s[below(s.size())] = replacement[below(replacement.size())];
          }
          break;
        case 4:
          for (char& c : s) {
            if (c == '-') c = '+';
            else if (c == '_') c = '/';
          }
          break;
        case 5: s += "junk=after"; break;
        case 6:
          if (!s.empty()) s.erase(below(s.size()), 1);
          break;
        case 7: s.insert(0, "="); break;
        default: s.insert(below(s.size() + 1), "\xC3\xA9"); break;
      }
    }
    return s;
  };
  // Strict-JSON payloads around the rules: key sets, falsy values, duplicates, shapes.
  const auto payload = [&]() -> std::string {
    const std::string ids[] = {"\"" + uuid::random().to_string() + "\"",
                               "\"" + uuid::random().to_string() + "\"",
                               "\"AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE\"",
                               "null", "\"\"", "0", "false", "[]", "{}", "0.0", "\"a\"", "5", "true", "[1]",
                               "\"00000000-0000-0000-0000-000000000000\""};
    const std::string keys[] = {"base_id", "base_id", "parent_id", "parent_id", "hmac_key", "trace_id", "x"};
    std::string out = below(20) == 0 ? "[" : "{";
    const int n = static_cast<int>(below(4));
    for (int i = 0; i < n; ++i) {
      if (i != 0) out += below(2) != 0 ? ", " : ",";
      out += "\"" + keys[below(std::size(keys))] + "\"" + (below(2) != 0 ? ": " : ":") + ids[below(std::size(ids))];
    }
    out += out[0] == '{' ? "}" : "]";
    if (below(30) == 0) out = " \n" + out + "\t";
    return out;
  };

  struct sent_case {
    std::string info, hmac;
    bool has_info = true, has_hmac = true;
  };
  std::vector<sent_case> sent;
  std::vector<std::string> cases;
  const std::string keys_json = "[" + q(server_keys[0]) + ", " + q(server_keys[1]) + "]";
  for (int i = 0; i < 3000; ++i) {
    sent_case c;
    const std::string key = random_key();
    switch (below(5)) {
      case 0: {  // a normal header, maybe with the wrong key
        const auto s = osprof::sign_trace_info(key, uuid::random(), uuid::random());
        c.info = s.info;
        c.hmac = s.hmac;
        break;
      }
      case 1: {  // a mangled encoding, signed as sent
        c.info = mutate(osprof::sign_trace_info(key, uuid::random(), uuid::random()).info);
        c.hmac = osprof::hmac_sha1_hex(key, c.info);
        break;
      }
      case 2: {  // an arbitrary payload, signed
        const auto s = osprof::sign_payload(key, payload());
        c.info = below(4) == 0 ? mutate(s.info) : s.info;
        c.hmac = below(4) == 0 ? osprof::hmac_sha1_hex(key, c.info) : s.hmac;
        break;
      }
      case 3: {  // a mangled HMAC
        const auto s = osprof::sign_trace_info(key, uuid::random(), uuid::random());
        c.info = s.info;
        c.hmac = s.hmac;
        switch (below(5)) {
          case 0:
            for (char& ch : c.hmac) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            break;
          case 1: c.hmac = "  " + c.hmac + "\t"; break;
          case 2: c.hmac.pop_back(); break;
          case 3: c.hmac = "\xA0" + c.hmac + "\x85"; break;
          default: c.hmac += "0"; break;
        }
        break;
      }
      default: {  // a header missing, or empty
        const auto s = osprof::sign_trace_info(key, uuid::random(), uuid::random());
        c.info = s.info;
        c.hmac = s.hmac;
        switch (below(4)) {
          case 0: c.has_info = false; break;
          case 1: c.info.clear(); break;
          case 2: c.has_hmac = false; break;
          default: c.hmac.clear(); break;
        }
        break;
      }
    }
    std::string line = "{\"keys\": " + keys_json;
    line += ", \"info_hex\": " + (c.has_info ? q(hex(c.info)) : std::string("null"));
    line += ", \"hmac_hex\": " + (c.has_hmac ? q(hex(c.hmac)) : std::string("null"));
    cases.push_back(line + "}");
    sent.push_back(std::move(c));
  }

  const auto out = ask_python("middleware", cases);
  ASSERT_EQ(out.lines.size(), sent.size());
  int agreed_traced = 0, agreed_untraced = 0, python_errors = 0, non_uuid_ids = 0, mismatches = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const sent_case& c = sent[i];
    const reply& r = out.lines[i];
    const std::optional<std::string_view> info = c.has_info ? std::optional<std::string_view>(c.info) : std::nullopt;
    const std::optional<std::string_view> mac = c.has_hmac ? std::optional<std::string_view>(c.hmac) : std::nullopt;
    const auto v = osprof::verify_trace_info(info, mac, server_keys);
    const bool python_traced = r.flag("traced");
    if (!r.str("error").empty()) {
      // Python raised (a 500 from the service); osprof must simply not trace.
      ++python_errors;
      EXPECT_FALSE(v) << "case " << i << ": " << r.str("error");
      continue;
    }
    if (python_traced && v.status == osprof::header_status::unsupported_id) {
      // Documented: Python takes any id; osprof's are uuids.
      ++non_uuid_ids;
      continue;
    }
    if (python_traced != static_cast<bool>(v)) {
      ++mismatches;
      ADD_FAILURE() << "case " << i << ": Python " << (python_traced ? "traced" : "did not trace") << ", osprof "
                    << to_string(v.status) << "\n  info " << c.info << "\n  hmac " << c.hmac << "\n  json "
                    << osprof::detail::python_urlsafe_b64decode(c.info).value_or("<undecodable>");
      continue;
    }
    if (!python_traced) {
      ++agreed_untraced;
      continue;
    }
    ++agreed_traced;
    EXPECT_EQ(r.str("key"), v.context.hmac_key) << "case " << i;
    // A base that Python treats as empty is random on both sides: compare the relation only.
    const auto again = osprof::verify_trace_info(info, mac, server_keys);
    const bool random_base = again.context.base_id != v.context.base_id;
    const auto python_base = uuid::parse(r.str("base"));
    const auto python_parent = uuid::parse(r.str("parent"));
    ASSERT_TRUE(python_base && python_parent) << r.str("base") << " " << r.str("parent");
    if (!random_base) {
      EXPECT_EQ(*python_base, v.context.base_id) << "case " << i;
      EXPECT_EQ(*python_parent, v.context.parent_id) << "case " << i;
    } else {
      EXPECT_EQ(*python_parent == *python_base, v.context.parent_id == v.context.base_id) << "case " << i;
    }
  }
  std::printf("3000 generated headers: %d traced by both, %d refused by both, %d made Python fail, "
              "%d with ids Python takes but osprof cannot (not uuids), %d mismatches\n",
              agreed_traced, agreed_untraced, python_errors, non_uuid_ids, mismatches);
  EXPECT_GT(agreed_traced, 300);
  EXPECT_GT(agreed_untraced, 300);
}

TEST_F(Interop, RpcTraceInfoBothWays) {
  // C++ exports, Python's profiler.init(**trace_info) takes it.
  const uuid base = uuid::random(), parent = uuid::random();
  std::vector<std::string> cases;
  for (const auto& key : key_set) {
    cases.push_back("{\"json\": " + q(osprof::rpc_trace_info_json({base, parent, key})) + "}");
  }
  cases.push_back(R"({"json": "{\"hmac_key\": \"K\", \"trace_id\": \"x\"}"})");  // both refuse
  auto out = ask_python("rpc-import", cases);
  ASSERT_EQ(out.lines.size(), key_set.size() + 1);
  for (std::size_t i = 0; i < key_set.size(); ++i) {
    const reply& r = out.lines[i];
    ASSERT_TRUE(r.flag("ok")) << out.raw;
    EXPECT_EQ(r.str("key"), key_set[i]);
    EXPECT_EQ(r.str("base"), base.to_string());
    EXPECT_EQ(r.str("id"), parent.to_string());
  }
  EXPECT_FALSE(out.lines.back().flag("ok"));
  EXPECT_FALSE(osprof::parse_rpc_trace_info(R"({"hmac_key": "K", "trace_id": "x"})"));

  // Python exports (as a context serializer does), C++ imports; the JSON is byte-identical.
  cases.clear();
  for (const auto& key : key_set) {
    cases.push_back("{\"key\": " + q(key) + ", \"base\": " + q(base.to_string()) + ", \"parent\": " + q(parent.to_string()) + "}");
  }
  out = ask_python("rpc-export", cases);
  ASSERT_EQ(out.lines.size(), key_set.size());
  for (std::size_t i = 0; i < key_set.size(); ++i) {
    const reply& r = out.lines[i];
    EXPECT_EQ(r.str("trace_info"), osprof::rpc_trace_info_json({base, parent, key_set[i]}));
    const auto ctx = osprof::parse_rpc_context(r.str("context"));
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->base_id, base);
    EXPECT_EQ(ctx->parent_id, parent);
    EXPECT_EQ(ctx->hmac_key, key_set[i]);
  }
}

// ---------------------------------------------------------------------------------------
// With the demo service

class demo_service {
 public:
  demo_service(const fs::path& dir, const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv = {OSPROF_DEMO_SERVICE, "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    stderr_path_ = dir / (name + ".err");
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> cargs;
    for (auto& a : argv) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    if (posix_spawn(&pid_, cargs[0], &actions, nullptr, cargs.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];
    // "osprof-demo-service: listening on http://127.0.0.1:PORT"
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (pid_ > 0 && line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[256];
        const ssize_t n = read(stdout_fd_, buf, sizeof buf);
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
      }
    }
    const auto colon = line.rfind(':');
    if (colon != std::string::npos) port_ = std::atoi(line.c_str() + colon + 1);
  }
  ~demo_service() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::string log() const {
    std::ifstream f(stderr_path_);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  }

  /// SIGTERM, then the exit status (the service flushes its traces before it exits).
  int stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 300; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the demo service did not stop within 30 s of SIGTERM";
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  fs::path stderr_path_;
};

std::vector<osprof::test::event> read_trace(const std::string& cs, const std::string& base) {
  return osprof::test::parse_events(osprof::test::backend(cs).trace(base));
}

TEST_F(Interop, PythonClientContinuesIntoTheDemoService) {
  const fs::path dir = temp_dir();
  const std::string cs = "sqlite:///" + (dir / "traces.db").string();
  demo_service service(dir, "api", {"--connection-string", cs, "--hmac-keys", "K1,K2", "--project", "interop",
                                    "--service", "api"});
  ASSERT_GT(service.port(), 0) << service.log();
  // The caller signs with the second key: rotation.
  const auto out = ask_python("client", {"{\"key\": \"K2\", \"host\": \"127.0.0.1\", \"port\": " +
                                         std::to_string(service.port()) + "}"});
  ASSERT_EQ(out.lines.size(), 1u);
  const reply& r = out.lines[0];
  EXPECT_EQ(r.number("status"), 200) << r.str("body");
  EXPECT_EQ(service.stop(), 0) << service.log();

  const auto ev = read_trace(cs, r.str("base"));
  ASSERT_EQ(ev.size(), 4u) << service.log();  // wsgi and db, start and stop
  osprof::test::expect_one_tree(ev, r.str("base"), {r.str("point")});
  const auto* wsgi = osprof::test::only(ev, "wsgi");
  ASSERT_NE(wsgi, nullptr);
  EXPECT_EQ(wsgi->parent_id, r.str("point"));  // the Python client's point
  EXPECT_EQ(wsgi->service, "api");
  EXPECT_EQ(wsgi->at("/project"), "interop");
  EXPECT_EQ(wsgi->at("/info/request/path"), "/");
  EXPECT_EQ(wsgi->at("/info/request/method"), "GET");
  EXPECT_EQ(osprof::test::points_of(ev).at(wsgi->trace_id).stop->at("/info/request/status_code"), "200");
  EXPECT_EQ(osprof::test::only(ev, "db")->parent_id, wsgi->trace_id);
}

// As Python's WsgiMiddleware with `enabled = False` (its default): a request Python's client
// signed with OSProfiler's default key SECRET_KEY is served untraced by a service that was not
// told to trust anyone, and leaves nothing in the backend.
TEST_F(Interop, DefaultServiceIgnoresAPythonClientSigningWithSecretKey) {
  const fs::path dir = temp_dir();
  const std::string cs = "sqlite:///" + (dir / "traces.db").string();
  demo_service service(dir, "api", {"--connection-string", cs, "--service", "api"});
  ASSERT_GT(service.port(), 0) << service.log();
  const auto out = ask_python("client", {"{\"key\": \"SECRET_KEY\", \"host\": \"127.0.0.1\", \"port\": " +
                                         std::to_string(service.port()) + "}"});
  ASSERT_EQ(out.lines.size(), 1u);
  const reply& r = out.lines[0];
  EXPECT_EQ(r.number("status"), 200) << r.str("body");
  EXPECT_EQ(service.stop(), 0) << service.log();
  const std::string log = service.log();
  EXPECT_NE(log.find("GET / -> 200\n"), std::string::npos) << "served untraced\n" << log;
  EXPECT_NE(log.find("0 events written, 0 dropped, 0 rejected trace headers"), std::string::npos) << log;
  EXPECT_TRUE(read_trace(cs, r.str("base")).empty()) << log;
}

TEST_F(Interop, ChainPythonClientThroughTwoDemoServicesIsOneTree) {
  const fs::path dir = temp_dir();
  const std::string cs = "sqlite:///" + (dir / "traces.db").string();
  demo_service backend(dir, "backend", {"--connection-string", cs, "--hmac-keys", "K2", "--service", "backend"});
  ASSERT_GT(backend.port(), 0) << backend.log();
  demo_service api(dir, "api", {"--connection-string", cs, "--hmac-keys", "K1,K2", "--service", "api",
                                "--downstream", backend.url()});
  ASSERT_GT(api.port(), 0) << api.log();

  // One traced request to /, one to /fail (the failure is recorded inside the trace).
  const auto out = ask_python("client", {"{\"key\": \"K2\", \"host\": \"127.0.0.1\", \"port\": " + std::to_string(api.port()) + "}",
                                         "{\"key\": \"K2\", \"host\": \"127.0.0.1\", \"port\": " + std::to_string(api.port()) +
                                             ", \"path\": \"/fail\"}"});
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[0].number("status"), 200) << out.lines[0].str("body");
  EXPECT_EQ(out.lines[1].number("status"), 500);
  EXPECT_EQ(api.stop(), 0) << api.log();
  EXPECT_EQ(backend.stop(), 0) << backend.log();

  const std::string base = out.lines[0].str("base"), client_point = out.lines[0].str("point");
  const auto ev = read_trace(cs, base);
  // api: wsgi, db, http (client); backend: wsgi, db.
  ASSERT_EQ(ev.size(), 10u) << api.log() << backend.log();
  osprof::test::expect_one_tree(ev, base, {client_point});
  const auto points = osprof::test::points_of(ev);
  const osprof::test::event* api_wsgi = nullptr;
  const osprof::test::event* backend_wsgi = nullptr;
  for (const auto& e : ev) {
    if (e.is_start() && e.point() == "wsgi") (e.service == "api" ? api_wsgi : backend_wsgi) = &e;
  }
  ASSERT_TRUE(api_wsgi && backend_wsgi);
  EXPECT_EQ(api_wsgi->parent_id, client_point);
  const auto* call = osprof::test::only(ev, "http");
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(call->service, "api");
  EXPECT_EQ(call->parent_id, api_wsgi->trace_id);
  EXPECT_EQ(call->at("/info/requests/port"), std::to_string(backend.port()));
  EXPECT_EQ(points.at(call->trace_id).stop->at("/info/requests/status_code"), "200");
  EXPECT_EQ(backend_wsgi->parent_id, call->trace_id);  // the hop between the services

  // And `osprof trace show` renders it as one tree: api's wsgi (child of the Python point,
  // which Python did not store) is the only root; backend's wsgi hangs under api's http call.
  std::string report;
  ASSERT_EQ(run({OSPROF_CLI, "trace", "show", base, "--connection-string", cs, "--json"}, report), 0) << report;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(report).get(doc)) << report;
  const auto child_named = [](simdjson::dom::element node, std::string_view name, std::string_view service) {
    for (simdjson::dom::element c : node["children"].get_array()) {
      if (std::string_view(c["info"]["name"]) == name && std::string_view(c["info"]["service"]) == service) return c;
    }
    ADD_FAILURE() << "no child " << name << " of service " << service << " in " << simdjson::to_string(node);
    return simdjson::dom::element();
  };
  ASSERT_EQ(doc["children"].get_array().size(), 1u) << report;
  const auto root = child_named(doc, "wsgi", "api");
  EXPECT_EQ(std::string_view(root["parent_id"]), client_point);
  EXPECT_EQ(root["children"].get_array().size(), 2u);  // db and the http call
  child_named(root, "db", "api");
  const auto hop = child_named(root, "http", "api");
  const auto remote = child_named(hop, "wsgi", "backend");
  child_named(remote, "db", "backend");

  // The failing request: its db point carries the error, its wsgi point the 500.
  const auto failed = read_trace(cs, out.lines[1].str("base"));
  ASSERT_EQ(failed.size(), 4u);
  const auto* db = osprof::test::only(failed, "db");
  const auto fpoints = osprof::test::points_of(failed);
  EXPECT_EQ(fpoints.at(db->trace_id).stop->at("/info/etype"), "std::runtime_error");
  EXPECT_EQ(fpoints.at(db->trace_id).stop->at("/info/message"), "item 42 is out of stock");
  const auto* wsgi = osprof::test::only(failed, "wsgi");
  EXPECT_EQ(fpoints.at(wsgi->trace_id).stop->at("/info/request/status_code"), "500");
}

}  // namespace
