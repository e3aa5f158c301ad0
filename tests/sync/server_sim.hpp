// The server-level half of the sync simulator: a simulation whose devices are light protocol clients
// written in this test (they build PushRequests and PullRequests themselves, compute bases from what
// they last pulled, and keep their own change log), so the server (SyncServer over the SQLite server store) is exercised and
// checked by the oracle without the device store. simulator.hpp drives real device stores
// (DeviceStore, Editor, DeviceSync) through the same FaultyTransport (sim_common.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "sim_common.hpp"

namespace tz::sim {

struct ServerSimOptions : RunOptions {
  ServerSimOptions() { steps = 80; }
};

struct ServerSimStats {
  uint64_t accepted = 0, quarantined = 0, restamped = 0, conflict_fields = 0, deleted = 0, releases = 0,
           rejects = 0, pulled_records = 0, concurrent = 0;
  void add(const ServerSimStats& o);
  std::string str() const;  // the totals line of the tests (no "accepted")
};

struct ServerSimResult : RunLog {
  ServerSimStats stats;
  std::string report(size_t max_violations = 12, size_t last_events = 40) const;
};

ServerSimResult run_server_simulation(const ServerSimOptions& options);

}  // namespace tz::sim
