// Loading and ordering the people of a store.
#include "tz/ops/population.hpp"

#include <algorithm>
#include <string_view>
#include <tuple>

#include "tz/util/parallel.hpp"

namespace tz::ops {

Population Population::load(const DeviceStore& store) { return load(store, worker_threads()); }

Population Population::load(const DeviceStore& store, unsigned threads) {
  Population p;
  p.threads_ = threads;
  p.rows_ = store.load_rows(threads);
  p.index_.reserve(p.rows_.size());
  for (size_t i = 0; i < p.rows_.size(); ++i) p.index_.emplace_back(p.rows_[i].entity.id, static_cast<uint32_t>(i));
  std::sort(p.index_.begin(), p.index_.end());  // the store scans in id order: nearly free
  const auto& schema = store.schema();
  const FieldId hh_no = schema.entity(EntityType::household).require("household_no").id;
  const FieldId rel = schema.entity(EntityType::person).require("relation").id;
  const FieldId idf = schema.entity(EntityType::person).require("id_number").id;
  // Each record's parent row, looked up once (npos: none, or not loaded).
  constexpr uint32_t npos = UINT32_MAX;
  std::vector<uint32_t> parent(p.rows_.size(), npos);
  std::vector<uint32_t> person_rows;
  // (parent row, child) for each job and visit whose parent is loaded, then grouped by parent.
  struct Link {
    uint32_t parent;
    const Entity* child;
  };
  std::vector<Link> links;
  parallel_ranges(p.rows_.size(), threads, [&](size_t b, size_t e) {  // a search of the index each
    for (size_t i = b; i < e; ++i)
      if (const auto& up = p.rows_[i].parent)
        if (const EntityRow* pr = p.row(*up)) parent[i] = static_cast<uint32_t>(pr - p.rows_.data());
  });
  for (uint32_t i = 0; i < p.rows_.size(); ++i) {
    const EntityRow& row = p.rows_[i];
    if (row.entity.type == EntityType::person) {
      person_rows.push_back(i);
    } else if ((row.entity.type == EntityType::job || row.entity.type == EntityType::visit) && parent[i] != npos) {
      links.push_back({parent[i], &row.entity});
    }
  }
  std::sort(links.begin(), links.end(),
            [](const Link& a, const Link& b) { return std::tie(a.parent, a.child->id) < std::tie(b.parent, b.child->id); });
  p.child_begin_.assign(p.rows_.size() + 1, 0);
  for (auto& l : links) ++p.child_begin_[l.parent + 1];
  for (size_t i = 1; i < p.child_begin_.size(); ++i) p.child_begin_[i] += p.child_begin_[i - 1];
  p.children_.reserve(links.size());
  for (auto& l : links) p.children_.push_back(l.child);

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
  std::vector<Keyed> keyed(person_rows.size());
  parallel_ranges(person_rows.size(), threads, [&](size_t b, size_t end) {
    for (size_t n = b; n < end; ++n) {
      const uint32_t i = person_rows[n];
      const EntityRow* row = &p.rows_[i];
      Keyed& k = keyed[n];
      k.person.village = &row->village;
      k.person.flags = row->flags;
      k.person.facts = p.facts_at(i, parent[i]);
      const Entity* e = &row->entity;
      k.village = row->village;
      k.hh = view(k.person.facts.household, hh_no, "");
      k.relation = view(e, rel, "99");
      k.idn = view(e, idf, "");
    }
  });
  // Entity ids are unique, so the order is total and does not depend on the sort's split.
  parallel_sort(
      keyed.begin(), keyed.end(),
      [](const Keyed& x, const Keyed& y) {
        return std::tie(x.village, x.hh, x.relation, x.idn, x.person.facts.person->id) <
               std::tie(y.village, y.hh, y.relation, y.idn, y.person.facts.person->id);
      },
      threads);
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
    Derived d{&schema, std::move(key), std::vector<DerivedStatus>(people_.size())};
    parallel_ranges(people_.size(), threads_, [&](size_t b, size_t e) {
      const Deriver deriver(schema, period);
      for (size_t i = b; i < e; ++i) d.status[i] = deriver.derive(people_[i].facts);
    });
    derived_ = std::move(d);
  }
  return derived_->status;
}

const EntityRow* Population::row(const EntityId& id) const {
  auto it = std::lower_bound(index_.begin(), index_.end(), id,
                             [](const std::pair<EntityId, uint32_t>& a, const EntityId& b) { return a.first < b; });
  return it == index_.end() || it->first != id ? nullptr : &rows_[it->second];
}

std::pair<const Entity* const*, const Entity* const*> Population::children_of(size_t index) const {
  return {children_.data() + child_begin_[index], children_.data() + child_begin_[index + 1]};
}

const Entity* Population::find(const EntityId& id) const {
  const EntityRow* r = row(id);
  return r ? &r->entity : nullptr;
}

const Entity* Population::household_of(const Entity& person) const {
  const EntityRow* r = row(person.id);
  return r && r->parent ? find(*r->parent) : nullptr;
}

const std::string& Population::village_of(const Entity& person) const {
  const EntityRow* r = row(person.id);
  return r ? r->village : empty_;
}

uint32_t Population::flags_of(const Entity& e) const {
  const EntityRow* r = row(e.id);
  return r ? r->flags : 0;
}

std::vector<const Entity*> Population::jobs_of(const EntityId& person) const {
  std::vector<const Entity*> out;
  if (const EntityRow* r = row(person)) {
    auto [b, e] = children_of(static_cast<size_t>(r - rows_.data()));
    for (auto it = b; it != e; ++it)
      if ((*it)->type == EntityType::job) out.push_back(*it);
  }
  return out;
}

PersonFacts Population::facts(const Entity& person) const { return facts_of(person, household_of(person)); }

PersonFacts Population::facts_of(const Entity& person, const Entity* household) const {
  auto index = [&](const Entity* e) {
    const EntityRow* r = e ? row(e->id) : nullptr;
    return r ? static_cast<size_t>(r - rows_.data()) : SIZE_MAX;
  };
  PersonFacts f = facts_at(index(&person), index(household));
  f.person = &person;  // as given, even when not loaded
  f.household = household;
  return f;
}

PersonFacts Population::facts_at(size_t person, size_t household) const {
  PersonFacts f;
  if (person < rows_.size()) {
    f.person = &rows_[person].entity;
    for (auto [b, e] = children_of(person); b != e; ++b) ((*b)->type == EntityType::job ? f.jobs : f.visits).push_back(*b);
  }
  if (household < rows_.size()) {
    f.household = &rows_[household].entity;
    for (auto [b, e] = children_of(household); b != e; ++b)
      if ((*b)->type == EntityType::visit) f.visits.push_back(*b);
  }
  return f;
}

}  // namespace tz::ops
