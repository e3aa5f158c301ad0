// The server-level half of the sync simulator: the FaultyTransport every simulated device talks
// through, and a simulation whose devices are light protocol clients written in this test (they
// build PushRequests and PullRequests themselves, compute bases from what they last pulled, and keep
// their own change log), so the server (SyncServer over the SQLite server store) is exercised and
// checked by the oracle without the device store. simulator.hpp drives real device stores
// (DeviceStore, Editor, DeviceSync) through the same transport.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "oracle.hpp"
#include "tz/model/merge.hpp"
#include "tz/sync/transport.hpp"

namespace tz::sync {
class SyncServer;
}

namespace tz::sim {

struct FaultCounts {
  uint64_t exchanges = 0, drop_request = 0, drop_reply = 0, duplicate = 0, reorder = 0, late_delivery = 0,
           cut_request = 0, cut_reply = 0;
  void add(const FaultCounts& o);
  std::string str() const;
};

// A Transport in front of a LoopbackTransport: every request the server runs and its reply go to the
// oracle (observe_exchange), whatever the device then gets. Faults are chosen with the simulator's rng.
class FaultyTransport final : public sync::Transport {
 public:
  FaultyTransport(sync::SyncServer& server, Oracle& oracle, std::mt19937_64& rng);
  Result<std::string> exchange(std::string_view request) override;
  // Delivers every held-back request now (their replies go to the oracle only).
  void deliver_held();

  bool faults = true;
  double fault_rate = 0.2;  // the share of exchanges that meet a fault
  FaultCounts counts;

 private:
  std::string run(std::string_view request);
  sync::LoopbackTransport loop_;
  Oracle& oracle_;
  std::mt19937_64& rng_;
  std::vector<std::string> held_;
};

struct ServerSimOptions {
  uint64_t seed = 1;
  int devices = 5;
  int steps = 80;
  bool faults = true;
  MergeMode merge_mode = MergeMode::correct;  // the server's; last_writer_wins_for_tests: broken merge
  int check_every = 10;
};

struct ServerSimResult {
  uint64_t seed = 0;
  std::vector<Violation> violations;
  std::vector<std::string> events;
  FaultCounts faults;
  uint64_t accepted = 0, quarantined = 0, restamped = 0, conflict_fields = 0, deleted = 0, releases = 0,
           rejects = 0, pulled_records = 0, concurrent = 0;
  bool ok() const { return violations.empty(); }
  std::string report(size_t max_violations = 12, size_t last_events = 40) const;
};

ServerSimResult run_server_simulation(const ServerSimOptions& options);

}  // namespace tz::sim
