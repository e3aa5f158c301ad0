// A Bloom filter of entity ids (decision 148): answers "certainly not held" without a look-up in
// the file. A county's first push reads every entity of a batch before applying it, and nearly all
// of them are new; each of those was a miss in the id index.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "tz/model/ids.hpp"

namespace tz::sync {

class IdFilter {
 public:
  // Room for `capacity` ids at 16 bits each (about 0.2% false positives when full); at least 2^16.
  void reset(size_t capacity) {
    size_t bits = 1;
    while (bits < capacity * kBitsPerId || bits < (size_t{1} << 20)) bits <<= 1;
    words_.assign(bits / 64, 0);
    mask_ = bits - 1;
    count_ = 0;
    capacity_ = bits / kBitsPerId;
  }
  void add(const EntityId& id) {
    auto [h, step] = hashes(id);
    for (int i = 0; i < kProbes; ++i, h += step) words_[(h & mask_) >> 6] |= uint64_t{1} << (h & 63);
    ++count_;
  }
  // False: the id was never added. True: it may have been.
  bool may_hold(const EntityId& id) const {
    auto [h, step] = hashes(id);
    for (int i = 0; i < kProbes; ++i, h += step)
      if (!(words_[(h & mask_) >> 6] & (uint64_t{1} << (h & 63)))) return false;
    return true;
  }
  bool empty() const { return words_.empty(); }
  // More ids added than it has room for: false positives grow, so it is made again larger.
  bool full() const { return count_ > capacity_; }
  size_t count() const { return count_; }

 private:
  static constexpr size_t kBitsPerId = 16;
  static constexpr int kProbes = 4;
  // Entity ids are keyed hashes or random bytes: their two halves serve as two independent hashes
  // (a device choosing colliding ids only causes look-ups, never a wrong answer).
  static std::pair<uint64_t, uint64_t> hashes(const EntityId& id) {
    uint64_t a, b;
    std::memcpy(&a, id.bytes.data(), 8);
    std::memcpy(&b, id.bytes.data() + 8, 8);
    return {a, b | 1};
  }
  std::vector<uint64_t> words_;
  uint64_t mask_ = 0;
  size_t count_ = 0, capacity_ = 0;
};

}  // namespace tz::sync
