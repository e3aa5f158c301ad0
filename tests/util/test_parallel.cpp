// Splitting work over threads: every index is done exactly once whatever the thread count, the
// first failure reaches the caller after every thread has stopped, and TZ_THREADS sets the count.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "scoped_env.hpp"
#include "tz/util/parallel.hpp"

TEST_CASE("parallel_ranges covers every index once in contiguous ranges", "[util][parallel]") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1023}, size_t{1024}, size_t{5000}, size_t{100001}})
    for (unsigned threads : {1u, 2u, 3u, 8u}) {
      INFO("n " << n << " threads " << threads);
      std::vector<std::atomic<int>> seen(n);
      std::mutex mu;
      std::set<std::thread::id> ids;
      size_t calls = 0;
      tz::parallel_ranges(n, threads, [&](size_t b, size_t e) {
        REQUIRE(b <= e);
        REQUIRE(e <= n);
        for (size_t i = b; i < e; ++i) ++seen[i];
        std::lock_guard lock(mu);
        ids.insert(std::this_thread::get_id());
        ++calls;
      });
      for (size_t i = 0; i < n; ++i) REQUIRE(seen[i] == 1);
      CHECK(calls <= threads);
      // Ranges are at least 1024 long: small inputs stay on the caller's thread, large ones are
      // split as asked.
      CHECK(calls == std::min<size_t>(threads, std::max<size_t>(1, n / 1024)));
      CHECK(ids.size() == calls);
    }
}

TEST_CASE("parallel_tasks runs each task once on up to the threads asked", "[util][parallel]") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{6}, size_t{1000}})
    for (unsigned threads : {1u, 2u, 4u}) {
      std::vector<std::atomic<int>> done(n);
      std::mutex mu;
      std::set<std::thread::id> ids;
      tz::parallel_tasks(n, threads, [&](size_t i) {
        ++done[i];
        std::lock_guard lock(mu);
        ids.insert(std::this_thread::get_id());
      });
      for (size_t i = 0; i < n; ++i) REQUIRE(done[i] == 1);
      CHECK(ids.size() <= std::max<size_t>(1, std::min<size_t>(n, threads)));
    }
}

TEST_CASE("a task's exception reaches the caller once every thread has stopped", "[util][parallel]") {
  for (unsigned threads : {1u, 2u, 4u}) {
    INFO("threads " << threads);
    std::atomic<int> ran{0}, running{0};
    CHECK_THROWS_WITH(tz::parallel_tasks(10000, threads,
                                         [&](size_t i) {
                                           ++ran;
                                           ++running;
                                           struct Leave {
                                             std::atomic<int>& n;
                                             ~Leave() { --n; }
                                           } leave{running};
                                           if (i == 3) throw std::runtime_error("task 3 failed");
                                         }),
                      "task 3 failed");
    CHECK(running == 0);  // every task had ended when the exception reached the caller
    if (threads == 1) CHECK(ran == 4);  // in turn: the tasks after the failing one are not started
  }
  CHECK_THROWS_WITH(tz::parallel_ranges(100000, 2,
                                        [&](size_t b, size_t) {
                                          if (b > 0) throw std::runtime_error("second range failed");
                                        }),
                    "second range failed");
}

TEST_CASE("TZ_THREADS sets the worker count - a bad value is ignored", "[util][parallel]") {
  {
    tz::test::ScopedEnv env("TZ_THREADS", "3");
    CHECK(tz::worker_threads() == 3);
  }
  {
    tz::test::ScopedEnv env("TZ_THREADS", "1");
    CHECK(tz::worker_threads() == 1);
  }
  for (const char* bad : {"0", "-2", "x", "65", ""}) {
    tz::test::ScopedEnv env("TZ_THREADS", bad);
    const unsigned n = tz::worker_threads();
    CHECK(n >= 1);
    CHECK(n <= 4);
  }
}

TEST_CASE("run_beside runs beside the caller with two threads and when asked with one - its exception reaches get", "[util][parallel]") {
  tz::test::on_one_thread_and_two([&](const char* threads) {
    const auto caller = std::this_thread::get_id();
    auto where = tz::run_beside([] { return std::this_thread::get_id(); });
    if (std::string(threads) == "1") CHECK(where.get() == caller);
    else CHECK(where.get() != caller);
    auto failing = tz::run_beside([]() -> int { throw std::runtime_error("beside failed"); });
    CHECK_THROWS_WITH(failing.get(), "beside failed");
  });
}

TEST_CASE("run_beside works on what its function owns - moved in and never copied", "[util][parallel]") {
  tz::test::on_one_thread_and_two([&](const char*) {
    // A move-only function: a copy would not compile, and the vector it frees is the caller's own.
    auto owned = std::make_unique<std::vector<int>>(100000, 7);
    const int* data = owned->data();
    auto freed = tz::run_beside([v = std::move(owned)]() mutable {
      const int* seen = v->data();
      v.reset();
      return seen;
    });
    CHECK(owned == nullptr);
    CHECK(freed.get() == data);
  });
}

TEST_CASE("Behind runs its tasks in order beside the caller - drain waits for them and rethrows a failure once", "[util][parallel]") {
  tz::test::on_one_thread_and_two([&](const char* threads) {
    const auto caller = std::this_thread::get_id();
    std::vector<int> done;  // written by the tasks only, read after drain()
    std::set<std::thread::id> where;
    tz::Behind behind;
    behind.drain();  // nothing posted: returns at once
    for (int i = 0; i < 500; ++i)
      behind.post([&, i] {
        done.push_back(i);
        where.insert(std::this_thread::get_id());
      });
    behind.drain();
    REQUIRE(done.size() == 500);
    for (int i = 0; i < 500; ++i) REQUIRE(done[static_cast<size_t>(i)] == i);
    REQUIRE(where.size() == 1);
    if (std::string(threads) == "1") CHECK(*where.begin() == caller);
    else CHECK(*where.begin() != caller);

    // A failing task: with a thread, the tasks after it are dropped and drain() rethrows once; with
    // one thread, post() runs it and throws at once.
    done.clear();
    if (std::string(threads) == "1") {
      CHECK_THROWS_WITH(behind.post([] { throw std::runtime_error("write failed"); }), "write failed");
    } else {
      behind.post([&] { done.push_back(1); });
      behind.post([] { throw std::runtime_error("write failed"); });
      behind.post([&] { done.push_back(3); });
      CHECK_THROWS_WITH(behind.drain(), "write failed");
      CHECK(done == std::vector<int>{1});
    }
    behind.drain();  // the failure was reported once
    behind.post([&] { done.push_back(4); });
    behind.drain();
    CHECK(done.back() == 4);

    // discard() drops the failure and what was queued, and the writer goes on afterwards.
    if (std::string(threads) == "2") {
      behind.post([] { throw std::runtime_error("dropped with the transaction"); });
      behind.discard();
      CHECK_NOTHROW(behind.drain());
      behind.post([&] { done.push_back(5); });
      behind.drain();
      CHECK(done.back() == 5);
    }
  });
}

TEST_CASE("Behind wakes a waiting writer once a few tasks are queued - without drain", "[util][parallel]") {
  // With one thread post() runs each task at once (the test above): two are asked for, so the
  // writer thread exists on any machine.
  tz::test::ScopedEnv env("TZ_THREADS", "2");
  REQUIRE(tz::worker_threads() == 2);
  tz::Behind behind;
  std::atomic<size_t> ran{0};
  behind.post([&] { ++ran; });
  behind.drain();  // the writer has started and now waits for work
  // Fewer than kWakeAfter tasks stay queued until drain() or more tasks come; kWakeAfter of them
  // wake the writer, which runs them all without a drain(): the future below is set by the last one.
  std::promise<void> last_ran;
  for (size_t i = 0; i + 1 < tz::Behind::kWakeAfter; ++i) behind.post([&] { ++ran; });
  behind.post([&] {
    ++ran;
    last_ran.set_value();
  });
  last_ran.get_future().wait();  // hangs (and the test times out) if the writer is never woken
  CHECK(ran.load() == 1 + tz::Behind::kWakeAfter);
  behind.drain();
}

TEST_CASE("RunAhead gives every result in order - a failure at its index - and stops when dropped early", "[util][parallel]") {
  tz::test::on_one_thread_and_two([&](const char*) {
    {
      tz::RunAhead<std::string> squares(1000, [](size_t i) { return std::to_string(i * i); });
      for (size_t i = 0; i < 1000; ++i) REQUIRE(squares.take(i) == std::to_string(i * i));
    }
    {
      tz::RunAhead<int> failing(300, [](size_t i) -> int {
        if (i == 200) throw std::runtime_error("result 200 failed");
        return static_cast<int>(i);
      });
      for (size_t i = 0; i < 200; ++i) REQUIRE(failing.take(i) == static_cast<int>(i));
      CHECK_THROWS_WITH(failing.take(200), "result 200 failed");
    }
    {
      // About a microsecond a result: making them all would take a fifth of a second.
      std::atomic<size_t> made{0};
      {
        tz::RunAhead<size_t> dropped(200000, [&](size_t i) {
          volatile size_t x = i;
          for (int k = 0; k < 1000; ++k) x = x + static_cast<size_t>(k);
          ++made;
          return i;
        });
        CHECK(dropped.take(0) == 0);
      }  // dropped after one result: the thread stops instead of making them all
      CHECK(made < 200000);
    }
  });
}
