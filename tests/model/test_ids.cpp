// 128-bit ids and their hex form: from_hex reads exactly 32 hex digits of either case and refuses
// anything else; hex() and from_hex() round-trip every byte value.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "tz/model/ids.hpp"

using tz::EntityId;

TEST_CASE("ids: from_hex reads 32 hex digits of either case and round-trips with hex()", "[model]") {
  auto id = EntityId::from_hex("00112233445566778899aabbccddeeff");
  REQUIRE(id);
  for (size_t i = 0; i < 16; ++i) CHECK(id->bytes[i] == static_cast<uint8_t>(i * 0x11));
  CHECK(id->hex() == "00112233445566778899aabbccddeeff");
  CHECK(EntityId::from_hex("00112233445566778899AABBCCDDEEFF") == id);
  CHECK(EntityId::from_hex("00112233445566778899aAbBcCdDeEfF") == id);

  std::mt19937_64 rng(7);
  for (int n = 0; n < 2000; ++n) {
    EntityId r;
    for (auto& b : r.bytes) b = static_cast<uint8_t>(rng());
    auto back = EntityId::from_hex(r.hex());
    REQUIRE(back);
    REQUIRE(*back == r);
  }
}

TEST_CASE("ids: from_hex refuses a wrong length or any character that is not a hex digit", "[model]") {
  const std::string good = "0123456789abcdef0123456789abcdef";
  CHECK_FALSE(EntityId::from_hex(""));
  CHECK_FALSE(EntityId::from_hex(good.substr(0, 31)));
  CHECK_FALSE(EntityId::from_hex(good + "0"));
  // Every position, and the characters next to the digit ranges in ASCII, a space, NUL and a byte
  // with the high bit set (the first byte of a Chinese character in UTF-8).
  for (char bad : {'g', 'G', '/', ':', '@', '`', ' ', '\0', '\xe5', '-', 'x'}) {
    for (size_t at = 0; at < good.size(); ++at) {
      std::string s = good;
      s[at] = bad;
      INFO("position " << at << " byte " << static_cast<int>(static_cast<unsigned char>(bad)));
      REQUIRE_FALSE(EntityId::from_hex(s));
    }
  }
}
