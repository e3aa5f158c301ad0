// The server side of sync (SPEC §5; docs/sync-protocol.md "The exchange"). Every accepted change is
// stored by version id and merged into its entity with the pure merge; the pull stream is the
// store's log, each row naming the villages it concerns, filtered per device by its scope when read.
#include "tz/sync/server.hpp"

#include "tz/crypto/crypto.hpp"
#include "tz/sync/audit.hpp"
#include "state_codec.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <mutex>

#include "tz/model/id_number.hpp"
#include "tz/model/review.hpp"
#include "tz/util/bytes.hpp"
#include "tz/util/civil_time.hpp"
#include "tz/util/crash_point.hpp"
#include "tz/util/parallel.hpp"
#include "tz/util/text.hpp"
#include "tz/util/sorted.hpp"

namespace tz::sync {

namespace {

// --- log payloads (private to this file) ---

std::string encode_decision(const Decision& d) {
  ByteWriter w;
  w.u8(static_cast<uint8_t>(d.kind));
  w.svarint(d.ts.ms);
  w.varint(d.ts.counter);
  w.str(d.reason);
  w.raw(d.entity.view());
  return w.take();
}
Decision decode_decision(std::string_view b) {
  ByteReader r(b);
  Decision d;
  d.kind = static_cast<Decision::Kind>(r.u8());
  d.ts.ms = r.svarint();
  d.ts.counter = static_cast<uint32_t>(r.varint());
  d.reason = r.str();
  d.entity = EntityId::from_bytes(r.raw(16));
  return d;
}

std::string encode_pair(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  ByteWriter w;
  for (auto* v : {&a, &b}) {
    w.varint(v->size());
    for (auto& s : *v) w.str(s);
  }
  return w.take();
}
std::pair<std::vector<std::string>, std::vector<std::string>> decode_pair(std::string_view bytes) {
  ByteReader r(bytes);
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  for (auto* v : {&out.first, &out.second}) {
    v->resize(r.checked_count(r.varint(), 1));
    for (auto& s : *v) s = r.str();
  }
  return out;
}

std::string encode_notice(uint8_t kind, FieldId field, const std::string& zh, const std::string& en) {
  ByteWriter w;
  w.u8(kind);
  w.varint(field);
  w.str(zh);
  w.str(en);
  return w.take();
}

NoticeRecord notice_of(const LogRow& row) {
  ByteReader r(row.payload);
  NoticeRecord n;
  n.server_seq = row.seq;
  n.kind = static_cast<NoticeRecord::Kind>(r.u8());
  n.field = static_cast<FieldId>(r.varint());
  n.reason_zh = r.str();
  n.reason_en = r.str();
  n.type = row.type;
  n.entity = row.entity;
  n.version = row.version;
  return n;
}

std::string encode_config(const std::string& key, uint64_t version, const std::string& value) {
  ByteWriter w;
  w.str(key);
  w.varint(version);
  w.str(value);
  return w.take();
}

// The reason texts: bilingual() joins them; the notice carries both apart.
struct Reason {
  std::string zh, en;
  std::string joined() const { return bilingual(zh, en); }
};

// Whether a pushed change is the one the server holds under its version id (a retry) or another
// change that reuses the id (a rolled-back store). Never the timestamp, which the server may have
// re-stamped; but the device's wall time and collector, which nobody else changes, are compared: the
// same edit made again after a restore is a new change, and its attribution must not be lost.
std::string hex_short(const EntityId& id) { return id.hex().substr(0, 8); }

// The payload of a version row whose change was addressed to a merged-away entity.
constexpr char kRedirectedRow = '\1';
// A push with at least this many new changes checks them and hashes them for its audit entry on
// other threads while it applies them (fewer are not worth starting a thread; decision 135).
constexpr size_t kAheadChanges = 256;
// The payload of a merge row: u8 kind, the survivor.
constexpr uint8_t kMergeRow = 1, kUnmergeRow = 2;
// What unmerge needs, under meta "merge:<merged away hex>" (hex of): the survivor, the merged-away
// state at merge time (state codec) and each child the merge placed under the survivor with the
// version that did it.
struct MergeInfo {
  EntityId survivor;
  EntityState snapshot;
  std::vector<std::pair<EntityId, VersionId>> children;
};
std::string merge_meta_key(const EntityId& id) { return "merge:" + id.hex(); }
std::string encode_merge_info(const MergeInfo& m) {
  ByteWriter w;
  w.raw(m.survivor.view());
  w.str(codec::encode_state(m.snapshot));
  w.varint(m.children.size());
  for (auto& [child, v] : m.children) {
    w.raw(child.view());
    w.raw(v.device.view());
    w.varint(v.seq.value);
  }
  return crypto::to_hex(w.take());
}
MergeInfo decode_merge_info(std::string_view hex) {
  auto bytes = crypto::from_hex(hex);
  if (!bytes) throw Failure(ErrorCode::store_corrupt, {"merge record is not hex"});
  ByteReader r(*bytes);
  MergeInfo m;
  m.survivor = EntityId::from_bytes(r.raw(16));
  m.snapshot = codec::decode_state(r.str());
  m.children.resize(r.checked_count(r.varint(), 33));
  for (auto& [child, v] : m.children) {
    child = EntityId::from_bytes(r.raw(16));
    v.device = DeviceId::from_bytes(r.raw(16));
    v.seq.value = r.varint();
  }
  return m;
}

}  // namespace

struct SyncServer::FieldRules {
  bool any = false;
  EntitySchema schema;  // the entity's schema with only this field's single-field error rules
};
struct SyncServer::RuleCache {
  std::mutex mutex;
  std::unordered_map<uint32_t, FieldRules> map;
};

namespace {
// The fields a match key is made of: a person's 身份证号, a household's 村代码 and 户编号 (at
// namespace scope: clang 14 does not count a nested class with member initialisers as
// default-constructible inside its enclosing class, and the fuzz build uses clang 14).
struct KeyFields {
  FieldId person_id = 0, village = 0, household_no = 0;
};
}  // namespace

// The server's work, with access to its members. One instance per request.
struct SyncServer::Impl {
  SyncServer& s;
  ServerStore& store;

  explicit Impl(SyncServer& server) : s(server), store(server.store_) {}

  // --- entities, cached for one transaction: a batch touches an entity once per field, and the
  // store then reads and writes each once ---

  std::unordered_map<EntityId, std::optional<EntityRecord>, IdHash> cache;
  // The entities written in this transaction, in the order first written (a set kept sorted cost a
  // tree insertion, with its 16-byte comparisons, per change; decision 82).
  struct Dirty {
    std::unordered_set<EntityId, IdHash> set;
    std::vector<EntityId> order;
    void insert(const EntityId& id) {
      if (set.insert(id).second) order.push_back(id);
    }
    size_t count(const EntityId& id) const { return set.count(id); }
    void reserve(size_t n) {
      set.reserve(n);
      order.reserve(n);
    }
    auto begin() const { return order.begin(); }
    auto end() const { return order.end(); }
    void clear() {
      set.clear();
      order.clear();
    }
  } dirty;
  // The last entity merged (a push sends an entity's changes together): its dirty mark is set.
  EntityId last_merged;
  bool have_last_merged = false;
  // A push sends an entity's changes together, so when it moves on to another entity the one before
  // is usually done with for the transaction: its record is handed to the store's writer, which
  // encodes and writes it beside the apply instead of in the flush (decision 145). A record handed
  // over stays unchanged until the writer is done with it: changing it again (a later change, a
  // placement, a merge) first waits for the writer, and the record is then written again by flush.
  std::unordered_set<EntityId, IdHash> handed;
  std::vector<const EntityRecord*> handing;  // handed over, not yet posted to the writer
  static constexpr size_t kHandGroup = 256;
  // `id` is the last entity merged: merge_in made its record, and took it off `handed` when its run
  // began.
  void hand_over(const EntityId& id) {
    handed.insert(id);
    handing.push_back(&*cache.at(id));
    if (handing.size() >= kHandGroup) post_handing();
  }
  void post_handing() {
    if (handing.empty()) return;
    store.put_entities_later(std::move(handing));
    handing.clear();  // moved from: made empty
  }
  // Called before a cached record changes.
  void before_change(const EntityId& id) {
    if (handed.empty() || !handed.erase(id)) return;
    post_handing();
    store.settle_writes();
  }

  // Read-only callers take a reference (element references of an unordered_map stay valid as it
  // grows); callers that change the record copy it and put() it back.
  const std::optional<EntityRecord>& entity(const EntityId& id) {
    auto it = cache.find(id);
    if (it == cache.end()) it = cache.emplace(id, store.entity(id)).first;
    return it->second;
  }
  // The villages of the parents a request's placing values name but whose records it does not change
  // (a visit's person pushed before): read without their states, which nothing here needs, and
  // decoding them was a quarter of the prefetch (decision 140). The cache, once it holds an entity, is
  // what counts: both come from the store as the transaction found it.
  std::unordered_map<EntityId, std::optional<std::vector<std::string>>, IdHash> parent_villages;
  // An entity's villages, or null when the store holds no such entity.
  const std::vector<std::string>* villages_held(const EntityId& id) {
    if (auto it = cache.find(id); it != cache.end()) return it->second ? &it->second->villages : nullptr;
    if (auto it = parent_villages.find(id); it != parent_villages.end()) return it->second ? &*it->second : nullptr;
    const auto& rec = entity(id);
    return rec ? &rec->villages : nullptr;
  }
  void put(const EntityRecord& rec) {
    before_change(rec.state.id);
    auto& slot = cache[rec.state.id];
    if (!slot || &*slot != &rec) slot = rec;  // log_membership puts the cached record itself
    mark_dirty(*slot);
  }
  void mark_dirty(const EntityRecord& rec) {
    dirty.insert(rec.state.id);
    index_parents(rec);
  }
  // The parents of every record written in this transaction, each with the records that named it
  // (at some point: children() checks their current parents). Scanning every written record for
  // each placement made a batch's placements quadratic (decision 82).
  std::unordered_map<EntityId, std::vector<EntityId>, IdHash> child_index;
  void index_parents(const EntityRecord& rec) {
    for (auto& p : rec.parents) {
      auto& kids = child_index[p];
      if (kids.empty() || kids.back() != rec.state.id) kids.push_back(rec.state.id);
    }
  }
  // The entities that belong to `parent`: the store's links plus those written in this transaction.
  std::vector<EntityId> children(const EntityId& parent) {
    std::set<EntityId> out;
    for (auto& c : store.children(parent))
      if (!dirty.count(c)) out.insert(c);
    if (auto it = child_index.find(parent); it != child_index.end())
      for (auto& id : it->second) {
        auto& rec = cache.at(id);
        if (rec && std::binary_search(rec->parents.begin(), rec->parents.end(), parent)) out.insert(id);
      }
    return {out.begin(), out.end()};
  }
  void flush() {
    // The records handed over are written by the store's writer (decision 145); the rest here, in id
    // order: the upserts and link insertions then go through the id index and the links (both keyed
    // by random ids) in key order, as prefetch() reads (decision 133).
    post_handing();
    std::sort(dirty.order.begin(), dirty.order.end());
    std::vector<const EntityRecord*> records;
    records.reserve(dirty.order.size());
    for (auto& id : dirty)
      if (!handed.count(id)) records.push_back(&*cache.at(id));
    store.put_entities(records);
    store.settle_writes();  // the records handed over are read by the writer until this returns
    handed.clear();
    dirty.clear();
    child_index.clear();
    have_last_merged = false;
  }

  // --- placement ---

  // The villages of a record: a household's own, another entity's those of its parents (its
  // `parents` are parents_of(state), kept so by merge_in, the only place a state changes).
  std::vector<std::string> villages_of(const EntityRecord& rec) {
    if (rec.state.type == EntityType::household) return own_villages(s.schema_, rec.state);
    std::vector<std::string> out;
    for (auto& p : rec.parents)
      if (const auto* pv = villages_held(p)) {
        if (out.empty()) out = *pv;
        else out = village_union(std::move(out), *pv);
      }
    return out;
  }

  // The placing field of each entity type (scope.hpp), looked up once per request.
  std::array<std::optional<std::optional<FieldId>>, 8> placing_ids;
  bool placing_field_is(EntityType type, FieldId field) {
    auto& slot = placing_ids[static_cast<uint8_t>(type) & 7];
    if (!slot) {
      slot.emplace();
      for (auto& f : s.schema_.entity(type).fields)
        if (is_placing_field(s.schema_, type, f.id)) *slot = f.id;
    }
    return *slot && **slot == field;
  }

  // Recomputes the villages of the entities that belong to `parent`, logging each that changed
  // (their own children follow).
  void propagate(const EntityId& parent) {
    std::vector<EntityId> queue = children(parent);
    std::set<EntityId> seen;
    while (!queue.empty()) {
      EntityId id = queue.back();
      queue.pop_back();
      if (!seen.insert(id).second) continue;
      auto rec = entity(id);
      if (!rec) continue;
      auto now = villages_of(*rec);
      if (now == rec->villages) continue;
      log_membership(*rec, now);
      for (auto& c : children(id)) queue.push_back(c);
    }
  }

  void log_membership(EntityRecord& rec, const std::vector<std::string>& now) {
    LogRow row;
    row.kind = LogKind::membership;
    row.type = rec.state.type;
    row.entity = rec.state.id;
    row.villages = village_union(rec.villages, now);
    row.payload = encode_pair(rec.villages, now);
    rec.last_seq = store.append(std::move(row));
    rec.villages = now;
    put(rec);
  }

  // --- quarantine rules ---

  // The single-field error rules of each (entity type, field), made once per request: most fields
  // have none, and validating a one-field record against the whole schema would report (and
  // render the messages of) every required rule of the other fields for every change.
  // Kept by the server for its life (decision 82: made once per request, copying the entity's schema
  // for every field a push touched was a few per cent of the apply); each request keeps pointers to
  // the entries it used (unordered_map entries do not move).
  // The checks of one change on its own: its field exists, its value's format, the field's own
  // error rules. What they look up is kept for the request: each (entity type, field) once, and the
  // values of enumerated fields that passed (they repeat: a county has a few values of 民族 or 文化程度
  // for thousands of persons). A push checks its new changes ahead of their apply, on another thread
  // with a Checker of its own (decision 135); it reads only the schema, the validation context and
  // the server's rule cache (under its mutex).
  struct Checker {
    using FieldRules = SyncServer::FieldRules;
    SyncServer& s;
    std::unordered_map<uint32_t, const FieldRules*> field_rules;
    std::unordered_map<uint32_t, const FieldDef*> field_defs;
    std::unordered_set<std::string> passed;

    const FieldRules& rules_of(EntityType type, const EntitySchema& es, const FieldDef& f) {
      uint32_t key = (uint32_t{static_cast<uint8_t>(type)} << 16) | f.id;
      if (auto it = field_rules.find(key); it != field_rules.end()) return *it->second;
      std::lock_guard lock(s.rules_->mutex);
      auto [it, added] = s.rules_->map.try_emplace(key);
      if (added) {
        it->second.schema = es;
        auto& rules = it->second.schema.rules;
        rules.erase(std::remove_if(rules.begin(), rules.end(),
                                   [&](const Rule& r) {
                                     if (r.field != f.name || r.severity != Severity::error) return true;
                                     switch (r.kind) {
                                       case RuleKind::format:
                                       case RuleKind::id_county:
                                       case RuleKind::range:
                                       case RuleKind::not_future:
                                       case RuleKind::region_known: return false;
                                       default: return true;  // cross-field and required rules only flag on the server
                                     }
                                   }),
                    rules.end());
        it->second.any = !rules.empty();
      }
      field_rules.emplace(key, &it->second);
      return it->second;
    }
    const FieldDef* field_def(const FieldChange& c) {
      const uint32_t key = (uint32_t{static_cast<uint8_t>(c.type)} << 16) | c.field;
      auto fd = field_defs.find(key);
      if (fd == field_defs.end()) fd = field_defs.emplace(key, s.schema_.entity(c.type).field(c.field)).first;
      return fd->second;
    }
    std::optional<Reason> problem(const FieldChange& c) {
      if (c.field == kDeletedField) return std::nullopt;
      const auto& es = s.schema_.entity(c.type);
      const uint32_t key = (uint32_t{static_cast<uint8_t>(c.type)} << 16) | c.field;
      const FieldDef* f = field_def(c);
      std::string passed_key;
      if (f && !f->options.empty() && !c.value.empty()) {
        passed_key.reserve(4 + c.value.size());
        passed_key.append(reinterpret_cast<const char*>(&key), sizeof key);
        passed_key.append(c.value);
        if (passed.count(passed_key)) return std::nullopt;
      }
      auto found = field_problem(c, es, f);
      if (!found && !passed_key.empty()) passed.insert(std::move(passed_key));
      return found;
    }
    std::optional<Reason> field_problem(const FieldChange& c, const EntitySchema& es, const FieldDef* f) {
      if (!f)
        return Reason{"数据定义中没有字段 " + std::to_string(c.field) + "（设备的数据定义较新？）",
                      "the schema has no field " + std::to_string(c.field) + " (is the device's schema newer?)"};
      if (c.value.empty()) return std::nullopt;  // clearing a field is never a format error
      auto n = normalize_value(*f, c.value, s.validation_);
      if (!n.ok) {
        auto p = format_problem(es, *f, n);
        return Reason{f->label_zh + "：" + p.message_zh, f->label_en + ": " + p.message_en};
      }
      const auto& rules = rules_of(c.type, es, *f);
      if (!rules.any) return std::nullopt;
      FieldValues values;
      values[c.field] = c.value;
      for (auto& p : validate_record(rules.schema, values, s.validation_, false)) {
        if (p.severity != Severity::error || p.field != f->name) continue;
        return Reason{f->label_zh + "：" + p.message_zh, f->label_en + ": " + p.message_en};
      }
      return std::nullopt;
    }
  };
  Checker checker{s};

  // A reviewer_only field (the review decision) is written only by the county admin replica (decision
  // 60), through which `sync-server review` and the API's review land; from any other device the
  // change is held for the county (decision 315). The replica is read once per request.
  std::optional<std::optional<DeviceId>> admin_device;
  std::optional<Reason> reviewer_field_problem(const DeviceRecord& d, const FieldChange& c) {
    const FieldDef* f = checker.field_def(c);
    if (!f || !reviewer_only(*f)) return std::nullopt;
    if (!admin_device) {
      auto v = store.meta_value(kMetaAdminDevice);
      admin_device = v ? DeviceId::from_hex(*v) : std::nullopt;
    }
    if (*admin_device == d.id) return std::nullopt;
    Problem p = reviewer_only_problem(*f);
    return Reason{p.message_zh + "，设备发来的修改交县里审核",
                  p.message_en + "; a device's change to it is held for the county's review"};
  }

  // The placing values of a batch by entity (household: villages; others: parent ids), made once.
  std::unordered_map<EntityId, std::vector<std::string>, IdHash> placing;
  void index_placing(const std::vector<ChangeRecord>& batch) {
    for (auto& o : batch)
      if (!o.value.empty() && placing_field_is(o.type, o.field)) placing[o.entity].push_back(o.value);
  }

  // Reads into the cache, in id order, the entities the new changes of a batch name and the parents
  // their placing values name. Looked up one by one in the order of the changes, the random ids
  // visited the store's id index all over for every change of a new entity; in order, consecutive
  // look-ups share the index pages they pass through (decision 133).
  void prefetch(const std::vector<ChangeRecord>& batch, size_t from) {
    std::vector<EntityId> ids;
    ids.reserve(batch.size() - from);
    for (size_t i = from; i < batch.size(); ++i) {
      if (ids.empty() || ids.back() != batch[i].entity) ids.push_back(batch[i].entity);
    }
    sort_unique(ids);
    std::vector<EntityId> parents;
    for (auto& [id, values] : placing)
      for (auto& v : values)
        if (auto parent = EntityId::from_hex(v); parent && !std::binary_search(ids.begin(), ids.end(), *parent))
          parents.push_back(*parent);
    sort_unique(parents);
    // Room at once for what the batch's entities will add (growing, the sets rehashed every node).
    cache.reserve(cache.size() + ids.size());
    dirty.reserve(dirty.order.size() + ids.size());
    handed.reserve(handed.size() + ids.size());
    for (auto& id : ids)
      if (!cache.count(id)) cache.emplace(id, store.entity(id));
    for (auto& id : parents)
      if (!cache.count(id) && !parent_villages.count(id)) parent_villages.emplace(id, store.entity_villages(id));
  }

  // The villages a change's entity would be placed in by this batch when the server has none for it
  // (a new or unplaced entity): from the placing values in the batch, following a parent the server
  // does not hold (created in this batch, or held in quarantine) through the batch's own placing
  // values. `unresolved` is set when a parent is neither held nor placed by the batch.
  std::vector<std::string> tentative_villages(const EntityId& id, bool& unresolved, int depth = 0) {
    std::vector<std::string> out;
    auto it = placing.find(id);
    if (it == placing.end()) return out;
    for (auto& v : it->second) {
      auto parent = EntityId::from_hex(v);
      if (!parent) {
        out = village_union(std::move(out), {v});  // a household's village code
        continue;
      }
      if (const auto* pv = villages_held(*parent); pv && !pv->empty()) {
        out = village_union(std::move(out), *pv);
      } else if (depth < 4 && placing.count(*parent)) {
        out = village_union(std::move(out), tentative_villages(*parent, unresolved, depth + 1));
      } else if (!pv) {
        unresolved = true;
      }
    }
    return out;
  }

  std::optional<Reason> scope_problem(const DeviceRecord& d, const FieldChange& c) {
    const auto& rec = entity(c.entity);
    if (rec && !rec->villages.empty()) {
      if (scope_holds_any(d.scope, rec->villages)) return std::nullopt;
    } else {
      bool unresolved = false;
      auto villages = tentative_villages(c.entity, unresolved);
      if (villages.empty() && unresolved)
        return Reason{"该记录所属的户或人员尚未被县服务器接收（可能正在审核），此记录一并交县里审核",
                      "the household or person this record belongs to has not been accepted by the county server (it may be "
                      "held for review); this record is held for the county's review too"};
      if (villages.empty() || scope_holds_any(d.scope, villages)) return std::nullopt;
    }
    bool exists = rec && !rec->villages.empty();
    return exists ? Reason{"该记录（" + hex_short(c.entity) + "）已在本设备范围以外的村登记，已交县里审核",
                           "the record (" + hex_short(c.entity) + ") is registered in a village outside this device's scope; "
                           "held for the county's review"}
                  : Reason{"该记录属于本设备范围以外的村，已交县里审核",
                           "the record belongs to a village outside this device's scope; held for the county's review"};
  }

  // --- applying ---

  // Merges an accepted change into its entity and logs it; true when its field is now in conflict.
  LogRow version_row;
  bool merge_in(StoredChange& sc) {
    // A change addressed to a merged-away entity is applied to its survivor (SPEC §8); the stored
    // change keeps the entity it was addressed to (a retry must compare equal) and its log row names
    // the survivor.
    FieldChange redirected;
    const FieldChange* cp = &sc.change;
    if (auto to = survivor_of(sc.change.entity)) {
      redirected = sc.change;
      redirected.entity = *to;
      cp = &redirected;
    }
    const FieldChange& c = *cp;
    // The cached record is changed in place (a county's first push touches each entity once per
    // field: copying its growing state for every change was quadratic in its fields).
    auto it = cache.find(c.entity);
    if (it == cache.end()) it = cache.emplace(c.entity, store.entity(c.entity)).first;
    auto& slot = it->second;
    const bool new_run = !have_last_merged || last_merged != c.entity;
    if (new_run) {
      before_change(c.entity);
      if (have_last_merged) hand_over(last_merged);
    }
    const bool created = !slot;
    if (!slot) {
      slot.emplace();
      slot->state.type = c.type;
      slot->state.id = c.entity;
      // Room for every field of its type at once: a new entity gets its fields one change at a time,
      // and growing the map moved each field's versions again at every doubling.
      slot->state.fields.reserve(s.schema_.entity(c.type).fields.size());
      if (c.type == EntityType::person || c.type == EntityType::household) absent.insert(c.entity);
    }
    EntityRecord& rec = *slot;
    if (is_key_field(c.type, c.field) && rekeyed_set.insert(c.entity).second) rekeyed.push_back(c.entity);
    auto outcome = merge_apply(rec.state, c, s.options_.merge_mode, sc.server_ms);
    if (outcome == MergeOutcome::id_reused) throw Failure(ErrorCode::internal, {"version id reused: " + c.version.str()});
    if (new_run) {
      mark_dirty(rec);
      last_merged = c.entity;
      have_last_merged = true;
    }
    if (created || placing_field_is(c.type, c.field)) {
      rec.parents = parents_of(s.schema_, rec.state);
      index_parents(rec);
    }
    // The villages it is in now: villages_of, without copying the one parent's list (nearly every
    // change: a person's household, a job's person).
    static const std::vector<std::string> kNowhere;
    std::vector<std::string> computed;
    const std::vector<std::string>* nowp = &computed;
    if (rec.state.type != EntityType::household && rec.parents.size() == 1) {
      const auto* pv = villages_held(rec.parents[0]);
      nowp = pv ? pv : &kNowhere;
    } else {
      computed = villages_of(rec);
    }
    const std::vector<std::string>& now = *nowp;

    // One row reused for every change (decision 133): its villages are nearly always the entity's own
    // and are then assigned into the capacity the row already has, without an allocation; the store
    // copies the row only when it starts a run.
    LogRow& row = version_row;
    row.kind = LogKind::version;
    row.type = c.type;
    row.entity = c.entity;
    if (rec.villages == now) row.villages.assign(now.begin(), now.end());
    else row.villages = village_union(rec.villages, now);
    row.version = c.version;
    row.payload.clear();
    if (cp != &sc.change) row.payload.assign(1, kRedirectedRow);
    sc.server_seq = rec.last_seq = store.append(row);

    bool conflict = false;
    if (auto f = rec.state.fields.find(c.field); f != rec.state.fields.end())
      conflict = in_conflict(f->second) || (c.field == kDeletedField && deletion_in_conflict(rec.state));
    if (conflict) {
      LogRow cr;
      cr.kind = LogKind::conflict;
      cr.type = c.type;
      cr.entity = c.entity;
      cr.villages = now;
      ByteWriter w;
      w.varint(c.field);
      cr.payload = w.take();
      rec.last_seq = store.append(std::move(cr));
    }
    if (now != rec.villages && !created) {
      log_membership(rec, now);
      propagate(c.entity);
    } else {
      // A new entity placed by its first change: that change's row already names its villages, so
      // no device needs a scope entry for it.
      if (rec.villages != now) rec.villages = now;
    }
    return conflict;
  }

  void log_decision(const DeviceId& target, const FieldChange& c, const Decision& d, const std::vector<std::string>& villages) {
    LogRow row;
    row.kind = LogKind::decision;
    row.target = target;
    row.type = c.type;
    row.entity = c.entity;
    row.villages = villages;
    row.version = c.version;
    row.payload = encode_decision(d);
    store.append(std::move(row));
  }

  void log_notice(const DeviceId& target, NoticeRecord::Kind kind, const Reason& r, const FieldChange* c) {
    LogRow row;
    row.kind = LogKind::notice;
    row.target = target;
    if (c) {
      row.type = c->type;
      row.entity = c->entity;
      row.version = c->version;
    }
    row.payload = encode_notice(static_cast<uint8_t>(kind), c ? c->field : 0, r.zh, r.en);
    store.append(std::move(row));
  }

  ChangeOutcome quarantine(StoredChange& sc, const Reason& why) {
    sc.status = StoredChange::Status::quarantined;
    sc.reason = why.joined();
    store.put_change(sc);
    Decision d;
    d.kind = Decision::Kind::quarantined;
    d.reason = sc.reason;
    log_decision(sc.change.version.device, sc.change, d, {});
    log_notice(sc.change.version.device, NoticeRecord::Kind::quarantined, why, &sc.change);
    ChangeOutcome o;
    o.seq = sc.change.version.seq.value;
    o.kind = ChangeOutcome::Kind::quarantined;
    o.quarantine_reason = sc.reason;
    return o;
  }

  // The clock guard: a timestamp too far ahead of the server's clock is re-stamped; others raise it.
  void guard_clock(StoredChange& sc, int64_t now) {
    HybridClock clock(store.clock());
    if (sc.change.ts.ms > now + s.options_.max_clock_lead_ms) sc.change.ts = clock.tick(now);
    else clock.observe(sc.change.ts);
    store.set_clock(clock.last());
  }

  // `field_check`: checker.problem(c), made ahead. The change is moved in: a push whose request the
  // server owns hands over each change, to be stored as it is (copying it was a tenth of the apply).
  ChangeOutcome apply_new(const DeviceRecord& d, FieldChange&& change, int64_t now, std::optional<Reason> field_check) {
    StoredChange sc;
    sc.change = std::move(change);
    const FieldChange& c = sc.change;
    sc.device_ts = c.ts;
    sc.server_ms = now;
    std::optional<Reason> why;
    if (d.retired && c.version.seq.value > d.retired_after)
      why = Reason{"本设备已停用，停用后的修改交县里审核", "this device was retired; changes made after that are held for review"};
    if (!why) why = reviewer_field_problem(d, c);
    if (!why) why = std::move(field_check);
    // Addressed to a merged-away entity: applied to the survivor whatever the sender's scope, except
    // a deletion, which the county reviews (SPEC §8).
    const auto survivor = survivor_of(c.entity);
    if (!why && survivor && c.field == kDeletedField)
      why = Reason{"要删除的记录（" + hex_short(c.entity) + "）已合并到 " + hex_short(*survivor) + "，删除交县里审核",
                   "the record to delete (" + hex_short(c.entity) + ") was merged into " + hex_short(*survivor) +
                       "; the deletion is held for the county's review"};
    if (!why && !survivor) why = scope_problem(d, c);
    if (why) return quarantine(sc, *why);
    guard_clock(sc, now);
    bool conflict = merge_in(sc);
    ChangeOutcome o;
    o.seq = c.version.seq.value;
    o.kind = conflict ? ChangeOutcome::Kind::conflict : ChangeOutcome::Kind::applied;
    const bool restamped = sc.restamped();
    if (restamped) o.restamped = sc.change.ts;
    const Hlc stamp = sc.change.ts;
    // What the notices below name, kept before the change is handed to the store.
    FieldChange about;
    if (survivor || restamped) {
      about.type = c.type;
      about.entity = c.entity;
      about.field = c.field;
      about.version = c.version;
    }
    store.put_change(std::move(sc));  // kept as it is in the block being gathered: not copied again
    if (survivor) {
      // The sender gets the change back with its values under the survivor (records_for), stamp
      // included: no restamp decision, which would name the merged-away entity.
      log_notice(about.version.device, NoticeRecord::Kind::redirected,
                 Reason{"该记录（" + hex_short(about.entity) + "）已合并到 " + hex_short(*survivor) + "，修改已记到后者",
                        "the record (" + hex_short(about.entity) + ") was merged into " + hex_short(*survivor) +
                            "; the change was applied there"},
                 &about);
    } else if (restamped) {
      Decision dec;
      dec.kind = Decision::Kind::restamped;
      dec.ts = stamp;
      log_decision(about.version.device, about, dec, {});
    }
    return o;
  }

  void note_clock(DeviceRecord& d, int64_t device_now, int64_t now) {
    if (device_now == 0) return;
    int64_t previous = d.clock_offset_ms;
    d.clock_offset_ms = device_now - now;
    const int64_t limit = s.options_.max_clock_lead_ms;
    bool wrong = std::llabs(d.clock_offset_ms) > limit;
    bool was_wrong = std::llabs(previous) > limit;
    if (!wrong || (was_wrong && std::llabs(previous - d.clock_offset_ms) < 60 * 1000)) return;
    std::string minutes = std::to_string(d.clock_offset_ms / 60000);
    log_notice(d.id, NoticeRecord::Kind::clock,
               Reason{"本设备时钟与县服务器相差约 " + minutes + " 分钟，请校准电脑时间；超前的时间戳已由服务器改记",
                      "this device's clock differs from the county server's by about " + minutes +
                          " minutes; set the laptop's time. Timestamps ahead were re-stamped by the server"},
               nullptr);
  }

  // `owned`: the request itself when the server owns it (handle()): its new changes are then moved
  // into the store instead of copied.
  PushReply push(const PushRequest& req, PushRequest* owned = nullptr) {
    PushReply reply;
    reply.server_epoch = store.epoch();
    auto dev = store.device(req.device);
    if (!dev) {
      reply.refusal = PushReply::Refusal::unknown_device;
      return reply;
    }
    reply.acked_seq = reply.highest_seq_held = dev->acked_seq;
    reply.last_counter_seen = dev->last_counter;
    if (dev->revoked) {
      reply.refusal = PushReply::Refusal::revoked;
      return reply;
    }
    if (req.request_counter <= dev->last_counter) {
      reply.refusal = PushReply::Refusal::stale_counter;
      return reply;
    }
    int64_t now = s.clock_();
    store.begin();
    try {
      ensure_match_keys();
      dev->last_counter = req.request_counter;
      dev->last_push_ms = now;
      note_clock(*dev, req.device_now_ms, now);
      // One outcome per change: room for all at once (grown as it went, the vector moved each
      // outcome, with its string, again at every doubling).
      reply.outcomes.reserve(req.changes.size());
      // Changes the server holds already: the same content is a duplicate (a retry), different
      // content a rolled-back device store, refused whole.
      size_t i = 0;
      for (; i < req.changes.size() && req.changes[i].version.seq.value <= dev->acked_seq; ++i) {
        auto& c = req.changes[i];
        auto held = store.change(c.version);
        if (!held) throw Failure(ErrorCode::store_corrupt, {"acknowledged change missing: " + c.version.str()});
        // (A device restored from a copy gets its change to a merged-away entity back under the
        // survivor's id, and may send it so: the same change.)
        const bool redirected_retry = same_change_but_entity(held->change, c) && survivor_of(held->change.entity) == c.entity;
        if (!same_change_content(held->change, c) && !redirected_retry) {
          store.rollback();
          PushReply refused;
          refused.server_epoch = store.epoch();
          refused.refusal = PushReply::Refusal::rolled_back;
          refused.acked_seq = c.version.seq.value - 1;
          refused.highest_seq_held = dev->acked_seq;
          refused.last_counter_seen = dev->last_counter;
          return refused;
        }
        ChangeOutcome o;
        o.seq = c.version.seq.value;
        o.kind = ChangeOutcome::Kind::duplicate;
        if (held->status == StoredChange::Status::quarantined) o.quarantine_reason = held->reason;
        if (held->restamped()) o.restamped = held->change.ts;
        reply.outcomes.push_back(std::move(o));
      }
      // New changes, only in sequence order: after a gap nothing is applied. Every one of them gets
      // an outcome other than duplicate, so they are the audit entry's range: its hash, which reads
      // only the request, is made on another thread while they are applied.
      size_t end = i;
      while (end < req.changes.size() && req.changes[end].version.seq.value == dev->acked_seq + 1 + (end - i)) ++end;
      std::future<BatchDigest> digest;
      if (end - i >= kAheadChanges)
        digest = run_beside([&req, first = req.changes[i].version.seq.value, last = req.changes[end - 1].version.seq.value] {
          return batch_digest(req, first, last);
        });
      // Each change's checks of its own are made ahead on another thread while the changes before it
      // are applied (decision 135).
      Checker ahead{s};
      const size_t from = i;
      RunAhead<std::optional<Reason>> checks(end - from, [&](size_t k) { return ahead.problem(req.changes[from + k]); },
                                             kAheadChanges);
      index_placing(req.changes);
      prefetch(req.changes, i);
      // The batch's hash reads the new changes: made before they are moved into the store (made on
      // the other thread meanwhile, it is nearly always ready by now).
      std::optional<BatchDigest> made;
      if (owned && end > i) {
        const uint64_t first = req.changes[i].version.seq.value, last = req.changes[end - 1].version.seq.value;
        made = digest.valid() ? digest.get() : batch_digest(req, first, last);
      }
      for (; i < end; ++i) {
        // The check is taken first: its thread has then finished reading this change.
        auto check = checks.take(i - from);
        reply.outcomes.push_back(owned ? apply_new(*dev, std::move(owned->changes[i]), now, std::move(check))
                                       : apply_new(*dev, FieldChange(req.changes[i]), now, std::move(check)));
        dev->acked_seq = req.changes[i].version.seq.value;
      }
      // Exact duplicates the batch made (an ID added or corrected, 15 vs 18 digits) are merged now.
      merge_on_apply(dev->id, now);
      store.put_device(*dev);
      flush();
      if (!made && digest.valid()) made = digest.get();
      audit_batch(store, now, req, reply, made ? &*made : nullptr);
      // Nothing reads the request's entity cache after the flush: it is freed on another thread
      // while the commit writes (freeing some 50,000 records took as long as a fifth of the commit).
      // The future's destructor waits for it before the reply goes.
      std::future<void> freed;
      if (cache.size() >= kAheadChanges) {
        freed = run_beside([dropped = std::move(cache)]() mutable { dropped.clear(); });
        cache.clear();  // a moved-from map is valid but unspecified: made empty
      }
      store.commit("server.apply.before_commit", "server.apply.after_commit");
    } catch (...) {
      store.rollback();
      store.throw_storage_failure();
      throw;
    }
    reply.acked_seq = reply.highest_seq_held = dev->acked_seq;
    reply.last_counter_seen = dev->last_counter;
    return reply;
  }

  // --- pull ---

  // An entity entering a device's scope, followed by a MergeRecord for every entity merged into it:
  // the device keeps those links (they are in the SPEC §5 digest) and drops the ones it held for it.
  std::optional<std::map<EntityId, std::vector<EntityId>>> merged_from_cache;  // read-only requests
  void enter_scope(std::vector<PullRecord>& out, uint64_t seq, const EntityState& state) {
    out.emplace_back(ScopeEnterRecord{seq, state});
    if (merges().empty()) return;
    if (!merged_from_cache) merged_from_cache = merged_from(merges());
    auto it = merged_from_cache->find(state.id);
    if (it == merged_from_cache->end()) return;
    for (auto& away : it->second) out.emplace_back(MergeRecord{seq, state.type, away, state.id});
  }

  bool in_scope(const Scope& scope, const EntityId& id) {
    auto rec = store.entity(id);
    return rec && scope_holds_any(scope, rec->villages);
  }

  void scope_state(std::vector<PullRecord>& out, uint64_t seq, const Scope& scope, const EntityId& id, EntityType type) {
    auto rec = store.entity(id);
    if (!rec) {
      ScopeEnterRecord r;  // the server holds nothing of it: an empty state
      r.server_seq = seq;
      r.state.type = type;
      r.state.id = id;
      out.emplace_back(std::move(r));
    } else if (scope_holds_any(scope, rec->villages)) {
      enter_scope(out, seq, rec->state);
    } else {
      out.emplace_back(ScopeLeaveRecord{seq, id});
    }
  }

  void records_for(const LogRow& row, const DeviceRecord& d, bool own_values, std::vector<PullRecord>& out) {
    const bool mine = row.target && *row.target == d.id;
    switch (row.kind) {
      case LogKind::version: {
        bool own = row.version.device == d.id;
        // A row naming another entity than its change: the change was redirected to a merge's
        // survivor, and goes with its values as a change of the survivor (to its sender as sent,
        // after a merged_into decision). (Marked by its payload: a plain version row has none, and
        // the store folds those.)
        const bool redirected = !row.payload.empty() && row.payload[0] == kRedirectedRow;
        if ((!own || redirected) && !scope_holds_any(d.scope, row.villages)) return;
        auto sc = store.change(row.version);
        if (!sc) throw Failure(ErrorCode::store_corrupt, {"logged change missing: " + row.version.str()});
        if (redirected && own) {
          // Its sender gets it as sent, after a decision naming the survivor it was applied to: a
          // store restored from a copy that lacks it puts it back in its log under the entity it was
          // addressed to (an unmerge gives it back there) and merges it into the survivor.
          Decision dec;
          dec.kind = Decision::Kind::merged_into;
          dec.entity = row.entity;
          out.emplace_back(DecisionRecord{row.seq, row.version, dec});
          out.emplace_back(VersionRecord{row.seq, sc->change, sc->server_ms});
          return;
        }
        if (redirected) {
          VersionRecord r{row.seq, sc->change, sc->server_ms};
          r.change.entity = row.entity;
          r.change.type = row.type;
          out.emplace_back(std::move(r));
          return;
        }
        if (own && !own_values) {
          OwnVersionRecord r;
          r.server_seq = row.seq;
          r.version = row.version;
          r.server_ms = sc->server_ms;
          if (sc->restamped()) {
            Decision dec;
            dec.kind = Decision::Kind::restamped;
            dec.ts = sc->change.ts;
            r.decisions.push_back(dec);
          }
          out.emplace_back(std::move(r));
        } else {
          out.emplace_back(VersionRecord{row.seq, sc->change, sc->server_ms});
        }
        return;
      }
      case LogKind::conflict: {
        if (!scope_holds_any(d.scope, row.villages)) return;
        ByteReader r(row.payload);
        out.emplace_back(ConflictRecord{row.seq, row.type, row.entity, static_cast<FieldId>(r.varint())});
        return;
      }
      case LogKind::decision: {
        if (!mine) return;
        Decision dec = decode_decision(row.payload);
        if (dec.kind == Decision::Kind::restamped && own_values) return;  // the VersionRecord has the stamp
        out.emplace_back(DecisionRecord{row.seq, row.version, dec});
        // A quarantined change stops being live on its sender: the entity's state as the server
        // holds it replaces the device's, which then adds back its own other changes. A released one
        // is live again there only when the sender's scope holds its entity (it may have left).
        if (dec.kind == Decision::Kind::quarantined || dec.kind == Decision::Kind::released)
          scope_state(out, row.seq, d.scope, row.entity, row.type);
        return;
      }
      case LogKind::notice: {
        if (!mine) return;
        out.emplace_back(notice_of(row));
        return;
      }
      case LogKind::config: {
        ByteReader r(row.payload);
        ConfigRecord c;
        c.server_seq = row.seq;
        c.key = r.str();
        c.version = r.varint();
        c.value = r.str();
        out.emplace_back(std::move(c));
        return;
      }
      case LogKind::membership: {
        auto [before, now] = decode_pair(row.payload);
        bool was = scope_holds_any(d.scope, before), is = scope_holds_any(d.scope, now);
        if (is && !was) scope_state(out, row.seq, d.scope, row.entity, row.type);
        if (was && !is) out.emplace_back(ScopeLeaveRecord{row.seq, row.entity});
        return;
      }
      case LogKind::merge: {
        // The device drops the merged-away entity and takes the survivor's whole state (an unmerge:
        // both states); what is not in its scope any more it drops.
        if (!scope_holds_any(d.scope, row.villages)) return;
        ByteReader r(row.payload);
        const uint8_t kind = r.u8();
        const EntityId survivor = EntityId::from_bytes(r.raw(16));
        // (The survivor's state, when it enters, is followed by the MergeRecords of the merges in
        // force; this one is sent on its own only when it is not among them.)
        if (kind == kMergeRow && !(survivor_of(row.entity) == survivor && in_scope(d.scope, survivor)))
          out.emplace_back(MergeRecord{row.seq, row.type, row.entity, survivor});
        scope_state(out, row.seq, d.scope, survivor, row.type);
        if (kind == kUnmergeRow) scope_state(out, row.seq, d.scope, row.entity, row.type);
        return;
      }
      case LogKind::scope_change: {
        // One row per entity that entered or left the device's scope when the scope was edited, so
        // a county-wide widening pages like any other stream. Judged again by the current scope (it
        // may have changed since).
        if (!mine) return;
        bool entered = !row.payload.empty() && row.payload[0] == 1;
        auto rec = store.entity(row.entity);
        bool holds_now = rec && scope_holds_any(d.scope, rec->villages);
        if (entered && holds_now) enter_scope(out, row.seq, rec->state);
        if (!entered && !holds_now) out.emplace_back(ScopeLeaveRecord{row.seq, row.entity});
        return;
      }
    }
  }

  Result<PullPage> pull(const PullRequest& req) {
    auto dev = store.device(req.device);
    if (!dev) return Error(ErrorCode::unknown_device, {req.device.hex()});
    if (dev->revoked) return Error(ErrorCode::device_revoked, {req.device.hex()});
    PullPage page;
    page.server_epoch = store.epoch();
    uint64_t cursor = req.cursor;
    bool own_values = req.own_values;
    // A cursor of another epoch means nothing; one beyond the log means this store was put back from
    // a copy without a new epoch.
    if (req.server_epoch_seen != store.epoch() || cursor > store.last_seq()) {
      cursor = 0;
      own_values = true;
    }
    size_t limit = s.options_.max_page_records;
    if (req.max_records > 0) limit = std::min<size_t>(limit, req.max_records);
    page.next_cursor = std::min(cursor, store.last_seq());
    // Rows are read in chunks of the page size until the page is full or the scan budget is spent
    // (a device outside most of the county skips many rows per record it gets).
    size_t scanned = 0;
    while (page.records.size() < limit && scanned < s.options_.max_scan_rows) {
      size_t want = std::min(limit, s.options_.max_scan_rows - scanned);
      auto rows = store.log_after(page.next_cursor, want);
      for (auto& row : rows) {
        records_for(row, *dev, own_values, page.records);
        page.next_cursor = row.seq;
        if (page.records.size() >= limit) break;
      }
      scanned += rows.size();
      if (rows.size() < want) break;
    }
    page.more = page.next_cursor < store.last_seq();
    return page;
  }

  // --- review ---

  Status release(const VersionId& id) {
    auto sc = store.change(id);
    if (!sc || sc->status != StoredChange::Status::quarantined)
      return Error(ErrorCode::not_found, {bilingual("隔离区中的变更 " + id.str(), "quarantined change " + id.str())});
    int64_t now = s.clock_();
    store.begin();
    try {
      sc->status = StoredChange::Status::applied;
      sc->reason.clear();
      sc->server_ms = now;
      // The sender learns of the release before the version row, which carries any new stamp: it
      // merges its own change back first, then takes the stamp.
      Decision d;
      d.kind = Decision::Kind::released;
      log_decision(id.device, sc->change, d, {});
      log_notice(id.device, NoticeRecord::Kind::released,
                 Reason{"县里已放行被隔离的修改，已生效", "the county released the held change; it is in effect"}, &sc->change);
      guard_clock(*sc, now);
      ensure_match_keys();
      merge_in(*sc);
      store.put_change(*sc);
      merge_on_apply(id.device, now);
      if (auto to = survivor_of(sc->change.entity))
        log_notice(id.device, NoticeRecord::Kind::redirected,
                   Reason{"该记录（" + hex_short(sc->change.entity) + "）已合并到 " + hex_short(*to) + "，放行的修改已记到后者",
                          "the record (" + hex_short(sc->change.entity) + ") was merged into " + hex_short(*to) +
                              "; the released change was applied there"},
                   &sc->change);
      flush();
      append_audit_entry(store, now, "release", kCountyAdminActor, audit_summary({{"change", id.str()}}));
      store.commit("server.release.before_commit", "server.release.after_commit");
    } catch (...) {
      store.rollback();
      store.throw_storage_failure();
      throw;
    }
    return ok_status();
  }

  Status reject(const VersionId& id, const std::string& reason) {
    auto sc = store.change(id);
    if (!sc || sc->status != StoredChange::Status::quarantined)
      return Error(ErrorCode::not_found, {bilingual("隔离区中的变更 " + id.str(), "quarantined change " + id.str())});
    store.begin();
    try {
      sc->status = StoredChange::Status::rejected;
      sc->reason = reason;
      store.put_change(*sc);
      Decision d;
      d.kind = Decision::Kind::rejected;
      d.reason = reason;
      log_decision(id.device, sc->change, d, {});
      log_notice(id.device, NoticeRecord::Kind::rejected, Reason{"县里驳回了被隔离的修改：" + reason, "the county rejected the held change: " + reason},
                 &sc->change);
      append_audit_entry(store, s.clock_(), "reject", kCountyAdminActor,
                         audit_summary({{"change", id.str()}, {"reason_sha256", crypto::to_hex(crypto::sha256(reason))}}));
      store.commit("server.reject.before_commit", "server.reject.after_commit");
    } catch (...) {
      store.rollback();
      store.throw_storage_failure();
      throw;
    }
    return ok_status();
  }

  Status flag(const std::vector<SyncServer::Flag>& flags) {
    store.begin();
    try {
      for (auto& f : flags) {
        LogRow row;
        row.kind = LogKind::notice;
        row.target = f.target;
        row.type = f.type;
        row.entity = f.entity;
        row.payload = encode_notice(static_cast<uint8_t>(NoticeRecord::Kind::flagged), f.field, f.zh, f.en);
        store.append(std::move(row));
      }
      store.commit("server.verify.before_commit", "server.verify.after_commit");
    } catch (...) {
      store.rollback();
      store.throw_storage_failure();
      throw;
    }
    return ok_status();
  }

  // --- merges (SPEC §8) ---

  // The merges in force, read once per request (inside its transaction for writers).
  std::optional<MergeLinks> merges_in_force;
  MergeLinks& merges() {
    if (!merges_in_force) merges_in_force = parse_merge_links(store.meta_value(kMetaMerges).value_or(""));
    return *merges_in_force;
  }
  std::optional<EntityId> survivor_of(const EntityId& id) {
    auto& m = merges();
    if (m.empty()) return std::nullopt;
    auto it = m.find(id);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }

  // --- merging on apply (SPEC §8; decision 221) ---

  std::optional<KeyFields> key_fields_;
  const KeyFields& key_fields() {
    if (!key_fields_) {
      key_fields_.emplace();
      key_fields_->person_id = s.schema_.entity(EntityType::person).require("id_number").id;
      const auto& hs = s.schema_.entity(EntityType::household);
      key_fields_->village = hs.require("village_code").id;
      key_fields_->household_no = hs.require("household_no").id;
    }
    return *key_fields_;
  }
  bool is_key_field(EntityType type, FieldId field) {
    if (type == EntityType::person) return field == key_fields().person_id || field == kDeletedField;
    if (type == EntityType::household)
      return field == key_fields().village || field == key_fields().household_no || field == kDeletedField;
    return false;
  }
  // Entities whose key field a change of this transaction touched, in the order first touched.
  std::vector<EntityId> rekeyed;
  std::unordered_set<EntityId, IdHash> rekeyed_set;

  // The one value all live versions of a field agree on once normalised (by `norm`; empty: not
  // a value), or "" (no value, or values that disagree: a conflict is not a match).
  template <typename Norm>
  static std::string agreed_value(const EntityState& st, FieldId field, Norm norm) {
    auto it = st.fields.find(field);
    if (it == st.fields.end()) return {};
    std::string out;
    for (auto& v : it->second.live) {
      std::string n = norm(v.value);
      if (n.empty() || (!out.empty() && n != out)) return {};
      out = std::move(n);
    }
    return out;
  }
  // The match key of a state: "p:" + the 18-character 身份证号 of a person, "h:" + 村代码 + "/" +
  // 户编号 of a household; "" for a deleted entity, a missing or invalid value, or one in conflict.
  std::string match_key_of(const EntityState& st, int64_t now) {
    if (st.fields.empty() || is_deleted(st)) return {};
    const auto& k = key_fields();
    auto trimmed = [](const std::string& v) { return text::trim(v); };
    if (st.type == EntityType::person) {
      const CivilDate today = china_date_of(now);
      auto id = agreed_value(st, k.person_id, [&](const std::string& v) {
        auto c = idn::check_id(v, today);
        return c.ok() ? c.id18 : std::string();
      });
      return id.empty() ? id : "p:" + id;
    }
    if (st.type == EntityType::household) {
      auto village = agreed_value(st, k.village, trimmed), no = agreed_value(st, k.household_no, trimmed);
      return village.empty() || no.empty() ? std::string() : "h:" + village + "/" + no;
    }
    return {};
  }
  // The match keys the store holds for entities this request keyed (decision 130): a county's first
  // push keys every new person and household, and reading back a key just written, or the key of an
  // entity the store did not hold, was a look-up each.
  std::unordered_map<EntityId, std::string, IdHash> stored_keys;
  // The persons and households this request created (the store held none when first read): the
  // store holds no match key for them.
  std::unordered_set<EntityId, IdHash> absent;
  // Writes an entity's match key as its state now gives it; returns it ("" for none).
  std::string rekey(const EntityId& id) {
    const auto& rec = entity(id);
    std::string key = rec ? match_key_of(rec->state, s.clock_()) : std::string();
    auto known = stored_keys.find(id);
    // An entity this request created has no key in the store (keys are only written here, and
    // recorded in stored_keys when they are).
    const std::string held = known != stored_keys.end() ? known->second
                             : absent.count(id)         ? std::string()
                                                        : store.match_key(id).value_or("");
    if (held != key) store.put_match_key(id, key);
    if (known != stored_keys.end()) known->second = key;
    else stored_keys.emplace(id, key);
    return key;
  }
  // A store made before match keys (or never keyed) gets every entity's key once.
  void ensure_match_keys() {
    if (store.meta_value(kMetaMatchKeys).value_or("") == "1") return;
    const int64_t now = s.clock_();
    store.scan_entities([&](const EntityRecord& rec) {
      if (auto key = match_key_of(rec.state, now); !key.empty()) store.put_match_key(rec.state.id, key);
    });
    store.put_meta_value(kMetaMatchKeys, "1");
  }


  // Merges every entity whose key a change of this transaction touched with the entities sharing
  // its key, the smallest id surviving; the device that sent the change is told. Returns the merges.
  std::vector<MergeSummary> merge_on_apply(const std::optional<DeviceId>& sender, int64_t now) {
    std::vector<MergeSummary> done;
    std::vector<EntityId> ids;
    ids.swap(rekeyed);
    rekeyed_set.clear();
    for (auto& id : ids) {
      const std::string key = rekey(id);
      if (!s.options_.merge_on_apply || key.empty()) continue;
      auto group = store.entities_with_match_key(key);
      if (group.size() < 2) continue;
      for (auto& m : merge_group(group, now)) {
        if (sender)
          log_entity_notice(*sender, NoticeRecord::Kind::redirected, m.merged_away, entity(m.merged_away)->state.type,
                            Reason{"记录 " + hex_short(m.merged_away) + " 与 " + hex_short(m.survivor) +
                                       " 身份证号（或村代码和户编号）相同，已合并到后者",
                                   "the record " + hex_short(m.merged_away) + " has the same ID number (or village code and "
                                       "household number) as " + hex_short(m.survivor) + "; merged into the latter"});
        done.push_back(m);
      }
    }
    return done;
  }
  // Merges a group of entities sharing a key (id order) into its first, skipping pairs a reviewer
  // unmerged and merges the rules refuse (chains: verify lists them).
  std::vector<MergeSummary> merge_group(const std::vector<EntityId>& group, int64_t now) {
    std::vector<MergeSummary> done;
    const EntityId& a = group.front();
    for (size_t i = 1; i < group.size(); ++i) {
      if (s.unmerged_before(a, group[i])) continue;
      MergeSummary sum;
      if (merge_now(a, group[i], now, sum)) done.push_back(sum);
    }
    return done;
  }

  void log_entity_notice(const DeviceId& target, NoticeRecord::Kind kind, const EntityId& id, EntityType type,
                         const Reason& r) {
    FieldChange about;
    about.type = type;
    about.entity = id;
    log_notice(target, kind, r, &about);
  }

  // verify: every group of entities sharing a match key merged into its smallest id.
  Result<std::vector<MergeSummary>> merge_exact() {
    const int64_t now = s.clock_();
    std::vector<MergeSummary> done;
    Status st = in_txn([&]() -> Status {
      ensure_match_keys();
      for (auto& group : store.match_key_groups())
        for (auto& m : merge_group(group, now)) done.push_back(m);
      return ok_status();
    });
    if (!st) return st.error();
    return done;
  }

  // A change the server makes itself (placing a child under a merge's survivor, or back): applied
  // like any accepted change, with a version id of the merge device.
  VersionId server_change(const EntityRecord& rec, FieldId field, const std::string& value, std::vector<VersionId> base,
                          int64_t now) {
    uint64_t seq = std::stoull(store.meta_value("merge_device_seq").value_or("0")) + 1;
    store.put_meta_value("merge_device_seq", std::to_string(seq));
    StoredChange sc;
    FieldChange& c = sc.change;
    c.type = rec.state.type;
    c.entity = rec.state.id;
    c.field = field;
    c.value = value;
    c.version = VersionId{merge_device_id(), Seq{seq}};
    HybridClock clock(store.clock());
    c.ts = clock.tick(now);
    store.set_clock(clock.last());
    c.collector = std::string(kCountyAdminActor);
    c.device_ms = now;
    c.base = std::move(base);
    c.schema_version = static_cast<uint32_t>(s.schema_.version());
    sc.device_ts = c.ts;
    sc.server_ms = now;
    merge_in(sc);
    store.put_change(sc);
    return c.version;
  }

  // The placing field of a child whose live versions name `parent`, with those versions.
  std::optional<std::pair<FieldId, std::vector<VersionId>>> placing_versions(const EntityRecord& rec, const EntityId& parent) {
    const std::string hex = parent.hex();
    for (auto& [field, fs] : rec.state.fields) {
      if (!placing_field_is(rec.state.type, field)) continue;
      std::vector<VersionId> base;
      for (auto& v : fs.live)
        if (v.value == hex) base.push_back(v.id);
      if (!base.empty()) return std::make_pair(field, std::move(base));
    }
    return std::nullopt;
  }

  void log_merge_row(uint8_t kind, const EntityRecord& survivor, const EntityRecord& away,
                     const std::vector<std::string>& villages) {
    LogRow row;
    row.kind = LogKind::merge;
    row.type = away.state.type;
    row.entity = away.state.id;
    row.villages = villages;
    ByteWriter w;
    w.u8(kind);
    w.raw(survivor.state.id.view());
    row.payload = w.take();
    store.append(std::move(row));
  }

  // Recomputes a record's parents and villages after its state changed wholesale, logging a
  // membership change (its children follow).
  void replace_state(EntityRecord& rec) {
    rec.parents = parents_of(s.schema_, rec.state);
    put(rec);
    auto now = villages_of(rec);
    if (now != rec.villages) {
      log_membership(rec, now);
      propagate(rec.state.id);
    }
  }

  static Error merge_refused(const std::string& zh, const std::string& en) {
    return Error(ErrorCode::invalid_input, {bilingual(zh, en)});
  }

  Result<MergeSummary> merge(const EntityId& a, const EntityId& b) {
    const int64_t now = s.clock_();
    MergeSummary sum;
    Status st = in_txn([&]() -> Status {
      ensure_match_keys();
      return merge_now(a, b, now, sum);
    }, "server.merge.before_commit", "server.merge.after_commit");
    if (!st) return st.error();
    return sum;
  }

  // Merges b into a inside the caller's transaction (merge, verify and merging on apply).
  Status merge_now(const EntityId& a, const EntityId& b, int64_t now, MergeSummary& sum) {
    sum.survivor = a;
    sum.merged_away = b;
    {
      if (a == b) return merge_refused("不能把记录合并到它自己：" + a.hex(), "cannot merge a record into itself: " + a.hex());
      for (auto* id : {&a, &b})
        if (!entity(*id) || entity(*id)->state.fields.empty())
          return Error(ErrorCode::not_found, {bilingual("记录 " + id->hex(), "record " + id->hex())});
      EntityRecord sr = *entity(a), ar = *entity(b);
      if (sr.state.type != ar.state.type)
        return merge_refused("两条记录类型不同，不能合并", "the two records are of different types and cannot be merged");
      if (sr.state.type != EntityType::person && sr.state.type != EntityType::household)
        return merge_refused("只能合并人员或户", "only persons and households are merged");
      if (auto to = survivor_of(b))
        return merge_refused(b.hex() + " 已合并到 " + to->hex(), b.hex() + " is merged into " + to->hex() + " already");
      if (auto to = survivor_of(a))
        return merge_refused(a.hex() + " 已合并到 " + to->hex() + "，请合并到后者",
                             a.hex() + " is merged into " + to->hex() + "; merge into that one");
      for (auto& [away, surv] : merges())
        if (surv == b)
          return merge_refused(away.hex() + " 已合并到 " + b.hex() + "，请先撤销那次合并",
                               away.hex() + " is merged into " + b.hex() + "; unmerge it first");
      const std::vector<EntityId> kids = children(b);
      MergeInfo info;
      info.survivor = a;
      info.snapshot = ar.state;
      const auto villages_before = village_union(sr.villages, ar.villages);
      // The survivor takes every live version of the merged-away one, with its id.
      for (auto& [field, fs] : ar.state.fields) sum.versions += fs.live.size();
      absorb_versions(sr.state, ar.state);
      replace_state(sr);
      // The merged-away one: an empty tombstone, in no village (devices drop it).
      ar.state.fields.clear();
      ar.state.deletion_bases.clear();
      ar.parents.clear();
      ar.villages.clear();
      put(ar);
      merges()[b] = a;
      // Its children are placed under the survivor.
      for (auto& kid : kids) {
        const auto& kr = entity(kid);
        if (!kr) continue;
        auto placed = placing_versions(*kr, b);
        if (!placed) continue;
        auto v = server_change(*kr, placed->first, a.hex(), std::move(placed->second), now);
        info.children.emplace_back(kid, v);
      }
      sum.children = info.children.size();
      const EntityRecord& survivor_now = *entity(a);
      for (auto& c : conflicts(survivor_now.state)) (void)c, ++sum.conflicts;
      log_merge_row(kMergeRow, survivor_now, ar, village_union(villages_before, survivor_now.villages));
      flush();
      store.put_meta_value(kMetaMerges, format_merge_links(merges()));
      store.put_meta_value(merge_meta_key(b), encode_merge_info(info));
      rekey(a);
      rekey(b);
      append_audit_entry(store, now, "merge", kCountyAdminActor,
                         audit_summary({{"survivor", a.hex()},
                                        {"merged_away", b.hex()},
                                        {"versions", sum.versions},
                                        {"children", sum.children},
                                        {"conflicts", sum.conflicts}}));
      return ok_status();
    }
  }

  Result<MergeSummary> unmerge(const EntityId& b) {
    const int64_t now = s.clock_();
    MergeSummary sum;
    sum.merged_away = b;
    Status st = in_txn([&]() -> Status {
      auto a = survivor_of(b);
      auto text = store.meta_value(merge_meta_key(b));
      if (!a || !text || text->empty())
        return Error(ErrorCode::not_found, {bilingual("记录 " + b.hex() + " 的合并", "a merge of " + b.hex())});
      sum.survivor = *a;
      MergeInfo info = decode_merge_info(*text);
      EntityRecord sr = *entity(*a), ar = *entity(b);
      // Back to the merged-away one: its versions at merge time, and every change addressed to it
      // since (applied to the survivor), merged again in the order they were applied.
      std::vector<VersionId> moved;
      for (auto& [field, fs] : info.snapshot.fields)
        for (auto& v : fs.live) moved.push_back(v.id);
      // Those still live on the survivor and those an edit of the survivor replaced since (they are
      // live again on the merged-away one, as its versions at merge time are: what was addressed to
      // it is judged by what was addressed to it).
      std::vector<StoredChange> later;
      auto addressed_here = [&](const VersionId& id, bool live) {
        if (id.device == merge_device_id()) return;
        auto sc = store.change(id);
        if (!sc || sc->change.entity != b || sc->status != StoredChange::Status::applied) return;
        later.push_back(*sc);
        if (live) moved.push_back(id);
      };
      for (auto& [field, fs] : sr.state.fields) {
        for (auto& v : fs.live) addressed_here(v.id, true);
        for (auto& id : fs.superseded) addressed_here(id, false);
      }
      std::sort(later.begin(), later.end(), [](auto& x, auto& y) { return x.server_seq < y.server_seq; });
      ar.state = info.snapshot;
      for (auto& sc : later) merge_apply(ar.state, sc.change, s.options_.merge_mode, sc.server_ms);
      sort_unique(moved);
      for (auto& [field, fs] : sr.state.fields)
        for (auto& v : fs.live) sum.versions += std::binary_search(moved.begin(), moved.end(), v.id);
      remove_live_versions(sr.state, moved);
      const auto villages_before = sr.villages;
      merges().erase(b);
      replace_state(sr);
      replace_state(ar);
      // Children the merge moved go back, unless someone placed them since.
      for (auto& [kid, v] : info.children) {
        const auto& kr = entity(kid);
        if (!kr) continue;
        auto placed = placing_versions(*kr, *a);
        if (!placed || !std::binary_search(placed->second.begin(), placed->second.end(), v)) continue;
        server_change(*kr, placed->first, b.hex(), {v}, now);
        ++sum.children;
      }
      const EntityRecord& s_now = *entity(*a);
      const EntityRecord& a_now = *entity(b);
      log_merge_row(kUnmergeRow, s_now, a_now, village_union(village_union(villages_before, s_now.villages), a_now.villages));
      flush();
      store.put_meta_value(kMetaMerges, format_merge_links(merges()));
      store.put_meta_value(merge_meta_key(b), "");
      store.put_meta_value(kMetaUnmerged, store.meta_value(kMetaUnmerged).value_or("") + a->hex() + " " + b.hex() + "\n");
      ensure_match_keys();
      rekey(*a);
      rekey(b);
      append_audit_entry(store, now, "unmerge", kCountyAdminActor,
                         audit_summary({{"survivor", a->hex()},
                                        {"merged_away", b.hex()},
                                        {"versions", sum.versions},
                                        {"children", sum.children}}));
      return ok_status();
    }, "server.unmerge.before_commit", "server.unmerge.after_commit");
    if (!st) return st.error();
    return sum;
  }

  // One transaction around f; the crash points (SPEC §12) name its commit, when given.
  template <typename F>
  Status in_txn(F f, const char* crash_before = nullptr, const char* crash_after = nullptr) {
    try {
      store.begin();
      try {
        Status st = f();
        if (!st) {
          store.rollback();
          return st;
        }
        store.commit(crash_before, crash_after);
        return st;
      } catch (...) {
        store.rollback();
        store.throw_storage_failure();
        throw;
      }
    } catch (const Failure& e) {
      return e.error();
    }
  }
};

SyncServer::SyncServer(ServerStore& store, const Schema& schema, ValidationContext validation,
                       std::function<int64_t()> clock, ServerOptions options)
    : store_(store),
      schema_(schema),
      validation_(validation),
      clock_(std::move(clock)),
      options_(std::move(options)),
      rules_(std::make_shared<RuleCache>()) {}

Status SyncServer::register_device(const DeviceId& id, const Scope& scope) {
  Impl impl(*this);
  return impl.in_txn([&]() -> Status {
    if (store_.device(id)) return Error(ErrorCode::already_exists, {bilingual("设备 " + id.hex(), "device " + id.hex())});
    DeviceRecord d;
    d.id = id;
    d.scope = scope;
    store_.put_device(d);
    return ok_status();
  });
}

Status SyncServer::set_scope(const DeviceId& id, const Scope& scope) {
  Impl impl(*this);
  return impl.in_txn([&]() -> Status {
    auto d = store_.device(id);
    if (!d) return Error(ErrorCode::not_found, {bilingual("设备 " + id.hex(), "device " + id.hex())});
    // A row for each entity that enters or leaves (a full scan: scope edits are rare admin work).
    std::vector<LogRow> rows;
    store_.scan_entities([&](const EntityRecord& e) {
      bool was = scope_holds_any(d->scope, e.villages), is = scope_holds_any(scope, e.villages);
      if (was == is) return;
      LogRow row;
      row.kind = LogKind::scope_change;
      row.target = id;
      row.type = e.state.type;
      row.entity = e.state.id;
      row.payload = std::string(1, is ? '\1' : '\0');
      rows.push_back(std::move(row));
    });
    for (auto& row : rows) store_.append(std::move(row));
    d->scope = scope;
    store_.put_device(*d);
    return ok_status();
  });
}

Status SyncServer::retire_device(const DeviceId& id, std::optional<uint64_t> at_seq) {
  Impl impl(*this);
  return impl.in_txn([&]() -> Status {
    auto d = store_.device(id);
    if (!d) return Error(ErrorCode::not_found, {bilingual("设备 " + id.hex(), "device " + id.hex())});
    if (at_seq && *at_seq < d->acked_seq)
      return Error(ErrorCode::invalid_input,
                   {bilingual("停用序号 " + std::to_string(*at_seq) + " 低于服务器已接收的序号 " + std::to_string(d->acked_seq),
                              "retire sequence " + std::to_string(*at_seq) + " is below the sequence the server already holds (" +
                                  std::to_string(d->acked_seq) + ")")});
    if (!d->retired || at_seq) {
      d->retired = true;
      d->retired_after = at_seq ? *at_seq : d->acked_seq;
    }
    store_.put_device(*d);
    return ok_status();
  });
}

Status SyncServer::revoke_device(const DeviceId& id) {
  Impl impl(*this);
  return impl.in_txn([&]() -> Status {
    auto d = store_.device(id);
    if (!d) return Error(ErrorCode::not_found, {bilingual("设备 " + id.hex(), "device " + id.hex())});
    d->revoked = true;
    store_.put_device(*d);
    return ok_status();
  });
}

Status SyncServer::set_config(const std::string& key, const std::string& value) {
  Impl impl(*this);
  return impl.in_txn([&]() -> Status {
    uint64_t version = 1;
    if (auto old = store_.config(key)) {
      if (old->second == value) return ok_status();
      version = old->first + 1;
    }
    store_.put_config(key, version, value);
    LogRow row;
    row.kind = LogKind::config;
    row.payload = encode_config(key, version, value);
    store_.append(std::move(row));
    return ok_status();
  });
}

PushReply SyncServer::push(const PushRequest& request) { return Impl(*this).push(request); }

Result<PullPage> SyncServer::pull(const PullRequest& request) {
  try {
    store_.begin_read();
    struct End {
      ServerStore& s;
      ~End() { s.end_read(); }
    } end{store_};
    return Impl(*this).pull(request);
  } catch (const Failure& e) {
    return e.error();
  } catch (const std::exception& e) {
    return Error(ErrorCode::io_error, {e.what()});
  }
}

std::string SyncServer::handle(std::string_view request) {
  auto error_reply = [](const Error& e) {
    return encode(ErrorReply{std::string(e.name()), e.message(Lang::zh), e.message(Lang::en)});
  };
  try {
    if (!request.empty() && static_cast<uint8_t>(request[0]) == static_cast<uint8_t>(MessageType::pull_request)) {
      auto req = decode_pull_request(request, options_.limits);
      if (!req) return error_reply(req.error());
      auto page = pull(*req);
      if (!page) return error_reply(page.error());
      return encode(*page);
    }
    auto req = decode_push_request(request, options_.limits);
    if (!req) return error_reply(req.error());
    return encode(Impl(*this).push(*req, &*req));  // the decoded request is this call's own: moved from
  } catch (const Failure& e) {
    return error_reply(e.error());
  } catch (const std::exception& e) {
    return error_reply(Error(ErrorCode::internal, {e.what()}));
  }
}

std::vector<StoredChange> SyncServer::quarantine() const { return store_.quarantined(); }

std::vector<SyncServer::TargetedNotice> SyncServer::notices() const {
  std::vector<TargetedNotice> out;
  uint64_t after = 0;
  for (;;) {
    auto rows = store_.log_after(after, 5000);
    if (rows.empty()) break;
    for (auto& row : rows)
      if (row.kind == LogKind::notice && row.target) out.push_back(TargetedNotice{*row.target, notice_of(row)});
    after = rows.back().seq;
  }
  return out;
}

Status SyncServer::flag(const std::vector<Flag>& flags) {
  try {
    return Impl(*this).flag(flags);
  } catch (const Failure& e) {
    return e.error();
  }
}

Status SyncServer::release(const VersionId& id) {
  try {
    return Impl(*this).release(id);
  } catch (const Failure& e) {
    return e.error();
  }
}

Status SyncServer::reject(const VersionId& id, const std::string& reason) {
  try {
    return Impl(*this).reject(id, reason);
  } catch (const Failure& e) {
    return e.error();
  }
}

DeviceId merge_device_id() {
  DeviceId id;
  id.bytes.fill(0xff);  // random device ids never take it
  id.bytes[0] = 0x4d;   // 'M'
  return id;
}

Result<SyncServer::MergeSummary> SyncServer::merge(const EntityId& survivor, const EntityId& merged_away) {
  try {
    return Impl(*this).merge(survivor, merged_away);
  } catch (const Failure& e) {
    return e.error();
  }
}

Result<SyncServer::MergeSummary> SyncServer::unmerge(const EntityId& merged_away) {
  try {
    return Impl(*this).unmerge(merged_away);
  } catch (const Failure& e) {
    return e.error();
  }
}

Result<std::vector<SyncServer::MergeSummary>> SyncServer::merge_exact() {
  try {
    return Impl(*this).merge_exact();
  } catch (const Failure& e) {
    return e.error();
  }
}

std::optional<EntityId> SyncServer::merged_into(const EntityId& id) const {
  auto m = parse_merge_links(store_.meta_value(kMetaMerges).value_or(""));
  auto it = m.find(id);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

bool SyncServer::unmerged_before(const EntityId& a, const EntityId& b) const {
  auto text = store_.meta_value(kMetaUnmerged).value_or("");
  return text.find(a.hex() + " " + b.hex()) != std::string::npos || text.find(b.hex() + " " + a.hex()) != std::string::npos;
}

std::vector<std::pair<EntityId, EntityId>> SyncServer::merges() const {
  auto m = parse_merge_links(store_.meta_value(kMetaMerges).value_or(""));
  std::vector<std::pair<EntityId, EntityId>> out(m.begin(), m.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::string SyncServer::scope_digest(const Scope& scope) const {
  const auto from = merged_from(parse_merge_links(store_.meta_value(kMetaMerges).value_or("")));
  std::string out;
  store_.scan_entities([&](const EntityRecord& e) {
    if (!scope_holds_any(scope, e.villages)) return;
    out += e.state.id.hex();
    out += '\n';
    out += digest(e.state);
    out += '\n';
    append_merge_lines(out, from, e.state.id);
  });
  return out;
}

}  // namespace tz::sync
