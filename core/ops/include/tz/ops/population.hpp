// A decrypted snapshot of a store's people with their households, jobs and visits, ordered the same
// way on every device and on the server (village, household number, relation, ID, entity id), so
// lists made from the same data are identical byte for byte.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tz/model/derive.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

class Population {
 public:
  // One person as loaded: the facts the derivation needs, the village and the stored flags.
  struct Person {
    PersonFacts facts;
    const std::string* village = nullptr;
    uint32_t flags = 0;
  };

  // Everyone in the store, decrypted on worker_threads() threads (util/parallel.hpp); the same
  // threads derive everyone's status (derived()).
  static Population load(const DeviceStore& store);
  static Population load(const DeviceStore& store, unsigned threads);

  const std::vector<const Entity*>& persons() const { return persons_; }
  // The same people in the same order, with what was worked out for each at load: the passes
  // over everyone (report, lists) use this and look nobody up again.
  const std::vector<Person>& people() const { return people_; }
  // The threads the load was given: what passes over everyone may use too.
  unsigned threads() const { return threads_; }
  // Each person's derived status for the period (SPEC §3), in people() order: worked out on first
  // use and kept for that schema and period, so a report and the five lists made from one load
  // derive everyone once. Not safe to call from two threads at once.
  const std::vector<DerivedStatus>& derived(const Schema& schema, const Period& period) const;
  const Entity* household_of(const Entity& person) const;
  const std::string& village_of(const Entity& person) const;
  uint32_t flags_of(const Entity& e) const;
  PersonFacts facts(const Entity& person) const;
  std::vector<const Entity*> jobs_of(const EntityId& person) const;
  const Entity* find(const EntityId& id) const;

 private:
  PersonFacts facts_of(const Entity& person, const Entity* household) const;
  // The facts of the rows at these positions (a position past the end: none).
  PersonFacts facts_at(size_t person, size_t household) const;
  const EntityRow* row(const EntityId& id) const;
  // The jobs and visits under the row at `index`, sorted by id.
  std::pair<const Entity* const*, const Entity* const*> children_of(size_t index) const;

  // Every record in one array and an id index sorted beside it (decision 410): one allocation for
  // the rows instead of a hash node each, and a scan in store order instead of pointer chasing.
  std::vector<EntityRow> rows_;
  std::vector<std::pair<EntityId, uint32_t>> index_;  // (id, position in rows_), sorted by id
  std::vector<const Entity*> children_;               // jobs and visits grouped by parent row, by id
  std::vector<uint32_t> child_begin_;                 // rows_.size() + 1 offsets into children_
  std::vector<const Entity*> persons_;
  std::vector<Person> people_;
  struct Derived {
    const Schema* schema = nullptr;
    std::string period;
    std::vector<DerivedStatus> status;
  };
  mutable std::optional<Derived> derived_;
  unsigned threads_ = 1;
  std::string empty_;
};

}  // namespace tz::ops
