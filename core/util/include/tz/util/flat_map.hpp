// A small sorted-vector map for the few dozen fields of one record: no node per entry, contiguous,
// cheap to copy. The subset of std::map's interface the code uses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tz {

template <typename K, typename V>
class FlatMap {
 public:
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  FlatMap() = default;
  FlatMap(std::initializer_list<value_type> init) {
    for (auto& kv : init) (*this)[kv.first] = kv.second;
  }

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void reserve(size_t n) { items_.reserve(n); }
  void clear() { items_.clear(); }

  iterator find(const K& k) { return items_.begin() + (at_or_before(k) - items_.cbegin()); }
  const_iterator find(const K& k) const { return at_or_before(k); }
  size_t count(const K& k) const { return find(k) == end() ? 0 : 1; }
  V& operator[](const K& k) {
    auto it = lower(k);
    if (it == items_.end() || it->first != k) it = items_.insert(it, value_type{k, V{}});
    return it->second;
  }
  const V& at(const K& k) const {
    auto it = find(k);
    if (it == end()) throw std::out_of_range("FlatMap::at");
    return it->second;
  }
  V& at(const K& k) {
    auto it = find(k);
    if (it == end()) throw std::out_of_range("FlatMap::at");
    return it->second;
  }
  size_t erase(const K& k) {
    auto it = find(k);
    if (it == end()) return 0;
    items_.erase(it);
    return 1;
  }
  bool operator==(const FlatMap& o) const { return items_ == o.items_; }

  // Moves every entry of `other` in, in one pass over both (cheaper than inserting each where it
  // belongs when the values are large); a key in both gets combine(mine, theirs).
  template <typename Combine>
  void merge(FlatMap&& other, Combine combine) {
    if (other.items_.empty()) return;
    if (items_.empty()) {
      items_ = std::move(other.items_);
      return;
    }
    std::vector<value_type> out;
    out.reserve(items_.size() + other.items_.size());
    auto a = items_.begin(), b = other.items_.begin();
    while (a != items_.end() || b != other.items_.end()) {
      if (b == other.items_.end() || (a != items_.end() && a->first < b->first)) {
        out.push_back(std::move(*a++));
      } else if (a == items_.end() || b->first < a->first) {
        out.push_back(std::move(*b++));
      } else {
        combine(a->second, std::move(b->second));
        out.push_back(std::move(*a++));
        ++b;
      }
    }
    items_ = std::move(out);
    other.items_.clear();
  }

 private:
  // The entry of k, or end(). Keys are unique and sorted, so an integer key k sits at most at
  // position (k - first key): that position is probed first (records hold most of their fields, so
  // it usually is there), then only what lies before it is searched. Values here are large (a
  // field's first version inline), so every probe saved is a cache line not read.
  const_iterator at_or_before(const K& k) const {
    auto end = items_.end();
    if constexpr (std::is_integral_v<K>) {
      if (items_.empty() || k < items_.front().first) return items_.end();
      const auto most = static_cast<size_t>(k - items_.front().first);
      if (most < items_.size()) {
        if (items_[most].first == k) return items_.begin() + static_cast<std::ptrdiff_t>(most);
        end = items_.begin() + static_cast<std::ptrdiff_t>(most);
      }
    }
    auto it = std::lower_bound(items_.begin(), end, k, [](const value_type& a, const K& b) { return a.first < b; });
    return it != end && it->first == k ? it : items_.end();
  }
  iterator lower(const K& k) {
    return std::lower_bound(items_.begin(), items_.end(), k, [](const value_type& a, const K& b) { return a.first < b; });
  }
  std::vector<value_type> items_;
};

}  // namespace tz
