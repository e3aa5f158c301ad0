// UTF-8 text helpers. Self-contained on purpose: no ICU here, so the ID and phone checks that
// depend on these run the same on every device and in every build.
#include "tz/util/text.hpp"

#include <algorithm>

namespace tz::text {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool is_ascii_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Byte length of the space character (ASCII whitespace, U+00A0, U+3000) starting at i, or 0.
std::size_t space_at(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  if (is_ascii_space(b(i))) return 1;
  if (b(i) == 0xC2 && i + 1 < s.size() && b(i + 1) == 0xA0) return 2;
  if (b(i) == 0xE3 && i + 2 < s.size() && b(i + 1) == 0x80 && b(i + 2) == 0x80) return 3;
  return 0;
}

// Byte length of the space character that ends s (at its end), or 0. Lead bytes C2 and E3 can
// never be continuation bytes, so matching the suffix bytes is unambiguous.
std::size_t space_before_end(std::string_view s) {
  const std::size_t n = s.size();
  if (n == 0) return 0;
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  if (is_ascii_space(b(n - 1))) return 1;
  if (n >= 2 && b(n - 2) == 0xC2 && b(n - 1) == 0xA0) return 2;
  if (n >= 3 && b(n - 3) == 0xE3 && b(n - 2) == 0x80 && b(n - 1) == 0x80) return 3;
  return 0;
}

// Decodes one character at i. Returns the bytes consumed (at least 1). On invalid input, cp is
// U+FFFD and the bytes consumed are the maximal subpart of an ill-formed sequence, which is the
// Unicode-recommended replacement practice (one U+FFFD per broken sequence, not per byte).
std::size_t decode_at(std::string_view s, std::size_t i, char32_t& cp, bool& ok) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  ok = false;
  cp = kReplacement;
  if (b0 < 0x80) {
    cp = b0;
    ok = true;
    return 1;
  }
  int need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  char32_t value = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // excludes overlong 3-byte forms
    if (b0 == 0xED) hi = 0x9F;  // excludes surrogates D800..DFFF
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // excludes overlong 4-byte forms
    if (b0 == 0xF4) hi = 0x8F;  // excludes values above U+10FFFF
  } else {
    return 1;  // C0, C1, F5..FF and stray continuation bytes are never valid leads
  }
  std::size_t j = i + 1;
  for (int k = 0; k < need; ++k, ++j) {
    if (j >= s.size()) return j - i;
    const auto b = static_cast<unsigned char>(s[j]);
    const unsigned char lo_k = k == 0 ? lo : 0x80;
    const unsigned char hi_k = k == 0 ? hi : 0xBF;
    if (b < lo_k || b > hi_k) return j - i;
    value = (value << 6) | (b & 0x3F);
  }
  cp = value;
  ok = true;
  return j - i;
}

struct Range {
  char32_t first;
  char32_t last;
};

template <std::size_t N>
constexpr bool sorted_disjoint(const Range (&table)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    if (table[i].first > table[i].last) return false;
    if (i > 0 && table[i - 1].last >= table[i].first) return false;
  }
  return true;
}

template <std::size_t N>
bool in_ranges(char32_t cp, const Range (&table)[N]) {
  // Tables are sorted and disjoint (checked at compile time below), so a binary search on the
  // range end finds the only candidate.
  const Range* end = table + N;
  const Range* it = std::lower_bound(table, end, cp,
                                     [](const Range& r, char32_t v) { return r.last < v; });
  return it != end && it->first <= cp;
}

// Characters that take no column: combining marks of the scripts people in the field are likely
// to type (Latin, Cyrillic, Hebrew, Arabic incl. Uyghur, Devanagari, Thai, Tibetan, Mongolian),
// Hangul conjoining vowels/finals, zero-width and bidi format characters, variation selectors.
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2},
    {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0900, 0x0902},
    {0x093A, 0x093A}, {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D}, {0x0951, 0x0957},
    {0x0962, 0x0963}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x0F18, 0x0F19},
    {0x0F35, 0x0F35}, {0x0F37, 0x0F37}, {0x0F39, 0x0F39}, {0x0F71, 0x0F7E}, {0x0F80, 0x0F84},
    {0x0F86, 0x0F87}, {0x0F8D, 0x0F97}, {0x0F99, 0x0FBC}, {0x0FC6, 0x0FC6}, {0x1160, 0x11FF},
    {0x180B, 0x180D}, {0x180F, 0x180F}, {0x1885, 0x1886}, {0x18A9, 0x18A9}, {0x1AB0, 0x1AFF},
    {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20F0},
    {0x302A, 0x302D}, {0x3099, 0x309A}, {0xD7B0, 0xD7FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
    {0xFEFF, 0xFEFF}, {0x101FD, 0x101FD}, {0x10A01, 0x10A0F}, {0x1D167, 0x1D169},
    {0x1D17B, 0x1D182}, {0x1D185, 0x1D18B}, {0x1D1AA, 0x1D1AD}, {0x1E000, 0x1E02A},
    {0x1E130, 0x1E136}, {0x1E2EC, 0x1E2EF}, {0x1E944, 0x1E94A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F}, {0xE0100, 0xE01EF},
};

// East Asian Wide and Fullwidth (UAX #11), condensed: CJK, kana, Hangul, Yi, full-width forms,
// the common emoji blocks, and the CJK extension planes 2 and 3.
constexpr Range kWide[] = {
    {0x1100, 0x115F}, {0x231A, 0x231B}, {0x2329, 0x232A}, {0x23E9, 0x23EC}, {0x23F0, 0x23F0},
    {0x23F3, 0x23F3}, {0x25FD, 0x25FE}, {0x2614, 0x2615}, {0x2E80, 0x303E}, {0x3041, 0x33FF},
    {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA000, 0xA4CF}, {0xA960, 0xA97F}, {0xAC00, 0xD7A3},
    {0xF900, 0xFAFF}, {0xFE10, 0xFE19}, {0xFE30, 0xFE6F}, {0xFF00, 0xFF60}, {0xFFE0, 0xFFE6},
    {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004},
    {0x1F200, 0x1F251}, {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF},
    {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static_assert(sorted_disjoint(kZeroWidth));
static_assert(sorted_disjoint(kWide));

std::size_t char_width(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return 0;  // controls print nothing themselves
  if (cp < 0x300) return 1;                                // fast path for Latin text
  if (in_ranges(cp, kZeroWidth)) return 0;  // before kWide: some marks sit inside wide blocks
  if (in_ranges(cp, kWide)) return 2;
  return 1;
}

}  // namespace

std::string normalize_width(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  for (std::size_t i = 0; i < s.size();) {
    if (i + 2 < s.size() && b(i) == 0xEF) {
      // U+FF01..U+FF3F is EF BC 81..BF and U+FF40..U+FF5E is EF BD 80..9E.
      if (b(i + 1) == 0xBC && b(i + 2) >= 0x81 && b(i + 2) <= 0xBF) {
        out.push_back(static_cast<char>(0x21 + (b(i + 2) - 0x81)));
        i += 3;
        continue;
      }
      if (b(i + 1) == 0xBD && b(i + 2) >= 0x80 && b(i + 2) <= 0x9E) {
        out.push_back(static_cast<char>(0x60 + (b(i + 2) - 0x80)));
        i += 3;
        continue;
      }
    }
    if (i + 2 < s.size() && b(i) == 0xE3 && b(i + 1) == 0x80 && b(i + 2) == 0x80) {
      out.push_back(' ');
      i += 3;
      continue;
    }
    out.push_back(s[i]);
    ++i;
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty()) {
    const std::size_t n = space_at(s, 0);
    if (n == 0) break;
    s.remove_prefix(n);
  }
  while (!s.empty()) {
    const std::size_t n = space_before_end(s);
    if (n == 0) break;
    s.remove_suffix(n);
  }
  return std::string(s);
}

std::string remove_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = space_at(s, i);
    if (n > 0) {
      i += n;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view s) {
  char32_t cp = 0;
  bool ok = false;
  for (std::size_t i = 0; i < s.size();) {
    i += decode_at(s, i, cp, ok);
    if (!ok) return false;
  }
  return true;
}

std::u32string utf8_to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  char32_t cp = 0;
  bool ok = false;
  for (std::size_t i = 0; i < s.size();) {
    i += decode_at(s, i, cp, ok);
    out.push_back(cp);
  }
  return out;
}

std::string u32_to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = kReplacement;
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

std::size_t display_width(std::string_view utf8) {
  std::size_t width = 0;
  char32_t cp = 0;
  bool ok = false;
  for (std::size_t i = 0; i < utf8.size();) {
    i += decode_at(utf8, i, cp, ok);
    width += char_width(cp);
  }
  return width;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.emplace_back(s.substr(start));
      return parts;
    }
    parts.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string to_upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string pad_right(std::string_view utf8, std::size_t width) {
  std::string out(utf8);
  const std::size_t have = display_width(utf8);
  if (have < width) out.append(width - have, ' ');
  return out;
}

}  // namespace tz::text
