// CSV parsing and writing (quotes, line numbers, Excel text guards, damaged IDs) and encodings
// (UTF-8/GB18030/UTF-16LE detection and conversion, pinyin).
#include <catch2/catch.hpp>

#include "tz/util/csv.hpp"
#include "tz/util/encoding.hpp"

using tz::csv::Row;
using Cells = std::vector<std::string>;

namespace {

std::vector<Row> parse_ok(std::string_view text) {
  auto r = tz::csv::parse(text);
  REQUIRE(r.ok());
  return std::move(r.value());
}

}  // namespace

TEST_CASE("csv parse: plain cells and quotes", "[util]") {
  auto rows = parse_ok("姓名,身份证号,电话\n张伟,\"52263219800101123X\",\"a,b\"\n\"say \"\"hi\"\"\",,\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].cells == Cells{"姓名", "身份证号", "电话"});
  CHECK(rows[1].cells == Cells{"张伟", "52263219800101123X", "a,b"});
  CHECK(rows[2].cells == Cells{"say \"hi\"", "", ""});
  CHECK(rows[0].line == 1);
  CHECK(rows[2].line == 3);

  SECTION("last line without line end") {
    auto r = parse_ok("a,b\nc,d");
    REQUIRE(r.size() == 2);
    CHECK(r[1].cells == Cells{"c", "d"});
  }
  SECTION("empty quoted cell and trailing empty cell") {
    auto r = parse_ok("\"\",x,\n");
    REQUIRE(r.size() == 1);
    CHECK(r[0].cells == Cells{"", "x", ""});
  }
  SECTION("stray quotes are kept literally") {
    auto r = parse_ok("ab\"c,\"q\"tail\n");
    REQUIRE(r.size() == 1);
    CHECK(r[0].cells == Cells{"ab\"c", "qtail"});
  }
  SECTION("empty input") { CHECK(parse_ok("").empty()); }
}

TEST_CASE("csv parse: line ends - empty lines and line numbers", "[util]") {
  SECTION("CRLF") {
    auto rows = parse_ok("a,b\r\nc,d\r\n");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].cells == Cells{"a", "b"});
    CHECK(rows[1].cells == Cells{"c", "d"});
    CHECK(rows[1].line == 2);
  }
  SECTION("lone CR") {
    auto rows = parse_ok("a\rb\r\rc");
    REQUIRE(rows.size() == 3);
    CHECK(rows[1].cells == Cells{"b"});
    CHECK(rows[2].cells == Cells{"c"});
    CHECK(rows[2].line == 4);
  }
  SECTION("empty lines are skipped but counted") {
    auto rows = parse_ok("\n\na\r\n\r\n\nb\n\n");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].line == 3);
    CHECK(rows[1].line == 6);
    CHECK(rows[1].cells == Cells{"b"});
  }
  SECTION("embedded newlines shift later line numbers") {
    auto rows = parse_ok("h1,h2\n1,\"two\nlines\"\n2,\"three\r\nline\rcell\"\r\n3,x\n");
    REQUIRE(rows.size() == 4);
    CHECK(rows[1].cells == Cells{"1", "two\nlines"});
    CHECK(rows[1].line == 2);
    CHECK(rows[2].line == 4);
    CHECK(rows[2].cells == Cells{"2", "three\r\nline\rcell"});
    CHECK(rows[3].line == 7);
    CHECK(rows[3].cells == Cells{"3", "x"});
  }
  SECTION("a row whose first cell is quoted and spans lines") {
    auto rows = parse_ok("\"a\n\nb\",c\nd\n");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].cells == Cells{"a\n\nb", "c"});
    CHECK(rows[1].line == 4);
  }
}

TEST_CASE("csv parse: BOM and unterminated quote", "[util]") {
  auto rows = parse_ok("\xEF\xBB\xBF姓名,x\n");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].cells == Cells{"姓名", "x"});

  auto r = tz::csv::parse("a,b\n\nc,\"open\nstill open\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == tz::ErrorCode::invalid_input);
  CHECK(r.error().message(tz::Lang::en).find("line 3: unterminated quote") != std::string::npos);
  CHECK(r.error().message(tz::Lang::zh).find("第 3 行：引号未闭合") != std::string::npos);

  auto r2 = tz::csv::parse("\"");
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().message(tz::Lang::en).find("line 1: unterminated quote") != std::string::npos);
}

TEST_CASE("csv: Excel text guards", "[util]") {
  using tz::csv::needs_text_guard;
  CHECK(needs_text_guard("13812345678"));
  CHECK(needs_text_guard("522632198001011234"));
  CHECK(needs_text_guard("52263219800101123X"));
  CHECK(needs_text_guard("52263219800101123x"));
  CHECK(needs_text_guard("522632800101123X"));  // 16-char old-style length with X
  CHECK(needs_text_guard("0012"));
  CHECK(needs_text_guard("00"));
  CHECK_FALSE(needs_text_guard("0"));
  CHECK_FALSE(needs_text_guard("1234567890"));
  CHECK_FALSE(needs_text_guard("12345"));
  CHECK_FALSE(needs_text_guard("123X"));
  CHECK_FALSE(needs_text_guard("X"));
  CHECK_FALSE(needs_text_guard(""));
  CHECK_FALSE(needs_text_guard("138-1234-5678"));
  CHECK_FALSE(needs_text_guard("张伟"));
  CHECK_FALSE(needs_text_guard("0.5"));

  using tz::csv::unwrap_excel_text;
  CHECK(unwrap_excel_text("=\"522632198001011234\"") == "522632198001011234");
  CHECK(unwrap_excel_text("=\"0012\"") == "0012");
  CHECK(unwrap_excel_text("\"=\"\"0012\"\"\"") == "0012");  // raw CSV form
  CHECK(unwrap_excel_text("=\"a\"\"b\"") == "a\"b");
  CHECK(unwrap_excel_text("=\"\"") == "");
  CHECK(unwrap_excel_text("=\"a\"&\"b\"") == "=\"a\"&\"b\"");
  CHECK(unwrap_excel_text("=SUM(A1)") == "=SUM(A1)");
  CHECK(unwrap_excel_text("=\"") == "=\"");
  CHECK(unwrap_excel_text("123") == "123");
  CHECK(unwrap_excel_text("") == "");

  using tz::csv::looks_excel_damaged_number;
  CHECK(looks_excel_damaged_number("5.22632E+17"));
  CHECK(looks_excel_damaged_number("5.22632e+17"));
  CHECK(looks_excel_damaged_number("5.22632E17"));
  CHECK(looks_excel_damaged_number("5.2E17"));
  CHECK(looks_excel_damaged_number("5E+17"));
  CHECK(looks_excel_damaged_number(" 1.38123E+10 "));
  CHECK_FALSE(looks_excel_damaged_number("522632198001011234"));
  CHECK_FALSE(looks_excel_damaged_number("52263219800101123X"));
  CHECK_FALSE(looks_excel_damaged_number("E+17"));
  CHECK_FALSE(looks_excel_damaged_number(".5E+17"));
  CHECK_FALSE(looks_excel_damaged_number("5.2E"));
  CHECK_FALSE(looks_excel_damaged_number("5.2E+"));
  CHECK_FALSE(looks_excel_damaged_number("5.2E-05"));
  CHECK_FALSE(looks_excel_damaged_number("5.2E+17x"));
  CHECK_FALSE(looks_excel_damaged_number("张伟"));
  CHECK_FALSE(looks_excel_damaged_number(""));
}

TEST_CASE("csv writer: Excel form and round trip", "[util]") {
  tz::csv::Writer w;
  w.add_row({"姓名", "身份证号", "电话", "备注"});
  w.add_row({"张伟", "52263219800101123X", "13812345678", "a,b \"c\"\nd"});
  const std::string& s = w.str();
  REQUIRE(s.substr(0, 3) == "\xEF\xBB\xBF");
  CHECK(s.substr(3) ==
        "姓名,身份证号,电话,备注\r\n"
        "张伟,\"=\"\"52263219800101123X\"\"\",\"=\"\"13812345678\"\"\",\"a,b \"\"c\"\"\nd\"\r\n");

  SECTION("no BOM; take() empties the writer") {
    tz::csv::Writer plain(false);
    plain.add_row({"a"});
    CHECK(plain.take() == "a\r\n");
    CHECK(plain.str().empty());
    plain.add_row({"b"});
    CHECK(plain.str() == "b\r\n");
  }

  SECTION("parse + unwrap gives the cells back") {
    const std::vector<Cells> table = {
        {"姓名", "身份证号", "电话", "备注"},
        {"张伟", "52263219800101123X", "13812345678", "a,b \"c\"\nd"},
        {"欧阳娜娜", "522632198001011234", "0012", "=SUM(A1)"},
        {"", "=\"0012\"", "=x\"y", "\r\n"},
        {""},
        {"0", "12", "1234567890", "5.22632E+17"},
    };
    tz::csv::Writer rt;
    for (const auto& row : table) rt.add_row(row);
    auto rows = parse_ok(rt.str());
    REQUIRE(rows.size() == table.size());
    for (size_t i = 0; i < table.size(); ++i) {
      Cells back;
      for (const auto& c : rows[i].cells) back.push_back(tz::csv::unwrap_excel_text(c));
      CHECK(back == table[i]);
    }
    CHECK(rows[2].line == 4);  // row 1 holds one line break
  }
}

// ---- encodings ---------------------------------------------------------------------------

TEST_CASE("encoding: detection and conversion to UTF-8", "[util]") {
  using tz::encoding::SourceEncoding;
  const std::string text = "姓名,身份证号\n张伟,52263219800101123X\n吉祥𠮷,阿依古丽·买买提\n";
  SourceEncoding enc{};

  SECTION("plain UTF-8 is kept") {
    auto r = tz::encoding::to_utf8(text, &enc);
    REQUIRE(r.ok());
    CHECK(*r == text);
    CHECK(enc == SourceEncoding::utf8);
    auto a = tz::encoding::to_utf8("abc", &enc);
    REQUIRE(a.ok());
    CHECK(*a == "abc");
    CHECK(enc == SourceEncoding::utf8);
    auto e = tz::encoding::to_utf8("", &enc);
    REQUIRE(e.ok());
    CHECK(e->empty());
  }
  SECTION("UTF-8 BOM is stripped") {
    auto r = tz::encoding::to_utf8("\xEF\xBB\xBF" + text, &enc);
    REQUIRE(r.ok());
    CHECK(*r == text);
    CHECK(enc == SourceEncoding::utf8_bom);
  }
  SECTION("GB18030 round trip, including a character outside the BMP") {
    const std::string gb = tz::encoding::utf8_to_gb18030(text);
    CHECK(gb != text);
    CHECK(tz::encoding::utf8_to_gb18030("张") == "\xD5\xC5");
    CHECK(tz::encoding::utf8_to_gb18030("𠮷") == "\x95\x34\xB2\x35");  // four-byte form
    auto r = tz::encoding::to_utf8(gb, &enc);
    REQUIRE(r.ok());
    CHECK(*r == text);
    CHECK(enc == SourceEncoding::gb18030);
  }
  SECTION("UTF-16LE with BOM") {
    const std::string u16 = tz::encoding::utf8_to_utf16le("张a𠮷");
    CHECK(u16 == std::string("\x20\x5F" "a\x00" "\x42\xD8\xB7\xDF", 8));
    auto r = tz::encoding::to_utf8("\xFF\xFE" + tz::encoding::utf8_to_utf16le(text), &enc);
    REQUIRE(r.ok());
    CHECK(*r == text);
    CHECK(enc == SourceEncoding::utf16le_bom);
  }
  SECTION("invalid bytes are an encoding error with the offset") {
    // "ab" then 0xFF, which is neither UTF-8 nor GB18030.
    auto r = tz::encoding::to_utf8("ab\xD5\xC5\xFF" "cd", &enc);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == tz::ErrorCode::encoding_error);
    CHECK(r.error().message(tz::Lang::en).find("byte offset 4") != std::string::npos);
    CHECK(r.error().message(tz::Lang::zh).find("第 4 字节") != std::string::npos);

    auto truncated = tz::encoding::to_utf8("ab\xD5\xC5\xD5");  // GB18030 lead byte at the end
    REQUIRE_FALSE(truncated.ok());
    CHECK(truncated.error().message(tz::Lang::en).find("byte offset 4") != std::string::npos);

    auto bom_bad = tz::encoding::to_utf8("\xEF\xBB\xBF" "ab\xC3");
    REQUIRE_FALSE(bom_bad.ok());
    CHECK(bom_bad.error().message(tz::Lang::en).find("byte offset 5") != std::string::npos);

    auto odd16 = tz::encoding::to_utf8(std::string("\xFF\xFE" "a\x00" "b", 5));
    REQUIRE_FALSE(odd16.ok());
    CHECK(odd16.error().code() == tz::ErrorCode::encoding_error);
  }
}

TEST_CASE("encoding: pinyin", "[util]") {
  using tz::encoding::pinyin;
  using tz::encoding::pinyin_initials;
  CHECK(pinyin("张伟") == "zhangwei");
  CHECK(pinyin("章伟") == "zhangwei");
  CHECK(pinyin("欧阳娜娜") == "ouyangnana");
  CHECK(pinyin("阿依古丽·买买提") == "ayigulimaimaiti");
  CHECK(pinyin("吕") == "lu");
  CHECK(pinyin("张Wei 2") == "zhangwei 2");
  CHECK(pinyin("") == "");
  CHECK(pinyin_initials("张伟") == "zw");
  CHECK(pinyin_initials("欧阳娜娜") == "oynn");
  CHECK(pinyin_initials("阿依古丽·买买提") == "ayglmmt");
}
