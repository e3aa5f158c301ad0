// UTF-8 text helpers for form input and terminal output: full-width folding, space handling,
// strict UTF-8 checks and conversions, and display width for aligning CJK text in columns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tz::text {

// Full-width ASCII forms U+FF01..U+FF5E become their ASCII counterparts and U+3000 (ideographic
// space) becomes ' '. Everything else, including invalid bytes, passes through unchanged.
std::string normalize_width(std::string_view s);

// Strips ASCII whitespace, U+3000 and U+00A0 from both ends.
std::string trim(std::string_view s);

// Removes ASCII whitespace, U+3000 and U+00A0 wherever they occur.
std::string remove_spaces(std::string_view s);

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequences.
bool is_valid_utf8(std::string_view s);

// Decodes UTF-8; each maximal invalid subsequence becomes one U+FFFD.
std::u32string utf8_to_u32(std::string_view s);
// Encodes code points; surrogates and values above U+10FFFF become U+FFFD.
std::string u32_to_utf8(std::u32string_view s);

// Terminal columns: East Asian Wide/Fullwidth characters count 2, combining marks, zero-width
// characters and control characters 0, everything else (including U+FFFD for bad bytes) 1.
std::size_t display_width(std::string_view utf8);

// Splits on every sep; empty fields are kept, so "" gives {""} and "a,,b" gives {"a","","b"}.
std::vector<std::string> split(std::string_view s, char sep);

// True when s is non-empty and consists only of ASCII '0'..'9'.
bool all_digits(std::string_view s);

// Upper-cases ASCII a-z only; other bytes (including UTF-8 sequences) are left alone.
std::string to_upper_ascii(std::string_view s);

// Appends spaces until the display width reaches width; never truncates.
std::string pad_right(std::string_view utf8, std::size_t width);

}  // namespace tz::text
