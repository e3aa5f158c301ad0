// The server-level simulation (server_sim.hpp): light protocol clients written in the test push and
// pull through the FaultyTransport against SyncServer over the SQLite server store, and the oracle
// checks SPEC §5 invariants 1 (during the run and at the end), 2 (the server's live versions and
// deletion bases equal the oracle's naive merge; a clean pull from cursor 0 carries exactly the
// expected state of each scope), 3 (after drops, duplicates, held-back and cut requests and replies)
// and 4 (attribution). Runs without the device store, so the server is proven on its own.
//
// Its broken-merge test runs the same seeds with the server's MergeMode::last_writer_wins_for_tests
// and requires the oracle to catch at least 90% of them.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>

#include "server_sim.hpp"

namespace {

constexpr uint64_t kSeeds = 150;
constexpr int kSteps = 80;

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Totals {
  uint64_t runs = 0, failed = 0, restamped = 0, quarantined = 0, conflicts = 0, deleted = 0, releases = 0,
           rejects = 0, pulled = 0, concurrent = 0;
  tz::sim::FaultCounts faults;
  double seconds = 0;
  std::string str() const {
    return "faults: " + faults.str() + "\nrestamped " + std::to_string(restamped) + ", quarantined " +
           std::to_string(quarantined) + ", fields in conflict " + std::to_string(conflicts) + ", deleted " +
           std::to_string(deleted) + ", releases " + std::to_string(releases) + ", rejects " +
           std::to_string(rejects) + ", pulled records " + std::to_string(pulled) + ", concurrent pairs " +
           std::to_string(concurrent);
  }
};

Totals run(uint64_t first, uint64_t count, int steps, tz::MergeMode mode, bool expect_clean) {
  Totals t;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t seed = first; seed < first + count; ++seed) {
    tz::sim::ServerSimOptions o;
    o.seed = seed;
    o.steps = steps;
    o.merge_mode = mode;
    auto r = tz::sim::run_server_simulation(o);
    ++t.runs;
    t.faults.add(r.faults);
    t.restamped += r.restamped;
    t.quarantined += r.quarantined;
    t.conflicts += r.conflict_fields;
    t.deleted += r.deleted;
    t.releases += r.releases;
    t.rejects += r.rejects;
    t.pulled += r.pulled_records;
    t.concurrent += r.concurrent;
    if (!r.ok()) {
      ++t.failed;
      if (expect_clean) {
        CAPTURE(seed);
        FAIL_CHECK((t.failed <= 3 ? r.report() : r.report(3, 0)));
      }
    }
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

void coverage(const Totals& t) {
  INFO(t.str());
  CHECK(t.faults.drop_request > 0);
  CHECK(t.faults.drop_reply > 0);
  CHECK(t.faults.duplicate > 0);
  CHECK(t.faults.reorder > 0);
  CHECK(t.faults.cut_request > 0);
  CHECK(t.faults.cut_reply > 0);
  CHECK(t.restamped > 0);
  CHECK(t.quarantined > 0);
  CHECK(t.conflicts > 0);
  CHECK(t.deleted > 0);
  CHECK(t.releases > 0);
  CHECK(t.concurrent > 0);
}

}  // namespace

TEST_CASE("sim: the server keeps every write and converges under a faulty transport", "[sim][server_sim]") {
  auto t = run(1, env_u64("TZ_SIM_DEFAULT_SEEDS", kSeeds), kSteps, tz::MergeMode::correct, true);
  WARN("server sim: " << t.runs << " seeds in " << t.seconds << " s\n" << t.str());
  CHECK(t.failed == 0);
  coverage(t);
}

// The broken-merge test at the server level: same seeds, a server that keeps only the last writer.
TEST_CASE("sim: the server-level seeds catch a last-writer-wins merge", "[sim][server_sim]") {
  auto t = run(1, env_u64("TZ_SIM_DEFAULT_SEEDS", kSeeds), kSteps, tz::MergeMode::last_writer_wins_for_tests, false);
  WARN("server sim (last writer wins): " << t.failed << " of " << t.runs << " seeds caught in " << t.seconds << " s");
  CHECK(t.failed >= 1);
  CHECK(t.failed * 10 >= t.runs * 9);
}

TEST_CASE("sim: one server-level seed from the environment", "[sim][server_sim]") {
  const uint64_t seed = env_u64("TZ_SIM_SEED", 0);
  if (seed == 0) return;
  tz::sim::ServerSimOptions o;
  o.seed = seed;
  o.steps = static_cast<int>(env_u64("TZ_SIM_STEPS", kSteps));
  if (std::getenv("TZ_SIM_LWW")) o.merge_mode = tz::MergeMode::last_writer_wins_for_tests;
  auto r = tz::sim::run_server_simulation(o);
  INFO(r.report(50, 400));
  CHECK(r.ok());
}

TEST_CASE("sim: thousands of server-level seeds", "[.long]") {
  const int steps = static_cast<int>(env_u64("TZ_SIM_STEPS", 150));
  auto t = run(env_u64("TZ_SIM_FIRST", 100000), env_u64("TZ_SIM_SEEDS", 2000), steps, tz::MergeMode::correct, true);
  WARN("server sim long: " << t.runs << " seeds of " << steps << " steps in " << t.seconds << " s, " << t.failed
                           << " failed\n" << t.str());
  CHECK(t.failed == 0);
  coverage(t);
}
