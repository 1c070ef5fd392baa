#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/json_writer.hpp"

namespace {

using osprof::detail::append_json_string;
using osprof::detail::json_escape;

// One byte at a time, the rules spelled out: what append_json_string must produce whatever
// shortcut it takes over runs of plain text.
std::string reference(std::string_view text, json_escape mode) {
  std::string out;
  append_json_string(out, "", mode);  // ""
  out.pop_back();
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string one;
    append_json_string(one, text.substr(i, 1), mode);
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) return {};  // multi-byte sequences: not this reference's business
    out.append(one, 1, one.size() - 2);
  }
  out += '"';
  return out;
}

TEST(JsonString, EverySpecialAtEveryOffsetOfALongString) {
  // Each ASCII byte that needs escaping (and plain ones around the edge cases) placed at every
  // position of a 40-byte plain string, so that it lands in every lane of an 8-byte word.
  const std::string plain = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
  for (const json_escape mode : {json_escape::utf8, json_escape::ascii}) {
    for (int c = 0; c < 0x80; ++c) {
      for (std::size_t at = 0; at < plain.size(); ++at) {
        std::string text = plain;
        text[at] = static_cast<char>(c);
        std::string got;
        append_json_string(got, text, mode);
        ASSERT_EQ(got, reference(text, mode)) << "byte " << c << " at " << at;
      }
    }
  }
}

TEST(JsonString, PlainRunEndsAtTheFirstByteThatIsNotPlain) {
  // plain_json_run_end() tests 16 or 8 bytes at a time: every byte value at every offset of a
  // 70-byte plain string (every lane of every block, and the byte-wise tail), from several starts.
  const std::string plain = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ{}[]:,~ ";
  for (const json_escape mode : {json_escape::utf8, json_escape::ascii}) {
    const unsigned limit = mode == json_escape::ascii ? 0x7F : 0x80;
    for (unsigned c = 0; c < 0x100; ++c) {
      const bool stops = c < 0x20 || c >= limit || c == '"' || c == '\\';
      for (std::size_t at = 0; at < plain.size(); ++at) {
        std::string text = plain;
        text[at] = static_cast<char>(c);
        for (std::size_t from = 0; from < 4; ++from) {
          const std::size_t expected = stops && at >= from ? at : text.size();
          ASSERT_EQ(osprof::detail::plain_json_run_end(text, from, mode), expected)
              << "byte " << c << " at " << at << " from " << from;
        }
      }
    }
  }
}

TEST(JsonString, EscapesAsPythonJsonDumps) {
  std::string out;
  append_json_string(out, std::string_view("tab\there \"q\" back\\slash nl\n nul\0 del\x7f end", 41));
  EXPECT_EQ(out, "\"tab\\there \\\"q\\\" back\\\\slash nl\\n nul\\u0000 del\x7f end\"");
  out.clear();
  append_json_string(out, "caf\xc3\xa9 \xf0\x9f\x98\x80 and more text after it", json_escape::ascii);
  EXPECT_EQ(out, "\"caf\\u00e9 \\ud83d\\ude00 and more text after it\"");
  out.clear();
  append_json_string(out, "caf\xc3\xa9 \xf0\x9f\x98\x80 and more text after it", json_escape::utf8);
  EXPECT_EQ(out, "\"caf\xc3\xa9 \xf0\x9f\x98\x80 and more text after it\"");
  out.clear();
  append_json_string(out, "long plain text, then a bad byte \xff here", json_escape::utf8);
  EXPECT_EQ(out, "\"long plain text, then a bad byte \xef\xbf\xbd here\"");
}

TEST(JsonString, RandomTextMatchesTheReference) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 70, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 4 == 0 ? rng() % 0x80 : 'a' + rng() % 26);
    for (const json_escape mode : {json_escape::utf8, json_escape::ascii}) {
      std::string got;
      append_json_string(got, text, mode);
      ASSERT_EQ(got, reference(text, mode)) << text;
    }
  }
}

}  // namespace
