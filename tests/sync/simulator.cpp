// The randomized sync simulator (simulator.hpp).
#include "simulator.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "store_fixture.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::sim {

// ---------------------------------------------------------------------------------------------
// Counters

void SimStats::add(const SimStats& o) {
  using S = SimStats;
  add_members(*this, o,
              {&S::creates, &S::edits, &S::equal_pairs, &S::concurrent_pairs, &S::deletes, &S::restores, &S::resolves,
               &S::concurrent_resolves, &S::moves, &S::invalid_values, &S::releases, &S::rejects, &S::merges, &S::unmerges, &S::pushes,
               &S::pulls, &S::syncs, &S::sync_errors, &S::skipped, &S::accepted, &S::quarantined, &S::restamped,
               &S::conflict_fields, &S::deleted_entities});
}

std::string SimStats::str() const {
  std::ostringstream o;
  o << "creates " << creates << ", edits " << edits << ", equal pairs " << equal_pairs << ", concurrent pairs "
    << concurrent_pairs << ", deletes " << deletes << ", restores " << restores << ", resolves " << resolves
    << ", concurrent resolves " << concurrent_resolves << ", moves " << moves << ", invalid values "
    << invalid_values << ", releases " << releases << ", rejects " << rejects << ", merges " << merges << ", unmerges " << unmerges << ", push_once " << pushes
    << ", pull_once " << pulls << ", sync " << syncs << ", sync errors " << sync_errors << ", skipped " << skipped
    << "; accepted " << accepted << ", quarantined " << quarantined << ", restamped " << restamped
    << ", fields in conflict " << conflict_fields << ", deleted entities " << deleted_entities;
  return o.str();
}

std::string SimResult::report(size_t max_violations, size_t last_events) const {
  return RunLog::report("", "stats: " + stats.str(), max_violations, last_events);
}

// ---------------------------------------------------------------------------------------------
// The simulation

namespace {

// A device with a real store, synced by DeviceSync.
struct Dev : SimDevice {
  std::unique_ptr<DeviceStore> store;
  std::unique_ptr<ops::DeviceSync> sync;
  ops::DeviceSyncOptions options;
  bool has_copy = false;  // an older copy of its store was taken (SPEC §5 Epochs: a restore)
};

class Sim final : SimCore {
 public:
  explicit Sim(const SimOptions& opt) : SimCore(opt, server_setup()) {
    for (int i = 0; i < opt.devices; ++i) {
      Dev d;
      d.name = "d" + std::to_string(i);
      // Device ids from the seed: they order versions, so a printed seed replays exactly.
      std::string raw(16, '\0');
      for (auto& c : raw) c = static_cast<char>(rnd(256));
      d.store = test::make_store(dir_.path() / d.name, "county-secret-for-the-simulator-32b", nullptr,
                                 DeviceId::from_bytes(raw));
      place(d, i);
      ops::DeviceSyncOptions dso;
      dso.push_batch = 1 + rnd(4);
      dso.page_records = static_cast<uint32_t>(1 + rnd(8));
      dso.merge_mode = opt.merge_mode;
      const size_t idx = devs_.size();
      d.options = dso;
      d.sync = std::make_unique<ops::DeviceSync>(*d.store, *net_, [this, idx] { return dev_now(idx); }, dso);
      if (auto st = server_->register_device(d.store->info().device, d.scope); !st)
        throw std::runtime_error("register_device: " + msg(st.error()));
      event("register " + d.name + " device " + d.store->info().device.hex().substr(0, 8) + " scope " + join(d.scope) +
            " clock offset " + std::to_string(d.offset_ms / 60000) + " min");
      devs_.push_back(std::move(d));
    }
  }

  SimResult run() {
    SimResult r;
    static_cast<RunLog&>(r) = run_steps();
    count_outcomes(stats_.accepted, stats_.quarantined, stats_.restamped, stats_.conflict_fields,
                   stats_.deleted_entities);
    r.stats = stats_;
    return r;
  }

 private:
  static ServerSetup server_setup() {
    return {&test::resources().schema, *test::resources().county_tree_csv("522632"), &test::resources().counties,
            "tz-sim"};
  }
  int64_t dev_now(size_t i) const { return now_of(devs_[i]); }

  // Entities a device holds, by id.
  std::map<EntityId, Entity> held(size_t i, std::optional<EntityType> type = std::nullopt) const {
    std::map<EntityId, Entity> out;
    devs_[i].store->scan(type, [&](EntityRow&& r) { out.emplace(r.entity.id, std::move(r.entity)); });
    return out;
  }
  static bool locally_deleted(const Entity& e) {
    auto it = e.fields.find(kDeletedField);
    if (it == e.fields.end()) return false;
    for (auto& v : it->second.live)
      if (!v.value.empty()) return true;
    return false;
  }
  static std::vector<FieldId> conflicted_fields(const Entity& e) {
    std::vector<FieldId> out;
    for (auto& [f, fv] : e.fields) {
      std::set<std::string> values;
      for (auto& v : fv.live) values.insert(v.value);
      if (values.size() > 1) out.push_back(f);
    }
    return out;
  }
  bool commit(ops::Editor& ed, size_t i, const std::string& what) {
    auto st = ed.commit();
    if (!st) {
      violation(0, devs_[i].name + ": the editor's commit failed (" + what + "): " + msg(st.error()));
      return false;
    }
    event(devs_[i].name + " " + what + " (next seq " + std::to_string(devs_[i].store->info().next_seq) + ")");
    return true;
  }
  ops::Editor editor(size_t i) { return ops::Editor(*devs_[i].store, ops::EditContext{devs_[i].collector, dev_now(i)}); }

  // --- actions ---

  bool create_household(size_t i) {
    auto& d = devs_[i];
    if (d.villages.empty()) return false;
    const std::string village = pick(d.villages);
    const std::string no = "00" + std::to_string(1 + rnd(3));
    const EntityId id = d.store->natural_keys().household(village, no);
    ops::Editor ed(*d.store, ops::EditContext{d.collector, dev_now(i)});
    bool created = false;
    Entity& e = ed.get_or_create(EntityType::household, id, &created);
    if (!created) return false;
    ed.set(e, f_village_, village);
    ed.set(e, f_hhno_, no);
    ed.set(e, f_head_, pick(kNames));
    ++stats_.creates;
    return commit(ed, i, "creates household " + short_id(id) + " in " + village + " no " + no);
  }

  bool create_person(size_t i) {
    auto& d = devs_[i];
    std::vector<EntityId> households;
    for (auto& [id, e] : held(i, EntityType::household))
      if (!locally_deleted(e)) households.push_back(id);
    if (households.empty()) return false;
    const EntityId hh = pick(households);
    const std::string idn = test::idc(pick(kIds17));
    const EntityId id = d.store->natural_keys().person(idn);
    ops::Editor ed(*d.store, ops::EditContext{d.collector, dev_now(i)});
    bool created = false;
    Entity& e = ed.get_or_create(EntityType::person, id, &created);
    if (!created) return false;
    ed.set(e, f_hh_, hh.hex());
    ed.set(e, f_name_, pick(kNames));
    ed.set(e, f_idn_, idn);
    ++stats_.creates;
    return commit(ed, i, "creates person " + short_id(id) + " (keyed by " + idn + ") in household " + short_id(hh));
  }

  // A random entity the device holds (of the type), or nothing.
  std::optional<Entity> pick_held(size_t i, std::optional<EntityType> type = std::nullopt) {
    auto all = held(i, type);
    if (all.empty()) return std::nullopt;
    std::vector<EntityId> ids;
    for (auto& [id, e] : all) ids.push_back(id);
    return all[pick(ids)];
  }

  // Sets one field and commits; false when nothing changed. Counts a set in *counter.
  bool set_one(size_t i, const EntityId& id, FieldId f, const std::string& v, const std::string& what,
               uint64_t* counter = nullptr) {
    auto ed = editor(i);
    Entity* e = ed.find(id);
    if (!e || !ed.set(*e, f, v)) return false;
    if (counter) ++*counter;
    return commit(ed, i, what);
  }

  bool edit(size_t i) {
    auto e = pick_held(i);
    if (!e || (e->type != EntityType::household && e->type != EntityType::person)) return false;
    const FieldId f = pick(editable(e->type));
    const std::string v = value_for(f, e->type);
    return set_one(i, e->id, f, v, "edits " + short_id(e->id) + " field " + std::to_string(f) + " = " + v,
                   &stats_.edits);
  }

  // Two devices that both hold an entity.
  bool shared_pair(size_t& i, size_t& j, EntityId& id, bool need_conflict, FieldId* conflict_field = nullptr) {
    for (int attempt = 0; attempt < 6; ++attempt) {
      i = rnd(devs_.size());
      j = rnd(devs_.size());
      if (i == j) continue;
      auto a = held(i), b = held(j);
      std::vector<std::pair<EntityId, FieldId>> common;
      for (auto& [eid, e] : a) {
        auto bit = b.find(eid);
        if (bit == b.end()) continue;
        if (e.type != EntityType::household && e.type != EntityType::person) continue;
        if (!need_conflict) {
          common.push_back({eid, 0});
          continue;
        }
        auto ca = conflicted_fields(e), cb = conflicted_fields(bit->second);
        for (auto f : ca)
          if (std::find(cb.begin(), cb.end(), f) != cb.end()) common.push_back({eid, f});
      }
      if (common.empty()) continue;
      auto [eid, f] = pick(common);
      id = eid;
      if (conflict_field) *conflict_field = f;
      return true;
    }
    return false;
  }

  bool concurrent_edit(bool equal) {
    size_t i = 0, j = 0;
    EntityId id;
    if (!shared_pair(i, j, id, false)) return false;
    auto e0 = devs_[i].store->get(id);
    if (!e0) return false;
    const FieldId f = pick(editable(e0->type));
    std::string v1 = value_for(f, e0->type), v2 = equal ? v1 : value_for(f, e0->type);
    if (!equal && v1 == v2) v2 = v1 + "'";
    int done = 0;
    for (auto [k, v] : {std::pair{i, v1}, std::pair{j, v2}})
      done += set_one(k, id, f, v,
                      std::string(equal ? "equal-value" : "concurrent") + " edit of " + short_id(id) + " field " +
                          std::to_string(f) + " = " + v);
    if (done == 2) ++(equal ? stats_.equal_pairs : stats_.concurrent_pairs);
    return done > 0;
  }

  bool remove_or_restore(size_t i, bool restore) {
    auto all = held(i);
    std::vector<EntityId> ids;
    for (auto& [id, e] : all)
      if (locally_deleted(e) == restore) ids.push_back(id);
    if (ids.empty()) return false;
    const EntityId id = pick(ids);
    const std::string reason = restore ? "" : pick(kReasons);
    auto ed = editor(i);
    Entity* e = ed.find(id);
    if (!e) return false;
    ed.delete_entity(*e, reason);
    ++(restore ? stats_.restores : stats_.deletes);
    return commit(ed, i, (restore ? "restores " : "deletes ") + short_id(id) + (restore ? "" : " (" + reason + ")"));
  }

  bool resolve_one(size_t i, const EntityId& id, FieldId f, const std::string& value) {
    auto ed = editor(i);
    Entity* e = ed.find(id);
    if (!e || !ed.resolve(*e, f, value)) return false;
    return commit(ed, i, "resolves " + short_id(id) + " field " + std::to_string(f) + " = " + value);
  }

  std::string resolution_value(const Entity& e, FieldId f) {
    auto it = e.fields.find(f);
    if (it != e.fields.end() && !it->second.live.empty() && rnd(3)) return pick(it->second.live).value;
    return value_for(f, e.type);
  }

  bool resolve(size_t i) {
    auto all = held(i);
    std::vector<std::pair<EntityId, FieldId>> open;
    for (auto& [id, e] : all)
      for (auto f : conflicted_fields(e)) open.push_back({id, f});
    if (open.empty()) return false;
    auto [id, f] = pick(open);
    if (!resolve_one(i, id, f, resolution_value(all[id], f))) return false;
    ++stats_.resolves;
    return true;
  }

  bool concurrent_resolve() {
    size_t i = 0, j = 0;
    EntityId id;
    FieldId f = 0;
    if (!shared_pair(i, j, id, true, &f)) return false;
    auto e = devs_[i].store->get(id);
    if (!e) return false;
    bool a = resolve_one(i, id, f, resolution_value(*e, f));
    bool b = resolve_one(j, id, f, resolution_value(*e, f));
    if (a && b) ++stats_.concurrent_resolves;
    return a || b;
  }

  bool move_household(size_t i) {
    auto e = pick_held(i, EntityType::household);
    if (!e) return false;
    const std::string to = pick(kVillages);
    return set_one(i, e->id, f_village_, to, "moves household " + short_id(e->id) + " to " + to, &stats_.moves);
  }

  // A value a single-field error rule of the server's schema refuses: quarantined, for the reviewer.
  bool invalid_value(size_t i) {
    auto e = pick_held(i, EntityType::household);
    if (!e) return false;
    const std::string v = rnd(3) ? "99" : "01";
    return set_one(i, e->id, f_mode_, v,
                   "sets relocation_mode of " + short_id(e->id) + " = " + v + (v == "99" ? " (invalid)" : ""),
                   &stats_.invalid_values);
  }

  // Logs the outcome of one sync call (an error is counted); describe(reply): a success.
  template <class T, class Describe>
  void log_sync(const Dev& d, const std::string& what, const Result<T>& r, Describe describe) {
    if (!r) {
      ++stats_.sync_errors;
      event(d.name + " " + what + ": " + msg(r.error()));
    } else
      event(d.name + " " + what + ": " + describe(*r));
  }

  bool partial_sync(size_t i, int kind) {
    auto& d = devs_[i];
    const int times = 1 + static_cast<int>(rnd(3));
    for (int k = 0; k < times; ++k) {
      if (kind == 0) {
        ++stats_.pushes;
        log_sync(d, "push_once", d.sync->push_once(), [](const auto& r) {
          return "sent " + std::to_string(r.sent) + " acked " + std::to_string(r.acked_seq) + (r.done ? " done" : "");
        });
      } else if (kind == 1) {
        ++stats_.pulls;
        log_sync(d, "pull_once", d.sync->pull_once(), [](const auto& r) {
          return std::to_string(r.records) + " records" + (r.more ? " more" : "");
        });
      } else {
        ++stats_.syncs;
        log_sync(d, "sync", d.sync->sync(), [](const auto& r) {
          return "pushed " + std::to_string(r.pushed) + " pulled " + std::to_string(r.pulled_records);
        });
        break;
      }
    }
    return true;
  }

  // Closes a device's store, runs `between` on its files, opens it again with a new DeviceSync.
  template <typename F>
  void reopen(size_t i, F between) {
    auto& d = devs_[i];
    d.sync.reset();
    d.store.reset();
    between(dir_.path() / d.name, dir_.path() / (d.name + "-copy"));
    d.store = open_device_store(dir_.path() / d.name, "correct horse", test::resources().schema).take();
    d.sync = std::make_unique<ops::DeviceSync>(*d.store, *net_, [this, i] { return dev_now(i); }, d.options);
  }
  // Takes a copy of a device's store, or puts an older copy back: the device then reuses sequence
  // numbers the server holds with other content, and must recover with nothing lost.
  bool copy_store(size_t i) {
    namespace fs = std::filesystem;
    reopen(i, [](const fs::path& store, const fs::path& copy) {
      fs::remove_all(copy);
      fs::copy(store, copy, fs::copy_options::recursive);
    });
    devs_[i].has_copy = true;
    event(devs_[i].name + " copies its store");
    return true;
  }
  bool restore_store(size_t i) {
    namespace fs = std::filesystem;
    if (!devs_[i].has_copy) return false;
    reopen(i, [](const fs::path& store, const fs::path& copy) {
      fs::remove_all(store);
      fs::copy(copy, store, fs::copy_options::recursive);
    });
    event(devs_[i].name + " is restored from its older copy (next seq " +
          std::to_string(devs_[i].store->info().next_seq) + ")");
    return true;
  }

  void one_step() override {
    const size_t i = rnd(devs_.size());
    const int a = pick_action({8, 8, 20, 6, 5, 3, 2, 4, 3, 3, 2, 9, 9, 9, 3, 2, 3, 3});
    bool done = false;
    switch (a) {
      case 0: done = create_household(i); break;
      case 1: done = create_person(i); break;
      case 2: done = edit(i); break;
      case 3: done = concurrent_edit(false); break;
      case 4: done = concurrent_edit(true); break;
      case 5: done = remove_or_restore(i, false); break;
      case 6: done = remove_or_restore(i, true); break;
      case 7: done = resolve(i); break;
      case 8: done = concurrent_resolve(); break;
      case 9: done = move_household(i); break;
      case 10: done = invalid_value(i); break;
      case 11: done = partial_sync(i, 0); break;
      case 12: done = partial_sync(i, 1); break;
      case 13: done = partial_sync(i, 2); break;
      case 14: done = review(stats_.releases, stats_.rejects); break;
      case 15: done = copy_store(i); break;
      case 16: done = restore_store(i); break;
      default: done = merge_or_unmerge(stats_.merges, stats_.unmerges); break;
    }
    trace();
    if (!done) {
      ++stats_.skipped;
      // Nothing to act on yet: a device with nothing creates something.
      if (a <= 10) create_household(i);
    }
  }

  // TZ_SIM_TRACE=<entity hex prefix>: after every step and final sync, one event with the live
  // versions (id, value, stamp, receipt time) of the matching entities on the server and on each
  // device, and each device's logged changes to them with its acknowledgement: how a divergence of
  // one entity came about (docs/decisions.md 224).
  static std::string traced(const FieldId f, const Versions& live) {
    std::string out = " f" + std::to_string(f) + "{";
    for (auto& v : live)
      out += " " + v.id.str() + "=" + v.value + "@" + std::to_string(v.ts.ms) + "." + std::to_string(v.ts.counter) +
             "/" + std::to_string(v.server_ms);
    return out + " }";
  }
  void trace() {
    if (trace_.empty()) return;
    auto wanted = [&](const EntityId& id) { return id.hex().starts_with(trace_); };
    std::string line;
    server_->store().scan_entities([&](const sync::EntityRecord& r) {
      if (!wanted(r.state.id)) return;
      line += " | server " + short_id(r.state.id) + ":";
      for (auto& [f, fs] : r.state.fields) line += traced(f, fs.live);
    });
    for (size_t i = 0; i < devs_.size(); ++i) {
      auto& d = devs_[i];
      for (auto& [id, e] : held(i))
        if (wanted(id)) {
          line += " | " + d.name + " " + short_id(id) + ":";
          for (auto& [f, fv] : e.fields) line += traced(f, fv.live);
        }
      std::string logged;
      for (auto& c : d.store->changes_after(0))
        if (wanted(c.entity))
          logged += " " + std::to_string(c.version.seq.value) + ":f" + std::to_string(c.field) + "@" +
                    std::to_string(c.ts.ms) + "." + std::to_string(c.ts.counter);
      if (!logged.empty())
        line += " | " + d.name + " log" + logged + " (acked " + std::to_string(d.store->info().acked_seq) + ", next " +
                std::to_string(d.store->info().next_seq) + ")";
    }
    if (!line.empty()) event("trace" + line);
  }

  static std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    int line = 0;
    while (true) {
      bool ga = static_cast<bool>(std::getline(sa, la)), gb = static_cast<bool>(std::getline(sb, lb));
      ++line;
      if (!ga && !gb) return "equal";
      if (!ga) la = "<end>";
      if (!gb) lb = "<end>";
      if (la != lb || !ga || !gb)
        return "line " + std::to_string(line) + ": device \"" + la.substr(0, 300) + "\" server \"" +
               lb.substr(0, 300) + "\"";
    }
  }

  // The final quiescent round: faults off, everything held back delivered, every device pushes
  // everything (sync() pushes first), then every device pulls everything (a second sync(), when
  // every device's changes are on the server). Then invariants 1-4.
  void finish() override {
    quiesce();
    for (int round = 0; round < 2; ++round)
      for (size_t i = 0; i < devs_.size(); ++i) {
        auto r = devs_[i].sync->sync();
        if (!r) violation(2, devs_[i].name + ": sync() in the quiescent round failed: " + msg(r.error()));
        else
          event(devs_[i].name + " final sync " + std::to_string(round) + ": pushed " + std::to_string(r->pushed) +
                " pulled " + std::to_string(r->pulled_records));
        trace();
      }
    for (size_t i = 0; i < devs_.size(); ++i)
      if (devs_[i].store->pending_change_count() != 0)
        violation(2, devs_[i].name + " still has " + std::to_string(devs_[i].store->pending_change_count()) +
                         " unacknowledged changes after the quiescent round");
    check_server_final();
    for (size_t i = 0; i < devs_.size(); ++i) {
      auto& d = devs_[i];
      auto dd = ops::device_scope_digest(*d.store, d.scope);
      auto sd = server_->scope_digest(d.scope);
      if (dd != sd)
        violation(2, d.name + " (scope " + join(d.scope) + "): device_scope_digest != server scope_digest; first difference " +
                         first_difference(dd, sd));
      take(oracle_.check_device(d.name, held(i), d.scope), "final: ");
    }
  }

  SimStats stats_;
  std::vector<Dev> devs_;
  const std::string trace_ = [] {
    const char* t = std::getenv("TZ_SIM_TRACE");
    return std::string(t ? t : "");
  }();
};

}  // namespace

SimResult run_simulation(const SimOptions& options) {
  return run_guarded<SimResult>(options.seed, [&] { return Sim(options).run(); });
}

}  // namespace tz::sim
