// Mainland mobile phone number checking and normalisation (SPEC §4): separators and the +86 /
// 0086 / 86 country prefix are removed, then the number must be 11 digits starting 1[3-9].
#pragma once

#include <string>
#include <string_view>

namespace tz::phone {

struct PhoneCheck {
  bool ok = false;
  std::string normalized;  // the 11 digits when ok; otherwise the input without separators
};

// Full-width to half-width; spaces, dashes (ASCII and Unicode), and parentheses removed; a
// leading +86, 0086 or 86 dropped only when exactly 11 digits follow it.
PhoneCheck check_phone(std::string_view raw);

}  // namespace tz::phone
