// What the two sync simulators share (simulator.hpp drives real device stores, server_sim.hpp light
// protocol clients): the value pools, the FaultyTransport, the run's log, and SimCore, the server
// side of a run (seeded rng and clock, SQLite server store, SyncServer, oracle) with the step loop,
// the reviewer and the invariant checks.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "oracle.hpp"
#include "temp_dir.hpp"
#include "tz/model/merge.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/model/validation.hpp"
#include "tz/sync/scope.hpp"
#include "tz/sync/transport.hpp"

namespace tz::sync {
class ServerStore;
class SyncServer;
}  // namespace tz::sync

namespace tz::sim {

// 2026-11-01 12:00 China time (store_fixture.hpp kNowMs): where every run's clock starts.
inline constexpr int64_t kStartMs = 1793505600000LL;

// Villages of the fixture's region tree (data/regions/trees/522632.csv): three of the township
// 古州镇 (522632100) and one of 忠诚镇 (522632101).
extern const std::vector<std::string> kVillages;
// Scopes mixing the whole county, a township and villages; device i gets scope i mod 5.
extern const std::vector<sync::Scope> kScopes;
// 17 digits of resident IDs of the county (the check character is computed): a small pool, so the
// same person is created on several devices. The server-level simulation uses the first five.
extern const std::vector<std::string> kIds17;
extern const std::vector<std::string> kNames;
extern const std::vector<std::string> kTexts;
// Deletion reasons; the server-level simulation uses the first two.
extern const std::vector<std::string> kReasons;

// The first n items of a pool.
std::vector<std::string> first(const std::vector<std::string>& pool, size_t n);

// to.*m += from.*m for each counter m.
template <class T>
void add_members(T& to, const T& from, std::initializer_list<uint64_t T::*> members) {
  for (auto m : members) to.*m += from.*m;
}

std::string msg(const Error& e);
std::string short_id(const EntityId& id);
std::string join(const std::vector<std::string>& v);

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

// What a run of either simulation leaves, besides its counters.
struct RunLog {
  uint64_t seed = 0;
  std::vector<Violation> violations;
  std::vector<std::string> events;  // what happened, step by step
  FaultCounts faults;
  bool ok() const { return violations.empty(); }
  // "seed <seed><kind>: ", the violations (at most max of them), the faults, the counts line and
  // the last events, for a failure message.
  std::string report(std::string_view kind, const std::string& counts, size_t max_violations,
                     size_t last_events) const;
};

// Runs a simulation; a failure to set it up becomes the result's one violation.
template <class Res, class Run>
Res run_guarded(uint64_t seed, Run run) {
  std::string why;
  try {
    return run();
  } catch (const Failure& f) {
    why = msg(f.error());
  } catch (const std::exception& e) {
    why = e.what();
  }
  Res r;
  r.seed = seed;
  r.violations.push_back({0, "setting up the simulation failed: " + why});
  return r;
}

// A simulated device: what both simulations give each one.
struct SimDevice {
  std::string name;
  sync::Scope scope;
  std::vector<std::string> villages;  // the pool villages the scope holds
  int64_t offset_ms = 0;              // its clock's offset from the true time
  std::string collector;
};

// What a run is asked for (each simulation's options derive from it).
struct RunOptions {
  uint64_t seed = 1;
  int devices = 5;
  int steps = 60;
  bool faults = true;
  // last_writer_wins_for_tests: the broken-merge tests (the server's merge; in the device-level
  // simulation the devices' too)
  MergeMode merge_mode = MergeMode::correct;
  int check_every = 10;  // invariant 1 is checked every this many steps
};

// The server a run talks to.
struct ServerSetup {
  const Schema* schema = nullptr;
  std::string tree_csv;                          // the county's region tree
  const region::CountyList* counties = nullptr;  // for the validation context
  std::string dir_prefix;                        // the scratch folder's name
};

// The server side of a run, the step loop and the checks; a simulation derives from it, adds its
// devices and supplies one_step() and finish().
class SimCore {
 public:
  SimCore(const SimCore&) = delete;
  SimCore& operator=(const SimCore&) = delete;

 protected:
  SimCore(const RunOptions& run, const ServerSetup& setup);
  virtual ~SimCore();

  virtual void one_step() = 0;
  // The final quiescent round (called when the steps met no violation).
  virtual void finish() = 0;

  // The steps (invariant 1 checked every check_every of them), then finish(); an exception ends the
  // run as a violation. Returns the log, with the transport's fault counts.
  RunLog run_steps();

  size_t rnd(size_t n) { return n ? std::uniform_int_distribution<size_t>(0, n - 1)(rng_) : 0; }
  template <class C>
  const typename C::value_type& pick(const C& v) {
    return v[rnd(v.size())];
  }
  // An action index, drawn with these weights.
  int pick_action(std::initializer_list<int> weights);
  int64_t now_of(const SimDevice& d) const { return now_ms_ + d.offset_ms; }
  // Device i's scope, villages, clock offset (hours off: device 1 far ahead, so the server
  // re-stamps; the others anywhere within ±6 h) and collector.
  void place(SimDevice& d, int i);

  void event(const std::string& text);
  void violation(int inv, const std::string& what);
  void take(const std::vector<Violation>& vs, const std::string& when);
  ServerView snapshot() const;
  // Invariant 1 holds "at any time": checked while devices are still editing and syncing. True when
  // there is a violation.
  bool check_running();
  // Faults off, every held-back request delivered: the start of the final round.
  void quiesce();
  // Invariants 1-4 on the server after the final round (3: they hold after the run's faults).
  void check_server_final();
  // The reviewer releases or rejects a quarantined change; false when there is none.
  bool review(uint64_t& releases, uint64_t& rejects);
  // The county merges two persons the server holds (the smaller id survives) or undoes a merge in
  // force (SPEC §8); the oracle follows, with the changes the server made for it. False when there is
  // nothing to do.
  bool merge_or_unmerge(uint64_t& merges, uint64_t& unmerges);
  // Merges the server made on apply (two households given one 村代码 + 户编号, two persons one
  // 身份证号): the oracle follows them as county merges, with the changes the server made for them;
  // a survivor that is not the smaller id is a violation. Returns how many were new.
  uint64_t take_apply_merges();
  // The changes the server made itself for merges (the merge device) reach the oracle as accepted.
  void take_server_changes();
  // The oracle's totals of the run.
  void count_outcomes(uint64_t& accepted, uint64_t& quarantined, uint64_t& restamped, uint64_t& conflict_fields,
                      uint64_t& deleted) const;

  const std::vector<FieldId>& editable(EntityType t) const {
    return t == EntityType::household ? hh_fields_ : person_fields_;
  }
  // A value for an editable field: a name for a person's name, else a short text.
  std::string value_for(FieldId f, EntityType t) {
    return t == EntityType::person && f == f_name_ ? pick(kNames) : pick(kTexts);
  }

  RunOptions opt_;
  std::mt19937_64 rng_;
  int64_t now_ms_ = kStartMs;
  int step_ = 0;
  RunLog log_;
  test::TempDir dir_;
  const Schema& schema_;
  region::RegionTree tree_;
  ValidationContext vctx_;
  Oracle oracle_;
  uint64_t merge_changes_seen_ = 0;  // the server-made changes (merge device) given to the oracle
  std::unique_ptr<sync::ServerStore> server_store_;
  std::unique_ptr<sync::SyncServer> server_;
  std::unique_ptr<FaultyTransport> net_;
  FieldId f_village_ = 0, f_hhno_ = 0, f_head_ = 0, f_mode_ = 0, f_hh_ = 0, f_name_ = 0, f_idn_ = 0;
  std::vector<FieldId> hh_fields_, person_fields_;
};

}  // namespace tz::sim
