// Resident ID and 残疾证号 checks (SPEC §4). The algorithms live in code rather than the schema
// because they are fixed by GB 11643 and ISO 7064, not by the survey.
#include "tz/model/id_number.hpp"

#include <algorithm>

#include "tz/util/text.hpp"

namespace tz::idn {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
int digit(char c) { return c - '0'; }

// The 31 mainland province-level codes. Hong Kong, Macau and Taiwan codes are handled apart
// because their holders have residence permits, not resident IDs.
bool is_mainland_province(int p) {
  return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
         (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65);
}

bool is_permit_province(int p) { return p == 71 || p == 81 || p == 82 || p == 83; }

// Validates an 18-char resident ID whose characters are already known to be 17 digits followed
// by a digit or X. Fills birth and gender as they become known.
void check_id18(std::string_view id18, const CivilDate& today, IdCheck& out) {
  const int province = digit(id18[0]) * 10 + digit(id18[1]);
  if (!is_mainland_province(province)) {
    out.problem = is_permit_province(province) ? IdProblem::permit : IdProblem::bad_province;
    return;
  }
  const auto number = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + digit(id18[i]);
    return v;
  };
  const CivilDate birth{number(6, 4), number(10, 2), number(12, 2)};
  if (!is_valid_date(birth.year, birth.month, birth.day)) {
    out.problem = IdProblem::bad_date;
    return;
  }
  out.birth = birth;
  out.gender = digit(id18[16]) % 2 == 1 ? 'M' : 'F';
  if (birth > today) {
    out.problem = IdProblem::future_date;
    return;
  }
  if (check_char(id18.substr(0, 17)) != id18[17]) out.problem = IdProblem::bad_check;
}

}  // namespace

std::string normalize_id_input(std::string_view raw) {
  std::string s = text::remove_spaces(text::normalize_width(raw));
  std::replace(s.begin(), s.end(), 'x', 'X');
  return s;
}

char check_char(std::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kChecks[] = "10X98765432";
  if (first17.size() != 17 || !text::all_digits(first17)) return '\0';
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i) sum += digit(first17[i]) * kWeights[i];
  return kChecks[sum % 11];
}

std::optional<std::string> convert_15_to_18(std::string_view id15) {
  if (id15.size() != 15 || !text::all_digits(id15)) return std::nullopt;
  // 15-digit IDs were issued with two-digit years, all of them 19xx.
  std::string id18;
  id18.reserve(18);
  id18.append(id15.substr(0, 6)).append("19").append(id15.substr(6));
  id18.push_back(check_char(id18));
  return id18;
}

IdCheck check_id(std::string_view raw, const CivilDate& today,
                 const std::function<bool(std::string_view county6)>& county_known) {
  IdCheck out;
  out.normalized = normalize_id_input(raw);
  const std::string& s = out.normalized;
  if (s.empty()) {
    out.problem = IdProblem::empty;
    return out;
  }
  if (!std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c) || c == 'X'; })) {
    out.problem = IdProblem::bad_chars;
    return out;
  }
  if (s.size() != 15 && s.size() != 18 && s.size() != 20) {
    out.problem = IdProblem::bad_length;
    return out;
  }
  // X is only ever the check character, which is position 18 in both the ID and the 残疾证号.
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 'X' && i != 17) {
      out.problem = IdProblem::bad_chars;
      return out;
    }
  }

  if (s.size() == 15) {
    out.kind = IdKind::legacy15;
    out.id18 = *convert_15_to_18(s);
    out.normalized = out.id18;
  } else {
    out.kind = s.size() == 20 ? IdKind::disability20 : IdKind::resident18;
    out.id18 = s.substr(0, 18);
  }

  check_id18(out.id18, today, out);
  if (!out.ok()) return out;

  if (out.kind == IdKind::disability20) {
    const int category = digit(s[18]);
    const int grade = digit(s[19]);
    if (category < 1 || category > 7 || grade < 1 || grade > 4) {
      out.problem = IdProblem::bad_disability_suffix;
      return out;
    }
    out.disability_category = category;
    out.disability_grade = grade;
  }

  if (county_known && !county_known(std::string_view(out.id18).substr(0, 6))) {
    out.unknown_county = true;
  }
  return out;
}

std::string mask_id(std::string_view id) {
  if (id.size() > 10) {
    std::string out(id);
    std::fill(out.begin() + 6, out.end() - 4, '*');
    return out;
  }
  // Short strings keep their last 2; two or fewer characters would be shown whole, so they are
  // masked entirely.
  std::string out(id.size(), '*');
  if (id.size() > 2) out.replace(out.size() - 2, 2, id.substr(id.size() - 2));
  return out;
}

}  // namespace tz::idn
