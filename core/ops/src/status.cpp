// Four-clears counts per village.
#include "tz/ops/status.hpp"

#include <map>

#include "tz/model/derive.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/population.hpp"

namespace tz::ops {

namespace {
constexpr uint32_t kAllClear = kFlagIdentityOk | kFlagLabourClear | kFlagStatusClear | kFlagWillingnessClear;
}  // namespace

namespace {

StoreStatus status_impl(const DeviceStore& store, const region::RegionTree* tree, bool use_flags) {
  StoreStatus s;
  s.pending_changes = store.pending_change_count();
  s.next_seq = store.info().next_seq;
  s.last_sync_ms = store.info().last_sync_ms;
  const Period& period = store.info().config.period;
  if (!period.is_set()) return s;
  std::map<std::string, ClearCounts> by_village;
  auto add = [&](const std::string& village, uint32_t flags) {
    for (ClearCounts* c : {&by_village[village], &s.total}) {
      ++c->persons;
      c->identity += (flags & kFlagIdentityOk) != 0;
      c->labour += (flags & kFlagLabourClear) != 0;
      c->status += (flags & kFlagStatusClear) != 0;
      c->willingness += (flags & kFlagWillingnessClear) != 0;
      c->all += (flags & kAllClear) == kAllClear;
    }
    by_village[village].code = village;
  };
  if (use_flags && store.info().derived_period == period_key(period)) {
    // The flags every write keeps current: one pass over the plaintext columns.
    store.scan_flags(EntityType::person, [&](const EntityId&, const std::string& village, uint32_t flags) { add(village, flags); });
  } else {
    Deriver deriver(store.schema(), period);
    auto pop = Population::load(store);
    for (const Entity* p : pop.persons()) {
      const Entity* hh = pop.household_of(*p);
      std::string village = hh ? hh->value_or(store.schema().entity(EntityType::household).require("village_code").id) : "";
      add(village, person_flags(deriver.derive(pop.facts(*p)), identity_ok(store, pop, *p, village)));
    }
  }
  for (auto& [code, c] : by_village) {
    if (tree)
      if (auto* r = tree->find(code)) c.name = r->name;
    s.villages.push_back(c);
  }
  return s;
}

}  // namespace

bool identity_ok(const DeviceStore& store, const Population& pop, const Entity& person, const std::string& village) {
  return store.unlocked() ? identity_complete(store.schema(), person, village) : (pop.flags_of(person) & kFlagIdentityOk) != 0;
}

bool identity_ok(const DeviceStore& store, const IdentityCheck& check, const Population::Person& person) {
  return store.unlocked() ? check(*person.facts.person, *person.village) : (person.flags & kFlagIdentityOk) != 0;
}

StoreStatus compute_status(const DeviceStore& store, const region::RegionTree* tree) {
  return status_impl(store, tree, true);
}

StoreStatus compute_status_by_derivation(const DeviceStore& store, const region::RegionTree* tree) {
  return status_impl(store, tree, false);
}

}  // namespace tz::ops
