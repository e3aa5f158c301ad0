// Loading and ordering the people of a store.
#include "tz/ops/population.hpp"

#include <algorithm>

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
  for (auto& [id, row] : p.rows_) {
    if (row.entity.type == EntityType::person) {
      p.persons_.push_back(&row.entity);
    } else if ((row.entity.type == EntityType::job || row.entity.type == EntityType::visit) && row.parent) {
      p.children_[*row.parent].push_back(&row.entity);
    }
  }
  for (auto& [parent, kids] : p.children_)
    std::sort(kids.begin(), kids.end(), [](const Entity* a, const Entity* b) { return a->id < b->id; });
  struct Key {
    std::string village, hh, relation, idn;
    EntityId id;
  };
  std::unordered_map<const Entity*, Key> keys;
  for (auto* e : p.persons_) {
    const auto& row = p.rows_.at(e->id);
    const Entity* hh = row.parent ? p.find(*row.parent) : nullptr;
    keys[e] = Key{row.village, hh ? hh->value_or(hh_no) : "", e->value_or(rel, "99"), e->value_or(idf), e->id};
  }
  std::sort(p.persons_.begin(), p.persons_.end(), [&](const Entity* a, const Entity* b) {
    const Key& x = keys[a];
    const Key& y = keys[b];
    return std::tie(x.village, x.hh, x.relation, x.idn, x.id) < std::tie(y.village, y.hh, y.relation, y.idn, y.id);
  });
  return p;
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

PersonFacts Population::facts(const Entity& person) const {
  PersonFacts f;
  f.person = &person;
  f.household = household_of(person);
  if (auto it = children_.find(person.id); it != children_.end())
    for (auto* e : it->second) (e->type == EntityType::job ? f.jobs : f.visits).push_back(e);
  if (f.household)
    if (auto it = children_.find(f.household->id); it != children_.end())
      for (auto* e : it->second)
        if (e->type == EntityType::visit) f.visits.push_back(e);
  return f;
}

}  // namespace tz::ops
