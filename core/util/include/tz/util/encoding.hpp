// Text encodings of rosters from Excel (UTF-8 with or without BOM, GB18030, UTF-16LE) to UTF-8, and
// Han → toneless pinyin for name search. Built on ICU; no ICU type appears here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tz/util/error.hpp"

namespace tz::encoding {

enum class SourceEncoding { utf8, utf8_bom, gb18030, utf16le_bom };

// Decodes a file's bytes to UTF-8: a UTF-8 BOM is stripped (the rest must be valid UTF-8); a
// UTF-16LE BOM means UTF-16LE (converted, BOM dropped); valid UTF-8 is returned as is; anything
// else is read as GB18030. A byte sequence invalid in the chosen encoding is an
// Error(encoding_error, {"byte offset N"}), N counted from the start of `bytes`. Note that short
// GB18030 text can happen to be valid UTF-8 too; detection prefers UTF-8.
tz::Result<std::string> to_utf8(std::string_view bytes, SourceEncoding* detected = nullptr);

// UTF-8 → GB18030 / UTF-16LE (no BOM). Invalid UTF-8 input becomes U+FFFD. Throws tz::Failure
// (internal) only if ICU itself fails.
std::string utf8_to_gb18030(std::string_view utf8);
std::string utf8_to_utf16le(std::string_view utf8);

// Han characters → toneless lower-case pinyin, syllables joined without separators (张伟 →
// "zhangwei", 吕 → "lu"), using ICU "Han-Latin; Latin-ASCII; Lower" on each run of Han characters
// (so ICU's few phrase readings such as 重庆 → "chongqing" apply). Other ASCII is kept, lower-cased;
// other characters (such as the name separator "·" and Han without a reading) are dropped.
// Polyphonic characters get ICU's single reading (单 → "dan", not the surname "shan"), so compare
// pinyin with pinyin, never with hand-typed spellings. One transliterator per thread (creation is
// slow); throws tz::Failure(internal) if ICU's transliteration data is missing.
std::string pinyin(std::string_view han);
// First letters of each syllable (张伟 → "zw"); other ASCII as in pinyin().
std::string pinyin_initials(std::string_view han);

// The syllables of a person's name, one per Han character, toneless lower-case ASCII, read with ICU
// "Han-Latin/Names" (surname readings: 单 → "shan", 曾 → "zeng"), so 张伟 and 章伟 give the same
// {"zhang", "wei"}. A run of ASCII letters and digits is one element (lower-cased); everything else
// (the separator "·", spaces, Han without a reading) only separates. Cached per thread and character.
std::vector<std::string> name_syllables(std::string_view name);

}  // namespace tz::encoding
