// The MongoDB driver without a server: connection strings (what libmongoc gets, what messages
// show), events as BSON documents and back (byte for byte), the per-event account across
// attempts, what libmongoc's errors mean, and the blocking lane's cancellation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <osprof/error.hpp>

#include "common/with_timeout.hpp"
#include "drivers/mongodb/batch_ledger.hpp"
#include "drivers/mongodb/blocking_lane.hpp"
#include "drivers/mongodb/bson_codec.hpp"
#include "drivers/mongodb/mongo_client.hpp"
#include "drivers/mongodb/mongodb_options.hpp"
#include "../http_drivers/records.hpp"

namespace {

using namespace osprof::detail::mongodb;
using osprof::connection_string;
using osprof_test::make_record;
using namespace std::chrono_literals;

mongodb_options parse(const std::string& text) { return mongodb_options::from(connection_string::parse(text), 7000ms); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const osprof::error& e) {
    return e.what();
  }
  return "no error";
}

TEST(MongodbOptions, DefaultsAndWhatLibmongocGets) {
  const auto o = parse("mongodb://127.0.0.1");
  EXPECT_EQ(o.database, "osprofiler") << "Python's db_name default";
  EXPECT_TRUE(o.create_indexes);
  EXPECT_EQ(o.uri,
            "mongodb://127.0.0.1/?connectTimeoutMS=7000&socketTimeoutMS=7000&serverSelectionTimeoutMS=7000&appname=osprof");
  EXPECT_EQ(o.redacted, "mongodb://127.0.0.1");
}

TEST(MongodbOptions, HostListsCredentialsAndOptionsAsMongoDBWritesThem) {
  const auto o = parse("mongodb://osprof:p%40ss%2Fw0rd@db1.example:27017,db2.example:27018,db3.example/traces"
                       "?replicaSet=rs0&authSource=admin&readPreference=primary&w=majority&wtimeoutMS=2000&tls=true");
  EXPECT_EQ(o.database, "traces");
  EXPECT_EQ(o.uri,
            "mongodb://osprof:p%40ss%2Fw0rd@db1.example:27017,db2.example:27018,db3.example/traces"
            "?replicaSet=rs0&authSource=admin&readPreference=primary&w=majority&wtimeoutMS=2000&tls=true"
            "&connectTimeoutMS=7000&socketTimeoutMS=7000&serverSelectionTimeoutMS=7000&appname=osprof");
  EXPECT_EQ(o.redacted.find("p%40ss"), std::string::npos) << o.redacted;
  EXPECT_NE(o.redacted.find("osprof:***@db1.example:27017,db2.example"), std::string::npos) << o.redacted;
  EXPECT_EQ(o.scrub("x p@ss/w0rd y p%40ss%2Fw0rd z"), "x *** y *** z");
}

TEST(MongodbOptions, OwnTimeoutsAndAppnameAreKept) {
  const auto o = parse("mongodb://h/?socketTimeoutMS=500&ConnectTimeoutMS=250&appName=nova&directConnection=true");
  EXPECT_EQ(o.uri, "mongodb://h/?socketTimeoutMS=500&ConnectTimeoutMS=250&appName=nova&directConnection=true"
                   "&serverSelectionTimeoutMS=7000");
}

TEST(MongodbOptions, CreateIndexesIsOsprofsAndNotPassedOn) {
  const auto o = parse("mongodb://h/db?create_indexes=false&w=1");
  EXPECT_FALSE(o.create_indexes);
  EXPECT_EQ(o.uri.find("create_indexes"), std::string::npos) << o.uri;
  EXPECT_NE(o.uri.find("w=1"), std::string::npos);
  EXPECT_NE(error_of("mongodb://h/?create_indexes=maybe").find("option 'create_indexes' must be true or false"),
            std::string::npos);
}

TEST(MongodbOptions, ErrorsNameTheProblemWithoutThePassword) {
  const std::string unknown = error_of("mongodb://u:hunter22@h/?nosuchoption=1");
  EXPECT_NE(unknown.find("unknown option 'nosuchoption'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("replicaset"), std::string::npos) << "lists libmongoc's options: " << unknown;
  EXPECT_EQ(unknown.find("hunter22"), std::string::npos) << unknown;

  const std::string bad_value = error_of("mongodb://u:hunter22@h/?connectTimeoutMS=soon");
  EXPECT_NE(bad_value.find("connecttimeoutms"), std::string::npos) << bad_value;
  EXPECT_EQ(bad_value.find("hunter22"), std::string::npos) << bad_value;

  const std::string secret = error_of("mongodb://h/?tlsCertificateKeyFilePassword=s3cr3tkey&w=nonsense&journal=maybe");
  EXPECT_EQ(secret.find("s3cr3tkey"), std::string::npos) << secret;

  EXPECT_NE(error_of("mongodb://h/bad.name").find("Invalid database name in URI"), std::string::npos);
  EXPECT_NE(error_of("mongodb://u:hunter22@h:99999").find("is not a number from 1 to 65535"), std::string::npos);
  EXPECT_EQ(error_of("mongodb://u:hunter22@h:99999").find("hunter22"), std::string::npos);
}

TEST(MongodbOptions, SecretOptionsAreHiddenInMessages) {
  const auto o = parse("mongodb://h/?tls=true&tlsCertificateKeyFile=/etc/c.pem&tlsCertificateKeyFilePassword=s3cr3tkey");
  EXPECT_EQ(o.redacted, "mongodb://h/?tls=true&tlsCertificateKeyFile=/etc/c.pem&tlsCertificateKeyFilePassword=***");
  EXPECT_NE(o.uri.find("tlsCertificateKeyFilePassword=s3cr3tkey"), std::string::npos) << "libmongoc gets it";
  EXPECT_EQ(o.scrub("cannot load key with s3cr3tkey"), "cannot load key with ***");
}

// ---- documents

osprof::uuid id(std::uint64_t lo) { return osprof::uuid{0x1234567812344000ULL, 0x8000000000000000ULL | lo}; }

std::string round_trip(const osprof::event_record& e, std::vector<std::uint8_t>* raw = nullptr) {
  event_encoder encoder("demo", "api");
  std::vector<std::uint8_t> data;
  std::string error;
  const std::size_t n = encoder.append(e, data, error);
  EXPECT_GT(n, 0u) << error;
  EXPECT_EQ(n, data.size());
  bson_t doc;
  EXPECT_TRUE(bson_init_static(&doc, data.data(), data.size()));
  if (raw != nullptr) *raw = data;
  return document_json(&doc);
}

TEST(MongodbDocuments, AnEventReadsBackByteForByte) {
  const std::vector<osprof::event_record> events = {
      make_record("wsgi-start", id(1), id(2), id(1), 1764590400000001,
                  R"("request": {"path": "/v2.1/servers", "query": "", "method": "POST", "scheme": "http"})"),
      make_record("db-stop", id(1), id(3), id(2), 1764590400001234,
                  R"("etype": "std::runtime_error", "message": "boom \"quoted\" \\ back\nline")", true),
      make_record("caf\u00e9 \u65e5\u672c \U0001F600-start", id(1), id(4), id(2), 1764590400002000,
                  "\"text\": \"caf\u00e9\", " R"("ctrl": "\u0001\u001f", "n": -1.5, "one": 1.0, "e": 1e+100, "big": 9007199254740993, )"
                  R"("small": -42, "yes": true, "no": false, "none": null, "list": [1, "two", [3.5], {"k": []}], "empty": {}, )"
                  R"("huge": 18446744073709551615, "dotted.key": "x", "$dollar": 1)"),
  };
  for (const auto& e : events) EXPECT_EQ(round_trip(e), e.json);
}

TEST(MongodbDocuments, TypesAreWhatPymongoStores) {
  const auto e = make_record("p-start", id(1), id(2), id(1), 1764590400000001,
                             R"("small": 7, "big": 9007199254740993, "f": 0.5, "huge": 18446744073709551615)");
  std::vector<std::uint8_t> raw;
  round_trip(e, &raw);
  bson_t doc;
  ASSERT_TRUE(bson_init_static(&doc, raw.data(), raw.size()));
  bson_iter_t it;
  ASSERT_TRUE(bson_iter_init(&it, &doc));
  ASSERT_TRUE(bson_iter_next(&it));
  EXPECT_STREQ(bson_iter_key(&it), "_id") << "_id first, as MongoDB stores it";
  EXPECT_EQ(std::string(bson_iter_utf8(&it, nullptr)), id(2).to_string() + "-start");
  const std::vector<std::string> keys = {"name", "base_id", "trace_id", "parent_id", "timestamp", "info", "project", "service"};
  for (const auto& k : keys) {
    ASSERT_TRUE(bson_iter_next(&it));
    EXPECT_EQ(std::string(bson_iter_key(&it)), k) << "OSProfiler's key order";
  }
  ASSERT_TRUE(bson_iter_init_find(&it, &doc, "info"));
  bson_iter_t info;
  ASSERT_TRUE(bson_iter_recurse(&it, &info));
  ASSERT_TRUE(bson_iter_find(&info, "small"));
  EXPECT_EQ(bson_iter_type(&info), BSON_TYPE_INT32);
  ASSERT_TRUE(bson_iter_find(&info, "big"));
  EXPECT_EQ(bson_iter_type(&info), BSON_TYPE_INT64);
  ASSERT_TRUE(bson_iter_find(&info, "f"));
  EXPECT_EQ(bson_iter_type(&info), BSON_TYPE_DOUBLE);
  ASSERT_TRUE(bson_iter_find(&info, "huge"));
  EXPECT_EQ(bson_iter_type(&info), BSON_TYPE_DECIMAL128) << "beyond int64: exact, not a lossy double";
}

TEST(MongodbDocuments, StopsHaveTheirOwnId) {
  auto start = make_record("p-start", id(1), id(2), id(1), 1);
  auto stop = make_record("p-stop", id(1), id(2), id(1), 2);
  EXPECT_EQ(event_id(start), id(2).to_string() + "-start");
  EXPECT_EQ(event_id(stop), id(2).to_string() + "-stop");
}

TEST(MongodbDocuments, WhatBsonCannotHoldIsAnError) {
  auto e = make_record("p-start", id(1), id(2), id(1), 1, R"("a\u0000b": 1)");
  event_encoder encoder("demo", "api");
  std::vector<std::uint8_t> data;
  std::string error;
  EXPECT_EQ(encoder.append(e, data, error), 0u);
  EXPECT_NE(error.find("NUL"), std::string::npos) << error;
}

TEST(MongodbDocuments, PythonWrittenDocumentsRead) {
  // As pymongo stores Python's notify(): an ObjectId _id first, nested dicts, a list.
  bson_t doc = BSON_INITIALIZER, info, nested;
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "65a1b2c3d4e5f60718293a4b");
  BSON_APPEND_OID(&doc, "_id", &oid);
  BSON_APPEND_UTF8(&doc, "name", "db-start");
  BSON_APPEND_DOCUMENT_BEGIN(&doc, "info", &info);
  BSON_APPEND_DOCUMENT_BEGIN(&info, "db", &nested);
  BSON_APPEND_UTF8(&nested, "statement", "SELECT 1");
  BSON_APPEND_OID(&nested, "ref", &oid);
  BSON_APPEND_DATE_TIME(&nested, "when", 1700000000123);
  bson_append_document_end(&info, &nested);
  BSON_APPEND_UTF8(&info, "host", "vm");
  bson_append_document_end(&doc, &info);
  EXPECT_EQ(document_json(&doc), R"({"name": "db-start", "info": {"db": {"statement": "SELECT 1", )"
                                 R"("ref": "65a1b2c3d4e5f60718293a4b", "when": { "$date" : "2023-11-14T22:13:20.123Z" }}, )"
                                 R"("host": "vm"}})");
  bson_destroy(&doc);
}

// ---- the account of a batch

TEST(MongodbLedger, ADuplicateOfAnEarlierAttemptIsStoredAFirstOneIsRefused) {
  std::vector<osprof::event_record> events(4);
  batch_ledger ledger;
  ledger.start(osprof::batch{events, 7, 1});
  for (std::size_t i = 0; i < 4; ++i) ledger.sending(i);
  // Attempt 1: the answer is lost for all.
  for (std::size_t i = 0; i < 4; ++i) ledger.apply(i, doc_outcome::unknown, false, "");
  EXPECT_EQ(ledger.unsettled(), 4u);
  // Attempt 2 (same batch id): 0 and 1 were stored by attempt 1, 2 now, 3 is refused.
  ledger.start(osprof::batch{events, 7, 2});
  EXPECT_EQ(ledger.at(0), batch_ledger::state::sent) << "the account continues";
  ledger.apply(0, doc_outcome::duplicate, true, "dup");
  ledger.apply(1, doc_outcome::duplicate, true, "dup");
  ledger.apply(2, doc_outcome::stored, true, "");
  ledger.apply(3, doc_outcome::refused, true, "too deep");
  EXPECT_EQ(ledger.unsettled(), 0u);
  const auto r = ledger.done();
  EXPECT_EQ(r.status, osprof::write_status::ok);
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_EQ(r.error, "too deep");

  // A new batch: a duplicate on its first send is someone else's document.
  ledger.start(osprof::batch{events, 8, 1});
  EXPECT_EQ(ledger.unsettled(), 4u);
  ledger.apply(0, doc_outcome::duplicate, false, "someone else's");
  EXPECT_EQ(ledger.at(0), batch_ledger::state::refused);
  EXPECT_EQ(ledger.refused(), 1u);
}

TEST(MongodbLedger, GivingUpKeepsWhatEarlierAttemptsStored) {
  std::vector<osprof::event_record> events(5);
  batch_ledger ledger;
  ledger.start(osprof::batch{events, 1, 1});
  ledger.apply(0, doc_outcome::stored, false, "");
  ledger.apply(1, doc_outcome::stored, false, "");
  auto r = ledger.give_up("not authorized");
  EXPECT_EQ(r.status, osprof::write_status::ok) << "two are stored: they stay written";
  EXPECT_EQ(r.rejected, 3u);
  ledger.start(osprof::batch{events, 2, 1});
  r = ledger.give_up("not authorized");
  EXPECT_EQ(r.status, osprof::write_status::failed);
}

// ---- errors

TEST(MongodbErrors, WhatIsRetriedAndWhatIsNot) {
  EXPECT_EQ(classify(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET, "Failed to read 4 bytes: socket error or timeout").kind,
            failure_kind::retry);
  EXPECT_EQ(classify(MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE,
                     "No suitable servers found: [connection refused calling hello on '127.0.0.1:1']")
                .kind,
            failure_kind::retry);
  EXPECT_EQ(classify(MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE,
                     "No suitable servers found: [TLS handshake failed: certificate verify failed (unable to get local issuer certificate) calling hello on 'h:27017']")
                .kind,
            failure_kind::fatal);
  const auto auth = classify(MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_AUTHENTICATE, "Authentication failed.");
  EXPECT_EQ(auth.kind, failure_kind::fatal);
  EXPECT_EQ(auth.message, "authentication failed: Authentication failed.");
  EXPECT_EQ(classify(MONGOC_ERROR_SERVER, 91, "The server is in quiesce mode and will shut down").kind, failure_kind::retry);
  EXPECT_EQ(classify(MONGOC_ERROR_SERVER, 10107, "not primary").kind, failure_kind::retry);
  EXPECT_EQ(classify(MONGOC_ERROR_SERVER, 13, "command insert requires authentication").kind, failure_kind::fatal);
  EXPECT_EQ(classify(MONGOC_ERROR_SERVER, 59, "no such command: 'insert'").kind, failure_kind::fatal);
  EXPECT_EQ(classify(MONGOC_ERROR_WRITE_CONCERN, 64, "waiting for replication timed out").kind, failure_kind::retry);
  EXPECT_TRUE(retryable_server_code(11602));
  EXPECT_FALSE(retryable_server_code(11000));
}

// ---- the lane

TEST(MongodbLane, ACancelledAwaitReturnsAtOnceAndTheJobFinishesAlone) {
  std::atomic<bool> finished{false};
  auto lane = std::make_unique<blocking_lane>();
  const auto started = std::chrono::steady_clock::now();
  {
    boost::asio::io_context ioc;
    auto f = boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<std::optional<std::optional<int>>> {
          std::function<int()> job = [&finished] {
            std::this_thread::sleep_for(400ms);
            finished = true;
            return 42;
          };
          co_return co_await osprof::detail::with_timeout(lane->call(std::move(job)), 50ms);
        },
        boost::asio::use_future);
    ioc.run();
    const auto r = f.get();
    EXPECT_FALSE(r.has_value()) << "timed out";
  }  // the io_context is gone while the job still runs
  EXPECT_LT(std::chrono::steady_clock::now() - started, 300ms);
  EXPECT_FALSE(finished);
  lane.reset();  // the job is still running: the lane lets it finish on its own
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(finished);
}

TEST(MongodbLane, ResultsComeBackInOrder) {
  blocking_lane lane;
  boost::asio::io_context ioc;
  auto f = boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<int> {
        int sum = 0;
        for (int i = 1; i <= 100; ++i) {
          std::function<int()> job = [i] { return i; };
          auto r = co_await lane.call(std::move(job));
          sum += r.value_or(-1000);
        }
        co_return sum;
      },
      boost::asio::use_future);
  ioc.run();
  EXPECT_EQ(f.get(), 5050);
}

}  // namespace
