// Helpers of the MongoDB driver's tests: the loopback MongoDB (tests/servers/fake_mongodb.py)
// as a process a test owns (started with options, killed, frozen with SIGSTOP, restarted on
// the same port), and libmongoc used directly to look at what the server holds and to inject
// faults (its osprofFault command).
#pragma once

#include <mongoc/mongoc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "../http_drivers/server_test_util.hpp"

extern char** environ;

namespace osprof_test {

/// tests/servers/fake_mongodb.py on a loopback port of its own, owned by the test.
class fake_mongodb {
 public:
  explicit fake_mongodb(std::vector<std::string> args = {}, std::uint16_t port = 0)
      : args_(std::move(args)), port_(port == 0 ? free_port() : port) {}
  ~fake_mongodb() { kill_now(); }
  fake_mongodb(const fake_mongodb&) = delete;
  fake_mongodb& operator=(const fake_mongodb&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string url(const std::string& rest = "") const {
    return "mongodb://127.0.0.1:" + std::to_string(port_) + rest;
  }

  /// Starts (or restarts, empty: it keeps nothing) and waits until it accepts connections.
  void start() {
    std::vector<std::string> argv_text = {"/usr/bin/python3", std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/servers/fake_mongodb.py",
                                          "--port", std::to_string(port_)};
    argv_text.insert(argv_text.end(), args_.begin(), args_.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot run /usr/bin/python3 fake_mongodb.py");
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("fake_mongodb.py exited at start (port " + std::to_string(port_) + " taken?)");
      }
      try {
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket s(ioc);
        s.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
        return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("fake_mongodb.py did not listen within 20 s");
  }
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  /// SIGSTOP: the kernel still accepts connections, nothing answers.
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

 private:
  std::vector<std::string> args_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

/// libmongoc straight to a server, to look at what it holds.
class mongo_admin {
 public:
  explicit mongo_admin(const std::string& uri) {
    static const bool initialised = [] {
      mongoc_init();
      return true;
    }();
    (void)initialised;
    bson_error_t error{};
    mongoc_uri_t* u = mongoc_uri_new_with_error(uri.c_str(), &error);
    if (u == nullptr) throw std::runtime_error(error.message);
    mongoc_uri_set_option_as_int32(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 10000);
    client_ = mongoc_client_new_from_uri(u);
    mongoc_uri_destroy(u);
    if (client_ == nullptr) throw std::runtime_error("mongoc_client_new_from_uri failed");
    mongoc_client_set_error_api(client_, MONGOC_ERROR_API_VERSION_2);
  }
  explicit mongo_admin(std::uint16_t port) : mongo_admin("mongodb://127.0.0.1:" + std::to_string(port) + "/") {}
  ~mongo_admin() { mongoc_client_destroy(client_); }
  mongo_admin(const mongo_admin&) = delete;
  mongo_admin& operator=(const mongo_admin&) = delete;

  /// Runs a command (given as relaxed Extended JSON) on `db`; the reply as relaxed Extended JSON.
  std::string command(const std::string& db, const std::string& json) {
    bson_error_t error{};
    bson_t* cmd = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()), static_cast<ssize_t>(json.size()), &error);
    if (cmd == nullptr) throw std::runtime_error("bad command JSON: " + std::string(error.message));
    bson_t reply;
    const bool ok = mongoc_client_command_simple(client_, db.c_str(), cmd, nullptr, &reply, &error);
    bson_destroy(cmd);
    char* text = bson_as_relaxed_extended_json(&reply, nullptr);
    std::string out = text != nullptr ? text : "";
    bson_free(text);
    bson_destroy(&reply);
    if (!ok) throw std::runtime_error("command failed: " + std::string(error.message) + " " + out);
    return out;
  }
  /// Makes the next commands fail (see fake_mongodb.py): a JSON list of faults.
  void fault(const std::string& faults_json) { command("admin", "{\"osprofFault\": " + faults_json + "}"); }

  std::int64_t count(const std::string& db, const std::string& collection, const std::string& filter_json = "{}") {
    bson_error_t error{};
    bson_t* filter = bson_new_from_json(reinterpret_cast<const uint8_t*>(filter_json.data()),
                                        static_cast<ssize_t>(filter_json.size()), &error);
    mongoc_collection_t* c = mongoc_client_get_collection(client_, db.c_str(), collection.c_str());
    const std::int64_t n = mongoc_collection_count_documents(c, filter, nullptr, nullptr, nullptr, &error);
    mongoc_collection_destroy(c);
    bson_destroy(filter);
    if (n < 0) throw std::runtime_error("count failed: " + std::string(error.message));
    return n;
  }

  /// The documents (relaxed Extended JSON, `_id` included) in natural order.
  std::vector<std::string> find(const std::string& db, const std::string& collection, const std::string& filter_json = "{}") {
    bson_error_t error{};
    bson_t* filter = bson_new_from_json(reinterpret_cast<const uint8_t*>(filter_json.data()),
                                        static_cast<ssize_t>(filter_json.size()), &error);
    mongoc_collection_t* c = mongoc_client_get_collection(client_, db.c_str(), collection.c_str());
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(c, filter, nullptr, nullptr);
    std::vector<std::string> out;
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor, &doc)) {
      char* text = bson_as_relaxed_extended_json(doc, nullptr);
      out.emplace_back(text);
      bson_free(text);
    }
    const bool failed = mongoc_cursor_error(cursor, &error);
    mongoc_cursor_destroy(cursor);
    mongoc_collection_destroy(c);
    bson_destroy(filter);
    if (failed) throw std::runtime_error("find failed: " + std::string(error.message));
    return out;
  }

  /// The raw BSON of each document, for checking stored types.
  std::vector<std::vector<std::uint8_t>> find_raw(const std::string& db, const std::string& collection,
                                                   const std::string& filter_json = "{}") {
    bson_error_t error{};
    bson_t* filter = bson_new_from_json(reinterpret_cast<const uint8_t*>(filter_json.data()),
                                        static_cast<ssize_t>(filter_json.size()), &error);
    mongoc_collection_t* c = mongoc_client_get_collection(client_, db.c_str(), collection.c_str());
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(c, filter, nullptr, nullptr);
    std::vector<std::vector<std::uint8_t>> out;
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor, &doc)) out.emplace_back(bson_get_data(doc), bson_get_data(doc) + doc->len);
    mongoc_cursor_destroy(cursor);
    mongoc_collection_destroy(c);
    bson_destroy(filter);
    return out;
  }

  std::vector<std::string> index_names(const std::string& db, const std::string& collection) {
    const std::string reply = command(db, "{\"listIndexes\": \"" + collection + "\"}");
    std::vector<std::string> names;
    for (std::size_t at = reply.find("\"name\" : \""); at != std::string::npos; at = reply.find("\"name\" : \"", at + 1)) {
      const auto from = at + 10;
      names.push_back(reply.substr(from, reply.find('"', from) - from));
    }
    return names;
  }

 private:
  mongoc_client_t* client_ = nullptr;
};

}  // namespace osprof_test
