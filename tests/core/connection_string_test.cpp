#include <gtest/gtest.h>

#include <osprof/error.hpp>

#include <osprof/connection_string.hpp>
#include <osprof/driver.hpp>

namespace {

using osprof::connection_string;

std::string error_of(std::string_view text) {
  try {
    (void)connection_string::parse(text);
  } catch (const osprof::error& e) {
    return e.what();
  }
  return {};
}

TEST(ConnectionString, ParsesEveryPart) {
  const auto cs = connection_string::parse("redis://user:p%40ss@127.0.0.1:6390/2?socket_timeout=100&x=y");
  EXPECT_EQ(cs.scheme, "redis");
  EXPECT_EQ(cs.user, "user");
  EXPECT_TRUE(cs.has_password);
  EXPECT_EQ(cs.password, "p@ss");
  EXPECT_EQ(cs.host, "127.0.0.1");
  EXPECT_EQ(cs.port, 6390);
  EXPECT_EQ(cs.database(), "2");
  ASSERT_EQ(cs.params.size(), 2u);
  EXPECT_EQ(cs.param("socket_timeout"), "100");
  EXPECT_EQ(cs.param_uint("socket_timeout"), 100u);
  EXPECT_EQ(cs.redacted, "redis://user:***@127.0.0.1:6390/2?socket_timeout=100&x=y");
}

TEST(ConnectionString, PasswordOnlyAndIpv6) {
  const auto cs = connection_string::parse("redis://:secret@[::1]:6379");
  EXPECT_EQ(cs.user, "");
  EXPECT_EQ(cs.password, "secret");
  EXPECT_EQ(cs.host, "::1");
  EXPECT_EQ(cs.redacted, "redis://:***@[::1]:6379");
}

TEST(ConnectionString, SqliteFollowsSqlalchemySlashes) {
  EXPECT_EQ(connection_string::parse("sqlite:///relative/traces.db").database(), "relative/traces.db");
  EXPECT_EQ(connection_string::parse("sqlite:////absolute/traces.db").database(), "/absolute/traces.db");
  EXPECT_EQ(connection_string::parse("SQLite:///x.db").scheme, "sqlite");
}

TEST(ConnectionString, BareBackendNameAsOsprofiler) {
  const auto cs = connection_string::parse("messaging");
  EXPECT_EQ(cs.scheme, "messaging");
  EXPECT_TRUE(cs.host.empty());
}

TEST(ConnectionString, MalformedStringsNameTheProblem) {
  EXPECT_NE(error_of("").find("it is empty"), std::string::npos);
  EXPECT_NE(error_of("redis:/host").find("no '://'"), std::string::npos);
  EXPECT_NE(error_of("redis://host:99999").find("port in 'host:99999'"), std::string::npos);
  EXPECT_NE(error_of("redis://host:abc").find("port"), std::string::npos);
  EXPECT_NE(error_of("redis://host:0").find("1 to 65535"), std::string::npos);
  EXPECT_NE(error_of("redis://h/#frag").find("fragment"), std::string::npos);
  EXPECT_NE(error_of("redis://h/?=v").find("no name"), std::string::npos);
}

TEST(ConnectionString, PasswordsNeverAppearInErrors) {
  for (const char* text : {"redis://u:hunter2@h:99999", "redis://:hunter2@h:0/?a", "nope://u:hunter2@h",
                           "redis://u:hunter2@h:6379/#x", "redis//u:hunter2@h", "redis:://:hunter2@h"}) {
    std::string message = error_of(text);
    if (message.empty()) {
      try {
        osprof::driver_context ctx;
        (void)osprof::make_writer(text, ctx);
      } catch (const osprof::error& e) {
        message = e.what();
      }
    }
    ASSERT_FALSE(message.empty()) << text;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    EXPECT_NE(message.find("***"), std::string::npos) << message;
  }
}

TEST(ConnectionString, MistypedStringsAreRedactedToo) {
  // Whatever looks like user info loses its password, whether or not the string parses.
  for (const char* text : {"redis//u:hunter2@h", "redis:://:hunter2@h", "redis:/:hunter2@h", "redis::hunter2@h",
                           "u:hunter2@h", "redis://u:hun//hunter2@h", "redis://u:p@hunter2@h/db", ":hunter2@h"}) {
    const std::string redacted = osprof::redact_connection_string(text);
    EXPECT_EQ(redacted.find("hunter2"), std::string::npos) << text << " -> " << redacted;
    EXPECT_NE(redacted.find("***"), std::string::npos) << text << " -> " << redacted;
    const std::string message = error_of(text);
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
  EXPECT_EQ(osprof::redact_connection_string("redis://h:6379/0?a=b@c"), "redis://h:6379/0?a=b@c") << "no user info";
  EXPECT_EQ(osprof::redact_connection_string("redis://user@h"), "redis://user@h") << "a user without a password";
}

TEST(ConnectionString, UnknownSchemeListsTheKnownOnes) {
  osprof::driver_context ctx;
  try {
    (void)osprof::make_writer("nosuch://host", ctx);
    FAIL() << "no error";
  } catch (const osprof::error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("unknown backend 'nosuch'"), std::string::npos) << m;
    EXPECT_NE(m.find("sqlite"), std::string::npos) << m;
    EXPECT_NE(m.find("null"), std::string::npos) << m;
  }
}

TEST(ConnectionString, BadDriverOptionsAreRejected) {
  osprof::driver_context ctx;
  const auto message = [&](const char* text) {
    try {
      (void)osprof::make_writer(text, ctx);
    } catch (const osprof::error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("null://?color=blue").find("unknown option 'color'"), std::string::npos);
  EXPECT_NE(message("sqlite:///x.db?busy_timeout_ms=soon").find("non-negative integer"), std::string::npos);
  EXPECT_NE(message("sqlite:///x.db?synchronous=maybe").find("synchronous"), std::string::npos);
  EXPECT_NE(message("sqlite://host/x.db").find("file path, not a host"), std::string::npos);
  EXPECT_NE(message("sqlite://").find("no database file"), std::string::npos);
}

}  // namespace
