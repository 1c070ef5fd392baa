// W3C Trace Context: the spec's examples and the cases of its test suite
// (w3c/trace-context test/test.py), at the parser level.
#include <osprof/propagation.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using osprof::parse_traceparent;
using osprof::parse_tracestate;

TEST(Traceparent, SpecExamples) {
  const auto tp = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->version, 0);
  EXPECT_EQ(tp->trace_id.to_string(), "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
  EXPECT_EQ(tp->parent_id, 0x00f067aa0ba902b7u);
  EXPECT_TRUE(tp->sampled());
  const auto unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled());
  EXPECT_EQ(osprof::format_traceparent(*tp), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(Traceparent, RejectedBySpec) {
  const char* invalid[] = {
      "00-12345678901234567890123456789012-1234567890123456-01.",
      "00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
      "cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like",
      "ff-12345678901234567890123456789012-1234567890123456-01",
      ".0-12345678901234567890123456789012-1234567890123456-01",
      "0.-12345678901234567890123456789012-1234567890123456-01",
      "000-12345678901234567890123456789012-1234567890123456-01",
      "0000-12345678901234567890123456789012-1234567890123456-01",
      "0-12345678901234567890123456789012-1234567890123456-01",
      "00-00000000000000000000000000000000-1234567890123456-01",
      "00-.2345678901234567890123456789012-1234567890123456-01",
      "00-1234567890123456789012345678901.-1234567890123456-01",
      "00-123456789012345678901234567890123-1234567890123456-01",
      "00-1234567890123456789012345678901-1234567890123456-01",
      "00-12345678901234567890123456789012-0000000000000000-01",
      "00-12345678901234567890123456789012-.234567890123456-01",
      "00-12345678901234567890123456789012-123456789012345.-01",
      "00-12345678901234567890123456789012-12345678901234567-01",
      "00-12345678901234567890123456789012-123456789012345-01",
      "00-12345678901234567890123456789012-1234567890123456-.0",
      "00-12345678901234567890123456789012-1234567890123456-0.",
      "00-12345678901234567890123456789012-1234567890123456-001",
      "00-12345678901234567890123456789012-1234567890123456-1",
      // uppercase hex is not HEXDIGLC
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "",
      "00",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
  };
  for (const char* value : invalid) EXPECT_FALSE(parse_traceparent(value)) << value;
}

TEST(Traceparent, HigherVersionsAndWhitespace) {
  const char* valid[] = {
      "cc-12345678901234567890123456789012-1234567890123456-01",
      "cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
      " 00-12345678901234567890123456789012-1234567890123456-01",
      "\t00-12345678901234567890123456789012-1234567890123456-01",
      "00-12345678901234567890123456789012-1234567890123456-01 ",
      "00-12345678901234567890123456789012-1234567890123456-01\t",
      "\t 00-12345678901234567890123456789012-1234567890123456-01 \t",
  };
  for (const char* value : valid) {
    const auto tp = parse_traceparent(value);
    ASSERT_TRUE(tp) << value;
    EXPECT_EQ(tp->trace_id.to_string(), "12345678-9012-3456-7890-123456789012");
  }
  // Emitting a higher version downgrades it to 00.
  auto tp = parse_traceparent("cc-12345678901234567890123456789012-1234567890123456-09-future");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->version, 0xcc);
  EXPECT_EQ(osprof::format_traceparent(*tp), "00-12345678901234567890123456789012-1234567890123456-09");
}

TEST(Tracestate, ValidLists) {
  EXPECT_EQ(parse_tracestate("congo=t61rcWkgMzE"), "congo=t61rcWkgMzE");
  EXPECT_EQ(parse_tracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(parse_tracestate(""), "");
  EXPECT_EQ(parse_tracestate("foo=1,"), "foo=1");
  EXPECT_EQ(parse_tracestate(",foo=1"), "foo=1");
  EXPECT_EQ(parse_tracestate("foo=1 \t , \t bar=2, \t baz=3"), "foo=1,bar=2,baz=3");
  EXPECT_EQ(parse_tracestate("foo=1\t \t,\t \tbar=2,\t \tbaz=3"), "foo=1,bar=2,baz=3");
  EXPECT_EQ(parse_tracestate(" foo=1"), "foo=1");
  EXPECT_EQ(parse_tracestate("\t foo=1 \t"), "foo=1");
  // Multiple fields are combined with commas before parsing (as carriers do).
  EXPECT_EQ(parse_tracestate("foo=1,bar=2,rojo=1,congo=2,baz=3"), "foo=1,bar=2,rojo=1,congo=2,baz=3");
  // A leading space of a value is part of it.
  EXPECT_EQ(parse_tracestate("foo= 1"), "foo= 1");
}

TEST(Tracestate, AllAllowedCharacters) {
  std::string key;
  for (char c = 'a'; c <= 'z'; ++c) key += c;
  key += "0123456789_-*/";
  std::string value;
  for (int c = 0x20; c <= 0x7E; ++c) {
    if (c != ',' && c != '=') value += static_cast<char>(c);
  }
  EXPECT_EQ(parse_tracestate(key + "=" + value), key + "=" + value);
  const std::string vendor_key = key + "@a-z0-9_-*/";
  EXPECT_EQ(parse_tracestate(vendor_key + "=" + value), vendor_key + "=" + value);
}

TEST(Tracestate, InvalidLists) {
  const std::string invalid[] = {
      "foo=1,foo=1",  "foo=1,foo=2", "foo =1",      "FOO=1",       "foo.bar=1",     "foo@=1,bar=2",
      "@foo=1,bar=2", "foo@@bar=1,bar=2",           "foo@bar@baz=1,bar=2",          "foo=bar=baz",
      "foo=,bar=3",   "foo",         "=1",          "foo=1\t2",    "foo=\x7f",      "foo=caf\xC3\xA9",
  };
  for (const std::string& value : invalid) EXPECT_FALSE(parse_tracestate(value)) << value;
}

TEST(Tracestate, MemberAndKeyLimits) {
  std::string list;
  for (int i = 1; i <= 32; ++i) list += (i > 1 ? "," : "") + std::string("bar") + (i < 10 ? "0" : "") + std::to_string(i) + "=1";
  EXPECT_TRUE(parse_tracestate(list));
  EXPECT_FALSE(parse_tracestate(list + ",bar33=33"));
  EXPECT_TRUE(parse_tracestate("foo=1," + std::string(256, 'z') + "=1"));
  EXPECT_FALSE(parse_tracestate("foo=1," + std::string(257, 'z') + "=1"));
  EXPECT_TRUE(parse_tracestate("foo=1," + std::string(241, 't') + "@" + std::string(14, 'v') + "=1"));
  EXPECT_FALSE(parse_tracestate("foo=1," + std::string(242, 't') + "@v=1"));
  EXPECT_FALSE(parse_tracestate("foo=1,t@" + std::string(15, 'v') + "=1"));
  EXPECT_TRUE(parse_tracestate("foo=" + std::string(256, 'v')));
  EXPECT_FALSE(parse_tracestate("foo=" + std::string(257, 'v')));
}

TEST(Tracestate, PutMovesTheKeyLeftAndKeeps32) {
  EXPECT_EQ(osprof::tracestate_put("", "osprof", "a"), "osprof=a");
  EXPECT_EQ(osprof::tracestate_put("rojo=1,osprof=old,congo=2", "osprof", "new"), "osprof=new,rojo=1,congo=2");
  std::string list;
  for (int i = 1; i <= 32; ++i) list += (i > 1 ? "," : "") + std::string("k") + std::to_string(i) + "=1";
  const std::string put = osprof::tracestate_put(list, "osprof", "x");
  const auto parsed = parse_tracestate(put);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(put.rfind("k31=1"), put.size() - 5);  // k32, the right-most, was dropped
  EXPECT_EQ(osprof::tracestate_get(put, "osprof"), "x");
  EXPECT_EQ(osprof::tracestate_get(put, "k1"), "1");
  EXPECT_EQ(osprof::tracestate_get(put, "k32"), "");
}

}  // namespace
