// What the two simulator test drivers share: the environment knobs, the seed loop, the test of one
// seed from the environment, and the coverage and broken-merge checks.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <utility>

#include "sim_common.hpp"

namespace tz::sim {

inline uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

template <class Stats>
struct Totals {
  uint64_t runs = 0, failed = 0;
  FaultCounts faults;
  Stats stats;
  double seconds = 0;
};

// Runs seeds [first, first + count) of a simulation (run_simulation or run_server_simulation); with
// expect_clean every failing seed is reported (the first three in full).
template <class Options, class Res>
Totals<decltype(Res::stats)> run_seeds(Res (*run)(const Options&), uint64_t first, uint64_t count, int steps,
                                       MergeMode mode, bool expect_clean) {
  Totals<decltype(Res::stats)> t;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t seed = first; seed < first + count; ++seed) {
    Options o;
    o.seed = seed;
    o.steps = steps;
    o.merge_mode = mode;
    auto r = run(o);
    ++t.runs;
    t.faults.add(r.faults);
    t.stats.add(r.stats);
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

// The seed TZ_SIM_SEED (none: nothing to do), TZ_SIM_STEPS steps, with the last-writer-wins merge
// when TZ_SIM_LWW is set; its report is printed with -s or on failure.
template <class Options, class Res>
void run_env_seed(Res (*run)(const Options&), int default_steps) {
  const uint64_t seed = env_u64("TZ_SIM_SEED", 0);
  if (seed == 0) return;
  Options o;
  o.seed = seed;
  o.steps = static_cast<int>(env_u64("TZ_SIM_STEPS", static_cast<uint64_t>(default_steps)));
  if (std::getenv("TZ_SIM_LWW")) o.merge_mode = MergeMode::last_writer_wins_for_tests;
  auto r = run(o);
  INFO(r.report(50, 400));
  CHECK(r.ok());
}

// Every named count is above zero.
inline void check_positive(std::initializer_list<std::pair<const char*, uint64_t>> counts) {
  for (auto& [name, count] : counts) {
    INFO(name);
    CHECK(count > 0);
  }
}

// The totals show coverage: (3) every kind of fault happened, and each named count of the
// histories is above zero. totals: printed when a check fails.
inline void require_coverage(const std::string& totals, const FaultCounts& f,
                             std::initializer_list<std::pair<const char*, uint64_t>> counts) {
  INFO(totals);
  check_positive({{"dropped requests", f.drop_request},
                  {"dropped replies", f.drop_reply},
                  {"duplicated", f.duplicate},
                  {"held back", f.reorder},
                  {"cut requests", f.cut_request},
                  {"cut replies", f.cut_reply}});
  check_positive(counts);
}

// The broken-merge test: the default seeds (TZ_SIM_DEFAULT_SEEDS overrides) with a merge that keeps
// only the last writer. The oracle must catch at least 90% of them, and certainly one: otherwise the
// seeds prove nothing about the merge.
template <class Options, class Res>
void require_lww_caught(Res (*run)(const Options&), const char* label, uint64_t default_seeds, int steps) {
  const uint64_t seeds = env_u64("TZ_SIM_DEFAULT_SEEDS", default_seeds);
  auto t = run_seeds(run, 1, seeds, steps, MergeMode::last_writer_wins_for_tests, false);
  WARN(label << " (last writer wins): " << t.failed << " of " << t.runs << " seeds caught in " << t.seconds << " s");
  CHECK(t.failed >= 1);
  CHECK(t.failed * 10 >= t.runs * 9);
}

}  // namespace tz::sim
