// Tests for tz::idn: resident IDs (18 and legacy 15), 残疾证号, permits, normalisation and masking.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tz/model/id_number.hpp"

using namespace tz::idn;
using tz::CivilDate;

namespace {

const CivilDate kToday{2024, 6, 1};

struct Vector {
  const char* input;
  const char* expected;  // valid, bad_check, bad_date, valid_checksum_permit, or the 18-digit form
};

// Copied from the shared test data id_vectors.csv (public examples: GB 11643's own, python-stdnum's
// tests, PAT 1031 samples and widely published ones); the project does not read that file.
const std::vector<Vector> kVectors = {
    {"11010519491231002X", "valid"},
    {"440524188001010014", "valid"},
    {"34052419800101001X", "valid"},
    {"340524198001010013", "bad_check"},
    {"360426199101010071", "valid"},
    {"44011320141005001x", "valid"},
    {"36042619910102009X", "bad_check"},
    {"360426199113010079", "bad_date"},
    {"320124198808240056", "valid"},
    {"110108196711301862", "valid"},
    {"110108196711301866", "bad_check"},
    {"37070419881216001X", "bad_check"},
    {"513101198201130014", "valid"},
    {"130402198207290622", "bad_check"},
    {"810000199408230021", "valid_checksum_permit"},
    {"830000199201300022", "valid_checksum_permit"},
    {"610104620927690", "610104196209276908"},
    {"130503670401001", "130503196704010016"},
    {"431389760616601", "431389197606166012"},
};

}  // namespace

TEST_CASE("published ID vectors", "[model]") {
  for (const auto& v : kVectors) {
    INFO(v.input);
    const std::string expected = v.expected;
    const IdCheck r = check_id(v.input, kToday);
    if (expected == "valid") {
      CHECK(r.ok());
      CHECK(r.kind == IdKind::resident18);
      CHECK(r.normalized.size() == 18);
      CHECK(r.id18 == r.normalized);
    } else if (expected == "bad_check") {
      CHECK(r.problem == IdProblem::bad_check);
    } else if (expected == "bad_date") {
      CHECK(r.problem == IdProblem::bad_date);
    } else if (expected == "valid_checksum_permit") {
      CHECK(r.problem == IdProblem::permit);
      CHECK(check_char(std::string_view(v.input).substr(0, 17)) == v.input[17]);
    } else {
      CHECK(r.ok());
      CHECK(r.kind == IdKind::legacy15);
      CHECK(r.normalized == expected);
      CHECK(r.id18 == expected);
      CHECK(convert_15_to_18(v.input) == expected);
    }
  }
}

TEST_CASE("check_char and convert_15_to_18", "[model]") {
  CHECK(check_char("11010519491231002") == 'X');
  CHECK(check_char("44052418800101001") == '4');
  CHECK(check_char("1101051949123100") == '\0');
  CHECK(check_char("1101051949123100A") == '\0');
  CHECK(convert_15_to_18("130503670401001") == std::optional<std::string>("130503196704010016"));
  CHECK_FALSE(convert_15_to_18("13050367040100").has_value());
  CHECK_FALSE(convert_15_to_18("13050367040100X").has_value());
  CHECK_FALSE(convert_15_to_18("130503196704010016").has_value());
}

TEST_CASE("input normalisation: x - full-width and spaces", "[model]") {
  CHECK(normalize_id_input(" 11010519491231002x ") == "11010519491231002X");
  CHECK(normalize_id_input("110105\u300019491231\u00A0002X") == "11010519491231002X");

  const IdCheck lower = check_id("11010519491231002x", kToday);
  CHECK(lower.ok());
  CHECK(lower.normalized == "11010519491231002X");

  const IdCheck wide = check_id(
      "\uFF11\uFF11\uFF10\uFF11\uFF10\uFF15\uFF11\uFF19\uFF14\uFF19\uFF11\uFF12\uFF13\uFF11"
      "\uFF10\uFF10\uFF12\uFF58",
      kToday);
  CHECK(wide.ok());
  CHECK(wide.normalized == "11010519491231002X");

  const IdCheck spaced = check_id("110105 1949 1231 002X", kToday);
  CHECK(spaced.ok());
  CHECK(spaced.normalized == "11010519491231002X");
  CHECK(check_id("\t110105\u300019491231002X\n", kToday).ok());
}

TEST_CASE("birth date and gender", "[model]") {
  const IdCheck f = check_id("11010519491231002X", kToday);
  CHECK(f.birth == CivilDate{1949, 12, 31});
  CHECK(f.gender == 'F');  // sequence 002
  const IdCheck m = check_id("360426199101010071", kToday);
  CHECK(m.birth == CivilDate{1991, 1, 1});
  CHECK(m.gender == 'M');  // sequence 007
  const IdCheck legacy = check_id("610104620927690", kToday);
  CHECK(legacy.birth == CivilDate{1962, 9, 27});
  CHECK(legacy.gender == 'F');  // sequence 690
}

TEST_CASE("impossible and future birth dates", "[model]") {
  // Check characters are correct in all of these, so only the date can be at fault.
  CHECK(check_id("11010519900230001X", kToday).problem == IdProblem::bad_date);  // Feb 30
  CHECK(check_id("360426199113010079", kToday).problem == IdProblem::bad_date);  // month 13
  CHECK(check_id("110105190002290017", kToday).problem == IdProblem::bad_date);  // 1900 not leap
  CHECK(check_id("110105200002290013", kToday).ok());                            // 2000 is
  CHECK(check_id("110105202501010011", kToday).problem == IdProblem::future_date);
  CHECK(check_id("110105202406010013", kToday).ok());  // born today
  CHECK(check_id("110105202406020019", kToday).problem == IdProblem::future_date);
}

TEST_CASE("malformed input", "[model]") {
  CHECK(check_id("", kToday).problem == IdProblem::empty);
  CHECK(check_id(" \u3000 ", kToday).problem == IdProblem::empty);
  CHECK(check_id("1101051949123100", kToday).problem == IdProblem::bad_length);
  CHECK(check_id("11010519491231002X1", kToday).problem == IdProblem::bad_length);
  CHECK(check_id("11010519491231002A", kToday).problem == IdProblem::bad_chars);
  CHECK(check_id("1101051949123100X2", kToday).problem == IdProblem::bad_chars);  // X misplaced
  CHECK(check_id("13050367040100X", kToday).problem == IdProblem::bad_chars);     // X in 15
  CHECK(check_id("张三", kToday).problem == IdProblem::bad_chars);
  const IdCheck bad = check_id("11010519491231002Y", kToday);
  CHECK(bad.problem == IdProblem::bad_chars);
  CHECK(bad.normalized == "11010519491231002Y");  // kept for the error message
}

TEST_CASE("province codes and permits", "[model]") {
  CHECK(check_id("990105199001010014", kToday).problem == IdProblem::bad_province);
  CHECK(check_id("710000199001010015", kToday).problem == IdProblem::permit);
  CHECK(check_id("810000199408230021", kToday).problem == IdProblem::permit);
  CHECK(check_id("830000199201300022", kToday).problem == IdProblem::permit);
  CHECK(check_id("522632199001011237", kToday).ok());  // Guizhou
}

TEST_CASE("残疾证号: the ID part then category and grade", "[model]") {
  const IdCheck ok = check_id("11010519491231002X12", kToday);
  CHECK(ok.ok());
  CHECK(ok.kind == IdKind::disability20);
  CHECK(ok.normalized == "11010519491231002X12");
  CHECK(ok.id18 == "11010519491231002X");
  CHECK(ok.disability_category == 1);
  CHECK(ok.disability_grade == 2);
  CHECK(ok.gender == 'F');
  CHECK(check_id("110105 19491231 002x 74", kToday).ok());

  CHECK(check_id("11010519491231002X81", kToday).problem == IdProblem::bad_disability_suffix);
  CHECK(check_id("11010519491231002X05", kToday).problem == IdProblem::bad_disability_suffix);
  CHECK(check_id("11010519491231002X15", kToday).problem == IdProblem::bad_disability_suffix);
  CHECK(check_id("11010519491231002X10", kToday).problem == IdProblem::bad_disability_suffix);
  CHECK(check_id("11010519491231002XX1", kToday).problem == IdProblem::bad_chars);

  // A bad ID part is reported as such.
  CHECK(check_id("34052419800101001311", kToday).problem == IdProblem::bad_check);
  CHECK(check_id("11010519900230001X11", kToday).problem == IdProblem::bad_date);
  CHECK(check_id("81000019940823002111", kToday).problem == IdProblem::permit);
}

TEST_CASE("unknown county is a warning - not a problem", "[model]") {
  std::vector<std::string> asked;
  const auto known = [&](std::string_view county) {
    asked.emplace_back(county);
    return county == "522632";
  };
  const IdCheck unknown = check_id("11010519491231002X", kToday, known);
  CHECK(unknown.ok());
  CHECK(unknown.unknown_county);
  const IdCheck found = check_id("522632199001011237", kToday, known);
  CHECK(found.ok());
  CHECK_FALSE(found.unknown_county);
  CHECK(check_id("610104620927690", kToday, known).unknown_county);  // legacy: 18-digit code
  CHECK(asked == std::vector<std::string>{"110105", "522632", "610104"});
  CHECK_FALSE(check_id("11010519491231002X", kToday).unknown_county);  // no callback, no warning
}

TEST_CASE("mask_id", "[model]") {
  CHECK(mask_id("522632199001011234") == "522632********1234");
  CHECK(mask_id("11010519491231002X12") == "110105**********2X12");
  CHECK(mask_id("12345678901") == "123456*8901");
  CHECK(mask_id("1234567890") == "********90");
  CHECK(mask_id("123") == "*23");
  CHECK(mask_id("12") == "**");
  CHECK(mask_id("") == "");
}
