// Small helpers over sorted vectors.
#pragma once

#include <algorithm>
#include <vector>

namespace tz {

// Sorts `v` and drops its repeated elements: the set of its elements, in increasing order.
template <typename T, typename A>
void sort_unique(std::vector<T, A>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace tz
