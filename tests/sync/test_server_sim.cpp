// The server-level simulation (server_sim.hpp): light protocol clients written in the test push and
// pull through the FaultyTransport against SyncServer over the SQLite server store, and the oracle
// checks SPEC §5 invariants 1 (during the run and at the end), 2 (the server's live versions and
// deletion bases equal the oracle's naive merge; a clean pull from cursor 0 carries exactly the
// expected state of each scope), 3 (after drops, duplicates, held-back and cut requests and replies)
// and 4 (attribution). Runs without the device store, so the server is proven on its own.
//
// Its broken-merge test runs the same seeds with the server's MergeMode::last_writer_wins_for_tests
// and requires the oracle to catch at least 90% of them.
#include "server_sim.hpp"
#include "sim_seeds.hpp"

using namespace tz::sim;

namespace {

constexpr uint64_t kSeeds = 150;
constexpr int kSteps = 80;

std::string str(const Totals<ServerSimStats>& t) { return "faults: " + t.faults.str() + "\n" + t.stats.str(); }

void coverage(const Totals<ServerSimStats>& t) {
  const auto& s = t.stats;
  require_coverage(str(t), t.faults,
                   {{"restamped", s.restamped}, {"quarantined", s.quarantined},
                    {"fields in conflict", s.conflict_fields}, {"deleted", s.deleted}, {"releases", s.releases},
                    {"concurrent pairs", s.concurrent}});
}

}  // namespace

TEST_CASE("sim: the server keeps every write and converges under a faulty transport", "[sim][server_sim]") {
  const uint64_t seeds = env_u64("TZ_SIM_DEFAULT_SEEDS", kSeeds);
  auto t = run_seeds(run_server_simulation, 1, seeds, kSteps, tz::MergeMode::correct, true);
  WARN("server sim: " << t.runs << " seeds in " << t.seconds << " s\n" << str(t));
  CHECK(t.failed == 0);
  coverage(t);
}

// The broken-merge test at the server level: same seeds, a server that keeps only the last writer.
TEST_CASE("sim: the server-level seeds catch a last-writer-wins merge", "[sim][server_sim]") {
  require_lww_caught(run_server_simulation, "server sim", kSeeds, kSteps);
}

TEST_CASE("sim: one server-level seed from the environment", "[sim][server_sim]") {
  run_env_seed(run_server_simulation, kSteps);
}

TEST_CASE("sim: thousands of server-level seeds", "[.long]") {
  const int steps = static_cast<int>(env_u64("TZ_SIM_STEPS", 150));
  auto t = run_seeds(run_server_simulation, env_u64("TZ_SIM_FIRST", 100000), env_u64("TZ_SIM_SEEDS", 2000), steps,
                     tz::MergeMode::correct, true);
  WARN("server sim long: " << t.runs << " seeds of " << steps << " steps in " << t.seconds << " s, " << t.failed
                           << " failed\n" << str(t));
  CHECK(t.failed == 0);
  coverage(t);
}
