// A decrypted snapshot of a store's people with their households, jobs and visits, ordered the same
// way on every device and on the server (village, household number, relation, ID, entity id), so
// lists made from the same data are identical byte for byte.
#pragma once

#include <unordered_map>
#include <vector>

#include "tz/model/derive.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

class Population {
 public:
  static Population load(const DeviceStore& store);

  const std::vector<const Entity*>& persons() const { return persons_; }
  const Entity* household_of(const Entity& person) const;
  const std::string& village_of(const Entity& person) const;
  uint32_t flags_of(const Entity& e) const;
  PersonFacts facts(const Entity& person) const;
  std::vector<const Entity*> jobs_of(const EntityId& person) const;
  const Entity* find(const EntityId& id) const;

 private:
  std::unordered_map<EntityId, EntityRow, IdHash> rows_;
  std::unordered_map<EntityId, std::vector<const Entity*>, IdHash> children_;  // parent -> jobs, visits
  std::vector<const Entity*> persons_;
  std::string empty_;
};

}  // namespace tz::ops
