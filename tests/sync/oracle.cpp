// The independent oracle (oracle.hpp). Deliberately naive: it recomputes everything from the whole
// set of accepted changes on every call, with std::map and std::set, so that it is obviously right
// rather than fast. Nothing here calls the implementation's merge.
#include "oracle.hpp"

#include <sstream>
#include <utility>

namespace tz::sim {

namespace {

std::string hex_short(const EntityId& id) { return id.hex().substr(0, 12); }

std::string vid_str(const VersionId& v) { return v.device.hex().substr(0, 8) + ":" + std::to_string(v.seq.value); }

std::string set_str(const VersionSet& s) {
  std::string out = "{";
  for (auto& v : s) out += (out.size() > 1 ? ", " : "") + v.str();
  return out + "}";
}

std::string ids_str(const std::set<VersionId>& s) {
  std::string out = "{";
  for (auto& v : s) out += (out.size() > 1 ? ", " : "") + vid_str(v);
  return out + "}";
}

std::string kind_name(sync::ChangeOutcome::Kind k) {
  switch (k) {
    case sync::ChangeOutcome::Kind::applied: return "applied";
    case sync::ChangeOutcome::Kind::conflict: return "conflict";
    case sync::ChangeOutcome::Kind::quarantined: return "quarantined";
    case sync::ChangeOutcome::Kind::duplicate: return "duplicate";
  }
  return "?";
}

std::string change_str(const FieldChange& c) {
  std::ostringstream o;
  o << vid_str(c.version) << " " << entity_type_name(c.type) << " " << hex_short(c.entity) << " field " << c.field
    << " = \"" << c.value << "\" base {";
  for (size_t i = 0; i < c.base.size(); ++i) o << (i ? ", " : "") << vid_str(c.base[i]);
  o << "}";
  return o.str();
}

// The live versions a snapshot of the server holds for one field (empty when absent).
VersionSet server_live(const ServerView& server, const EntityId& entity, FieldId field) {
  VersionSet out;
  auto it = server.entities.find(entity);
  if (it == server.entities.end()) return out;
  auto fit = it->second.fields.find(field);
  if (fit == it->second.fields.end()) return out;
  for (auto& v : fit->second.live) out.insert(oracle_version(v));
  return out;
}

}  // namespace

std::string OracleVersion::str() const {
  return vid_str(id) + "=\"" + value + "\"@" + std::to_string(ts.ms) + "." + std::to_string(ts.counter) + "/" +
         collector + "/" + std::to_string(device_ms);
}

OracleVersion oracle_version(const Version& v) { return {v.id, v.value, v.ts, v.collector, v.device_ms}; }

std::string to_string(const Violation& v) {
  return (v.invariant ? "invariant " + std::to_string(v.invariant) : std::string("protocol")) + ": " + v.what;
}

bool oracle_scope_holds(const std::vector<std::string>& scope, const std::string& village) {
  for (auto& code : scope)
    if (!code.empty() && village.compare(0, code.size(), code) == 0) return true;
  return false;
}

Oracle::Oracle(const Schema* schema) : schema_(schema) {}

bool Oracle::same_content(const FieldChange& a, const FieldChange& b) {
  // SPEC §5 Epochs: compared on entity, field, value and base, never on the timestamp.
  return a.type == b.type && a.entity == b.entity && a.field == b.field && a.value == b.value && a.base == b.base;
}

void Oracle::observe_exchange(std::string_view request, std::string_view reply) {
  if (request.empty() || static_cast<uint8_t>(request[0]) != static_cast<uint8_t>(sync::MessageType::push_request))
    return;
  auto req = sync::decode_push_request(request);
  if (!req) return;  // cut or damaged: the server cannot have run it
  auto rep = sync::decode_push_reply(reply);
  if (!rep) return;  // an error reply: nothing was applied
  if (rep->refusal != sync::PushReply::Refusal::none) return;
  const uint64_t first = req->first_seq, n = req->changes.size();
  for (auto& o : rep->outcomes) {
    if (o.seq < first || o.seq >= first + n) {
      observed_.push_back({0, "push reply has an outcome for seq " + std::to_string(o.seq) +
                                  " that the request (first_seq " + std::to_string(first) + ", " + std::to_string(n) +
                                  " changes) did not hold"});
      continue;
    }
    accept(req->changes[o.seq - first], o.kind, o.restamped);
  }
}

void Oracle::accept(const FieldChange& change, sync::ChangeOutcome::Kind kind, std::optional<Hlc> restamped) {
  auto it = entries_.find(change.version);
  if (it != entries_.end()) {
    if (!same_content(it->second.change, change))
      observed_.push_back({0, "change " + vid_str(change.version) + " re-sent with other content was reported " +
                                  kind_name(kind) + " (must be a rolled_back refusal): held " +
                                  change_str(it->second.change) + ", sent " + change_str(change)});
    else if (kind != sync::ChangeOutcome::Kind::duplicate)
      observed_.push_back({3, "change " + change_str(change) + " already accepted was reported " + kind_name(kind) +
                                  " on re-delivery, not duplicate"});
    return;
  }
  Entry e;
  e.change = change;
  if (kind == sync::ChangeOutcome::Kind::duplicate)
    observed_.push_back({3, "change " + change_str(change) +
                                " reported duplicate although the server never acknowledged it before"});
  e.status = kind == sync::ChangeOutcome::Kind::quarantined ? Status::quarantined : Status::applied;
  if (restamped) {
    e.change.ts = *restamped;
    e.restamped = true;
  }
  entries_.emplace(change.version, std::move(e));
}

void Oracle::released(const VersionId& id, std::optional<Hlc> ts_in_force) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.status != Status::quarantined) {
    observed_.push_back({1, "the reviewer released " + vid_str(id) + ", which no push reply reported quarantined"});
    return;
  }
  it->second.status = Status::released;
  if (ts_in_force && !(*ts_in_force == it->second.change.ts)) {
    it->second.change.ts = *ts_in_force;
    it->second.restamped = true;
  }
}

void Oracle::rejected(const VersionId& id) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.status != Status::quarantined) {
    observed_.push_back({1, "the reviewer rejected " + vid_str(id) + ", which no push reply reported quarantined"});
    return;
  }
  it->second.status = Status::rejected;
}

size_t Oracle::count(Status s) const {
  size_t n = 0;
  for (auto& [id, e] : entries_) n += e.status == s;
  return n;
}

std::map<EntityId, ExpectedEntity> Oracle::expected() const {
  // Group the effective changes by (entity, field).
  std::map<std::pair<EntityId, FieldId>, std::vector<const FieldChange*>> groups;
  std::map<EntityId, EntityType> types;
  for (auto& [id, e] : entries_) {
    if (!effective(e)) continue;
    groups[{target(e.change.entity), e.change.field}].push_back(&e.change);
    types.emplace(target(e.change.entity), e.change.type);
  }
  std::map<EntityId, ExpectedEntity> out;
  for (auto& [key, changes] : groups) {
    // "An accepted change removes from the set every version named in its base and adds itself":
    // over the whole set, a version is live iff no change of its field names it.
    std::set<VersionId> named;
    for (auto* c : changes) named.insert(c->base.begin(), c->base.end());
    VersionSet live;
    for (auto* c : changes)
      if (!named.count(c->version)) live.insert({c->version, c->value, c->ts, c->collector, c->device_ms});
    auto& ent = out[key.first];
    ent.type = types[key.first];
    if (!live.empty()) ent.live[key.second] = std::move(live);
  }
  // Deletion: the bases of the live deletion versions with a reason.
  for (auto& [id, ent] : out) {
    auto del = ent.live.find(kDeletedField);
    if (del == ent.live.end()) continue;
    for (auto& v : del->second) {
      if (v.value.empty()) continue;  // a restore
      auto& base = entries_.at(v.id).change.base;
      ent.deletion_bases[v.id] = std::set<VersionId>(base.begin(), base.end());
    }
    if (ent.deletion_bases.empty()) continue;
    std::set<VersionId> seen;
    for (auto& [d, base] : ent.deletion_bases) seen.insert(base.begin(), base.end());
    bool all_seen = true;
    for (auto& [field, live] : ent.live) {
      if (field == kDeletedField) continue;
      for (auto& v : live) all_seen = all_seen && seen.count(v.id);
    }
    ent.deleted = all_seen;
  }
  return out;
}

std::vector<Violation> Oracle::check_no_lost_writes(const ServerView& server) const {
  // SPEC §5 invariant 1: "Every change the server has accepted is, at any time, a live version of
  // its field (the current value or a value of an open conflict), or named in the base of a later
  // accepted change, or moved with its version id to the survivor of a merge, or held in
  // quarantine — each visible to the reviewer. Nothing is silently overwritten or dropped."
  // (A change addressed to a merged-away entity is looked for on its survivor; a rejected change is
  // the reviewer's own decision.)
  std::vector<Violation> out;
  std::map<std::pair<EntityId, FieldId>, std::set<VersionId>> named;
  for (auto& [id, e] : entries_)
    if (effective(e)) named[{target(e.change.entity), e.change.field}].insert(e.change.base.begin(), e.change.base.end());
  for (auto& [id, e] : entries_) {
    const auto& c = e.change;
    switch (e.status) {
      case Status::rejected: break;
      case Status::quarantined:
        if (!server.quarantined.count(id))
          out.push_back({1, "change " + change_str(c) +
                                " was reported quarantined but is not in the server's quarantine (nor released)"});
        break;
      case Status::applied:
      case Status::released: {
        if (named[{target(c.entity), c.field}].count(id)) break;
        bool live = false;
        for (auto& v : server_live(server, target(c.entity), c.field))
          if (v.id == id) live = true;
        if (!live)
          out.push_back({1, std::string("lost write: ") + (e.status == Status::released ? "released " : "accepted ") +
                                "change " + change_str(c) +
                                " is not live on the server and no accepted change of its field names it"});
        break;
      }
    }
  }
  for (auto& q : server.quarantined) {
    auto it = entries_.find(q);
    if (it == entries_.end() || it->second.status != Status::quarantined)
      out.push_back({1, "the server's quarantine holds " + vid_str(q) +
                            (it == entries_.end() ? ", a change no push reply reported"
                                                  : ", a change the oracle holds as not quarantined")});
  }
  return out;
}

std::vector<Violation> Oracle::check_server_state(const ServerView& server) const {
  std::vector<Violation> out;
  auto exp = expected();
  std::set<EntityId> ids;
  for (auto& [id, e] : exp) ids.insert(id);
  for (auto& [id, e] : server.entities) ids.insert(id);
  for (auto& id : ids) {
    std::map<FieldId, VersionSet> got;
    std::map<VersionId, std::set<VersionId>> got_bases;
    if (auto it = server.entities.find(id); it != server.entities.end()) {
      for (auto& [f, fs] : it->second.fields) {
        VersionSet s;
        for (auto& v : fs.live) s.insert(oracle_version(v));
        if (!s.empty()) got[f] = std::move(s);
      }
      for (auto& [d, base] : it->second.deletion_bases) got_bases[d] = std::set<VersionId>(base.begin(), base.end());
    }
    static const ExpectedEntity kNone;
    auto eit = exp.find(id);
    const ExpectedEntity& want = eit == exp.end() ? kNone : eit->second;
    std::set<FieldId> fields;
    for (auto& [f, s] : want.live) fields.insert(f);
    for (auto& [f, s] : got) fields.insert(f);
    for (auto f : fields) {
      static const VersionSet kEmpty;
      auto w = want.live.find(f);
      auto g = got.find(f);
      const VersionSet& ws = w == want.live.end() ? kEmpty : w->second;
      const VersionSet& gs = g == got.end() ? kEmpty : g->second;
      if (ws != gs)
        out.push_back({2, "server entity " + hex_short(id) + " field " + std::to_string(f) + ": expected live " +
                              set_str(ws) + ", server has " + set_str(gs)});
    }
    if (want.deletion_bases != got_bases) {
      std::string w, g;
      for (auto& [d, b] : want.deletion_bases) w += vid_str(d) + "<-" + ids_str(b) + " ";
      for (auto& [d, b] : got_bases) g += vid_str(d) + "<-" + ids_str(b) + " ";
      out.push_back({2, "server entity " + hex_short(id) + ": expected deletion bases [" + w + "], server has [" + g +
                            "]"});
    }
  }
  return out;
}

std::vector<Violation> Oracle::check_attribution(const ServerView& server) const {
  // SPEC §5 invariant 4: "Every version records its device, collector, device wall time and server
  // receipt time."
  std::vector<Violation> out;
  for (auto& [id, st] : server.entities)
    for (auto& [f, fs] : st.fields)
      for (auto& v : fs.live) {
        std::string missing;
        if (v.id.device.is_zero()) missing += " device";
        if (v.collector.empty()) missing += " collector";
        if (v.device_ms == 0) missing += " device_ms";
        if (v.server_ms == 0) missing += " server_ms";
        if (!missing.empty())
          out.push_back({4, "server entity " + hex_short(id) + " field " + std::to_string(f) + " version " +
                                oracle_version(v).str() + " lacks" + missing});
      }
  return out;
}

std::set<std::string> Oracle::villages_of(const std::map<EntityId, ExpectedEntity>& all, const EntityId& id) const {
  std::set<std::string> out;
  if (!schema_) return out;
  // Walk up the placing references (a visit may name a person, whose household names the village).
  std::vector<std::pair<EntityId, int>> todo{{id, 0}};
  std::set<EntityId> done;
  while (!todo.empty()) {
    auto [cur, depth] = todo.back();
    todo.pop_back();
    if (depth > 4 || !done.insert(cur).second) continue;
    auto it = all.find(cur);
    if (it == all.end()) continue;
    const auto& es = schema_->entity(it->second.type);
    const char* placing = nullptr;
    switch (it->second.type) {
      case EntityType::household: placing = "village_code"; break;
      case EntityType::person: placing = "household_id"; break;
      case EntityType::job: placing = "person_id"; break;
      case EntityType::visit: placing = "subject_id"; break;
      case EntityType::subsidy: placing = "person_id"; break;
    }
    const FieldDef* fd = es.field(placing);
    if (!fd) continue;
    auto fit = it->second.live.find(fd->id);
    if (fit == it->second.live.end()) continue;
    for (auto& v : fit->second) {
      if (it->second.type == EntityType::household)
        out.insert(v.value);
      else if (auto parent = EntityId::from_hex(v.value))
        todo.push_back({*parent, depth + 1});
    }
  }
  return out;
}

std::vector<Violation> Oracle::check_device(const std::string& device_name, const std::map<EntityId, Entity>& held,
                                            const std::vector<std::string>& scope) const {
  std::vector<Violation> out;
  auto exp = expected();
  for (auto& [id, want] : exp) {
    bool inside = false;
    for (auto& v : villages_of(exp, id)) inside = inside || oracle_scope_holds(scope, v);
    if (!inside) continue;
    auto hit = held.find(id);
    if (hit == held.end()) {
      out.push_back({2, device_name + " lacks entity " + hex_short(id) + " (" +
                            std::string(entity_type_name(want.type)) + ") of its scope"});
      continue;
    }
    std::set<FieldId> fields;
    for (auto& [f, s] : want.live) fields.insert(f);
    for (auto& [f, fv] : hit->second.fields)
      if (!fv.live.empty()) fields.insert(f);
    for (auto f : fields) {
      VersionSet ws, gs;
      if (auto w = want.live.find(f); w != want.live.end()) ws = w->second;
      if (auto g = hit->second.fields.find(f); g != hit->second.fields.end())
        for (auto& v : g->second.live) gs.insert(oracle_version(v));
      if (ws != gs)
        out.push_back({2, device_name + " entity " + hex_short(id) + " field " + std::to_string(f) +
                              ": expected live " + set_str(ws) + ", device has " + set_str(gs)});
    }
  }
  return out;
}

}  // namespace tz::sim
