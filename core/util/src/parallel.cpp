#include "tz/util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tz {

namespace {

// Runs body(t) for t in [0, threads) on that many threads (t = 0 on the caller's), and rethrows the
// first exception any of them threw once all have joined.
void run_threads(unsigned threads, const std::function<void(unsigned)>& body) {
  std::exception_ptr first;
  std::mutex mu;
  auto guarded = [&](unsigned t) {
    try {
      body(t);
    } catch (...) {
      std::lock_guard lock(mu);
      if (!first) first = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads > 0 ? threads - 1 : 0);
  try {
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(guarded, t);
  } catch (...) {  // no thread could be started: the caller's thread does the rest below
    std::lock_guard lock(mu);
    if (!first) first = std::current_exception();
  }
  guarded(0);
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace

unsigned worker_threads() {
  if (const char* env = std::getenv("TZ_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 64) return static_cast<unsigned>(v);
  }
  return std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
}

void parallel_ranges(size_t n, unsigned threads, const std::function<void(size_t, size_t)>& fn, size_t min_chunk) {
  const size_t most = std::max<size_t>(1, n / std::max<size_t>(1, min_chunk));
  threads = static_cast<unsigned>(std::clamp<size_t>(threads, 1, most));
  if (threads == 1) {
    fn(0, n);
    return;
  }
  const size_t step = (n + threads - 1) / threads;
  run_threads(threads, [&](unsigned t) {
    const size_t b = std::min(n, t * step), e = std::min(n, b + step);
    if (b < e) fn(b, e);
  });
}

void parallel_tasks(size_t n, unsigned threads, const std::function<void(size_t)>& fn) {
  threads = static_cast<unsigned>(std::clamp<size_t>(threads, 1, std::max<size_t>(1, n)));
  if (threads == 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  run_threads(threads, [&](unsigned) {
    for (size_t i; !failed.load() && (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        failed = true;  // the others stop taking tasks; the exception goes on to run_threads
        throw;
      }
    }
  });
}

}  // namespace tz
