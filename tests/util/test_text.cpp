// Tests for tz::text: width folding, spaces, strict UTF-8, display width and small string helpers.
#include <catch2/catch.hpp>

#include "tz/util/text.hpp"

using namespace tz::text;

TEST_CASE("normalize_width folds full-width ASCII and the ideographic space", "[util]") {
  CHECK(normalize_width("\uFF11\uFF12\uFF13\uFF41\uFF22\uFF58") == "123aBx");
  CHECK(normalize_width("\uFF01") == "!");
  CHECK(normalize_width("\uFF3F\uFF40") == "_`");
  CHECK(normalize_width("\uFF5E") == "~");
  CHECK(normalize_width("a\u3000b") == "a b");
  // Outside the range: U+FF00 and U+FF5F, CJK, U+00A0 and invalid bytes stay as they are.
  CHECK(normalize_width("\uFF00\uFF5F") == "\uFF00\uFF5F");
  CHECK(normalize_width("张三\u00A0") == "张三\u00A0");
  CHECK(normalize_width(std::string("\xEF\xBC", 2)) == std::string("\xEF\xBC", 2));
  CHECK(normalize_width("") == "");
}

TEST_CASE("trim strips ASCII - ideographic and no-break spaces at the ends only", "[util]") {
  CHECK(trim("  abc\t\n") == "abc");
  CHECK(trim("\u3000张 三\u00A0 ") == "张 三");
  CHECK(trim("\u00A0\u3000 \r") == "");
  CHECK(trim("") == "");
  CHECK(trim("a\u3000b") == "a\u3000b");
}

TEST_CASE("remove_spaces removes every kind of space anywhere", "[util]") {
  CHECK(remove_spaces(" 1 2\t3\u30004\u00A05\n") == "12345");
  CHECK(remove_spaces("张 三") == "张三");
  CHECK(remove_spaces("") == "");
}

TEST_CASE("is_valid_utf8 is strict", "[util]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("贵州省黔东南州 \U0001F600 \U00020000"));
  CHECK(is_valid_utf8("\U0010FFFF"));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong 3-byte
  CHECK_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong 4-byte
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\x80"));              // stray continuation
  CHECK_FALSE(is_valid_utf8("\xE4\xB8"));          // truncated 中
  CHECK_FALSE(is_valid_utf8("\xFF"));
}

TEST_CASE("utf8_to_u32 and u32_to_utf8 round-trip and replace bad input", "[util]") {
  const std::string s = "a张\U0001F600\U00020000";
  const std::u32string u = utf8_to_u32(s);
  CHECK(u == U"a张\U0001F600\U00020000");
  CHECK(u32_to_utf8(u) == s);
  CHECK(utf8_to_u32("a\xFF" "b") == U"a\uFFFDb");
  // A truncated sequence is one replacement, and the byte after it is decoded normally.
  CHECK(utf8_to_u32("\xE4\xB8" "a") == U"\uFFFDa");
  CHECK(utf8_to_u32("\xED\xA0\x80") == U"\uFFFD\uFFFD\uFFFD");
  CHECK(utf8_to_u32("") == U"");
  const char32_t bad[] = {0xD800, 0x110000, U'x'};
  CHECK(u32_to_utf8(std::u32string_view(bad, 3)) == "\uFFFD\uFFFDx");
}

TEST_CASE("display_width counts wide characters as 2 and combining marks as 0", "[util]") {
  CHECK(display_width("") == 0);
  CHECK(display_width("abc") == 3);
  CHECK(display_width("张三") == 4);
  CHECK(display_width("한글") == 4);
  CHECK(display_width("\uFF21\uFF22") == 4);  // full-width forms
  CHECK(display_width("\u3000") == 2);
  CHECK(display_width("\U00020000") == 2);    // CJK extension B, plane 2
  CHECK(display_width("\U00030000") == 2);    // CJK extension G, plane 3
  CHECK(display_width("e\u0301") == 1);       // combining acute
  CHECK(display_width("\u00E9") == 1);
  CHECK(display_width("a\u200Bb") == 2);      // zero-width space
  CHECK(display_width("\xFF") == 1);          // replacement character
  CHECK(display_width("男/女") == 5);
}

TEST_CASE("split keeps empty fields", "[util]") {
  using V = std::vector<std::string>;
  CHECK(split("a,b,c", ',') == V{"a", "b", "c"});
  CHECK(split("a,,b", ',') == V{"a", "", "b"});
  CHECK(split(",", ',') == V{"", ""});
  CHECK(split("", ',') == V{""});
  CHECK(split("abc", ',') == V{"abc"});
}

TEST_CASE("all_digits and to_upper_ascii", "[util]") {
  CHECK(all_digits("0123456789"));
  CHECK_FALSE(all_digits(""));
  CHECK_FALSE(all_digits("12a"));
  CHECK_FALSE(all_digits("\uFF11"));  // full-width digits are not ASCII digits
  CHECK_FALSE(all_digits(" 1"));
  CHECK(to_upper_ascii("abcXyz-1") == "ABCXYZ-1");
  CHECK(to_upper_ascii("张x") == "张X");
}

TEST_CASE("pad_right pads by display width and never truncates", "[util]") {
  CHECK(pad_right("ab", 5) == "ab   ");
  CHECK(pad_right("张三", 6) == "张三  ");
  CHECK(display_width(pad_right("张三", 6)) == 6);
  CHECK(pad_right("张三丰", 4) == "张三丰");
  CHECK(pad_right("", 2) == "  ");
}
