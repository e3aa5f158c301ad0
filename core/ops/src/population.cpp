// Loading and ordering the people of a store.
#include "tz/ops/population.hpp"

#include <algorithm>
#include <string_view>
#include <tuple>

namespace tz::ops {

Population Population::load(const DeviceStore& store) {
  Population p;
  store.scan(std::nullopt, [&](EntityRow&& row) {
    EntityId id = row.entity.id;
    p.rows_.emplace(id, std::move(row));
  });
  const auto& schema = store.schema();
  const FieldId hh_no = schema.entity(EntityType::household).require("household_no").id;
  const FieldId rel = schema.entity(EntityType::person).require("relation").id;
  const FieldId idf = schema.entity(EntityType::person).require("id_number").id;
  std::vector<const EntityRow*> person_rows;
  for (auto& [id, row] : p.rows_) {
    if (row.entity.type == EntityType::person) {
      person_rows.push_back(&row);
    } else if ((row.entity.type == EntityType::job || row.entity.type == EntityType::visit) && row.parent) {
      p.children_[*row.parent].push_back(&row.entity);
    }
  }
  for (auto& [parent, kids] : p.children_)
    std::sort(kids.begin(), kids.end(), [](const Entity* a, const Entity* b) { return a->id < b->id; });

  // Each person's facts and sort key, worked out once: the report and every list walk these in
  // order without looking anyone up again. The key's views point into rows_, which outlives them.
  struct Keyed {
    std::string_view village, hh, relation, idn;
    Person person;
  };
  auto view = [](const Entity* e, FieldId f, std::string_view fallback) {
    const std::string* v = e ? e->value(f) : nullptr;
    return v ? std::string_view(*v) : fallback;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(person_rows.size());
  for (const EntityRow* row : person_rows) {
    Keyed k;
    k.person.village = &row->village;
    k.person.flags = row->flags;
    k.person.facts = p.facts_of(row->entity, row->parent ? p.find(*row->parent) : nullptr);
    const Entity* e = &row->entity;
    k.village = row->village;
    k.hh = view(k.person.facts.household, hh_no, "");
    k.relation = view(e, rel, "99");
    k.idn = view(e, idf, "");
    keyed.push_back(std::move(k));
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& x, const Keyed& y) {
    return std::tie(x.village, x.hh, x.relation, x.idn, x.person.facts.person->id) <
           std::tie(y.village, y.hh, y.relation, y.idn, y.person.facts.person->id);
  });
  p.people_.reserve(keyed.size());
  p.persons_.reserve(keyed.size());
  for (auto& k : keyed) {
    p.persons_.push_back(k.person.facts.person);
    p.people_.push_back(std::move(k.person));
  }
  return p;
}

const std::vector<DerivedStatus>& Population::derived(const Schema& schema, const Period& period) const {
  std::string key = period_key(period);
  if (!derived_ || derived_->schema != &schema || derived_->period != key) {
    Derived d{&schema, std::move(key), {}};
    Deriver deriver(schema, period);
    d.status.reserve(people_.size());
    for (auto& person : people_) d.status.push_back(deriver.derive(person.facts));
    derived_ = std::move(d);
  }
  return derived_->status;
}

const Entity* Population::find(const EntityId& id) const {
  auto it = rows_.find(id);
  return it == rows_.end() ? nullptr : &it->second.entity;
}

const Entity* Population::household_of(const Entity& person) const {
  auto it = rows_.find(person.id);
  if (it == rows_.end() || !it->second.parent) return nullptr;
  return find(*it->second.parent);
}

const std::string& Population::village_of(const Entity& person) const {
  auto it = rows_.find(person.id);
  return it == rows_.end() ? empty_ : it->second.village;
}

uint32_t Population::flags_of(const Entity& e) const {
  auto it = rows_.find(e.id);
  return it == rows_.end() ? 0 : it->second.flags;
}

std::vector<const Entity*> Population::jobs_of(const EntityId& person) const {
  std::vector<const Entity*> out;
  if (auto it = children_.find(person); it != children_.end())
    for (auto* e : it->second)
      if (e->type == EntityType::job) out.push_back(e);
  return out;
}

PersonFacts Population::facts(const Entity& person) const { return facts_of(person, household_of(person)); }

PersonFacts Population::facts_of(const Entity& person, const Entity* household) const {
  PersonFacts f;
  f.person = &person;
  f.household = household;
  if (auto it = children_.find(person.id); it != children_.end())
    for (auto* e : it->second) (e->type == EntityType::job ? f.jobs : f.visits).push_back(e);
  if (f.household)
    if (auto it = children_.find(f.household->id); it != children_.end())
      for (auto* e : it->second)
        if (e->type == EntityType::visit) f.visits.push_back(e);
  return f;
}

}  // namespace tz::ops
