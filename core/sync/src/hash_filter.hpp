// A Bloom filter (decision 148): answers "certainly not held" without a look-up in the file. A
// county's first push reads every entity of a batch before applying it and looks for other holders
// of every new person's and household's match key; nearly all of those look-ups found nothing.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "tz/model/ids.hpp"

namespace tz::sync {

class HashFilter {
 public:
  // Two independent 64-bit hashes of one item.
  using Hashes = std::pair<uint64_t, uint64_t>;

  // Entity ids are keyed hashes or random bytes: their two halves serve as the two hashes (a device
  // choosing colliding ids only causes look-ups, never a wrong answer).
  static Hashes of(const EntityId& id) {
    uint64_t a, b;
    std::memcpy(&a, id.bytes.data(), 8);
    std::memcpy(&b, id.bytes.data() + 8, 8);
    return {a, b};
  }
  static Hashes of(std::string_view text) {
    uint64_t fnv = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : text) fnv = (fnv ^ c) * 1099511628211ULL;
    return {std::hash<std::string_view>{}(text), fnv};
  }

  // Room for `capacity` items at 16 bits each (about 0.2% false positives when full); at least 2^16.
  void reset(size_t capacity) {
    size_t bits = 1;
    while (bits < capacity * kBitsPerItem || bits < (size_t{1} << 20)) bits <<= 1;
    words_.assign(bits / 64, 0);
    mask_ = bits - 1;
    count_ = 0;
    capacity_ = bits / kBitsPerItem;
  }
  void add(Hashes h) {
    uint64_t at = h.first, step = h.second | 1;
    for (int i = 0; i < kProbes; ++i, at += step) words_[(at & mask_) >> 6] |= uint64_t{1} << (at & 63);
    ++count_;
  }
  // False: the item was never added. True: it may have been.
  bool may_hold(Hashes h) const {
    uint64_t at = h.first, step = h.second | 1;
    for (int i = 0; i < kProbes; ++i, at += step)
      if (!(words_[(at & mask_) >> 6] & (uint64_t{1} << (at & 63)))) return false;
    return true;
  }
  // More items added than it has room for: false positives grow, so it is made again larger.
  bool full() const { return count_ > capacity_; }
  size_t count() const { return count_; }

 private:
  static constexpr size_t kBitsPerItem = 16;
  static constexpr int kProbes = 4;
  std::vector<uint64_t> words_;
  uint64_t mask_ = 0;
  size_t count_ = 0, capacity_ = 0;
};

}  // namespace tz::sync
