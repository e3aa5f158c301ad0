// The server-level simulation (server_sim.hpp) and the FaultyTransport.
#include "server_sim.hpp"

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include "temp_dir.hpp"
#include "tz/model/id_number.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/model/schema.hpp"
#include "tz/model/validation.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::sim {

void FaultCounts::add(const FaultCounts& o) {
  exchanges += o.exchanges;
  drop_request += o.drop_request;
  drop_reply += o.drop_reply;
  duplicate += o.duplicate;
  reorder += o.reorder;
  late_delivery += o.late_delivery;
  cut_request += o.cut_request;
  cut_reply += o.cut_reply;
}

std::string FaultCounts::str() const {
  std::ostringstream o;
  o << "exchanges " << exchanges << ", dropped requests " << drop_request << ", dropped replies " << drop_reply
    << ", duplicated " << duplicate << ", held back " << reorder << " (delivered late " << late_delivery
    << "), cut requests " << cut_request << ", cut replies " << cut_reply;
  return o.str();
}

// ---------------------------------------------------------------------------------------------
// FaultyTransport

FaultyTransport::FaultyTransport(sync::SyncServer& server, Oracle& oracle, std::mt19937_64& rng)
    : loop_(server), oracle_(oracle), rng_(rng) {}

std::string FaultyTransport::run(std::string_view request) {
  auto reply = loop_.exchange(request);
  if (!reply) return {};
  oracle_.observe_exchange(request, *reply);
  return *reply;
}

void FaultyTransport::deliver_held() {
  auto held = std::move(held_);
  held_.clear();
  for (auto& r : held) {
    run(r);
    ++counts.late_delivery;
  }
}

Result<std::string> FaultyTransport::exchange(std::string_view request) {
  ++counts.exchanges;
  auto lost = [] { return Error(ErrorCode::network, {"simulated network failure"}); };
  if (!faults) return run(request);
  std::uniform_real_distribution<double> u(0, 1);
  // Reorder: a request held back earlier reaches the server now, before this one.
  if (!held_.empty() && u(rng_) < 0.3) {
    auto r = std::move(held_.front());
    held_.erase(held_.begin());
    run(r);
    ++counts.late_delivery;
  }
  if (u(rng_) >= fault_rate) return run(request);
  switch (std::uniform_int_distribution<int>(0, 5)(rng_)) {
    case 0:  // the server never sees it
      ++counts.drop_request;
      return lost();
    case 1: {  // the server ran it; the reply is lost
      ++counts.drop_reply;
      run(request);
      return lost();
    }
    case 2: {  // delivered twice
      ++counts.duplicate;
      auto first = run(request);
      auto second = run(request);
      return u(rng_) < 0.5 ? first : second;
    }
    case 3:  // held back, delivered later (after others)
      ++counts.reorder;
      held_.emplace_back(request);
      return lost();
    case 4: {  // cut off in the middle
      ++counts.cut_request;
      std::string cut(request.substr(0, std::uniform_int_distribution<size_t>(0, request.size() - 1)(rng_)));
      auto reply = run(cut);
      if (reply.empty()) return lost();
      return reply;
    }
    default: {  // the reply is cut off
      ++counts.cut_reply;
      auto reply = run(request);
      if (reply.empty()) return lost();
      return reply.substr(0, std::uniform_int_distribution<size_t>(0, reply.size() - 1)(rng_));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The server-level simulation

std::string ServerSimResult::report(size_t max_violations, size_t last_events) const {
  std::ostringstream o;
  o << "seed " << seed << " (server-level simulation): " << violations.size() << " violation(s)\n";
  for (size_t i = 0; i < violations.size() && i < max_violations; ++i) o << "  " << to_string(violations[i]) << "\n";
  o << "faults: " << faults.str() << "\naccepted " << accepted << ", quarantined " << quarantined << ", restamped "
    << restamped << ", fields in conflict " << conflict_fields << ", deleted " << deleted << ", releases " << releases
    << ", rejects " << rejects << ", pulled records " << pulled_records << "\nlast events:\n";
  for (size_t i = events.size() > last_events ? events.size() - last_events : 0; i < events.size(); ++i)
    o << "  " << events[i] << "\n";
  return o.str();
}

namespace {

const int64_t kStartMs = 1793505600000LL;  // 2026-11-01 12:00 China time (store_fixture.hpp kNowMs)
const std::vector<std::string> kVillages = {"522632100207", "522632100208", "522632100209", "522632101001"};
const std::vector<sync::Scope> kScopes = {{"522632"},
                                          {"522632100"},
                                          {"522632100207"},
                                          {"522632100208", "522632101001"},
                                          {"522632100207", "522632100208"}};
// Resident IDs of the county (17 digits; the check character is computed).
const std::vector<std::string> kIds17 = {"52263219800101001", "52263219851212002", "52263219900505003",
                                         "52263219950707004", "52263220000303005"};
const std::vector<std::string> kNames = {"张三", "李四", "王五"};
const std::vector<std::string> kTexts = {"甲", "乙", "丙"};
const std::vector<std::string> kReasons = {"迁出", "死亡"};

std::string msg(const Error& e) { return std::string(e.name()) + ": " + e.message(Lang::en); }
std::string short_id(const EntityId& id) { return id.hex().substr(0, 8); }

// A deterministic 128-bit id from a key (two FNV-1a passes): the test's stand-in for natural keys.
EntityId keyed_id(const std::string& key) {
  EntityId id;
  uint64_t h1 = 1469598103934665603ULL, h2 = 1099511628211ULL * 7;
  for (unsigned char c : key) {
    h1 = (h1 ^ c) * 1099511628211ULL;
    h2 = (h2 ^ c) * 1099511628211ULL + 1;
  }
  for (int i = 0; i < 8; ++i) {
    id.bytes[i] = static_cast<uint8_t>(h1 >> (8 * i));
    id.bytes[8 + i] = static_cast<uint8_t>(h2 >> (8 * i));
  }
  return id;
}

class ScratchDir {
 public:
  ScratchDir() {
    std::filesystem::path base = "/dev/shm";
    std::error_code ec;
    if (!std::filesystem::is_directory(base, ec) || access(base.c_str(), W_OK) != 0)
      base = std::filesystem::temp_directory_path();
    std::string tmpl = (base / "tz-ssim-XXXXXX").string();
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

struct LightDev {
  std::string name;
  DeviceId id;
  sync::Scope scope;
  std::vector<std::string> villages;
  int64_t offset_ms = 0;
  std::string collector;
  std::string epoch;
  std::string server_epoch;
  uint64_t counter = 0, acked = 0, cursor = 0;
  size_t batch = 3;
  Hlc clock;
  std::vector<FieldChange> log;             // seq = index + 1
  std::map<EntityId, ExpectedEntity> view;  // what it saw at its last pull, with its own edits since
};

class ServerSim {
 public:
  explicit ServerSim(const ServerSimOptions& opt)
      : opt_(opt),
        rng_(opt.seed),
        now_ms_(kStartMs),
        schema_(Schema::parse(test::schema_files()).take()),
        tree_(region::RegionTree::parse_csv(test::read_file(test::source_dir() / "data/regions/trees/522632.csv"),
                                            "shipped")
                  .take()),
        oracle_(&schema_) {
    res_.seed = opt.seed;
    vctx_.today = china_date_of(kStartMs);
    vctx_.period_year = 2026;
    vctx_.settings = &schema_.settings();
    vctx_.tree = &tree_;
    const auto& hs = schema_.entity(EntityType::household);
    const auto& ps = schema_.entity(EntityType::person);
    f_village_ = hs.require("village_code").id;
    f_hhno_ = hs.require("household_no").id;
    f_mode_ = hs.require("relocation_mode").id;
    hh_fields_ = {hs.require("head_name").id, hs.require("address").id, hs.require("relocation_site").id};
    f_hh_ = ps.require("household_id").id;
    f_name_ = ps.require("name").id;
    f_idn_ = ps.require("id_number").id;
    person_fields_ = {f_name_, ps.require("ethnicity").id, ps.require("skills").id, ps.require("remarks").id};

    store_ = sync::open_sqlite_server_store(dir_.path() / "server").take();
    sync::ServerOptions so;
    so.merge_mode = opt.merge_mode;
    so.max_page_records = 1 + rnd(20);
    server_ = std::make_unique<sync::SyncServer>(*store_, schema_, vctx_, [this] { return now_ms_; }, so);
    net_ = std::make_unique<FaultyTransport>(*server_, oracle_, rng_);
    net_->faults = opt.faults;
    const int64_t hour = 3600 * 1000;
    for (int i = 0; i < opt.devices; ++i) {
      LightDev d;
      d.name = "L" + std::to_string(i);
      for (auto& b : d.id.bytes) b = static_cast<uint8_t>(rnd(256));
      d.scope = kScopes[static_cast<size_t>(i) % kScopes.size()];
      for (auto& v : kVillages)
        if (oracle_scope_holds(d.scope, v)) d.villages.push_back(v);
      d.offset_ms = i == 0 ? 0 : i == 1 ? hour + static_cast<int64_t>(rnd(5 * hour)) : static_cast<int64_t>(rnd(12 * hour)) - 6 * hour;
      d.collector = i % 2 ? "李强" : "王芳";
      d.epoch = "device-epoch-" + std::to_string(i);
      d.batch = 1 + rnd(4);
      auto st = server_->register_device(d.id, d.scope);
      if (!st) throw std::runtime_error("register_device: " + msg(st.error()));
      event("register " + d.name + " " + d.id.hex().substr(0, 8) + " offset " + std::to_string(d.offset_ms / 60000) +
            " min");
      devs_.push_back(std::move(d));
    }
  }

  ServerSimResult run() {
    try {
      for (step_ = 1; step_ <= opt_.steps; ++step_) {
        now_ms_ += 1000 + static_cast<int64_t>(rnd(120000));
        one_step();
        if (step_ % opt_.check_every == 0) {
          auto view = snapshot();
          take(oracle_.observed(), "");
          take(oracle_.check_no_lost_writes(view), "at step " + std::to_string(step_) + ": ");
          if (!res_.violations.empty()) break;
        }
      }
      if (res_.violations.empty()) finish();
    } catch (const Failure& f) {
      violation(0, "exception at step " + std::to_string(step_) + ": " + msg(f.error()));
    } catch (const std::exception& e) {
      violation(0, "exception at step " + std::to_string(step_) + ": " + e.what());
    }
    res_.faults = net_->counts;
    res_.accepted = oracle_.entries().size();
    res_.quarantined = oracle_.count(Oracle::Status::quarantined) + oracle_.count(Oracle::Status::released) +
                       oracle_.count(Oracle::Status::rejected);
    for (auto& [id, e] : oracle_.entries()) res_.restamped += e.restamped;
    for (auto& [id, e] : oracle_.expected()) {
      res_.deleted += e.deleted;
      for (auto& [f, live] : e.live) {
        std::set<std::string> values;
        for (auto& v : live) values.insert(v.value);
        res_.conflict_fields += values.size() > 1;
      }
    }
    return std::move(res_);
  }

 private:
  size_t rnd(size_t n) { return n ? std::uniform_int_distribution<size_t>(0, n - 1)(rng_) : 0; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[rnd(v.size())]; }
  int64_t dev_now(const LightDev& d) const { return now_ms_ + d.offset_ms; }
  void event(const std::string& t) { res_.events.push_back("step " + std::to_string(step_) + ": " + t); }
  void violation(int inv, const std::string& what) {
    for (auto& v : res_.violations)
      if (v.what == what) return;
    res_.violations.push_back({inv, what});
  }
  void take(const std::vector<Violation>& vs, const std::string& when) {
    for (auto& v : vs) violation(v.invariant, when + v.what);
  }

  ServerView snapshot() const {
    ServerView v;
    server_->store().scan_entities([&](const sync::EntityRecord& r) { v.entities[r.state.id] = r.state; });
    for (auto& c : server_->quarantine()) v.quarantined.insert(c.change.version);
    return v;
  }

  // The device's hybrid logical clock.
  Hlc tick(LightDev& d) {
    int64_t ms = dev_now(d);
    if (ms > d.clock.ms)
      d.clock = Hlc{ms, 0};
    else
      ++d.clock.counter;
    return d.clock;
  }

  // The provisional winner's value and the ids showing it (an ordinary edit's base), naively.
  static std::pair<std::string, std::vector<VersionId>> shown(const VersionSet& live) {
    const OracleVersion* best = nullptr;
    for (auto& v : live)
      if (!best || std::tie(v.ts, v.id.device, v.id.seq) > std::tie(best->ts, best->id.device, best->id.seq))
        best = &v;
    std::vector<VersionId> ids;
    if (!best) return {"", ids};
    for (auto& v : live)
      if (v.value == best->value) ids.push_back(v.id);
    return {best->value, ids};
  }
  static bool in_conflict(const VersionSet& live) {
    std::set<std::string> values;
    for (auto& v : live) values.insert(v.value);
    return values.size() > 1;
  }

  static void apply_view(LightDev& d, const FieldChange& c) {
    auto& e = d.view[c.entity];
    e.type = c.type;
    auto& live = e.live[c.field];
    for (auto it = live.begin(); it != live.end();)
      it = std::find(c.base.begin(), c.base.end(), it->id) != c.base.end() ? live.erase(it) : std::next(it);
    live.insert({c.version, c.value, c.ts, c.collector, c.device_ms});
  }

  void change(LightDev& d, EntityType type, EntityId entity, FieldId field, std::string value,
              std::vector<VersionId> base, const std::string& what) {
    FieldChange c;
    c.type = type;
    c.entity = entity;
    c.field = field;
    c.value = value;
    c.version = VersionId{d.id, Seq{d.log.size() + 1}};
    c.ts = tick(d);
    c.collector = d.collector;
    c.device_ms = dev_now(d);
    std::sort(base.begin(), base.end());
    c.base = std::move(base);
    c.schema_version = static_cast<uint32_t>(schema_.version());
    apply_view(d, c);
    event(d.name + " " + what + ": seq " + std::to_string(c.version.seq.value) + " " + short_id(entity) + " field " +
          std::to_string(field) + " = \"" + value + "\" base " + std::to_string(c.base.size()));
    d.log.push_back(std::move(c));
  }

  // Refreshes the view as a complete pull would: the expected state of every entity in scope, with
  // the device's own changes the server does not hold yet on top.
  void refresh(LightDev& d) {
    auto exp = oracle_.expected();
    d.view.clear();
    for (auto& [id, e] : exp) {
      bool inside = false;
      for (auto& v : oracle_.villages_of(exp, id)) inside = inside || oracle_scope_holds(d.scope, v);
      if (!inside) continue;
      d.view[id] = e;
      for (auto& [f, live] : e.live)
        for (auto& v : live) d.clock = std::max(d.clock, v.ts);
    }
    for (auto& c : d.log)
      if (!oracle_.entries().count(c.version)) apply_view(d, c);
  }

  std::vector<EntityId> view_ids(const LightDev& d, std::optional<EntityType> type = std::nullopt) const {
    std::vector<EntityId> out;
    for (auto& [id, e] : d.view)
      if ((!type || e.type == *type) && (e.type == EntityType::household || e.type == EntityType::person))
        out.push_back(id);
    return out;
  }
  const std::vector<FieldId>& editable(EntityType t) const {
    return t == EntityType::household ? hh_fields_ : person_fields_;
  }
  std::string value_for(FieldId f, EntityType t) { return t == EntityType::person && f == f_name_ ? pick(kNames) : pick(kTexts); }

  bool edit(LightDev& d, const EntityId& id, FieldId f, const std::string& v, const std::string& what) {
    auto& e = d.view[id];
    auto& live = e.live[f];
    auto [value, base] = shown(live);
    if (!live.empty() && !in_conflict(live) && value == v) return false;
    change(d, e.type, id, f, v, base, what);
    return true;
  }

  bool push(LightDev& d) {
    sync::PushRequest r;
    r.device = d.id;
    r.device_epoch = d.epoch;
    r.server_epoch_seen = d.server_epoch;
    r.request_counter = ++d.counter;
    r.device_now_ms = dev_now(d);
    r.first_seq = d.acked + 1;
    for (uint64_t s = d.acked; s < d.log.size() && r.changes.size() < d.batch; ++s) r.changes.push_back(d.log[s]);
    auto bytes = net_->exchange(sync::encode(r));
    if (!bytes) {
      event(d.name + " push: " + msg(bytes.error()));
      return false;
    }
    auto reply = sync::decode_push_reply_or_error(*bytes);
    if (!reply) {
      event(d.name + " push: " + msg(reply.error()));
      return false;
    }
    using R = sync::PushReply::Refusal;
    switch (reply->refusal) {
      case R::none:
        d.acked = std::max(d.acked, reply->acked_seq);
        d.server_epoch = reply->server_epoch;
        event(d.name + " push " + std::to_string(r.changes.size()) + " from " + std::to_string(r.first_seq) +
              ": acked " + std::to_string(reply->acked_seq));
        return true;
      case R::stale_counter:
        d.counter = std::max(d.counter, reply->last_counter_seen);
        event(d.name + " push: stale counter, last seen " + std::to_string(reply->last_counter_seen));
        return false;
      case R::malformed:
        event(d.name + " push: malformed");
        return false;
      default:
        violation(0, d.name + ": push of seq " + std::to_string(r.first_seq) + ".. refused with refusal " +
                         std::to_string(static_cast<int>(reply->refusal)) + " (never rolled back, registered, not revoked)");
        return false;
    }
  }

  bool pull_once(LightDev& d) {
    sync::PullRequest r;
    r.device = d.id;
    r.server_epoch_seen = d.server_epoch;
    r.cursor = d.cursor;
    r.max_records = static_cast<uint32_t>(1 + rnd(10));
    r.own_values = d.cursor == 0;
    auto bytes = net_->exchange(sync::encode(r));
    if (!bytes) return false;
    auto page = sync::decode_pull_page_or_error(*bytes);
    if (!page) {
      event(d.name + " pull: " + msg(page.error()));
      return false;
    }
    if (page->next_cursor < d.cursor && page->server_epoch == d.server_epoch)
      violation(0, d.name + ": a pull page's next_cursor " + std::to_string(page->next_cursor) + " is below the cursor " +
                       std::to_string(d.cursor));
    d.cursor = page->next_cursor;
    d.server_epoch = page->server_epoch;
    res_.pulled_records += page->records.size();
    return true;
  }

  bool review() {
    auto q = server_->quarantine();
    if (q.empty()) return false;
    const VersionId id = pick(q).change.version;
    if (rnd(2)) {
      auto st = server_->release(id);
      if (!st) {
        violation(0, "SyncServer::release(" + id.str() + ") failed: " + msg(st.error()));
        return false;
      }
      std::optional<Hlc> ts;
      if (auto held = server_->store().change(id)) ts = held->change.ts;
      oracle_.released(id, ts);
      ++res_.releases;
      event("reviewer releases " + id.str());
    } else {
      auto st = server_->reject(id, bilingual("模拟驳回", "simulated rejection"));
      if (!st) {
        violation(0, "SyncServer::reject(" + id.str() + ") failed: " + msg(st.error()));
        return false;
      }
      oracle_.rejected(id);
      ++res_.rejects;
      event("reviewer rejects " + id.str());
    }
    return true;
  }

  bool shared(size_t& i, size_t& j, EntityId& id, bool need_conflict, FieldId& field) {
    for (int a = 0; a < 6; ++a) {
      i = rnd(devs_.size());
      j = rnd(devs_.size());
      if (i == j) continue;
      std::vector<std::pair<EntityId, FieldId>> common;
      for (auto& eid : view_ids(devs_[i])) {
        if (!devs_[j].view.count(eid)) continue;
        auto& ei = devs_[i].view[eid];
        if (!need_conflict) {
          common.push_back({eid, pick(editable(ei.type))});
          continue;
        }
        for (auto& [f, live] : ei.live)
          if (f != kDeletedField && in_conflict(live) && devs_[j].view[eid].live.count(f) &&
              in_conflict(devs_[j].view[eid].live[f]))
            common.push_back({eid, f});
      }
      if (common.empty()) continue;
      std::tie(id, field) = pick(common);
      return true;
    }
    return false;
  }

  std::vector<VersionId> all_live(const LightDev& d, const EntityId& id, std::optional<FieldId> only) const {
    std::vector<VersionId> out;
    auto it = d.view.find(id);
    if (it == d.view.end()) return out;
    for (auto& [f, live] : it->second.live)
      if (!only || f == *only)
        for (auto& v : live) out.push_back(v.id);
    return out;
  }

  bool act(size_t i, int a) {
    auto& d = devs_[i];
    switch (a) {
      case 0: {  // create a household (keyed by village and number: two devices may create the same one)
        if (d.villages.empty()) return false;
        auto village = pick(d.villages);
        auto no = "00" + std::to_string(1 + rnd(3));
        auto id = keyed_id("hh:" + village + ":" + no);
        if (d.view.count(id)) return false;
        change(d, EntityType::household, id, f_village_, village, {}, "creates household");
        change(d, EntityType::household, id, f_hhno_, no, {}, "creates household");
        return true;
      }
      case 1: {  // create a person (keyed by ID number)
        auto hhs = view_ids(d, EntityType::household);
        if (hhs.empty()) return false;
        auto idn = pick(kIds17);
        idn += idn::check_char(idn);
        auto id = keyed_id("p:" + idn);
        if (d.view.count(id)) return false;
        auto hh = pick(hhs);
        change(d, EntityType::person, id, f_hh_, hh.hex(), {}, "creates person");
        change(d, EntityType::person, id, f_name_, pick(kNames), {}, "creates person");
        change(d, EntityType::person, id, f_idn_, idn, {}, "creates person");
        return true;
      }
      case 2: {  // an ordinary edit
        auto ids = view_ids(d);
        if (ids.empty()) return false;
        auto id = pick(ids);
        auto t = d.view[id].type;
        auto f = pick(editable(t));
        return edit(d, id, f, value_for(f, t), "edits");
      }
      case 3:
      case 4: {  // the same field on two devices: different values, or an equal value
        size_t x = 0, y = 0;
        EntityId id;
        FieldId f = 0;
        if (!shared(x, y, id, false, f)) return false;
        auto t = devs_[x].view[id].type;
        auto v1 = value_for(f, t), v2 = a == 4 ? v1 : value_for(f, t) + "'";
        bool b1 = edit(devs_[x], id, f, v1, a == 4 ? "equal-value edit" : "concurrent edit");
        bool b2 = edit(devs_[y], id, f, v2, a == 4 ? "equal-value edit" : "concurrent edit");
        res_.concurrent += b1 && b2;
        return b1 || b2;
      }
      case 5:
      case 6: {  // delete (base: every live version of every field), restore ("" with the same base)
        auto ids = view_ids(d);
        if (ids.empty()) return false;
        auto id = pick(ids);
        change(d, d.view[id].type, id, kDeletedField, a == 5 ? pick(kReasons) : "", all_live(d, id, std::nullopt),
               a == 5 ? "deletes" : "restores");
        return true;
      }
      case 7: {  // resolve a conflict (base: every live version of the field)
        std::vector<std::pair<EntityId, FieldId>> open;
        for (auto& [id, e] : d.view)
          for (auto& [f, live] : e.live)
            if (f != kDeletedField && in_conflict(live)) open.push_back({id, f});
        if (open.empty()) return false;
        auto [id, f] = pick(open);
        const auto& live = d.view[id].live[f];
        auto it = live.begin();
        std::advance(it, static_cast<long>(rnd(live.size())));
        change(d, d.view[id].type, id, f, it->value, all_live(d, id, f), "resolves");
        return true;
      }
      case 8: {  // two devices resolve the same conflict
        size_t x = 0, y = 0;
        EntityId id;
        FieldId f = 0;
        if (!shared(x, y, id, true, f)) return false;
        for (auto k : {x, y}) {
          auto& dk = devs_[k];
          change(dk, dk.view[id].type, id, f, value_for(f, dk.view[id].type), all_live(dk, id, f), "concurrently resolves");
        }
        return true;
      }
      case 9: {  // move a household to another village (maybe out of the scope)
        auto ids = view_ids(d, EntityType::household);
        if (ids.empty()) return false;
        return edit(d, pick(ids), f_village_, pick(kVillages), "moves");
      }
      case 10: {  // a value a single-field error rule refuses: quarantined
        auto ids = view_ids(d, EntityType::household);
        if (ids.empty()) return false;
        return edit(d, pick(ids), f_mode_, rnd(3) ? "99" : "01", "sets relocation_mode");
      }
      case 11: {
        int n = 1 + static_cast<int>(rnd(3));
        for (int k = 0; k < n; ++k) push(d);
        return true;
      }
      case 12: {
        int n = 1 + static_cast<int>(rnd(3));
        for (int k = 0; k < n; ++k) pull_once(d);
        return true;
      }
      case 13:
        refresh(d);
        return true;
      default: return review();
    }
  }

  void one_step() {
    static const int kWeights[] = {6, 6, 18, 6, 4, 2, 2, 4, 3, 3, 2, 12, 6, 10, 3};
    int total = 0;
    for (int w : kWeights) total += w;
    int r = static_cast<int>(rnd(static_cast<size_t>(total))), a = 0;
    while (r >= kWeights[a]) r -= kWeights[a++];
    const size_t i = rnd(devs_.size());
    if (!act(i, a)) act(i, 0);
  }

  // Naive application of a pulled VersionRecord to a state (the test's own merge: superseded ids
  // remembered, so order does not matter).
  static void apply_pulled(EntityState& st, const FieldChange& c) {
    st.type = c.type;
    st.id = c.entity;
    auto& fs = st.fields[c.field];
    for (auto& b : c.base)
      if (std::find(fs.superseded.begin(), fs.superseded.end(), b) == fs.superseded.end()) fs.superseded.push_back(b);
    std::erase_if(fs.live, [&](const Version& v) { return std::find(c.base.begin(), c.base.end(), v.id) != c.base.end(); });
    bool gone = std::find(fs.superseded.begin(), fs.superseded.end(), c.version) != fs.superseded.end();
    bool present = std::any_of(fs.live.begin(), fs.live.end(), [&](const Version& v) { return v.id == c.version; });
    if (!gone && !present) fs.live.push_back(Version{c.version, c.value, c.ts, c.collector, c.device_ms, 0});
  }

  void finish() {
    ++step_;
    net_->faults = false;
    net_->deliver_held();
    // Everyone pushes everything.
    for (auto& d : devs_) {
      int guard = 0;
      while (d.acked < d.log.size() && guard++ < 200) push(d);
      if (d.acked < d.log.size())
        violation(2, d.name + ": the server does not acknowledge seq " + std::to_string(d.acked + 1) +
                         " after 200 clean pushes");
    }
    auto view = snapshot();
    take(oracle_.observed(), "");
    // (3) these hold after the faults of the run.
    take(oracle_.check_no_lost_writes(view), "final: ");
    take(oracle_.check_server_state(view), "final: ");
    take(oracle_.check_attribution(view), "final: ");
    // Everyone pulls everything from cursor 0: the pages must carry exactly the expected state of
    // the scope.
    for (auto& d : devs_) {
      std::map<EntityId, EntityState> states;
      uint64_t cursor = 0;
      bool done = false;
      for (int page_no = 0; page_no < 10000 && !done; ++page_no) {
        sync::PullRequest r;
        r.device = d.id;
        r.server_epoch_seen = d.server_epoch;
        r.cursor = cursor;
        r.max_records = 7;
        r.own_values = true;
        auto bytes = net_->exchange(sync::encode(r));
        auto page = bytes ? sync::decode_pull_page_or_error(*bytes) : Result<sync::PullPage>(bytes.error());
        if (!page) {
          violation(2, d.name + ": a clean pull from cursor 0 failed: " + msg(page.error()));
          break;
        }
        for (auto& rec : page->records) {
          if (auto* enter = std::get_if<sync::ScopeEnterRecord>(&rec))
            states[enter->state.id] = enter->state;
          else if (auto* v = std::get_if<sync::VersionRecord>(&rec))
            apply_pulled(states[v->change.entity], v->change);
          else if (auto* leave = std::get_if<sync::ScopeLeaveRecord>(&rec))
            states.erase(leave->entity);
        }
        cursor = page->next_cursor;
        done = !page->more;
      }
      std::map<EntityId, Entity> held;
      for (auto& [id, st] : states) {
        Entity e;
        e.type = st.type;
        e.id = id;
        for (auto& [f, fs] : st.fields) e.fields[f].live = fs.live;
        held[id] = std::move(e);
      }
      take(oracle_.check_device(d.name + " pulling from cursor 0", held, d.scope), "final: ");
    }
  }

  ServerSimOptions opt_;
  std::mt19937_64 rng_;
  int64_t now_ms_;
  int step_ = 0;
  ServerSimResult res_;
  ScratchDir dir_;
  Schema schema_;
  region::RegionTree tree_;
  ValidationContext vctx_;
  Oracle oracle_;
  std::unique_ptr<sync::ServerStore> store_;
  std::unique_ptr<sync::SyncServer> server_;
  std::unique_ptr<FaultyTransport> net_;
  std::vector<LightDev> devs_;
  FieldId f_village_ = 0, f_hhno_ = 0, f_mode_ = 0, f_hh_ = 0, f_name_ = 0, f_idn_ = 0;
  std::vector<FieldId> hh_fields_, person_fields_;
};

}  // namespace

ServerSimResult run_server_simulation(const ServerSimOptions& options) {
  try {
    ServerSim sim(options);
    return sim.run();
  } catch (const std::exception& e) {
    ServerSimResult r;
    r.seed = options.seed;
    r.violations.push_back({0, std::string("setting up the simulation failed: ") + e.what()});
    return r;
  }
}

}  // namespace tz::sim
