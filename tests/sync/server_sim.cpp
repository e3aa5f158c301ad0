// The server-level simulation (server_sim.hpp).
#include "server_sim.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "tz/model/id_number.hpp"
#include "tz/model/schema.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::sim {

void ServerSimStats::add(const ServerSimStats& o) {
  using S = ServerSimStats;
  add_members(*this, o,
              {&S::accepted, &S::quarantined, &S::restamped, &S::conflict_fields, &S::deleted, &S::releases,
               &S::rejects, &S::pulled_records, &S::concurrent});
}

std::string ServerSimStats::str() const {
  return "restamped " + std::to_string(restamped) + ", quarantined " + std::to_string(quarantined) +
         ", fields in conflict " + std::to_string(conflict_fields) + ", deleted " + std::to_string(deleted) +
         ", releases " + std::to_string(releases) + ", rejects " + std::to_string(rejects) + ", pulled records " +
         std::to_string(pulled_records) + ", concurrent pairs " + std::to_string(concurrent);
}

std::string ServerSimResult::report(size_t max_violations, size_t last_events) const {
  const auto& t = stats;
  return RunLog::report(" (server-level simulation)",
                        "accepted " + std::to_string(t.accepted) + ", quarantined " + std::to_string(t.quarantined) +
                            ", restamped " + std::to_string(t.restamped) + ", fields in conflict " +
                            std::to_string(t.conflict_fields) + ", deleted " + std::to_string(t.deleted) +
                            ", releases " + std::to_string(t.releases) + ", rejects " + std::to_string(t.rejects) +
                            ", pulled records " + std::to_string(t.pulled_records),
                        max_violations, last_events);
}

namespace {

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

// A light protocol client.
struct LightDev : SimDevice {
  DeviceId id;
  std::string epoch;
  std::string server_epoch;
  uint64_t counter = 0, acked = 0, cursor = 0;
  size_t batch = 3;
  Hlc clock;
  std::vector<FieldChange> log;             // seq = index + 1
  std::map<EntityId, ExpectedEntity> view;  // what it saw at its last pull, with its own edits since
};

// The server's schema, parsed once from the project's schemas/ folder.
const Schema& server_schema() {
  static const Schema schema = Schema::parse(test::schema_files()).take();
  return schema;
}

class ServerSim final : SimCore {
 public:
  explicit ServerSim(const ServerSimOptions& opt) : SimCore(opt, server_setup()) {
    for (int i = 0; i < opt.devices; ++i) {
      LightDev d;
      d.name = "L" + std::to_string(i);
      for (auto& b : d.id.bytes) b = static_cast<uint8_t>(rnd(256));
      place(d, i);
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
    ServerSimResult r;
    static_cast<RunLog&>(r) = run_steps();
    count_outcomes(stats_.accepted, stats_.quarantined, stats_.restamped, stats_.conflict_fields, stats_.deleted);
    r.stats = stats_;
    return r;
  }

 private:
  static ServerSetup server_setup() {
    return {&server_schema(), test::read_file(test::source_dir() / "data/regions/trees/522632.csv"), nullptr,
            "tz-ssim"};
  }

  // The device's hybrid logical clock.
  Hlc tick(LightDev& d) {
    int64_t ms = now_of(d);
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
    c.device_ms = now_of(d);
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

  bool edit(LightDev& d, const EntityId& id, FieldId f, const std::string& v, const std::string& what) {
    auto& e = d.view[id];
    auto& live = e.live[f];
    auto [value, base] = shown(live);
    if (!live.empty() && !in_conflict(live) && value == v) return false;
    change(d, e.type, id, f, v, base, what);
    return true;
  }

  // Sends a request and decodes the reply; a lost exchange (logged when log_lost) or an error reply
  // is logged as `what` and gives nothing.
  template <class Reply, class Request>
  std::optional<Reply> ask(const LightDev& d, const std::string& what, const Request& r,
                           Result<Reply> (*decode)(std::string_view, const sync::Limits&), bool log_lost) {
    auto bytes = net_->exchange(sync::encode(r));
    if (!bytes) {
      if (log_lost) event(d.name + " " + what + ": " + msg(bytes.error()));
      return std::nullopt;
    }
    auto reply = decode(*bytes, {});
    if (!reply) {
      event(d.name + " " + what + ": " + msg(reply.error()));
      return std::nullopt;
    }
    return std::move(*reply);
  }

  static sync::PullRequest pull_request(const LightDev& d, uint64_t cursor, uint32_t max_records, bool own_values) {
    sync::PullRequest r;
    r.device = d.id;
    r.server_epoch_seen = d.server_epoch;
    r.cursor = cursor;
    r.max_records = max_records;
    r.own_values = own_values;
    return r;
  }

  bool push(LightDev& d) {
    sync::PushRequest r;
    r.device = d.id;
    r.device_epoch = d.epoch;
    r.server_epoch_seen = d.server_epoch;
    r.request_counter = ++d.counter;
    r.device_now_ms = now_of(d);
    r.first_seq = d.acked + 1;
    for (uint64_t s = d.acked; s < d.log.size() && r.changes.size() < d.batch; ++s) r.changes.push_back(d.log[s]);
    auto reply = ask(d, "push", r, sync::decode_push_reply_or_error, true);
    if (!reply) return false;
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
    auto page = ask(d, "pull", pull_request(d, d.cursor, static_cast<uint32_t>(1 + rnd(10)), d.cursor == 0),
                    sync::decode_pull_page_or_error, false);
    if (!page) return false;
    if (page->next_cursor < d.cursor && page->server_epoch == d.server_epoch)
      violation(0, d.name + ": a pull page's next_cursor " + std::to_string(page->next_cursor) + " is below the cursor " +
                       std::to_string(d.cursor));
    d.cursor = page->next_cursor;
    d.server_epoch = page->server_epoch;
    stats_.pulled_records += page->records.size();
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
        auto idn = pick(ids17_);
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
        stats_.concurrent += b1 && b2;
        return b1 || b2;
      }
      case 5:
      case 6: {  // delete (base: every live version of every field), restore ("" with the same base)
        auto ids = view_ids(d);
        if (ids.empty()) return false;
        auto id = pick(ids);
        change(d, d.view[id].type, id, kDeletedField, a == 5 ? pick(reasons_) : "", all_live(d, id, std::nullopt),
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
      default: return review(stats_.releases, stats_.rejects);
    }
  }

  void one_step() override {
    const int a = pick_action({6, 6, 18, 6, 4, 2, 2, 4, 3, 3, 2, 12, 6, 10, 3});
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
    erase_if(fs.live, [&](const Version& v) { return std::find(c.base.begin(), c.base.end(), v.id) != c.base.end(); });
    bool gone = std::find(fs.superseded.begin(), fs.superseded.end(), c.version) != fs.superseded.end();
    bool present = std::any_of(fs.live.begin(), fs.live.end(), [&](const Version& v) { return v.id == c.version; });
    if (!gone && !present) fs.live.push_back(Version{c.version, c.value, c.ts, c.collector, c.device_ms, 0});
  }

  void finish() override {
    quiesce();
    // Everyone pushes everything.
    for (auto& d : devs_) {
      int guard = 0;
      while (d.acked < d.log.size() && guard++ < 200) push(d);
      if (d.acked < d.log.size())
        violation(2, d.name + ": the server does not acknowledge seq " + std::to_string(d.acked + 1) +
                         " after 200 clean pushes");
    }
    check_server_final();
    // Everyone pulls everything from cursor 0: the pages must carry exactly the expected state of
    // the scope.
    for (auto& d : devs_) {
      std::map<EntityId, EntityState> states;
      uint64_t cursor = 0;
      bool done = false;
      for (int page_no = 0; page_no < 10000 && !done; ++page_no) {
        auto bytes = net_->exchange(sync::encode(pull_request(d, cursor, 7, true)));
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

  ServerSimStats stats_;
  std::vector<LightDev> devs_;
  const std::vector<std::string> ids17_ = first(kIds17, 5), reasons_ = first(kReasons, 2);
};

}  // namespace

ServerSimResult run_server_simulation(const ServerSimOptions& options) {
  return run_guarded<ServerSimResult>(options.seed, [&] { return ServerSim(options).run(); });
}

}  // namespace tz::sim
