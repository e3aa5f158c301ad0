// 128-bit ids and their hex form: from_hex reads exactly 32 hex digits of either case and refuses
// anything else; hex() and from_hex() round-trip every byte value.
#include <catch2/catch.hpp>

#include <algorithm>
#include <compare>
#include <cstring>
#include <random>
#include <string>
#include <vector>

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

TEST_CASE("ids: comparison is the lexicographic order of the 16 bytes (unsigned) and equality is byte equality", "[model]") {
  std::mt19937_64 rng(147);
  std::vector<EntityId> ids;
  // Random ids, and ids that differ only in one byte, with values on both sides of 0x80 (a signed
  // comparison would put 0x80 before 0x7f).
  for (int i = 0; i < 200; ++i) {
    EntityId id;
    for (auto& b : id.bytes) b = static_cast<uint8_t>(rng());
    ids.push_back(id);
  }
  for (size_t at : {size_t{0}, size_t{7}, size_t{8}, size_t{15}})
    for (int v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      EntityId id;
      id.bytes[at] = static_cast<uint8_t>(v);
      ids.push_back(id);
    }
  size_t wrong = 0;
  for (auto& a : ids)
    for (auto& b : ids) {
      const int bytes = std::memcmp(a.bytes.data(), b.bytes.data(), 16);
      if ((a == b) != (bytes == 0) || (a < b) != (bytes < 0) || (a > b) != (bytes > 0) ||
          ((a <=> b) == std::strong_ordering::equal) != (bytes == 0))
        ++wrong;
    }
  CHECK(wrong == 0);
  // Sorted with operator< as sorted by the bytes.
  auto by_operator = ids, by_bytes = ids;
  std::sort(by_operator.begin(), by_operator.end());
  std::sort(by_bytes.begin(), by_bytes.end(),
            [](const EntityId& a, const EntityId& b) { return std::memcmp(a.bytes.data(), b.bytes.data(), 16) < 0; });
  CHECK(by_operator == by_bytes);
  CHECK(ids[200] < ids[202]);  // byte 0: 0x00 < 0x7f
  CHECK(ids[202] < ids[203]);  // byte 0: 0x7f < 0x80, unsigned
  CHECK(ids[217] < ids[218]);  // byte 15: 0x7f < 0x80
  CHECK(ids[219] < ids[214]);  // the earlier byte decides: 0xff in byte 15 comes before 0xff in byte 8
}
