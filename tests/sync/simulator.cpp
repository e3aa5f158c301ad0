// The randomized sync simulator (simulator.hpp).
#include "simulator.hpp"

#include <unistd.h>

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
#include "tz/util/civil_time.hpp"

namespace tz::sim {

// ---------------------------------------------------------------------------------------------
// Counters

void SimStats::add(const SimStats& o) {
  uint64_t* a[] = {&creates, &edits, &equal_pairs, &concurrent_pairs, &deletes, &restores, &resolves,
                   &concurrent_resolves, &moves, &invalid_values, &releases, &rejects, &pushes, &pulls,
                   &syncs, &sync_errors, &skipped, &accepted, &quarantined, &restamped, &conflict_fields,
                   &deleted_entities};
  const uint64_t* b[] = {&o.creates, &o.edits, &o.equal_pairs, &o.concurrent_pairs, &o.deletes, &o.restores,
                         &o.resolves, &o.concurrent_resolves, &o.moves, &o.invalid_values, &o.releases, &o.rejects,
                         &o.pushes, &o.pulls, &o.syncs, &o.sync_errors, &o.skipped, &o.accepted, &o.quarantined,
                         &o.restamped, &o.conflict_fields, &o.deleted_entities};
  for (size_t i = 0; i < std::size(a); ++i) *a[i] += *b[i];
}

std::string SimStats::str() const {
  std::ostringstream o;
  o << "creates " << creates << ", edits " << edits << ", equal pairs " << equal_pairs << ", concurrent pairs "
    << concurrent_pairs << ", deletes " << deletes << ", restores " << restores << ", resolves " << resolves
    << ", concurrent resolves " << concurrent_resolves << ", moves " << moves << ", invalid values "
    << invalid_values << ", releases " << releases << ", rejects " << rejects << ", push_once " << pushes
    << ", pull_once " << pulls << ", sync " << syncs << ", sync errors " << sync_errors << ", skipped " << skipped
    << "; accepted " << accepted << ", quarantined " << quarantined << ", restamped " << restamped
    << ", fields in conflict " << conflict_fields << ", deleted entities " << deleted_entities;
  return o.str();
}

std::string SimResult::report(size_t max_violations, size_t last_events) const {
  std::ostringstream o;
  o << "seed " << seed << ": " << violations.size() << " violation(s)\n";
  for (size_t i = 0; i < violations.size() && i < max_violations; ++i) o << "  " << to_string(violations[i]) << "\n";
  o << "faults: " << faults.str() << "\nstats: " << stats.str() << "\n";
  o << "last events:\n";
  for (size_t i = events.size() > last_events ? events.size() - last_events : 0; i < events.size(); ++i)
    o << "  " << events[i] << "\n";
  return o.str();
}

// ---------------------------------------------------------------------------------------------
// The simulation

namespace {

// A scratch folder on tmpfs when there is one (the stores commit with synchronous=FULL).
class ScratchDir {
 public:
  ScratchDir() {
    std::filesystem::path base = "/dev/shm";
    std::error_code ec;
    if (!std::filesystem::is_directory(base, ec) || access(base.c_str(), W_OK) != 0)
      base = std::filesystem::temp_directory_path();
    std::string tmpl = (base / "tz-sim-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Villages of the fixture's region tree (data/regions/trees/522632.csv): three of the township
// 古州镇 (522632100) and one of 忠诚镇 (522632101).
const std::vector<std::string> kVillages = {"522632100207", "522632100208", "522632100209", "522632101001"};
// Scopes mixing the whole county, a township and villages.
const std::vector<sync::Scope> kScopes = {{"522632"},
                                          {"522632100"},
                                          {"522632100207"},
                                          {"522632100208", "522632101001"},
                                          {"522632100207", "522632100208"}};
// 17 digits of resident IDs of the county (the check character is computed): a small pool, so the
// same person is created on several devices.
const std::vector<std::string> kIds17 = {"52263219800101001", "52263219851212002", "52263219900505003",
                                         "52263219950707004", "52263220000303005", "52263219700909006"};
const std::vector<std::string> kNames = {"张三", "李四", "王五"};
const std::vector<std::string> kTexts = {"甲", "乙", "丙"};
const std::vector<std::string> kReasons = {"迁出", "死亡", "重复录入"};

std::string msg(const Error& e) { return std::string(e.name()) + ": " + e.message(Lang::en); }

std::string short_id(const EntityId& id) { return id.hex().substr(0, 8); }

struct Dev {
  std::string name;
  std::unique_ptr<DeviceStore> store;
  sync::Scope scope;
  std::vector<std::string> villages;  // the pool villages the scope holds
  int64_t offset_ms = 0;
  std::string collector;
  std::unique_ptr<ops::DeviceSync> sync;
};

class Sim {
 public:
  explicit Sim(const SimOptions& opt)
      : opt_(opt),
        rng_(opt.seed),
        now_ms_(test::kNowMs),
        schema_(test::resources().schema),
        tree_(region::RegionTree::parse_csv(*test::resources().county_tree_csv("522632"), "shipped").take()),
        oracle_(&schema_) {
    res_.seed = opt.seed;
    vctx_.today = china_date_of(test::kNowMs);
    vctx_.period_year = 2026;
    vctx_.settings = &schema_.settings();
    vctx_.counties = &test::resources().counties;
    vctx_.tree = &tree_;
    const auto& hs = schema_.entity(EntityType::household);
    const auto& ps = schema_.entity(EntityType::person);
    f_village_ = hs.require("village_code").id;
    f_hhno_ = hs.require("household_no").id;
    f_head_ = hs.require("head_name").id;
    f_mode_ = hs.require("relocation_mode").id;
    hh_fields_ = {f_head_, hs.require("address").id, hs.require("relocation_site").id};
    f_hh_ = ps.require("household_id").id;
    f_name_ = ps.require("name").id;
    f_idn_ = ps.require("id_number").id;
    person_fields_ = {f_name_, ps.require("ethnicity").id, ps.require("skills").id, ps.require("remarks").id};

    server_store_ = sync::open_sqlite_server_store(dir_.path() / "server").take();
    sync::ServerOptions so;
    so.merge_mode = opt.merge_mode;
    so.max_page_records = 1 + rnd(20);
    server_ = std::make_unique<sync::SyncServer>(*server_store_, schema_, vctx_, [this] { return now_ms_; }, so);
    net_ = std::make_unique<FaultyTransport>(*server_, oracle_, rng_);
    net_->faults = opt.faults;

    for (int i = 0; i < opt.devices; ++i) {
      Dev d;
      d.name = "d" + std::to_string(i);
      d.store = test::make_store(dir_.path() / d.name, "county-secret-for-the-simulator-32b");
      d.scope = kScopes[static_cast<size_t>(i) % kScopes.size()];
      for (auto& v : kVillages)
        if (oracle_scope_holds(d.scope, v)) d.villages.push_back(v);
      // Clocks hours off: d1 far ahead (the server re-stamps), the others anywhere within ±6 h.
      const int64_t hour = 3600 * 1000;
      d.offset_ms = i == 0 ? 0 : i == 1 ? hour + rnd(5 * hour) : static_cast<int64_t>(rnd(12 * hour)) - 6 * hour;
      d.collector = i % 2 ? "李强" : "王芳";
      ops::DeviceSyncOptions dso;
      dso.push_batch = 1 + rnd(4);
      dso.page_records = static_cast<uint32_t>(1 + rnd(8));
      dso.merge_mode = opt.merge_mode;
      const size_t idx = devs_.size();
      d.sync = std::make_unique<ops::DeviceSync>(*d.store, *net_, [this, idx] { return dev_now(idx); }, dso);
      if (auto st = server_->register_device(d.store->info().device, d.scope); !st)
        throw std::runtime_error("register_device: " + msg(st.error()));
      event("register " + d.name + " device " + d.store->info().device.hex().substr(0, 8) + " scope " + join(d.scope) +
            " clock offset " + std::to_string(d.offset_ms / 60000) + " min");
      devs_.push_back(std::move(d));
    }
  }

  SimResult run() {
    try {
      for (step_ = 1; step_ <= opt_.steps; ++step_) {
        now_ms_ += 1000 + static_cast<int64_t>(rnd(120000));
        one_step();
        if (step_ % opt_.check_every == 0 && check_running()) break;
      }
      if (res_.violations.empty()) finish();
    } catch (const Failure& f) {
      violation(0, "exception at step " + std::to_string(step_) + ": " + msg(f.error()));
    } catch (const std::exception& e) {
      violation(0, "exception at step " + std::to_string(step_) + ": " + e.what());
    }
    res_.faults = net_->counts;
    res_.stats.accepted = oracle_.entries().size();
    res_.stats.quarantined = oracle_.count(Oracle::Status::quarantined) + oracle_.count(Oracle::Status::released) +
                             oracle_.count(Oracle::Status::rejected);
    for (auto& [id, e] : oracle_.entries()) res_.stats.restamped += e.restamped;
    for (auto& [id, e] : oracle_.expected()) {
      res_.stats.deleted_entities += e.deleted;
      for (auto& [f, live] : e.live) {
        std::set<std::string> values;
        for (auto& v : live) values.insert(v.value);
        res_.stats.conflict_fields += values.size() > 1;
      }
    }
    return std::move(res_);
  }

 private:
  size_t rnd(size_t n) { return n ? std::uniform_int_distribution<size_t>(0, n - 1)(rng_) : 0; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[rnd(v.size())]; }
  int64_t dev_now(size_t i) const { return now_ms_ + devs_[i].offset_ms; }

  static std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
  }
  void event(const std::string& text) { res_.events.push_back("step " + std::to_string(step_) + ": " + text); }
  void violation(int inv, const std::string& what) {
    for (auto& v : res_.violations)
      if (v.what == what) return;
    res_.violations.push_back({inv, what});
  }

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
  const std::vector<FieldId>& editable(EntityType t) const {
    return t == EntityType::household ? hh_fields_ : person_fields_;
  }
  std::string value_for(FieldId f, EntityType t) {
    if (t == EntityType::person && f == f_name_) return pick(kNames);
    return pick(kTexts);
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
    ++res_.stats.creates;
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
    ++res_.stats.creates;
    return commit(ed, i, "creates person " + short_id(id) + " (keyed by " + idn + ") in household " + short_id(hh));
  }

  bool edit(size_t i) {
    auto all = held(i);
    if (all.empty()) return false;
    std::vector<EntityId> ids;
    for (auto& [id, e] : all) ids.push_back(id);
    const EntityId id = pick(ids);
    const EntityType t = all[id].type;
    if (t != EntityType::household && t != EntityType::person) return false;
    const FieldId f = pick(editable(t));
    const std::string v = value_for(f, t);
    auto ed = editor(i);
    Entity* e = ed.find(id);
    if (!e || !ed.set(*e, f, v)) return false;
    ++res_.stats.edits;
    return commit(ed, i, "edits " + short_id(id) + " field " + std::to_string(f) + " = " + v);
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
    for (auto [k, v] : {std::pair{i, v1}, std::pair{j, v2}}) {
      auto ed = editor(k);
      Entity* e = ed.find(id);
      if (!e || !ed.set(*e, f, v)) continue;
      done += commit(ed, k, std::string(equal ? "equal-value" : "concurrent") + " edit of " + short_id(id) +
                                " field " + std::to_string(f) + " = " + v);
    }
    if (done == 2) ++(equal ? res_.stats.equal_pairs : res_.stats.concurrent_pairs);
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
    ++(restore ? res_.stats.restores : res_.stats.deletes);
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
    ++res_.stats.resolves;
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
    if (a && b) ++res_.stats.concurrent_resolves;
    return a || b;
  }

  bool move_household(size_t i) {
    auto all = held(i, EntityType::household);
    if (all.empty()) return false;
    std::vector<EntityId> ids;
    for (auto& [id, e] : all) ids.push_back(id);
    const EntityId id = pick(ids);
    const std::string to = pick(kVillages);
    auto ed = editor(i);
    Entity* e = ed.find(id);
    if (!e || !ed.set(*e, f_village_, to)) return false;
    ++res_.stats.moves;
    return commit(ed, i, "moves household " + short_id(id) + " to " + to);
  }

  // A value a single-field error rule of the server's schema refuses: quarantined, for the reviewer.
  bool invalid_value(size_t i) {
    auto all = held(i, EntityType::household);
    if (all.empty()) return false;
    std::vector<EntityId> ids;
    for (auto& [id, e] : all) ids.push_back(id);
    const EntityId id = pick(ids);
    const std::string v = rnd(3) ? "99" : "01";
    auto ed = editor(i);
    Entity* e = ed.find(id);
    if (!e || !ed.set(*e, f_mode_, v)) return false;
    ++res_.stats.invalid_values;
    return commit(ed, i, "sets relocation_mode of " + short_id(id) + " = " + v + (v == "99" ? " (invalid)" : ""));
  }

  bool review() {
    auto q = server_->quarantine();
    if (q.empty()) return false;
    const auto& c = pick(q);
    const VersionId id = c.change.version;
    if (rnd(2)) {
      auto st = server_->release(id);
      if (!st) {
        violation(0, "SyncServer::release(" + id.str() + ") failed: " + msg(st.error()));
        return false;
      }
      std::optional<Hlc> ts;
      if (auto held = server_->store().change(id)) ts = held->change.ts;
      oracle_.released(id, ts);
      ++res_.stats.releases;
      event("reviewer releases " + id.str());
    } else {
      auto st = server_->reject(id, bilingual("模拟驳回", "simulated rejection"));
      if (!st) {
        violation(0, "SyncServer::reject(" + id.str() + ") failed: " + msg(st.error()));
        return false;
      }
      oracle_.rejected(id);
      ++res_.stats.rejects;
      event("reviewer rejects " + id.str());
    }
    return true;
  }

  bool partial_sync(size_t i, int kind) {
    auto& d = devs_[i];
    const int times = 1 + static_cast<int>(rnd(3));
    for (int k = 0; k < times; ++k) {
      if (kind == 0) {
        ++res_.stats.pushes;
        auto r = d.sync->push_once();
        if (!r) {
          ++res_.stats.sync_errors;
          event(d.name + " push_once: " + msg(r.error()));
        } else
          event(d.name + " push_once: sent " + std::to_string(r->sent) + " acked " + std::to_string(r->acked_seq) +
                (r->done ? " done" : ""));
      } else if (kind == 1) {
        ++res_.stats.pulls;
        auto r = d.sync->pull_once();
        if (!r) {
          ++res_.stats.sync_errors;
          event(d.name + " pull_once: " + msg(r.error()));
        } else
          event(d.name + " pull_once: " + std::to_string(r->records) + " records" + (r->more ? " more" : ""));
      } else {
        ++res_.stats.syncs;
        auto r = d.sync->sync();
        if (!r) {
          ++res_.stats.sync_errors;
          event(d.name + " sync: " + msg(r.error()));
        } else
          event(d.name + " sync: pushed " + std::to_string(r->pushed) + " pulled " + std::to_string(r->pulled_records));
        break;
      }
    }
    return true;
  }

  void one_step() {
    const size_t i = rnd(devs_.size());
    // Weighted choice of an action.
    static const int kWeights[] = {8, 8, 20, 6, 5, 3, 2, 4, 3, 3, 2, 9, 9, 9, 3};
    int total = 0;
    for (int w : kWeights) total += w;
    int r = static_cast<int>(rnd(static_cast<size_t>(total))), a = 0;
    while (r >= kWeights[a]) r -= kWeights[a++];
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
      default: done = review(); break;
    }
    if (!done) {
      ++res_.stats.skipped;
      // Nothing to act on yet: a device with nothing creates something.
      if (a <= 10) create_household(i);
    }
  }

  ServerView snapshot() const {
    ServerView v;
    server_->store().scan_entities([&](const sync::EntityRecord& r) { v.entities[r.state.id] = r.state; });
    for (auto& c : server_->quarantine()) v.quarantined.insert(c.change.version);
    return v;
  }

  void take(const std::vector<Violation>& vs, const std::string& when) {
    for (auto& v : vs) violation(v.invariant, when + v.what);
  }

  // Invariant 1 holds "at any time": checked while devices are still editing and syncing.
  bool check_running() {
    auto view = snapshot();
    take(oracle_.observed(), "");
    take(oracle_.check_no_lost_writes(view), "at step " + std::to_string(step_) + ": ");
    return !res_.violations.empty();
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
  void finish() {
    ++step_;
    net_->faults = false;
    net_->deliver_held();
    for (int round = 0; round < 2; ++round)
      for (size_t i = 0; i < devs_.size(); ++i) {
        auto r = devs_[i].sync->sync();
        if (!r) violation(2, devs_[i].name + ": sync() in the quiescent round failed: " + msg(r.error()));
        else
          event(devs_[i].name + " final sync " + std::to_string(round) + ": pushed " + std::to_string(r->pushed) +
                " pulled " + std::to_string(r->pulled_records));
      }
    for (size_t i = 0; i < devs_.size(); ++i)
      if (devs_[i].store->pending_change_count() != 0)
        violation(2, devs_[i].name + " still has " + std::to_string(devs_[i].store->pending_change_count()) +
                         " unacknowledged changes after the quiescent round");
    auto view = snapshot();
    take(oracle_.observed(), "");
    // (3) Idempotence: these checks run after the faults above; they must hold all the same.
    take(oracle_.check_no_lost_writes(view), "final: ");
    take(oracle_.check_server_state(view), "final: ");
    take(oracle_.check_attribution(view), "final: ");
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

  SimOptions opt_;
  std::mt19937_64 rng_;
  int64_t now_ms_;
  int step_ = 0;
  SimResult res_;
  ScratchDir dir_;
  const Schema& schema_;
  region::RegionTree tree_;
  ValidationContext vctx_;
  Oracle oracle_;
  std::unique_ptr<sync::ServerStore> server_store_;
  std::unique_ptr<sync::SyncServer> server_;
  std::unique_ptr<FaultyTransport> net_;
  std::vector<Dev> devs_;
  FieldId f_village_ = 0, f_hhno_ = 0, f_head_ = 0, f_mode_ = 0, f_hh_ = 0, f_name_ = 0, f_idn_ = 0;
  std::vector<FieldId> hh_fields_, person_fields_;
};

}  // namespace

SimResult run_simulation(const SimOptions& options) {
  try {
    Sim sim(options);
    return sim.run();
  } catch (const Failure& f) {
    SimResult r;
    r.seed = options.seed;
    r.violations.push_back({0, "setting up the simulation failed: " + msg(f.error())});
    return r;
  } catch (const std::exception& e) {
    SimResult r;
    r.seed = options.seed;
    r.violations.push_back({0, std::string("setting up the simulation failed: ") + e.what()});
    return r;
  }
}

}  // namespace tz::sim
