// A seeded randomized simulator of SPEC §5 sync: one server (SQLite server store, SyncServer with an
// injected clock), several device stores with scopes that mix villages, a township and the whole
// county, device clocks hours off, and a FaultyTransport that drops, duplicates, holds back
// (reorders) and cuts requests and replies. Every step a random device edits (through tz::ops::Editor)
// or syncs part of the way; a reviewer releases or rejects quarantined changes. The independent
// Oracle (oracle.hpp) records what the server accepted at the transport level and checks the
// invariants during the run and after a final quiescent round.
#pragma once

#include <cstdint>
#include <string>

#include "sim_common.hpp"

namespace tz::sim {

struct SimOptions : RunOptions {};  // 60 steps

struct SimStats {
  uint64_t creates = 0, edits = 0, equal_pairs = 0, concurrent_pairs = 0, deletes = 0, restores = 0, resolves = 0,
           concurrent_resolves = 0, moves = 0, invalid_values = 0, releases = 0, rejects = 0, merges = 0, unmerges = 0, pushes = 0, pulls = 0,
           syncs = 0, sync_errors = 0, skipped = 0;
  uint64_t accepted = 0, quarantined = 0, restamped = 0, conflict_fields = 0, deleted_entities = 0;
  void add(const SimStats& o);
  std::string str() const;
};

struct SimResult : RunLog {
  SimStats stats;
  // The violations (at most max of them) and the last events, for a failure message.
  std::string report(size_t max_violations = 12, size_t last_events = 40) const;
};

SimResult run_simulation(const SimOptions& options);

}  // namespace tz::sim
