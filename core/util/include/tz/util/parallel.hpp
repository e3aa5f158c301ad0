// Splitting CPU-bound work over a few threads (a collector's laptop has two cores, a county server
// a few more). The first exception thrown by any part is rethrown to the caller once every thread
// has stopped, so a failure in a worker is reported like one in the caller, never a crash.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>

namespace tz {

// Threads worth using for one job on this machine: the hardware's count, at least 1, at most 4
// (beyond that the store's single reader and the memory bus limit the gain). TZ_THREADS, when set
// to a number from 1 to 64, overrides it (1 makes every job serial: for debugging and comparisons).
unsigned worker_threads();

// Runs fn(begin, end) over [0, n) split into up to `threads` contiguous ranges, one thread each (the
// caller's thread runs the first). Ranges smaller than `min_chunk` are not split further.
void parallel_ranges(size_t n, unsigned threads, const std::function<void(size_t, size_t)>& fn,
                     size_t min_chunk = 1024);

// Runs fn(i) for every i in [0, n) on up to `threads` threads, each taking the next index not yet
// taken: give the longest tasks the lowest indexes.
void parallel_tasks(size_t n, unsigned threads, const std::function<void(size_t)>& fn);

// std::sort of [first, last) by `less`, its halves sorted on two threads (when `threads` > 1 and
// there is enough to sort) and then merged: the same order as std::sort for a strict weak order
// that orders every pair of distinct elements (ties keep no particular order either way).
template <typename It, typename Less>
void parallel_sort(It first, It last, Less less, unsigned threads) {
  const auto n = static_cast<size_t>(last - first);
  if (threads < 2 || n < 8192) {
    std::sort(first, last, less);
    return;
  }
  const It mid = first + static_cast<std::ptrdiff_t>(n / 2);
  parallel_tasks(2, 2, [&](size_t half) { half == 0 ? std::sort(first, mid, less) : std::sort(mid, last, less); });
  std::inplace_merge(first, mid, last, less);
}

}  // namespace tz
