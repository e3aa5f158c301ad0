// A compact binary codec (LEB128 varints, length-prefixed strings) for the store's blobs. The
// reader is bounded: it never trusts a length beyond the bytes that remain, so a damaged or hostile
// blob fails cleanly instead of allocating or reading out of range.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tz/util/error.hpp"

namespace tz {

class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  // Most varints written (field ids, counters, deltas, lengths) fit in one byte: that case inline.
  void varint(uint64_t v) {
    if (v < 0x80) out_.push_back(static_cast<char>(v));
    else long_varint(v);
  }
  void svarint(int64_t v) { varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void raw(std::string_view bytes) { out_.append(bytes); }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  const std::string& data() const { return out_; }
  std::string take() { return std::move(out_); }
  void clear() { out_.clear(); }
  void reserve(size_t n) { out_.reserve(n); }

 private:
  void long_varint(uint64_t v);
  std::string out_;
};

// Reads what ByteWriter wrote. Every method throws Failure(store_corrupt) on malformed input.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  // The hot reads are inline: a store's blobs and a push's columns are mostly one-byte varints.
  uint8_t u8() {
    if (pos_ >= in_.size()) fail();
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint64_t varint() {
    if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) < 0x80) return static_cast<uint8_t>(in_[pos_++]);
    return long_varint();
  }
  int64_t svarint() {
    uint64_t v = varint();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  std::string_view raw(size_t n) {
    if (n > remaining()) fail();
    auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string str() { return std::string(raw(checked_count(varint(), 1))); }
  // A container count that cannot exceed the remaining bytes given a minimum size per element.
  size_t checked_count(uint64_t n, size_t min_element_bytes);
  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  uint64_t long_varint();
  [[noreturn]] void fail() const;
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace tz
