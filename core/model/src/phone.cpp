// Mainland mobile number check. Only mobiles are accepted because the field contact for a
// migrant worker is their own phone; landlines (area code + number) are refused.
#include "tz/model/phone.hpp"

#include <array>

#include "tz/util/text.hpp"

namespace tz::phone {
namespace {

// Separators people type between digit groups. Full-width forms are folded before this runs;
// the Unicode dashes are here because Chinese input methods produce them for "-".
constexpr std::array<std::string_view, 8> kSeparators{
    "-", "(", ")", "\u2010", "\u2012", "\u2013", "\u2014", "\u2212",
};

std::string strip_separators(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    bool matched = false;
    for (std::string_view sep : kSeparators) {
      if (s.substr(i, sep.size()) == sep) {
        i += sep.size();
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back(s[i++]);
  }
  return out;
}

bool is_mobile(std::string_view s) {
  return s.size() == 11 && text::all_digits(s) && s[0] == '1' && s[1] >= '3' && s[1] <= '9';
}

}  // namespace

PhoneCheck check_phone(std::string_view raw) {
  PhoneCheck out;
  out.normalized = strip_separators(text::remove_spaces(text::normalize_width(raw)));
  std::string_view digits = out.normalized;
  // A prefix is only dropped when 11 digits follow, so that e.g. a bare 11-digit number starting
  // 86... is never shortened.
  for (std::string_view prefix : {std::string_view("+86"), std::string_view("0086"),
                                  std::string_view("86")}) {
    if (digits.size() == prefix.size() + 11 && digits.substr(0, prefix.size()) == prefix) {
      digits.remove_prefix(prefix.size());
      break;
    }
  }
  if (is_mobile(digits)) {
    out.ok = true;
    out.normalized = std::string(digits);
  }
  return out;
}

}  // namespace tz::phone
