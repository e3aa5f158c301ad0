// The hybrid logical clock: ticks strictly increase whatever the physical clock does, observe()
// raises the clock so later ticks come after a remote timestamp, and ordering is (ms, counter).
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "tz/model/hlc.hpp"

using tz::Hlc;
using tz::HybridClock;

TEST_CASE("hlc: ordering is by milliseconds - then counter", "[model]") {
  CHECK(Hlc{1, 0} < Hlc{2, 0});
  CHECK(Hlc{1, 5} < Hlc{2, 0});
  CHECK(Hlc{2, 0} < Hlc{2, 1});
  CHECK(Hlc{2, 1} == Hlc{2, 1});
  CHECK(Hlc{} == Hlc{0, 0});
}

TEST_CASE("hlc: tick follows a physical clock that moves forward", "[model]") {
  HybridClock c;
  CHECK(c.last() == Hlc{0, 0});
  CHECK(c.tick(1000) == Hlc{1000, 0});
  CHECK(c.tick(1001) == Hlc{1001, 0});
  CHECK(c.tick(5000) == Hlc{5000, 0});
  CHECK(c.last() == Hlc{5000, 0});
}

TEST_CASE("hlc: tick is strictly monotonic when physical time stays", "[model]") {
  HybridClock c;
  auto a = c.tick(1000);
  auto b = c.tick(1000);
  auto d = c.tick(1000);
  CHECK(a < b);
  CHECK(b < d);
  CHECK(b == Hlc{1000, 1});
  CHECK(d == Hlc{1000, 2});
  // Moving forward resets the counter.
  CHECK(c.tick(1001) == Hlc{1001, 0});
}

TEST_CASE("hlc: tick is strictly monotonic when physical time goes backwards", "[model]") {
  HybridClock c;
  auto a = c.tick(10000);
  auto b = c.tick(9000);   // the device's clock was set back
  auto d = c.tick(1);      // ... a long way back
  auto e = c.tick(-5);     // before the epoch
  CHECK(a < b);
  CHECK(b < d);
  CHECK(d < e);
  CHECK(b.ms == 10000);
  CHECK(e == Hlc{10000, 3});
  // Once physical time passes the clock again, it takes over.
  CHECK(c.tick(10001) == Hlc{10001, 0});
}

TEST_CASE("hlc: a clock restored from its last timestamp continues after it", "[model]") {
  HybridClock c(Hlc{5000, 7});
  CHECK(c.last() == Hlc{5000, 7});
  CHECK(c.tick(4000) == Hlc{5000, 8});
  CHECK(c.tick(5000) == Hlc{5000, 9});
  CHECK(c.tick(5001) == Hlc{5001, 0});
}

TEST_CASE("hlc: observe raises the clock - later ticks come after the remote timestamp", "[model]") {
  HybridClock c;
  c.tick(1000);
  c.observe(Hlc{50000, 3});  // another device's clock is ahead
  CHECK(c.last() == Hlc{50000, 3});
  auto t = c.tick(1001);
  CHECK(t > Hlc{50000, 3});
  CHECK(t == Hlc{50000, 4});
  // Same ms as a remote, higher counter remote.
  HybridClock c2;
  c2.tick(7000);
  c2.observe(Hlc{7000, 9});
  CHECK(c2.tick(7000) == Hlc{7000, 10});
}

TEST_CASE("hlc: observing an older timestamp changes nothing", "[model]") {
  HybridClock c;
  c.tick(1000);
  c.tick(1000);
  auto before = c.last();
  c.observe(Hlc{500, 99});
  c.observe(Hlc{1000, 0});
  c.observe(before);
  CHECK(c.last() == before);
  CHECK(c.tick(1000) == Hlc{1000, 2});
}

TEST_CASE("hlc: seeded random walk of ticks and observes stays strictly increasing", "[model]") {
  const uint64_t seed = 20260630;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  HybridClock c;
  Hlc prev = c.last();
  Hlc max_seen = prev;
  for (int i = 0; i < 5000; ++i) {
    if (rng() % 4 == 0) {
      Hlc remote{static_cast<int64_t>(rng() % 100000), static_cast<uint32_t>(rng() % 5)};
      c.observe(remote);
      if (remote > max_seen) max_seen = remote;
      CHECK(c.last() >= remote);
    } else {
      auto physical = static_cast<int64_t>(rng() % 100000);
      auto t = c.tick(physical);
      REQUIRE(t > prev);
      REQUIRE(t > max_seen);
      CHECK(t.ms >= physical);
      prev = t;
      max_seen = t;
    }
  }
}

TEST_CASE("hlc: a counter at its maximum does not wrap below earlier timestamps", "[model]") {
  // observe() accepts any remote counter, so a damaged or hostile peer can push the counter to
  // UINT32_MAX; the next tick in the same millisecond must still come after it.
  HybridClock c;
  c.observe(Hlc{1000, std::numeric_limits<uint32_t>::max()});
  auto before = c.last();
  auto t = c.tick(1000);
  CHECK(t > before);
}
