#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "core/info_codec.hpp"

namespace {

std::string to_json(osprof::info fields) {
  std::span<const osprof::info_field> span(fields.begin(), fields.size());
  std::vector<std::byte> buffer(osprof::detail::encoded_info_size(span));
  auto* end = osprof::detail::encode_info(buffer.data(), span);
  EXPECT_EQ(static_cast<std::size_t>(end - buffer.data()), buffer.size());
  std::string out = "{";
  osprof::detail::append_info_members(out, buffer, true);
  return out + "}";
}

TEST(InfoCodec, EncodesEveryKindInOrder) {
  std::string owned = "owned string";
  EXPECT_EQ(to_json({{"db", {{"statement", "SELECT 1"}, {"params", {{"id", 42}}}}},
                     {"ok", true},
                     {"no", false},
                     {"none", nullptr},
                     {"n", -7},
                     {"u", std::uint64_t{18446744073709551615ull}},
                     {"f", 1.5},
                     {"whole", 2.0},
                     {"s", owned}}),
            R"({"db": {"statement": "SELECT 1", "params": {"id": 42}}, "ok": true, "no": false, "none": null, )"
            R"("n": -7, "u": 18446744073709551615, "f": 1.5, "whole": 2.0, "s": "owned string"})");
}

TEST(InfoCodec, EscapesStringsAndRepairsInvalidUtf8) {
  EXPECT_EQ(to_json({{"q", "a\"b\\c\n\t\x01"}}), R"({"q": "a\"b\\c\n\t\u0001"})");
  EXPECT_EQ(to_json({{"utf8", "caf\xC3\xA9"}}), "{\"utf8\": \"caf\xC3\xA9\"}");
  EXPECT_EQ(to_json({{"bad", "x\xFFy\xC3"}}), "{\"bad\": \"x\xEF\xBF\xBDy\xEF\xBF\xBD\"}");
}

TEST(InfoCodec, NonFiniteFloatsBecomeNull) {
  EXPECT_EQ(to_json({{"nan", std::numeric_limits<double>::quiet_NaN()},
                     {"inf", std::numeric_limits<double>::infinity()}}),
            R"({"nan": null, "inf": null})");
}

std::vector<std::byte> encode(osprof::info fields) {
  std::span<const osprof::info_field> span(fields.begin(), fields.size());
  std::vector<std::byte> buffer(osprof::detail::encoded_info_size(span));
  osprof::detail::encode_info(buffer.data(), span);
  return buffer;
}

// Nested braced lists live until the end of the full expression (like any temporary), so
// info is encoded inside the call that builds it, as trace points do.
TEST(InfoCodec, SkipsAKeyAtTopLevelOnly) {
  const auto buffer = encode({{"host", "caller"}, {"x", {{"host", "nested"}}}});
  std::string out;
  osprof::detail::append_info_members(out, buffer, true, "host");
  EXPECT_EQ(out, R"("x": {"host": "nested"})");
}

TEST(InfoCodec, TruncatedInputNeverProducesBrokenJson) {
  const auto buffer = encode({{"a", "some text"}, {"b", {{"c", 1}}}});
  for (std::size_t cut = 0; cut < buffer.size(); ++cut) {
    std::string out = "{";
    osprof::detail::append_info_members(out, std::span<const std::byte>(buffer).first(cut), true);
    out += "}";
    EXPECT_EQ(out, "{}") << "cut at " << cut;
  }
}

TEST(InfoCodec, DeepNestingIsCutAtTheLimit) {
  // 20 levels of {"k": {...}}: levels past the limit become null, the JSON stays balanced.
  std::vector<osprof::info_field> levels;
  levels.reserve(20);
  levels.emplace_back("k", 1);
  for (int i = 1; i < 20; ++i) {
    levels.emplace_back("k", osprof::info_value(std::span<const osprof::info_field>(&levels[static_cast<std::size_t>(i - 1)], 1)));
  }
  std::span<const osprof::info_field> top(&levels.back(), 1);
  std::vector<std::byte> buffer(osprof::detail::encoded_info_size(top));
  osprof::detail::encode_info(buffer.data(), top);
  std::string out = "{";
  osprof::detail::append_info_members(out, buffer, true);
  out += "}";
  EXPECT_NE(out.find("null"), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '{'), std::count(out.begin(), out.end(), '}'));
}

}  // namespace
