// Varint and bounded reading for the binary codec.
#include "tz/util/bytes.hpp"

namespace tz {

void ByteWriter::long_varint(uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out_.append(buf, n);
}

void ByteReader::fail() const { throw Failure(ErrorCode::store_corrupt, {"malformed record at byte " + std::to_string(pos_)}); }

uint64_t ByteReader::long_varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) fail();
    auto b = static_cast<uint8_t>(in_[pos_++]);
    if (shift == 63 && b > 1) fail();  // bits beyond 64 would be dropped silently
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail();
}

size_t ByteReader::checked_count(uint64_t n, size_t min_element_bytes) {
  if (min_element_bytes == 0) min_element_bytes = 1;
  if (n > remaining() / min_element_bytes) fail();
  return static_cast<size_t>(n);
}

}  // namespace tz
