// Tests for tz::phone: mainland mobile numbers with the separators and prefixes people type.
#include <catch2/catch.hpp>

#include "tz/model/phone.hpp"

using tz::phone::check_phone;

TEST_CASE("plain 11-digit mobiles are accepted", "[model]") {
  const auto r = check_phone("13812345678");
  CHECK(r.ok);
  CHECK(r.normalized == "13812345678");
  CHECK(check_phone("19912345678").ok);
  CHECK(check_phone("16612345678").ok);
}

TEST_CASE("country prefixes are dropped", "[model]") {
  CHECK(check_phone("+8613812345678").normalized == "13812345678");
  CHECK(check_phone("+86 138 1234 5678").ok);
  CHECK(check_phone("008613812345678").normalized == "13812345678");
  CHECK(check_phone("8613812345678").normalized == "13812345678");
  CHECK(check_phone("(+86)13812345678").ok);
  // 86 is only a prefix when 11 digits follow it.
  CHECK_FALSE(check_phone("861381234567").ok);
}

TEST_CASE("separators and full-width input are normalised", "[model]") {
  CHECK(check_phone("138-1234-5678").normalized == "13812345678");
  CHECK(check_phone(" 138 1234 5678 ").normalized == "13812345678");
  CHECK(check_phone("138\u30001234\u00A05678").ok);
  CHECK(check_phone("(138)12345678").ok);
  CHECK(check_phone("\uFF11\uFF13\uFF18\uFF11\uFF12\uFF13\uFF14\uFF15\uFF16\uFF17\uFF18")
            .normalized == "13812345678");
  CHECK(check_phone("\uFF0B\uFF18\uFF16 138\uFF0D1234\uFF0D5678").ok);
  CHECK(check_phone("138\u20141234\u20145678").ok);  // em dash from a Chinese IME
}

TEST_CASE("non-mobiles are refused", "[model]") {
  const auto landline = check_phone("0855-8221234");
  CHECK_FALSE(landline.ok);
  CHECK(landline.normalized == "08558221234");
  CHECK_FALSE(check_phone("010-12345678").ok);
  CHECK_FALSE(check_phone("138123456789").ok);  // 12 digits
  CHECK_FALSE(check_phone("1381234567").ok);    // 10 digits
  CHECK_FALSE(check_phone("12812345678").ok);   // 12x prefix
  CHECK_FALSE(check_phone("11812345678").ok);
  CHECK_FALSE(check_phone("23812345678").ok);
  CHECK_FALSE(check_phone("1381234567a").ok);
  CHECK_FALSE(check_phone("").ok);
  CHECK(check_phone("").normalized.empty());
}
