// The binary codec: LEB128 varints and zig-zag svarints (round trips, extremes, exact encodings),
// length-prefixed strings, and the bounded reader refusing truncated and hostile input.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tz/util/bytes.hpp"

using tz::ByteReader;
using tz::ByteWriter;

namespace {

std::string varint_bytes(uint64_t v) {
  ByteWriter w;
  w.varint(v);
  return w.take();
}

// Expects a store_corrupt Failure from f.
template <typename F>
void expect_corrupt(F&& f) {
  try {
    f();
    FAIL("no Failure thrown");
  } catch (const tz::Failure& e) {
    CHECK(e.error().code() == tz::ErrorCode::store_corrupt);
  }
}

}  // namespace

TEST_CASE("varint: exact LEB128 encodings", "[util]") {
  CHECK(varint_bytes(0) == std::string(1, '\x00'));
  CHECK(varint_bytes(1) == "\x01");
  CHECK(varint_bytes(127) == "\x7f");
  CHECK(varint_bytes(128) == std::string("\x80\x01", 2));
  CHECK(varint_bytes(300) == std::string("\xac\x02", 2));
  CHECK(varint_bytes(16383) == std::string("\xff\x7f", 2));
  CHECK(varint_bytes(16384) == std::string("\x80\x80\x01", 3));
  CHECK(varint_bytes(std::numeric_limits<uint64_t>::max()).size() == 10);
  CHECK(varint_bytes(std::numeric_limits<uint64_t>::max()).back() == '\x01');
  CHECK(varint_bytes(uint64_t{1} << 63).size() == 10);
  CHECK(varint_bytes((uint64_t{1} << 63) - 1).size() == 9);
}

TEST_CASE("varint: round trips including extremes and every power-of-two boundary", "[util]") {
  std::vector<uint64_t> values = {0, 1, 127, 128, 255, 256, 16383, 16384, std::numeric_limits<uint32_t>::max(),
                                  uint64_t{std::numeric_limits<uint32_t>::max()} + 1,
                                  std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint64_t>::max() - 1};
  for (int b = 0; b < 64; ++b) {
    values.push_back(uint64_t{1} << b);
    values.push_back((uint64_t{1} << b) - 1);
    values.push_back((uint64_t{1} << b) + 1);
  }
  ByteWriter w;
  for (auto v : values) w.varint(v);
  ByteReader r(w.data());
  for (auto v : values) {
    INFO("value " << v);
    CHECK(r.varint() == v);
  }
  CHECK(r.done());
  CHECK(r.remaining() == 0);
}

TEST_CASE("svarint: zig-zag round trips including INT64_MIN and INT64_MAX", "[util]") {
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> values = {0, 1, -1, 2, -2, 63, -64, 64, -65, 1000000, -1000000,
                                 std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                                 kMin, kMax, kMin + 1, kMax - 1};
  ByteWriter w;
  for (auto v : values) w.svarint(v);
  ByteReader r(w.data());
  for (auto v : values) {
    INFO("value " << v);
    CHECK(r.svarint() == v);
  }
  CHECK(r.done());

  // Zig-zag keeps small magnitudes small: -1 and 1 take one byte, -64 one, -65 two.
  auto size_of = [](int64_t v) {
    ByteWriter x;
    x.svarint(v);
    return x.data().size();
  };
  CHECK(size_of(0) == 1);
  CHECK(size_of(-1) == 1);
  CHECK(size_of(-64) == 1);
  CHECK(size_of(63) == 1);
  CHECK(size_of(-65) == 2);
  CHECK(size_of(64) == 2);
  CHECK(size_of(kMin) == 10);
  CHECK(size_of(kMax) == 10);
  // The exact zig-zag mapping.
  ByteWriter z;
  z.svarint(-1);
  z.svarint(1);
  z.svarint(-2);
  CHECK(z.data() == std::string("\x01\x02\x03", 3));
}

TEST_CASE("varint/svarint: seeded random round trips", "[util]") {
  const uint64_t seed = 0x7a1240u;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> u;
  std::vector<int64_t> s;
  ByteWriter w;
  for (int i = 0; i < 2000; ++i) {
    // Vary the magnitude so every encoded length occurs.
    uint64_t v = rng() >> (rng() % 64);
    u.push_back(v);
    s.push_back(static_cast<int64_t>(rng()) >> (rng() % 64));
    w.varint(u.back());
    w.svarint(s.back());
  }
  ByteReader r(w.data());
  for (size_t i = 0; i < u.size(); ++i) {
    REQUIRE(r.varint() == u[i]);
    REQUIRE(r.svarint() == s[i]);
  }
  CHECK(r.done());
}

TEST_CASE("strings - raw bytes and u8 round trip", "[util]") {
  std::string binary("a\0b\xff\x80", 5);
  std::string big(100000, 'z');
  ByteWriter w;
  w.str("");
  w.str("hello");
  w.str("张三·阿依古丽 𠀀");  // CJK, U+00B7, a non-BMP character
  w.str(binary);
  w.str(big);
  w.u8(0);
  w.u8(255);
  w.raw("RAW");
  ByteReader r(w.data());
  CHECK(r.str().empty());
  CHECK(r.str() == "hello");
  CHECK(r.str() == "张三·阿依古丽 𠀀");
  CHECK(r.str() == binary);
  CHECK(r.str() == big);
  CHECK(r.u8() == 0);
  CHECK(r.u8() == 255);
  CHECK(r.remaining() == 3);
  CHECK(r.raw(3) == "RAW");
  CHECK(r.done());
  // A string's prefix is its byte length as a varint.
  ByteWriter p;
  p.str("abc");
  CHECK(p.data() == std::string("\x03" "abc", 4));
}

TEST_CASE("writer: clear - reserve and take", "[util]") {
  ByteWriter w;
  w.reserve(64);
  w.varint(5);
  CHECK(w.data().size() == 1);
  w.clear();
  CHECK(w.data().empty());
  w.str("x");
  auto out = w.take();
  CHECK(out == std::string("\x01x", 2));
}

TEST_CASE("reader: empty input and reading past the end fail cleanly", "[util]") {
  ByteReader empty("");
  CHECK(empty.done());
  expect_corrupt([&] { empty.u8(); });
  ByteReader e2("");
  expect_corrupt([&] { e2.varint(); });
  ByteReader e3("");
  expect_corrupt([&] { e3.str(); });
  ByteReader e4("");
  expect_corrupt([&] { e4.raw(1); });
  ByteReader e5("");
  CHECK(e5.raw(0).empty());  // zero bytes are always available
}

TEST_CASE("reader: truncated varints fail at every cut", "[util]") {
  auto full = varint_bytes(std::numeric_limits<uint64_t>::max());
  for (size_t cut = 0; cut < full.size(); ++cut) {
    INFO("cut at " << cut);
    ByteReader r(std::string_view(full).substr(0, cut));
    expect_corrupt([&] { r.varint(); });
  }
  // A lone continuation byte.
  ByteReader r("\x80");
  expect_corrupt([&] { r.varint(); });
}

TEST_CASE("reader: a varint longer than ten bytes is refused", "[util]") {
  std::string endless(11, '\x80');
  endless.push_back('\x01');
  ByteReader r(endless);
  expect_corrupt([&] { r.varint(); });
  std::string many(64, '\xff');
  ByteReader r2(many);
  expect_corrupt([&] { r2.varint(); });
}

TEST_CASE("reader: truncated strings fail at every cut", "[util]") {
  ByteWriter w;
  w.str("一二三四五六七八九十");
  const std::string full = w.data();
  for (size_t cut = 0; cut < full.size(); ++cut) {
    INFO("cut at " << cut);
    ByteReader r(std::string_view(full).substr(0, cut));
    expect_corrupt([&] { r.str(); });
  }
  ByteReader whole(full);
  CHECK(whole.str() == "一二三四五六七八九十");
}

TEST_CASE("reader: a length or count beyond the remaining bytes fails without allocating", "[util]") {
  // A string claiming 2^63 bytes, followed by a few: must fail at once, not try to allocate.
  ByteWriter w;
  w.varint(uint64_t{1} << 63);
  w.raw("abc");
  ByteReader r(w.data());
  expect_corrupt([&] { r.str(); });

  ByteWriter w2;
  w2.varint(std::numeric_limits<uint64_t>::max());
  ByteReader r2(w2.data());
  expect_corrupt([&] { r2.str(); });

  // One more byte than remains.
  ByteWriter w3;
  w3.varint(4);
  w3.raw("abc");
  ByteReader r3(w3.data());
  expect_corrupt([&] { r3.str(); });

  ByteReader r4("abc");
  expect_corrupt([&] { r4.raw(4); });
  ByteReader r5("abc");
  expect_corrupt([&] { r5.raw(static_cast<size_t>(-1)); });
}

TEST_CASE("reader: checked_count bounds a container count by the remaining bytes", "[util]") {
  const std::string ten(10, 'x');  // the reader only views its input
  ByteReader r(ten);
  CHECK(r.checked_count(0, 8) == 0);
  CHECK(r.checked_count(10, 1) == 10);
  CHECK(r.checked_count(5, 2) == 5);
  CHECK(r.checked_count(1, 10) == 1);
  expect_corrupt([&] { r.checked_count(11, 1); });
  expect_corrupt([&] { r.checked_count(6, 2); });
  expect_corrupt([&] { r.checked_count(2, 10); });
  expect_corrupt([&] { r.checked_count(std::numeric_limits<uint64_t>::max(), 1); });
  expect_corrupt([&] { r.checked_count(uint64_t{1} << 40, 16); });
  // A zero minimum size is treated as one byte, so a count can still not exceed what remains.
  CHECK(r.checked_count(10, 0) == 10);
  expect_corrupt([&] { r.checked_count(11, 0); });
  // Nothing was consumed by any of these.
  CHECK(r.remaining() == 10);

  // After consuming, the bound shrinks.
  ByteReader r2(ten);
  (void)r2.raw(7);
  CHECK(r2.checked_count(3, 1) == 3);
  expect_corrupt([&] { r2.checked_count(4, 1); });
}

TEST_CASE("reader: the failure names the byte offset", "[util]") {
  const std::string blob("\x05" "ab", 3);
  ByteReader r(blob);
  try {
    (void)r.str();
    FAIL("no Failure thrown");
  } catch (const tz::Failure& e) {
    CHECK(e.error().code() == tz::ErrorCode::store_corrupt);
    CHECK(e.error().message(tz::Lang::en).find("byte 1") != std::string::npos);
  }
}

TEST_CASE("reader: the tenth varint byte may only carry the top bit", "[util]") {
  // 2^64-1 encodes as nine 0xff bytes and 0x01. A tenth byte above 0x01 holds bits beyond 64 that
  // the decoder would silently drop, turning a damaged blob into a plausible wrong value.
  std::string overlong(9, '\xff');
  overlong.push_back('\x7f');
  ByteReader r(overlong);
  expect_corrupt([&] { r.varint(); });
}
