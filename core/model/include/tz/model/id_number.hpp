// Resident ID (居民身份证号, GB 11643) and 残疾证号 checking: input normalisation, the ISO 7064
// MOD 11-2 check character, 15→18 conversion, birth date and gender, and masking for display.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tz/util/civil_time.hpp"

namespace tz::idn {

// Full-width to half-width, every space removed, lower-case x to X. Nothing else changes, so a
// malformed input stays recognisable in error messages.
std::string normalize_id_input(std::string_view raw);

// The check character for the first 17 digits; '\0' when first17 is not exactly 17 ASCII digits.
char check_char(std::string_view first17);

// "19" inserted after the 6-digit division code and the check character appended; nullopt unless
// id15 is exactly 15 ASCII digits.
std::optional<std::string> convert_15_to_18(std::string_view id15);

enum class IdKind { resident18, legacy15, disability20 };

enum class IdProblem {
  none,
  empty,
  bad_length,
  bad_chars,
  bad_province,
  permit,  // prefix 81/82/83 (港澳台居民居住证) or 71: may checksum, but not a mainland resident ID
  bad_date,
  future_date,
  bad_check,
  bad_disability_suffix,
};

struct IdCheck {
  IdProblem problem = IdProblem::none;
  IdKind kind = IdKind::resident18;
  std::string normalized;  // canonical: 18 chars, or 20 for a 残疾证号; the cleaned input on error
  std::string id18;        // the resident-ID part, 18 chars, converted from 15 where needed
  bool unknown_county = false;  // a warning only: abolished county codes stay in use
  CivilDate birth;              // set once the date part has been found valid
  char gender = 0;              // 'M' odd sequence, 'F' even; set with birth
  int disability_category = 0;  // 1..7, 残疾证号 only
  int disability_grade = 0;     // 1..4, 残疾证号 only
  bool ok() const { return problem == IdProblem::none; }
};

// Checks a resident ID (18 chars, or a legacy 15-digit one) or a 残疾证号 (the 18-char ID, then a
// category digit 1-7 and a grade digit 1-4). The first problem found is reported, in the order
// characters, length, province, date, check character, disability suffix. county_known, when
// given, is asked about the 6-digit division code of an otherwise valid ID.
IdCheck check_id(std::string_view raw, const CivilDate& today,
                 const std::function<bool(std::string_view county6)>& county_known = {});

// First 6 and last 4 kept, '*' between (522632********1234); strings of 3..10 characters keep only
// their last 2, and strings of 1 or 2 characters are masked whole.
std::string mask_id(std::string_view id);

}  // namespace tz::idn
