// Splitting CPU-bound work over a few threads (a collector's laptop has two cores, a county server
// a few more). The first exception thrown by any part is rethrown to the caller once every thread
// has stopped, so a failure in a worker is reported like one in the caller, never a crash.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

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

// Starts fn on another thread, beside the caller's own work, when this machine has a thread to spare
// (worker_threads() > 1) and one can be started; otherwise fn runs when its result is asked for. The
// result, or the exception fn threw, comes from get(); a future left unread waits for fn when it is
// destroyed. fn is moved, never copied (it may own what it works on, such as a container to free).
template <typename F>
std::future<std::invoke_result_t<F>> run_beside(F fn) {
  // Held by a shared owner, so that fn is still whole for the fallback when no thread starts.
  auto owned = std::make_shared<F>(std::move(fn));
  auto call = [owned] { return (*owned)(); };
  if (worker_threads() > 1) {
    try {
      return std::async(std::launch::async, call);
    } catch (const std::system_error&) {
      // no thread to be had (a process limit): fn runs in turn instead
    }
  }
  return std::async(std::launch::deferred, std::move(call));
}
// Makes fn(0), fn(1), ..., fn(n - 1) in that order on another thread, ahead of a caller that takes
// them in the same order: take(i) waits until result i is made (the caller's own work overlaps the
// making of the next ones). With one worker thread (worker_threads() == 1), or fewer than `min_n`
// results (not worth starting a thread), take(i) makes it itself. What fn throws is rethrown by the
// take() of that index or a later one. fn must only read what the caller does not change meanwhile.
// The destructor stops the thread and waits for it.
template <typename T>
class RunAhead {
 public:
  RunAhead(size_t n, std::function<T(size_t)> fn, size_t min_n = 1) : fn_(std::move(fn)), n_(n) {
    if (worker_threads() < 2 || n == 0 || n < min_n) return;
    results_.resize(n);
    try {
      thread_ = std::thread([this] { make(); });
    } catch (const std::system_error&) {
      // no thread to be had (a process limit): take() makes each result itself
    }
  }
  ~RunAhead() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }
  RunAhead(const RunAhead&) = delete;
  RunAhead& operator=(const RunAhead&) = delete;

  T take(size_t i) {
    if (!thread_.joinable()) return fn_(i);
    size_t state = ready_.load(std::memory_order_acquire);
    while ((state & ~kFailed) <= i && !(state & kFailed)) {
      ready_.wait(state, std::memory_order_acquire);
      state = ready_.load(std::memory_order_acquire);
    }
    if ((state & ~kFailed) <= i) std::rethrow_exception(error_);
    return std::move(results_[i]);
  }

 private:
  // ready_ holds how many results are made, with this bit set once fn threw for the next one.
  static constexpr size_t kFailed = size_t{1} << (std::numeric_limits<size_t>::digits - 1);
  static constexpr size_t kNotifyEvery = 64;  // a waiting caller is woken at least this often
  void make() {
    for (size_t i = 0; i < n_ && !stop_.load(std::memory_order_relaxed); ++i) {
      try {
        results_[i] = fn_(i);
      } catch (...) {
        error_ = std::current_exception();
        ready_.store(i | kFailed, std::memory_order_release);
        ready_.notify_one();
        return;
      }
      ready_.store(i + 1, std::memory_order_release);
      if (i % kNotifyEvery == kNotifyEvery - 1 || i + 1 == n_) ready_.notify_one();
    }
  }
  std::function<T(size_t)> fn_;
  size_t n_;
  std::vector<T> results_;
  std::atomic<size_t> ready_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

// Runs the tasks posted to it one after another, in the order posted, on a thread of its own: a
// writer behind the work that makes what it writes. The thread starts with the first task posted;
// with one worker thread (worker_threads() == 1), or when no thread can be started, post() runs
// the task at once. A task that throws keeps its exception, the tasks posted after it are dropped,
// and the next drain() rethrows it. A waiting writer is woken when a few tasks are queued, or by
// drain(): a task posted alone may wait for the next drain() to start. The caller must not touch
// what the tasks use until drain() returns; a task must not post or drain. drain() with nothing
// outstanding costs one atomic load.
class Behind {
 public:
  // Tasks queued before a writer waiting for work is woken (drain() wakes it for fewer).
  static constexpr size_t kWakeAfter = 8;

  Behind() = default;
  ~Behind();  // discard(), then the thread stops
  Behind(const Behind&) = delete;
  Behind& operator=(const Behind&) = delete;

  void post(std::function<void()> task);
  // Returns once every task posted has run; rethrows (once) the exception a task threw.
  void drain() {
    if (outstanding_.load(std::memory_order_acquire) != 0) wait();
  }
  // Waits for the task running, drops the others and any exception kept.
  void discard() noexcept;

 private:
  void wait();
  void run();
  std::mutex m_;
  std::condition_variable work_, idle_;
  std::deque<std::function<void()>> tasks_;
  // Tasks posted and not yet run, plus one while an exception waits for drain().
  std::atomic<size_t> outstanding_{0};
  bool stop_ = false, started_ = false, inline_ = false;
  bool sleeping_ = false;  // the writer waits for work (under m_)
  std::exception_ptr error_;
  std::thread thread_;
};

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
