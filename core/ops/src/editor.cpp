// Staging and committing field-level changes.
#include "tz/ops/editor.hpp"

#include <algorithm>

#include "tz/model/id_number.hpp"
#include "tz/util/sorted.hpp"

namespace tz::ops {

Editor::Editor(DeviceStore& store, EditContext ctx)
    : store_(store), ctx_(std::move(ctx)), ts_(store.tick(ctx_.now_ms)), next_seq_(store.info().next_seq) {
  if (store.info().config.period.is_set()) deriver_.emplace(store.schema(), store.info().config.period);
}

uint32_t person_flags(const DerivedStatus& d, bool identity_ok) {
  FourClears c = four_clears(d, identity_ok);
  uint32_t f = 0;
  if (c.identity) f |= kFlagIdentityOk;
  if (c.labour) f |= kFlagLabourClear;
  if (c.status) f |= kFlagStatusClear;
  if (c.willingness) f |= kFlagWillingnessClear;
  if (d.employed) f |= kFlagEmployed;
  if (d.in_labour_count) f |= kFlagInLabourCount;
  return f;
}

void Editor::prefetch(const std::vector<EntityId>& ids) {
  std::vector<EntityId> wanted;
  wanted.reserve(ids.size());
  for (auto& id : ids)
    if (!staged_.count(id) && !missing_.count(id)) wanted.push_back(id);
  sort_unique(wanted);
  auto rows = store_.get_rows(wanted);
  missing_.reserve(missing_.size() + wanted.size());
  staged_.reserve(staged_.size() + wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (!rows[i]) {
      missing_.insert(wanted[i]);
      continue;
    }
    villages_[wanted[i]] = rows[i]->village;
    if (!rows[i]->merge.empty()) extras_[wanted[i]] = std::move(rows[i]->merge);
    staged_.emplace(wanted[i], std::move(rows[i]->entity));
  }
}

const Entity* Editor::peek(const EntityId& id) const {
  auto it = staged_.find(id);
  return it == staged_.end() ? nullptr : &it->second;
}

Entity* Editor::find(const EntityId& id) {
  if (auto it = staged_.find(id); it != staged_.end()) return &it->second;
  if (missing_.count(id)) return nullptr;
  auto row = store_.get_row(id);
  if (!row) {
    missing_.insert(id);
    return nullptr;
  }
  villages_[id] = row->village;
  if (!row->merge.empty()) extras_[id] = std::move(row->merge);
  auto [it, _] = staged_.emplace(id, std::move(row->entity));
  return &it->second;
}

Entity& Editor::get_or_create(EntityType type, const EntityId& id, bool* created) {
  if (Entity* e = find(id)) {
    if (created) *created = false;
    return *e;
  }
  if (created) *created = true;
  missing_.erase(id);
  created_.insert(id);
  Entity e;
  e.type = type;
  e.id = id;
  auto [it, _] = staged_.emplace(id, std::move(e));
  return it->second;
}

bool Editor::set(Entity& e, FieldId field, const std::string& value) {
  auto it = e.fields.find(field);
  if (it != e.fields.end() && !it->second.live.empty() && !it->second.conflict() &&
      it->second.live.front().value == value)
    return false;
  // An ordinary edit replaces what the editor saw: the shown value, with every version that shows
  // the same value. Other values of a conflict stay live (resolve() names them all).
  std::vector<VersionId> base;
  if (it != e.fields.end())
    if (auto* shown = it->second.shown())
      for (auto& v : it->second.live)
        if (v.value == shown->value) base.push_back(v.id);
  record(e, field, value, std::move(base));
  return true;
}

bool Editor::resolve(Entity& e, FieldId field, const std::string& value) {
  auto it = e.fields.find(field);
  if (it == e.fields.end() || !it->second.conflict()) return set(e, field, value);
  record(e, field, value, e.live_ids(field));
  return true;
}

void Editor::delete_entity(Entity& e, const std::string& reason) {
  // The base names every live version of every field the deleter saw, the deletion field included.
  std::vector<VersionId> base;
  for (auto& [f, fv] : e.fields)
    for (auto& v : fv.live) base.push_back(v.id);
  record(e, kDeletedField, reason, std::move(base));
}

void Editor::observe(Hlc remote) {
  if (remote > ts_) ts_ = remote;
}

void Editor::record(Entity& e, FieldId field, const std::string& value, std::vector<VersionId> base) {
  FieldChange c;
  c.type = e.type;
  c.entity = e.id;
  c.field = field;
  c.value = value;
  c.version = VersionId{store_.info().device, Seq{next_seq_++}};
  c.ts = ts_;
  c.collector = ctx_.collector;
  c.device_ms = ctx_.now_ms;
  c.base = std::move(base);
  std::sort(c.base.begin(), c.base.end());
  c.schema_version = static_cast<uint32_t>(store_.schema().version());
  apply_local(e, c);
  batch_.changes.push_back(std::move(c));
  touch(e.id);
}

void Editor::apply_local(Entity& e, const FieldChange& c) {
  EntityState s;
  s.type = e.type;
  s.id = e.id;
  FieldState& f = s.fields[c.field];
  if (auto it = e.fields.find(c.field); it != e.fields.end()) f.live = std::move(it->second.live);
  auto x = extras_.find(e.id);
  if (x != extras_.end()) {
    if (auto sup = x->second.superseded.find(c.field); sup != x->second.superseded.end()) f.superseded = std::move(sup->second);
    if (c.field == kDeletedField) s.deletion_bases = std::move(x->second.deletion_bases);
  }
  merge_apply(s, c);
  e.fields[c.field].live = std::move(f.live);
  if (x == extras_.end() && f.superseded.empty() && s.deletion_bases.empty()) return;
  MergeExtras& extras = extras_[e.id];
  if (!f.superseded.empty()) extras.superseded[c.field] = std::move(f.superseded);
  if (c.field == kDeletedField) extras.deletion_bases = std::move(s.deletion_bases);
  if (extras.empty()) extras_.erase(e.id);
}

void Editor::touch(const EntityId& id) {
  if (touched_set_.insert(id).second) touched_.push_back(id);
}

void Editor::add_lookup(LookupKind kind, std::string key, const EntityId& entity) {
  batch_.lookups.push_back(LookupRow{kind, std::move(key), entity});
  with_lookups_.insert(entity);
}

void Editor::drop_staged_lookups(const EntityId& id) {
  // Only a scan when this entity has staged lookups: a pull page puts thousands of states.
  if (with_lookups_.erase(id)) std::erase_if(batch_.lookups, [&](const LookupRow& l) { return l.entity == id; });
}

void Editor::put_state(const EntityState& state) {
  bool live = std::any_of(state.fields.begin(), state.fields.end(), [](const auto& f) { return !f.second.live.empty(); });
  if (!live) {
    remove(state.id);
    return;
  }
  Entity e;
  MergeExtras extras;
  from_state(state, e, extras);
  drop_staged_lookups(state.id);
  if (lookups_replaced_.insert(state.id).second) batch_.lookups_replaced.push_back(state.id);
  if (e.type == EntityType::person) {
    // The lookups an edit makes: every ID number and phone the person holds.
    const auto& ps = store_.schema().entity(EntityType::person);
    if (auto it = e.fields.find(ps.require("id_number").id); it != e.fields.end())
      for (auto& v : it->second.live)
        if (auto c = idn::check_id(v.value, CivilDate{9999, 12, 31}); c.ok()) add_lookup(LookupKind::id_number, c.id18, e.id);
    if (auto it = e.fields.find(ps.require("phone").id); it != e.fields.end())
      for (auto& v : it->second.live) add_lookup(LookupKind::phone, v.value, e.id);
  }
  staged_.insert_or_assign(state.id, std::move(e));
  if (extras.empty())
    extras_.erase(state.id);
  else
    extras_.insert_or_assign(state.id, std::move(extras));
  missing_.erase(state.id);
  touch(state.id);
}

std::optional<EntityState> Editor::state(const EntityId& id) {
  const Entity* e = find(id);
  if (!e) return std::nullopt;
  auto x = extras_.find(id);
  return to_state(*e, x == extras_.end() ? MergeExtras{} : x->second);
}

void Editor::remove(const EntityId& id) {
  staged_.erase(id);
  extras_.erase(id);
  if (touched_set_.erase(id)) touched_.erase(std::find(touched_.begin(), touched_.end(), id));
  created_.erase(id);
  villages_.erase(id);
  missing_.insert(id);
  drop_staged_lookups(id);
  batch_.removed.push_back(id);
}

std::string Editor::village_of(const EntityId& id, int depth) {
  if (depth > 3) return {};
  if (auto it = staged_.find(id); it != staged_.end()) {
    const Entity& e = it->second;
    const auto& es = store_.schema().entity(e.type);
    switch (e.type) {
      case EntityType::household: return e.value_or(es.require("village_code").id);
      case EntityType::person:
        if (auto hh = EntityId::from_hex(e.value_or(es.require("household_id").id))) return village_of(*hh, depth + 1);
        return {};
      default: break;
    }
    if (auto c = villages_.find(id); c != villages_.end()) return c->second;
    return {};
  }
  if (auto c = villages_.find(id); c != villages_.end()) return c->second;
  auto row = store_.get_row(id);
  std::string v = row ? row->village : std::string();
  villages_[id] = v;
  return v;
}

IdentityCheck::IdentityCheck(const Schema& schema) {
  const auto& es = schema.entity(EntityType::person);
  name_ = es.require("name").id;
  id_ = es.require("id_number").id;
  household_ = es.require("household_id").id;
}

bool IdentityCheck::operator()(const Entity& person, const std::string& village) const {
  auto filled = [&](FieldId f) {
    const std::string* v = person.value(f);
    return v && !v->empty();
  };
  const std::string* id = person.value(id_);
  return filled(name_) && id && !id->empty() && idn::check_id(*id, CivilDate{9999, 12, 31}).ok() && filled(household_) &&
         !village.empty();
}

bool identity_complete(const Schema& schema, const Entity& person, const std::string& village) {
  return IdentityCheck(schema)(person, village);
}

std::optional<EntityId> Editor::parent_of(const Entity& e) const {
  const auto& es = store_.schema().entity(e.type);
  switch (e.type) {
    case EntityType::household: return std::nullopt;
    case EntityType::person: return EntityId::from_hex(e.value_or(es.require("household_id").id));
    case EntityType::job: return EntityId::from_hex(e.value_or(es.require("person_id").id));
    case EntityType::visit: return EntityId::from_hex(e.value_or(es.require("subject_id").id));
    case EntityType::subsidy: return EntityId::from_hex(e.value_or(es.require("person_id").id));
  }
  return std::nullopt;
}

EntityRow Editor::row_for(const Entity& e) {
  EntityRow row;
  row.entity.id = e.id;  // the entity itself moves in after update_derived
  row.entity.type = e.type;
  std::optional<EntityId> parent = parent_of(e);
  row.parent = parent;
  row.village = e.type == EntityType::household ? village_of(e.id, 0) : parent ? village_of(*parent, 0) : std::string();
  return row;  // a person's flags are set by update_derived
}

void Editor::update_derived(std::vector<EntityRow>& rows) {
  if (!deriver_) return;
  const Schema& schema = store_.schema();
  const FieldId hh_village = schema.entity(EntityType::household).require("village_code").id;
  const bool keep_valid = store_.info().derived_period == period_key(deriver_->period());

  // Changed entities by parent (an untouched staged entity equals its stored row); stored children
  // of entities that may have some, read once.
  // The rows already carry each changed entity's parent (row_for parsed it once).
  std::unordered_map<EntityId, size_t, IdHash> row_index;
  row_index.reserve(rows.size());
  std::unordered_map<EntityId, std::vector<const Entity*>, IdHash> staged_children;
  for (size_t i = 0; i < rows.size(); ++i) {
    row_index[rows[i].entity.id] = i;
    if (rows[i].parent) staged_children[*rows[i].parent].push_back(&staged_.at(rows[i].entity.id));
  }
  std::unordered_map<EntityId, std::vector<EntityRow>, IdHash> stored_children;
  std::unordered_map<EntityId, std::pair<std::string, uint32_t>, IdHash> stored_columns;  // village, flags
  auto children = [&](const EntityId& parent) {
    std::vector<const Entity*> out;
    if (auto it = staged_children.find(parent); it != staged_children.end()) out = it->second;
    if (created_.count(parent) && !flushed_parents_.count(parent)) return out;  // nothing of it is stored
    auto it = stored_children.find(parent);
    if (it == stored_children.end()) {
      it = stored_children.emplace(parent, store_.children(parent)).first;
      for (auto& r : it->second) stored_columns[r.entity.id] = {r.village, r.flags};
    }
    for (auto& r : it->second)
      if (!touched_set_.count(r.entity.id) && !missing_.count(r.entity.id)) out.push_back(&r.entity);
    return out;
  };
  std::unordered_map<EntityId, EntityRow, IdHash> stored_rows;  // people and households not staged
  auto entity = [&](const EntityId& id) -> const Entity* {
    if (auto it = staged_.find(id); it != staged_.end()) return &it->second;
    if (missing_.count(id)) return nullptr;
    auto it = stored_rows.find(id);
    if (it == stored_rows.end()) {
      auto row = store_.get_row(id);
      if (!row) return nullptr;
      it = stored_rows.emplace(id, std::move(*row)).first;
    }
    return &it->second.entity;
  };

  // Who is affected.
  std::unordered_set<EntityId, IdHash> persons, households;
  for (auto& row : rows) {
    const EntityId& id = row.entity.id;
    switch (row.entity.type) {
      case EntityType::person: persons.insert(id); break;
      case EntityType::household: households.insert(id); break;
      case EntityType::job:
      case EntityType::visit:
        if (row.parent) {
          const Entity* subject = entity(*row.parent);
          if (subject && subject->type == EntityType::household) households.insert(*row.parent);
          else persons.insert(*row.parent);
        }
        break;
      case EntityType::subsidy: break;
    }
  }
  for (auto& hh : households)
    for (const Entity* c : children(hh))
      if (c->type == EntityType::person) persons.insert(c->id);

  for (auto& pid : persons) {
    const Entity* p = entity(pid);
    if (!p || p->type != EntityType::person) continue;
    PersonFacts facts;
    facts.person = p;
    auto own_row = row_index.find(pid);
    std::optional<EntityId> hh_id = own_row != row_index.end() ? rows[own_row->second].parent : parent_of(*p);
    facts.household = hh_id ? entity(*hh_id) : nullptr;
    for (const Entity* c : children(pid)) (c->type == EntityType::job ? facts.jobs : facts.visits).push_back(c);
    if (hh_id)
      for (const Entity* c : children(*hh_id))
        if (c->type == EntityType::visit) facts.visits.push_back(c);
    std::string village = facts.household ? facts.household->value_or(hh_village) : std::string();
    uint32_t flags = person_flags(deriver_->derive(facts), identity_complete(schema, *p, village));
    if (auto it = row_index.find(pid); it != row_index.end()) {
      rows[it->second].village = village;
      rows[it->second].flags = flags;
    } else {
      std::optional<std::pair<std::string, uint32_t>> before;
      if (auto sr = stored_rows.find(pid); sr != stored_rows.end()) before = std::pair{sr->second.village, sr->second.flags};
      else if (auto sc = stored_columns.find(pid); sc != stored_columns.end()) before = sc->second;
      if (!before || before->first != village || before->second != flags)
        batch_.row_updates.push_back(RowUpdate{pid, village, flags});
    }
    // A household that moved village takes its people's jobs and visits with it.
    for (const Entity* c : children(pid))
      if (!row_index.count(c->id))
        if (auto sc = stored_columns.find(c->id); sc != stored_columns.end() && sc->second.first != village)
          batch_.row_updates.push_back(RowUpdate{c->id, village, sc->second.second});
  }
  if (keep_valid) batch_.derived_period = period_key(deriver_->period());
}

namespace {

// Whether a batch holds sync bookkeeping (which may come without any entity or change).
bool has_sync_part(const WriteBatch& b) {
  return !b.removed.empty() || !b.restored_changes.empty() || !b.own_status.empty() || !b.notices.empty() ||
         !b.configs.empty() || b.sync || b.acked_seq;
}

}  // namespace

Status Editor::flush() {
  if (batch_.changes.empty() && touched_.empty() && !has_sync_part(batch_)) return ok_status();
  // Households first, so persons see their village; then persons; then the rest.
  std::vector<std::pair<int, Entity*>> order;
  order.reserve(touched_.size());
  for (auto& id : touched_) {
    Entity& e = staged_.at(id);
    order.emplace_back(static_cast<int>(e.type), &e);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  batch_.entities.reserve(order.size());
  for (auto& [type, e] : order) {
    EntityRow row = row_for(*e);
    villages_[e->id] = row.village;
    batch_.entities.push_back(std::move(row));
  }
  update_derived(batch_.entities);
  // The rows take the staged entities and their extras.
  for (size_t i = 0; i < order.size(); ++i) {
    EntityRow& row = batch_.entities[i];
    if (auto x = extras_.find(row.entity.id); x != extras_.end()) {
      row.merge = std::move(x->second);
      extras_.erase(x);
    }
    row.entity = std::move(*order[i].second);
  }
  batch_.clock = ts_;
  if (!txn_open_) {
    if (auto st = store_.begin_write(); !st) return st;
    txn_open_ = true;
  }
  for (auto& row : batch_.entities)
    if (row.parent) flushed_parents_.insert(*row.parent);
  auto st = store_.write(batch_);
  changes_written_ += batch_.changes.size();
  batch_ = WriteBatch{};
  with_lookups_.clear();
  lookups_replaced_.clear();
  for (auto& id : touched_) staged_.erase(id);  // written: read back from the store if needed again
  touched_.clear();
  touched_set_.clear();
  if (!st) {
    store_.rollback_write();
    txn_open_ = false;
  }
  return st;
}

Status Editor::commit(std::string crash_point) {
  if (auto st = flush(); !st) return st;
  if (!txn_open_) return ok_status();
  txn_open_ = false;
  return store_.commit_write(crash_point);
}

Editor::~Editor() {
  if (txn_open_) store_.rollback_write();
}

}  // namespace tz::ops
