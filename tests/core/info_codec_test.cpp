#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <osprof/info.hpp>

#include "core/info_codec.hpp"

namespace {

using osprof::detail::info_notes;

// The JSON object of encoded info; what decoding had to change is added to `notes`.
std::string decode(std::span<const std::byte> encoded, info_notes& notes, std::string_view skip = {}) {
  std::string out = "{";
  osprof::detail::append_info_members(out, encoded, true, skip, notes);
  return out + "}";
}

std::string to_json(std::span<const osprof::info_field> span, info_notes& notes) {
  std::vector<std::byte> buffer(osprof::detail::encoded_info_size(span));
  auto* end = osprof::detail::encode_info(buffer.data(), span);
  EXPECT_EQ(static_cast<std::size_t>(end - buffer.data()), buffer.size());
  // The bounded encoder (the trace points' one) writes the same bytes.
  std::vector<std::byte> bounded(buffer.size());
  EXPECT_EQ(osprof::detail::encode_info_bounded(bounded.data(), bounded.data() + bounded.size(), span),
            bounded.data() + bounded.size());
  EXPECT_EQ(bounded, buffer);
  return decode(buffer, notes);
}

std::string to_json(osprof::info fields) {
  info_notes notes;
  const std::string json = to_json(std::span<const osprof::info_field>(fields.begin(), fields.size()), notes);
  EXPECT_FALSE(notes.cut);
  return json;
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

// A field's value is built in place from a scalar or a string (info_field's forwarding
// constructor) or copied from an info_value built apart: both hold the same value.
TEST(InfoCodec, AFieldBuiltInPlaceHoldsWhatAValueBuiltApartHolds) {
  const std::string owned = "owned";
  const char* const no_text = nullptr;
  const osprof::info_field nested[] = {{"id", 42}};
  const std::vector<std::pair<osprof::info_field, osprof::info_value>> cases{
      {{"i", -7}, osprof::info_value(-7)},
      {{"u", 7u}, osprof::info_value(7u)},
      {{"f", 2.5}, osprof::info_value(2.5)},
      {{"b", true}, osprof::info_value(true)},
      {{"z", nullptr}, osprof::info_value(nullptr)},
      {{"null text", no_text}, osprof::info_value(no_text)},
      {{"s", "text"}, osprof::info_value("text")},
      {{"owned", owned}, osprof::info_value(owned)},
      {{"o", std::span<const osprof::info_field>(nested)}, osprof::info_value(std::span<const osprof::info_field>(nested))}};
  for (const auto& [in_place, apart] : cases) {
    const osprof::info_field copied{in_place.key, apart};
    info_notes a, b;
    EXPECT_EQ(to_json(std::span<const osprof::info_field>(&in_place, 1), a),
              to_json(std::span<const osprof::info_field>(&copied, 1), b))
        << in_place.key;
    EXPECT_EQ(in_place.value.type(), apart.type()) << in_place.key;
  }
  static_assert(osprof::info_field{"k", 1}.value.type() == osprof::info_value::kind::integer, "constexpr, in place");
}

TEST(InfoCodec, EscapesStringsAndRepairsInvalidUtf8) {
  EXPECT_EQ(to_json({{"q", "a\"b\\c\n\t\x01"}}), R"({"q": "a\"b\\c\n\t\u0001"})");
  EXPECT_EQ(to_json({{"utf8", "caf\xC3\xA9"}}), "{\"utf8\": \"caf\xC3\xA9\"}");
  EXPECT_EQ(to_json({{"bad", "x\xFFy\xC3"}}), "{\"bad\": \"x\xEF\xBF\xBDy\xEF\xBF\xBD\"}");
  // Each repair is reported, in a value and in a key, and valid text reports none.
  for (const auto& [field, invalid] : std::vector<std::pair<osprof::info_field, bool>>{
           {{"bad", "x\xFFy"}, true}, {{"k\xC3", 1}, true}, {{"caf\xC3\xA9", "\xE2\x82\xAC"}, false}}) {
    info_notes notes;
    to_json(std::span<const osprof::info_field>(&field, 1), notes);
    EXPECT_EQ(notes.invalid_utf8, invalid) << field.key;
    EXPECT_FALSE(notes.cut);
  }
}

TEST(InfoCodec, LongKeysAreCutAndReported) {
  const std::string at_limit(osprof::max_info_key_bytes, 'k');
  const std::string over = at_limit + "xyz";
  for (const std::string& key : {at_limit, over}) {
    const osprof::info_field field{key, 1};
    info_notes notes;
    EXPECT_EQ(to_json(std::span<const osprof::info_field>(&field, 1), notes), "{\"" + at_limit + "\": 1}");
    EXPECT_EQ(notes.cut, key.size() > osprof::max_info_key_bytes);
  }
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
  info_notes notes;
  EXPECT_EQ(decode(buffer, notes, "host"), R"({"x": {"host": "nested"}})");
}

TEST(InfoCodec, TruncatedInputNeverProducesBrokenJson) {
  const auto buffer = encode({{"a", "some text"}, {"b", {{"c", 1}}}});
  for (std::size_t cut = 0; cut < buffer.size(); ++cut) {
    info_notes notes;
    EXPECT_EQ(decode(std::span<const std::byte>(buffer).first(cut), notes), "{}") << "cut at " << cut;
  }
}

// `levels` objects nested as {"k": {"k": ... {"k": 1}}}, encoded and decoded.
std::string nested_json(int levels, info_notes& notes) {
  std::vector<osprof::info_field> chain;
  chain.reserve(static_cast<std::size_t>(levels));
  chain.emplace_back("k", 1);
  for (int i = 1; i < levels; ++i) {
    chain.emplace_back("k", osprof::info_value(std::span<const osprof::info_field>(&chain[static_cast<std::size_t>(i - 1)], 1)));
  }
  return to_json(std::span<const osprof::info_field>(&chain.back(), 1), notes);
}

// The trace points' encoder with less room than the encoding needs: it gives up (nullptr) at
// every size short of the whole, and never writes past its limit; with the exact room it
// writes what the unbounded one writes.
TEST(InfoCodec, BoundedEncoderGivesUpShortOfRoomWithoutWritingPastIt) {
  const std::string long_key(300, 'k');
  // Nested objects are views: each level is a named array that outlives the cases.
  using object = std::span<const osprof::info_field>;
  const osprof::info_field id[] = {{"id", 42}};
  const osprof::info_field db[] = {{"statement", "SELECT 1"}, {"params", object(id)}};
  const osprof::info_field c[] = {{"c", "deep"}};
  const osprof::info_field b[] = {{"b", object(c)}};
  const osprof::info_field a[] = {{"a", object(b)}};
  const std::vector<std::vector<osprof::info_field>> cases = {
      {},
      {{"db", object(db)}, {"ok", true}, {"none", nullptr}},
      {{"n", -7}, {"u", std::uint64_t{7}}, {"f", 1.5}, {"s", ""}, {"", "empty key"}},
      {{long_key, 1}, {"nested", object(a)}},
      {{"empty", object{}}, {"z", false}},
  };
  constexpr std::size_t guard = 64;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const std::span<const osprof::info_field> fields(cases[c]);
    const std::size_t size = osprof::detail::encoded_info_size(fields);
    std::vector<std::byte> expected(size);
    osprof::detail::encode_info(expected.data(), fields);
    for (std::size_t room = 0; room <= size; ++room) {
      std::vector<std::byte> buffer(room + guard, std::byte{0xAB});
      const std::byte* end = osprof::detail::encode_info_bounded(buffer.data(), buffer.data() + room, fields);
      if (room < size) {
        EXPECT_EQ(end, nullptr) << "case " << c << ", room " << room << " of " << size;
      } else {
        ASSERT_EQ(end, buffer.data() + size) << "case " << c;
        EXPECT_TRUE(std::equal(expected.begin(), expected.end(), buffer.begin())) << "case " << c;
      }
      EXPECT_TRUE(std::all_of(buffer.begin() + static_cast<std::ptrdiff_t>(room), buffer.end(),
                              [](std::byte b) { return b == std::byte{0xAB}; }))
          << "case " << c << ": written past a limit of " << room << " bytes";
    }
  }
}

TEST(InfoCodec, DeepNestingIsCutAtTheLimitAndReported) {
  // Objects nested max_info_depth deep are kept whole; one level more becomes null.
  info_notes fits;
  const std::string whole = nested_json(osprof::max_info_depth + 1, fits);
  EXPECT_EQ(whole.find("null"), std::string::npos) << whole;
  EXPECT_FALSE(fits.cut);
  info_notes deep;
  const std::string cut = nested_json(osprof::max_info_depth + 2, deep);
  EXPECT_NE(cut.find("{\"k\": null}"), std::string::npos) << cut;
  EXPECT_EQ(std::count(cut.begin(), cut.end(), '{'), std::count(cut.begin(), cut.end(), '}'));
  EXPECT_TRUE(deep.cut);
  // A null the caller wrote is not a cut.
  info_notes plain;
  to_json(std::vector<osprof::info_field>{{"none", nullptr}}, plain);
  EXPECT_FALSE(plain.cut);
}

}  // namespace
