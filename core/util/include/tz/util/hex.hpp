// Reading hex digits: one table for every parser of hex text (ids, keys, digests).
#pragma once

#include <array>
#include <cstdint>

namespace tz {

namespace detail {
inline constexpr std::array<uint8_t, 256> kHexValue = [] {
  std::array<uint8_t, 256> t{};
  t.fill(0xff);
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<uint8_t>(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = static_cast<uint8_t>(10 + c);
  return t;
}();
}  // namespace detail

// The value of a hex digit of either case (0-15), 0xff for any other byte: a look-up a character
// (a push parses every id named in a placing value; decision 144).
constexpr uint8_t hex_digit(char c) { return detail::kHexValue[static_cast<uint8_t>(c)]; }

}  // namespace tz
