// The Redis driver's parts that need no server: RESP encoding and parsing, cluster slots,
// connection string options, how a batch becomes commands, and how replies are judged.
#include <gtest/gtest.h>

#include <set>

#include <osprof/error.hpp>

#include "common/time_format.hpp"
#include <osprof/connection_string.hpp>
#include <osprof/driver.hpp>
#include "drivers/redis/batch.hpp"
#include "drivers/redis/client.hpp"
#include "drivers/redis/redis_options.hpp"
#include "drivers/redis/resp.hpp"
#include "drivers/redis/slot.hpp"

namespace {

using namespace osprof::detail;
using namespace osprof::detail::redis;
using namespace osprof;

// ---------------------------------------------------------------- RESP

std::vector<resp_value> parse_all(std::string_view bytes, std::size_t piece = 0) {
  resp_parser p;
  std::string buffer;
  std::size_t pos = 0;
  std::vector<resp_value> out;
  const std::size_t step = piece == 0 ? bytes.size() : piece;
  for (std::size_t fed = 0; fed < bytes.size(); fed += step) {
    buffer += bytes.substr(fed, step);
    pos += p.parse(std::string_view(buffer).substr(pos));
    while (p.has_reply()) out.push_back(p.take());
  }
  EXPECT_EQ(pos, buffer.size()) << "bytes left unparsed";
  return out;
}

TEST(RedisResp, EncodesCommandsAsArraysOfBulkStrings) {
  std::string out;
  command_writer(out).command("SET", "key", "va\r\nlue").command("EXPIRE", "key", std::int64_t{-42});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$7\r\nva\r\nlue\r\n*3\r\n$6\r\nEXPIRE\r\n$3\r\nkey\r\n$3\r\n-42\r\n");
  std::string empty;
  command_writer(empty).command("GET", "");
  EXPECT_EQ(empty, "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

TEST(RedisResp, ParsesEveryReplyType) {
  const std::string bytes =
      "+OK\r\n-WRONGTYPE Operation against a key\r\n:-7\r\n$5\r\nhe\r\nl\r\n$-1\r\n*-1\r\n*0\r\n"
      "*3\r\n:1\r\n*2\r\n+a\r\n$0\r\n\r\n$1\r\nz\r\n";
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
    SCOPED_TRACE("fed in pieces of " + std::to_string(piece));
    const auto v = parse_all(bytes, piece);
    ASSERT_EQ(v.size(), 8u);
    EXPECT_TRUE(v[0].is_ok());
    EXPECT_TRUE(v[1].is_error());
    EXPECT_EQ(v[1].error_code(), "WRONGTYPE");
    EXPECT_EQ(v[2].type, resp_value::kind::integer);
    EXPECT_EQ(v[2].integer, -7);
    EXPECT_EQ(v[3].type, resp_value::kind::bulk);
    EXPECT_EQ(v[3].text, "he\r\nl");
    EXPECT_TRUE(v[4].is_null());
    EXPECT_TRUE(v[5].is_null());
    EXPECT_TRUE(v[6].is_array());
    EXPECT_TRUE(v[6].elements.empty());
    ASSERT_TRUE(v[7].is_array());
    ASSERT_EQ(v[7].elements.size(), 3u);
    EXPECT_EQ(v[7].elements[0].integer, 1);
    ASSERT_EQ(v[7].elements[1].elements.size(), 2u);
    EXPECT_EQ(v[7].elements[1].elements[0].text, "a");
    EXPECT_EQ(v[7].elements[1].elements[1].text, "");
    EXPECT_EQ(v[7].elements[2].text, "z");
  }
}

TEST(RedisResp, ParsesALargeArrayInPiecesWithoutStartingOver) {
  std::string bytes = "*20000\r\n";
  for (int i = 0; i < 20000; ++i) {
    const std::string item = "{\"n\": " + std::to_string(i) + "}";
    bytes += "$" + std::to_string(item.size()) + "\r\n" + item + "\r\n";
  }
  const auto v = parse_all(bytes, 4096);
  ASSERT_EQ(v.size(), 1u);
  ASSERT_EQ(v[0].elements.size(), 20000u);
  EXPECT_EQ(v[0].elements[12345].text, "{\"n\": 12345}");
}

TEST(RedisResp, RejectsWhatIsNotRedis) {
  auto error_of = [](std::string_view bytes) -> std::string {
    resp_parser p;
    try {
      p.parse(bytes);
    } catch (const protocol_error& e) {
      return e.what();
    }
    return {};
  };
  EXPECT_NE(error_of("HTTP/1.1 400 Bad Request\r\n\r\n").find("'HTTP/1.1 400 Bad Request\\r\\n"), std::string::npos);
  EXPECT_NE(error_of("SSH-2.0-OpenSSH_9.2\r\n").find("not a RESP reply"), std::string::npos);
  EXPECT_NE(error_of("$abc\r\n").find("malformed"), std::string::npos);
  EXPECT_NE(error_of("$3\r\nabcde\r\n").find("CRLF"), std::string::npos);
  EXPECT_NE(error_of(std::string(70000, 'x')).find("no line end"), std::string::npos);
  EXPECT_EQ(error_of("$5\r\nabc"), "");  // incomplete is not an error
}

TEST(RedisResp, RepliesAreBoundedInElementsAndBytes) {
  auto error_of = [](const auto& feed) -> std::string {
    resp_parser p;
    try {
      feed(p);
    } catch (const protocol_error& e) {
      return e.what();
    }
    return {};
  };
  // A 2^31-element array is refused as soon as it is announced, before anything is kept.
  EXPECT_NE(error_of([](resp_parser& p) { p.parse("*2147483648\r\n"); }).find("elements"), std::string::npos);
  // Nested arrays count together.
  EXPECT_NE(error_of([](resp_parser& p) {
              p.parse("*3\r\n*3000000\r\n");
              p.parse("*3000000\r\n");
            }).find("elements"),
            std::string::npos);
  // An endless stream of bulk strings inside one array stops at the byte limit.
  const std::string_view chunk_header = "*1000000\r\n";
  EXPECT_NE(error_of([&](resp_parser& p) {
              std::string data(chunk_header);
              const std::string element = "$" + std::to_string(1 << 20) + "\r\n" + std::string(1 << 20, 'x') + "\r\n";
              p.parse(data);
              for (int i = 0; i < 2000; ++i) p.parse(element);  // 2 GiB in all
            }).find("MiB"),
            std::string::npos);
  // Within the limits, replies keep coming, each counted afresh.
  resp_parser ok;
  for (int i = 0; i < 3; ++i) {
    std::string reply = "*1000000\r\n";
    for (int k = 0; k < 1000000; ++k) reply += ":1\r\n";
    EXPECT_EQ(ok.parse(reply), reply.size());
    EXPECT_EQ(ok.take().elements.size(), 1000000u);
  }
}

TEST(RedisResp, ExcerptsArePrintable) {
  EXPECT_EQ(printable_excerpt(std::string_view("a\r\n\x01\xff", 5)), "a\\r\\n\\x01\\xff");
  EXPECT_EQ(printable_excerpt(std::string(60, 'y'), 4), "yyyy...");
}

// ---------------------------------------------------------------- slots

TEST(RedisSlot, MatchesTheServer) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);  // the reference value in the cluster specification
  EXPECT_EQ(key_slot("foo"), 12182);      // CLUSTER KEYSLOT foo
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(key_slot("foo{}{bar}"), crc16("foo{}{bar}") % 16384);  // empty tag: the whole key
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));
}

TEST(RedisSlot, EverySlotHasATag) {
  std::set<std::string_view> seen;
  for (std::uint32_t s = 0; s < slot_count; ++s) {
    const auto tag = slot_tag(static_cast<std::uint16_t>(s));
    ASSERT_FALSE(tag.empty());
    ASSERT_EQ(key_slot("osprof_writer:abc:{" + std::string(tag) + "}"), s);
    seen.insert(tag);
  }
  EXPECT_EQ(seen.size(), slot_count);
}

// ---------------------------------------------------------------- options

redis_options options_of(std::string_view text) {
  return redis_options::from(connection_string::parse(text), std::chrono::milliseconds(10000));
}

std::string option_error(std::string_view text) {
  try {
    (void)options_of(text);
  } catch (const osprof::error& e) {
    return e.what();
  }
  return {};
}

TEST(RedisOptions, RedisUrls) {
  auto o = options_of("redis://:s3cret@10.0.0.5:6390/3");
  EXPECT_EQ(o.mode, redis_mode::standalone);
  ASSERT_EQ(o.endpoints.size(), 1u);
  EXPECT_EQ(o.endpoints[0].text(), "10.0.0.5:6390");
  EXPECT_TRUE(o.has_password);
  EXPECT_EQ(o.password, "s3cret");
  EXPECT_EQ(o.user, "");
  EXPECT_EQ(o.db, 3);
  EXPECT_FALSE(o.tls.enabled);
  EXPECT_TRUE(o.dedup);
  EXPECT_EQ(o.redacted.find("s3cret"), std::string::npos);

  o = options_of("redis://app:pw@host");
  EXPECT_EQ(o.user, "app");
  EXPECT_EQ(o.endpoints[0].text(), "host:6379");
  EXPECT_EQ(o.db, 0);

  o = options_of("redis://[::1]:7000?db=2&timeout_ms=250&ttl=3600&dedup=false");
  EXPECT_EQ(o.endpoints[0].text(), "[::1]:7000");
  EXPECT_EQ(o.db, 2);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(o.ttl_seconds, 3600u);
  EXPECT_FALSE(o.dedup);
}

TEST(RedisOptions, TlsSentinelCluster) {
  auto o = options_of("rediss://h:6380?ssl_ca_certs=/etc/ca.pem&ssl_certfile=/c.pem&ssl_keyfile=/k.pem");
  EXPECT_TRUE(o.tls.enabled);
  EXPECT_TRUE(o.tls.verify_peer);
  EXPECT_TRUE(o.tls.check_hostname);
  EXPECT_EQ(o.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(o.tls.cert_file, "/c.pem");
  o = options_of("rediss://h?ssl_cert_reqs=none");
  EXPECT_FALSE(o.tls.verify_peer);
  EXPECT_FALSE(o.tls.check_hostname);
  EXPECT_TRUE(options_of("redis://h?tls=true").tls.enabled);

  o = options_of("redissentinel://:pw@s1:26380?service_name=cache&sentinels=s2:26381,%5B::1%5D&sentinel_password=sp");
  EXPECT_EQ(o.mode, redis_mode::sentinel);
  ASSERT_EQ(o.endpoints.size(), 3u);
  EXPECT_EQ(o.endpoints[1].text(), "s2:26381");
  EXPECT_EQ(o.endpoints[2].text(), "[::1]:26379");
  EXPECT_EQ(o.service_name, "cache");
  EXPECT_EQ(o.password, "pw");
  EXPECT_EQ(o.sentinel_password, "sp");
  EXPECT_EQ(o.redacted.find("sp&"), std::string::npos);
  EXPECT_EQ(o.redacted.find("=sp"), std::string::npos) << o.redacted;
  EXPECT_EQ(options_of("redissentinel://s1").service_name, "mymaster");  // OSProfiler's default
  EXPECT_EQ(options_of("redissentinel://s1").endpoints[0].port, 26379);

  o = options_of("rediscluster://n1:7001?nodes=n2:7002,n3:7003");
  EXPECT_EQ(o.mode, redis_mode::cluster);
  EXPECT_EQ(o.endpoints.size(), 3u);
  EXPECT_EQ(options_of("redis://n1:7001?cluster=true").mode, redis_mode::cluster);
  EXPECT_TRUE(options_of("rediss://n1:7001?cluster=true").tls.enabled);
}

TEST(RedisOptions, BadValuesNameTheOptionAndHideSecrets) {
  EXPECT_NE(option_error("redis://h?colour=red").find("unknown option 'colour'"), std::string::npos);
  EXPECT_NE(option_error("redis://h/abc").find("database 'abc' is not a number"), std::string::npos);
  EXPECT_NE(option_error("redis://h/1?db=2").find("given twice"), std::string::npos);
  EXPECT_NE(option_error("rediscluster://h/1").find("database 0 only"), std::string::npos);
  EXPECT_NE(option_error("redis://h?service_name=x").find("for redissentinel"), std::string::npos);
  EXPECT_NE(option_error("redis://h?ssl_ca_certs=/x").find("need TLS"), std::string::npos);
  EXPECT_NE(option_error("rediss://h?ssl_certfile=/x").find("go together"), std::string::npos);
  EXPECT_NE(option_error("rediss://h?ssl_cert_reqs=maybe").find("'required' or 'none'"), std::string::npos);
  EXPECT_NE(option_error("redis://h?nodes=a:1").find("for Redis Cluster"), std::string::npos);
  EXPECT_NE(option_error("rediscluster://h?nodes=a:99999").find("1 to 65535"), std::string::npos);
  EXPECT_NE(option_error("redis://h?timeout_ms=0").find("at least 1"), std::string::npos);
  const std::string e = option_error("redissentinel://:topsecret@h?sentinel_password=hunter2&dedup=perhaps");
  EXPECT_NE(e.find("'dedup' must be true or false"), std::string::npos) << e;
  EXPECT_EQ(e.find("topsecret"), std::string::npos) << e;
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(RedisOptions, SchemesAreRegistered) {
  auto names = osprof::registered_drivers();
  for (const char* scheme : {"redis", "rediss", "redissentinel", "rediscluster"}) {
    EXPECT_TRUE(std::any_of(names.begin(), names.end(), [&](const auto& e) { return e.scheme == scheme; })) << scheme;
  }
}

TEST(RedisOptions, UnreadableCertificateFilesFailAtCreation) {
  boost::asio::io_context ioc;
  driver_context ctx;
  ctx.executor = ioc.get_executor();
  try {
    (void)osprof::make_writer("rediss://127.0.0.1:1?ssl_ca_certs=/nonexistent/ca.pem", ctx);
    FAIL() << "expected an error";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("ssl_ca_certs '/nonexistent/ca.pem'"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- batches

event_record make_event(const osprof::uuid& base, const std::string& name, std::int64_t us, bool error = false) {
  event_record e;
  e.name = name;
  e.base_id = base;
  e.trace_id = osprof::uuid::random();
  e.parent_id = base;
  e.time_us = us;
  format_timestamp(us, e.timestamp.data());
  e.is_stop = name.ends_with("-stop");
  e.has_error = error;
  e.info = error ? R"({"etype": "std::runtime_error", "message": "boom", "host": "h"})" : R"({"host": "h"})";
  e.json = "{\"name\": \"" + name + "\", \"base_id\": \"" + base.to_string() + "\", \"timestamp\": \"" +
           std::string(e.timestamp_text()) + "\", \"info\": " + e.info + "}";
  return e;
}

// The commands of a payload, as arrays of strings (RESP commands parse as replies would).
std::vector<std::vector<std::string>> commands_of(const std::string& payload) {
  std::vector<std::vector<std::string>> out;
  for (const auto& v : parse_all(payload)) {
    std::vector<std::string> args;
    for (const auto& a : v.elements) args.push_back(a.text);
    out.push_back(std::move(args));
  }
  return out;
}

TEST(RedisBatch, OneTransactionWithOneLpushPerTraceOldestFirst) {
  const auto a = osprof::uuid::random();
  const auto b = osprof::uuid::random();
  std::vector<event_record> batch = {make_event(a, "wsgi-start", 1'000'000), make_event(b, "rpc-start", 1'000'001),
                                      make_event(a, "db-start", 1'000'002), make_event(a, "db-stop", 1'000'003, true),
                                      make_event(a, "wsgi-stop", 1'000'004, true), make_event(b, "rpc-stop", 1'000'005)};
  encode_settings s;
  s.writer_id = "w1";
  s.sequence = 42;
  const auto groups = encode_batch(batch, s);
  ASSERT_EQ(groups.size(), 1u);
  const auto cmds = commands_of(groups[0].payload);
  ASSERT_EQ(cmds.size(), 6u);
  EXPECT_EQ(cmds[0], std::vector<std::string>{"MULTI"});
  const std::string key_a = "osprofiler_opt:" + a.to_string();
  EXPECT_EQ(cmds[1], (std::vector<std::string>{"LPUSH", key_a, batch[0].json, batch[2].json, batch[3].json, batch[4].json}));
  EXPECT_EQ(cmds[2], (std::vector<std::string>{"SET", "osprofiler_error:" + a.to_string(),
                                               "{\"base_id\": \"" + a.to_string() + "\", \"timestamp\": \"" +
                                                   std::string(batch[4].timestamp_text()) + "\"}"}));
  EXPECT_EQ(cmds[3], (std::vector<std::string>{"LPUSH", "osprofiler_opt:" + b.to_string(), batch[1].json, batch[5].json}));
  EXPECT_EQ(cmds[4], (std::vector<std::string>{"SET", "osprof_writer:w1", "42", "EX", "86400"}));
  EXPECT_EQ(cmds[5], std::vector<std::string>{"EXEC"});
  EXPECT_EQ(groups[0].replies, 1u + 4u + 1u);  // +OK, 4 QUEUED, EXEC
  EXPECT_EQ(groups[0].events, 6u);
  EXPECT_EQ(groups[0].events_per_command, (std::vector<std::uint32_t>{4, 0, 2}));
}

TEST(RedisBatch, ErrorFlagCanBeTurnedOffAndTtlApplies) {
  const auto a = osprof::uuid::random();
  std::vector<event_record> batch = {make_event(a, "x-start", 5), make_event(a, "x-stop", 6, true)};
  encode_settings s;
  s.writer_id = "w";
  s.filter_error_trace = false;
  s.ttl_seconds = 600;
  const auto cmds = commands_of(encode_batch(batch, s)[0].payload);
  ASSERT_EQ(cmds.size(), 5u);  // MULTI, LPUSH, EXPIRE, writer SET, EXEC
  EXPECT_EQ(cmds[2], (std::vector<std::string>{"EXPIRE", "osprofiler_opt:" + a.to_string(), "600"}));
  s.filter_error_trace = true;
  const auto with_flag = commands_of(encode_batch(batch, s)[0].payload);
  ASSERT_EQ(with_flag.size(), 6u);
  EXPECT_EQ(with_flag[3].size(), 5u);  // SET key value EX 600
  EXPECT_EQ(with_flag[3][3], "EX");
}

TEST(RedisBatch, ClusterGroupsStayInOneSlotEach) {
  std::vector<event_record> batch;
  for (int i = 0; i < 200; ++i) {
    const auto base = osprof::uuid::random();
    batch.push_back(make_event(base, "p-start", i * 2));
    batch.push_back(make_event(base, "p-stop", i * 2 + 1, i % 3 == 0));
  }
  encode_settings s;
  s.cluster = true;
  s.writer_id = "abc";
  s.sequence = 7;
  const auto groups = encode_batch(batch, s);
  std::size_t events = 0;
  std::set<std::uint16_t> slots;
  for (const auto& g : groups) {
    EXPECT_TRUE(slots.insert(g.slot).second) << "two groups for slot " << g.slot;
    events += g.events;
    for (const auto& cmd : commands_of(g.payload)) {
      if (cmd[0] == "LPUSH" || cmd[0] == "SET" || cmd[0] == "EXPIRE") {
        EXPECT_EQ(key_slot(cmd[1]), g.slot) << cmd[1];
      }
    }
    EXPECT_EQ(key_slot(g.writer_key), g.slot);
    EXPECT_TRUE(g.writer_key.starts_with("osprof_writer:abc:{"));
  }
  EXPECT_EQ(events, batch.size());
}

TEST(RedisBatch, WithoutDedupEveryKeyIsAPlainGroup) {
  const auto a = osprof::uuid::random();
  const auto b = osprof::uuid::random();
  std::vector<event_record> batch = {make_event(a, "x-start", 1), make_event(b, "y-start", 2),
                                     make_event(a, "x-stop", 3, true)};
  encode_settings s;
  s.dedup = false;
  s.ttl_seconds = 60;
  const auto groups = encode_batch(batch, s);
  ASSERT_EQ(groups.size(), 3u);  // LPUSH a + EXPIRE a, error flag of a, LPUSH b + EXPIRE b
  EXPECT_EQ(commands_of(groups[0].payload).size(), 2u);
  EXPECT_EQ(commands_of(groups[0].payload)[0][0], "LPUSH");
  EXPECT_EQ(commands_of(groups[0].payload)[1][0], "EXPIRE");
  EXPECT_EQ(commands_of(groups[1].payload)[0][0], "SET");
  EXPECT_EQ(groups[1].events, 0u);
  EXPECT_EQ(groups[0].replies, 2u);
  EXPECT_TRUE(groups[0].writer_key.empty());
  for (const auto& g : groups) EXPECT_EQ(g.payload.find("MULTI"), std::string::npos);
}

// ---------------------------------------------------------------- replies

resp_value simple(std::string t) { return {resp_value::kind::simple, 0, std::move(t), {}}; }
resp_value err(std::string t) { return {resp_value::kind::error, 0, std::move(t), {}}; }
resp_value integer(std::int64_t v) { return {resp_value::kind::integer, v, {}, {}}; }
resp_value array(std::vector<resp_value> v) { return {resp_value::kind::array, 0, {}, std::move(v)}; }

encoded_group two_trace_group() {
  encoded_group g;
  g.events_per_command = {4, 0, 2};
  g.events = 6;
  g.replies = 6;
  g.first_key = "osprofiler_opt:x";
  return g;
}

TEST(RedisReplies, AnAppliedTransactionCountsRejectedEvents) {
  const auto g = two_trace_group();
  std::vector<resp_value> ok = {simple("OK"), simple("QUEUED"), simple("QUEUED"), simple("QUEUED"), simple("QUEUED"),
                                array({integer(4), simple("OK"), integer(2), simple("OK")})};
  auto o = evaluate_group(g, ok, true);
  EXPECT_EQ(o.what, group_outcome::verdict::stored);
  EXPECT_EQ(o.rejected, 0u);
  ok.back().elements[2] = err("WRONGTYPE Operation against a key holding the wrong kind of value");
  o = evaluate_group(g, ok, true);
  EXPECT_EQ(o.what, group_outcome::verdict::stored);
  EXPECT_EQ(o.rejected, 2u);
  EXPECT_NE(o.error.find("WRONGTYPE"), std::string::npos);
}

TEST(RedisReplies, AnAbortedTransactionSaysWhy) {
  const auto g = two_trace_group();
  auto aborted = [&](resp_value cause) {
    std::vector<resp_value> r = {simple("OK"), simple("QUEUED"), cause, simple("QUEUED"), simple("QUEUED"),
                                 err("EXECABORT Transaction discarded because of previous errors.")};
    return evaluate_group(g, r, true);
  };
  auto o = aborted(err("MOVED 3999 127.0.0.1:7002"));
  EXPECT_EQ(o.what, group_outcome::verdict::moved);
  ASSERT_TRUE(o.redirect);
  EXPECT_EQ(o.redirect->first, 3999);
  EXPECT_EQ(o.redirect->second.text(), "127.0.0.1:7002");
  o = aborted(err("ASK 3999 127.0.0.1:7003"));
  EXPECT_EQ(o.what, group_outcome::verdict::ask);
  o = aborted(err("OOM command not allowed when used memory > 'maxmemory'."));
  EXPECT_EQ(o.what, group_outcome::verdict::retry);
  o = aborted(err("NOPERM this user has no permissions to run the 'lpush' command"));
  EXPECT_EQ(o.what, group_outcome::verdict::refused);
  EXPECT_EQ(o.rejected, 6u);
  o = aborted(err("ERR unknown command 'LPUSH'"));
  EXPECT_EQ(o.what, group_outcome::verdict::refused);
}

TEST(RedisReplies, PlainCommandsAreJudgedOneByOne) {
  encoded_group g;
  g.events_per_command = {3, 0};
  g.events = 3;
  g.replies = 2;
  auto o = evaluate_group(g, std::vector<resp_value>{integer(3), integer(1)}, false);
  EXPECT_EQ(o.what, group_outcome::verdict::stored);
  o = evaluate_group(g, std::vector<resp_value>{err("WRONGTYPE x"), integer(1)}, false);
  EXPECT_EQ(o.rejected, 3u);
  o = evaluate_group(g, std::vector<resp_value>{err("LOADING Redis is loading the dataset in memory"), err("LOADING x")},
                     false);
  EXPECT_EQ(o.what, group_outcome::verdict::retry);
}

TEST(RedisReplies, ErrorsAreClassified) {
  EXPECT_EQ(classify_error(err("WRONGPASS invalid username-password pair")), failure_kind::auth);
  EXPECT_EQ(classify_error(err("NOAUTH Authentication required.")), failure_kind::auth);
  EXPECT_EQ(classify_error(err("ERR invalid password")), failure_kind::auth);
  EXPECT_EQ(classify_error(err("ERR AUTH <password> called without any password configured for the default user.")),
            failure_kind::auth);
  EXPECT_EQ(classify_error(err("ERR DB index is out of range")), failure_kind::config);
  EXPECT_EQ(classify_error(err("LOADING Redis is loading")), failure_kind::busy);
  EXPECT_EQ(classify_error(err("READONLY You can't write against a read only replica.")), failure_kind::busy);
  EXPECT_EQ(classify_error(err("ERR max number of clients reached")), failure_kind::busy);
  EXPECT_EQ(classify_error(err("CLUSTERDOWN The cluster is down")), failure_kind::busy);
  EXPECT_EQ(classify_error(err("ERR syntax error")), failure_kind::server);
}

TEST(RedisReplies, RedirectsParse) {
  auto r = parse_redirect(err("MOVED 12182 10.1.2.3:7003"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 12182);
  EXPECT_EQ(r->second.host, "10.1.2.3");
  EXPECT_EQ(r->second.port, 7003);
  r = parse_redirect(err("MOVED 1 :7001"));  // same host as the node that answered
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->second.host.empty());
  EXPECT_EQ(r->second.port, 7001);
  EXPECT_TRUE(parse_redirect(err("ASK 5 [::1]:7002")));
  EXPECT_FALSE(parse_redirect(err("MOVED 99999 h:1")));
  EXPECT_FALSE(parse_redirect(err("MOVED x")));
}

}  // namespace
