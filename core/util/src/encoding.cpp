// Encoding detection and conversion with ICU converters, and Han → pinyin with a per-thread ICU
// transliterator.
#include "tz/util/encoding.hpp"

#include <unicode/translit.h>
#include <unicode/ucnv.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <memory>
#include <unordered_map>

namespace tz::encoding {
namespace {

[[noreturn]] void icu_failure(const std::string& what, UErrorCode st) {
  throw Failure(ErrorCode::internal, {what + ": " + u_errorName(st)});
}

struct ConverterCloser {
  void operator()(UConverter* c) const { ucnv_close(c); }
};
using ConverterPtr = std::unique_ptr<UConverter, ConverterCloser>;

ConverterPtr open_converter(const char* name) {
  UErrorCode st = U_ZERO_ERROR;
  ConverterPtr c(ucnv_open(name, &st));
  if (U_FAILURE(st) || !c) icu_failure(std::string("ICU converter ") + name, st);
  return c;
}

// Offset of the first byte that is not part of well-formed UTF-8 (no overlongs, no surrogates,
// nothing above U+10FFFF), or npos.
size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    } else {
      return i;
    }
    if (i + len > n) return i;
    const unsigned char c1 = p[i + 1];
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 > 0x8F)) {
      return i;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

Error bad_byte(size_t offset) {
  return Error(ErrorCode::encoding_error,
               {bilingual("第 " + std::to_string(offset) + " 字节处", "byte offset " + std::to_string(offset))});
}

std::string utf16_to_utf8(const std::u16string& u) {
  UErrorCode st = U_ZERO_ERROR;
  int32_t len = 0;
  u_strToUTF8WithSub(nullptr, 0, &len, u.data(), static_cast<int32_t>(u.size()), 0xFFFD, nullptr,
                     &st);
  std::string out(static_cast<size_t>(len), '\0');
  st = U_ZERO_ERROR;
  u_strToUTF8WithSub(out.data(), len, &len, u.data(), static_cast<int32_t>(u.size()), 0xFFFD,
                     nullptr, &st);
  if (U_FAILURE(st)) icu_failure("UTF-16 to UTF-8", st);
  return out;
}

std::u16string utf8_to_utf16(std::string_view s) {
  UErrorCode st = U_ZERO_ERROR;
  int32_t len = 0;
  u_strFromUTF8WithSub(nullptr, 0, &len, s.data(), static_cast<int32_t>(s.size()), 0xFFFD, nullptr,
                       &st);
  std::u16string out(static_cast<size_t>(len), u'\0');
  st = U_ZERO_ERROR;
  u_strFromUTF8WithSub(out.data(), len, &len, s.data(), static_cast<int32_t>(s.size()), 0xFFFD,
                       nullptr, &st);
  if (U_FAILURE(st)) icu_failure("UTF-8 to UTF-16", st);
  return out;
}

// Decodes `bytes` with an ICU converter, stopping at the first illegal or truncated sequence.
// `base` is added to reported offsets (for a BOM already skipped).
tz::Result<std::string> decode(const char* converter, std::string_view bytes, size_t base) {
  ConverterPtr cnv = open_converter(converter);
  UErrorCode st = U_ZERO_ERROR;
  ucnv_setToUCallBack(cnv.get(), UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &st);
  // GB18030 and UTF-16 never produce more UTF-16 units than input bytes.
  std::u16string u(bytes.size() + 8, u'\0');
  const char* src = bytes.data();
  UChar* tgt = u.data();
  st = U_ZERO_ERROR;
  ucnv_toUnicode(cnv.get(), &tgt, u.data() + u.size(), &src, bytes.data() + bytes.size(), nullptr,
                 true, &st);
  if (U_FAILURE(st)) {
    char bad[32];
    int8_t bad_len = sizeof bad;
    UErrorCode st2 = U_ZERO_ERROR;
    ucnv_getInvalidChars(cnv.get(), bad, &bad_len, &st2);
    size_t consumed = static_cast<size_t>(src - bytes.data());
    const auto bad_bytes = static_cast<size_t>(bad_len);
    if (U_SUCCESS(st2) && bad_bytes <= consumed) consumed -= bad_bytes;
    return bad_byte(base + consumed);
  }
  u.resize(static_cast<size_t>(tgt - u.data()));
  return utf16_to_utf8(u);
}

std::string gb18030_encode(const std::u16string& u) {
  ConverterPtr cnv = open_converter("gb18030");
  UErrorCode st = U_ZERO_ERROR;
  const auto n = static_cast<int32_t>(u.size());
  const int32_t len = ucnv_fromUChars(cnv.get(), nullptr, 0, u.data(), n, &st);
  std::string out(static_cast<size_t>(len), '\0');
  st = U_ZERO_ERROR;
  ucnv_fromUChars(cnv.get(), out.data(), len, u.data(), n, &st);
  if (U_FAILURE(st)) icu_failure("UTF-16 to GB18030", st);
  return out;
}

std::unique_ptr<icu::Transliterator> make_transliterator(const char* id) {
  UErrorCode st = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> p(icu::Transliterator::createInstance(id, UTRANS_FORWARD, st));
  if (U_FAILURE(st) || !p) icu_failure(std::string("ICU transliterator ") + id, st);
  return p;
}

icu::Transliterator& transliterator() {
  thread_local std::unique_ptr<icu::Transliterator> t = make_transliterator("Han-Latin; Latin-ASCII; Lower");
  return *t;
}

// Han-Latin/Names reads a character in its surname reading (单 → shan, 曾 → zeng, 区 → ou) where it
// has one; used for the syllables of person names (name_syllables).
icu::Transliterator& names_transliterator() {
  thread_local std::unique_ptr<icu::Transliterator> t = make_transliterator("Han-Latin/Names; Latin-ASCII; Lower");
  return *t;
}

bool is_han(UChar32 c) {
  UErrorCode st = U_ZERO_ERROR;
  return uscript_getScript(c, &st) == USCRIPT_HAN && U_SUCCESS(st);
}

// Shared walk for pinyin() and pinyin_initials(): Han runs are transliterated and split into
// syllables at non-letters; other ASCII is lower-cased; everything else is dropped.
std::string romanise(std::string_view text, bool initials_only) {
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  std::string out;
  out.reserve(text.size() * 2);
  icu::UnicodeString run;
  auto flush = [&] {
    if (run.isEmpty()) return;
    transliterator().transliterate(run);
    bool syllable_start = true;
    for (int32_t i = 0; i < run.length(); ++i) {
      const char16_t c = run.charAt(i);
      if (c >= u'a' && c <= u'z') {
        if (!initials_only || syllable_start) out.push_back(static_cast<char>(c));
        syllable_start = false;
      } else {
        syllable_start = true;
      }
    }
    run.remove();
  };
  for (int32_t i = 0; i < in.length();) {
    const UChar32 c = in.char32At(i);
    i += U16_LENGTH(c);
    if (is_han(c)) {
      run.append(c);
      continue;
    }
    flush();
    if (c < 0x80) out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  flush();
  return out;
}

}  // namespace

tz::Result<std::string> to_utf8(std::string_view bytes, SourceEncoding* detected) {
  auto set = [&](SourceEncoding e) {
    if (detected) *detected = e;
  };
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    const std::string_view rest = bytes.substr(3);
    const size_t bad = first_invalid_utf8(rest);
    if (bad != std::string_view::npos) return bad_byte(3 + bad);
    set(SourceEncoding::utf8_bom);
    return std::string(rest);
  }
  if (bytes.substr(0, 2) == "\xFF\xFE") {
    auto r = decode("UTF-16LE", bytes.substr(2), 2);
    if (r) set(SourceEncoding::utf16le_bom);
    return r;
  }
  if (first_invalid_utf8(bytes) == std::string_view::npos) {
    set(SourceEncoding::utf8);
    return std::string(bytes);
  }
  auto r = decode("gb18030", bytes, 0);
  if (r) set(SourceEncoding::gb18030);
  return r;
}

std::string utf8_to_gb18030(std::string_view utf8) { return gb18030_encode(utf8_to_utf16(utf8)); }

std::string utf8_to_utf16le(std::string_view utf8) {
  const std::u16string u = utf8_to_utf16(utf8);
  std::string out;
  out.reserve(u.size() * 2);
  for (char16_t c : u) {
    out.push_back(static_cast<char>(c & 0xFF));
    out.push_back(static_cast<char>(c >> 8));
  }
  return out;
}

std::string pinyin(std::string_view han) { return romanise(han, false); }

std::string pinyin_initials(std::string_view han) { return romanise(han, true); }

std::vector<std::string> name_syllables(std::string_view name) {
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(
      icu::StringPiece(name.data(), static_cast<int32_t>(name.size())));
  std::vector<std::string> out;
  std::string ascii;  // a run of ASCII letters and digits is one "syllable"
  auto flush_ascii = [&] {
    if (!ascii.empty()) out.push_back(std::move(ascii));
    ascii.clear();
  };
  for (int32_t i = 0; i < in.length();) {
    const UChar32 c = in.char32At(i);
    i += U16_LENGTH(c);
    if (is_han(c)) {
      flush_ascii();
      // One character at a time, so that syllables line up with characters; a county's names use a
      // few thousand characters, so each thread remembers the reading of each.
      thread_local std::unordered_map<UChar32, std::string> readings;
      auto it = readings.find(c);
      if (it == readings.end()) {
        icu::UnicodeString one(c);
        names_transliterator().transliterate(one);
        std::string syl;
        for (int32_t k = 0; k < one.length(); ++k) {
          const char16_t ch = one.charAt(k);
          if (ch >= u'a' && ch <= u'z') syl.push_back(static_cast<char>(ch));
        }
        it = readings.emplace(c, std::move(syl)).first;
      }
      if (!it->second.empty()) out.push_back(it->second);
      continue;
    }
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      ascii.push_back(static_cast<char>(c));
    } else if (c >= 'A' && c <= 'Z') {
      ascii.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      flush_ascii();
    }
  }
  flush_ascii();
  return out;
}

}  // namespace tz::encoding
