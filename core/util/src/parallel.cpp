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

Behind::~Behind() {
  discard();
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  work_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Behind::post(std::function<void()> task) {
  std::unique_lock lock(m_);
  if (!started_ && !inline_) {
    inline_ = worker_threads() < 2;
    if (!inline_) {
      try {
        thread_ = std::thread([this] { run(); });
        started_ = true;
      } catch (const std::system_error&) {
        inline_ = true;  // no thread to be had (a process limit): tasks run in turn
      }
    }
  }
  if (inline_) {
    lock.unlock();
    task();  // its exception reaches the caller at once
    return;
  }
  if (error_) return;  // the tasks after a failed one are dropped
  tasks_.push_back(std::move(task));
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  // A writer that waits for work is woken once kWakeAfter tasks are queued, not for each: waking it
  // (a futex call) cost the caller more than posting a small task (decision 142). A writer still at
  // work takes the queued tasks without a wake-up; drain() wakes it for fewer.
  const bool wake = sleeping_ && tasks_.size() >= kWakeAfter;
  lock.unlock();
  if (wake) work_.notify_one();
}

void Behind::wait() {
  std::unique_lock lock(m_);
  if (sleeping_ && !tasks_.empty()) work_.notify_one();  // fewer than kWakeAfter left waiting
  idle_.wait(lock, [this] {
    return tasks_.empty() && outstanding_.load(std::memory_order_relaxed) <= (error_ ? 1u : 0u);
  });
  if (error_) {
    outstanding_.fetch_sub(1, std::memory_order_relaxed);
    std::rethrow_exception(std::exchange(error_, nullptr));
  }
}

void Behind::discard() noexcept {
  std::unique_lock lock(m_);
  outstanding_.fetch_sub(tasks_.size(), std::memory_order_relaxed);
  tasks_.clear();
  idle_.wait(lock, [this] { return outstanding_.load(std::memory_order_relaxed) <= (error_ ? 1u : 0u); });
  if (error_) outstanding_.fetch_sub(1, std::memory_order_relaxed);
  error_ = nullptr;
}

void Behind::run() {
  std::unique_lock lock(m_);
  for (;;) {
    // sleeping_ changes only under m_: post() and wait() see it set only while this thread is in
    // work_.wait() (which releases m_), so a wake-up they decide on is never lost.
    sleeping_ = true;
    work_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
    sleeping_ = false;
    if (tasks_.empty()) return;  // stopped
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    std::exception_ptr failed;
    try {
      task();
    } catch (...) {
      failed = std::current_exception();
    }
    task = nullptr;  // what it owned is freed before the caller is told
    lock.lock();
    if (failed) {
      // The failed task stays counted until drain() rethrows its exception; the others are dropped.
      error_ = failed;
      outstanding_.fetch_sub(tasks_.size(), std::memory_order_relaxed);
      tasks_.clear();
      idle_.notify_all();
      continue;
    }
    // Release: what the task wrote is seen by a caller whose drain() reads the count it leaves.
    if (outstanding_.fetch_sub(1, std::memory_order_release) == 1) idle_.notify_all();
  }
}

}  // namespace tz
