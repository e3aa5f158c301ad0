// Four-clears counts per village.
#include "tz/ops/status.hpp"

#include <map>

#include "tz/model/derive.hpp"
#include "tz/ops/population.hpp"

namespace tz::ops {

StoreStatus compute_status(const DeviceStore& store, const region::RegionTree* tree) {
  StoreStatus s;
  s.pending_changes = store.pending_change_count();
  s.next_seq = store.info().next_seq;
  s.last_sync_ms = store.info().last_sync_ms;
  const Period& period = store.info().config.period;
  if (!period.is_set()) return s;
  Deriver deriver(store.schema(), period);
  auto pop = Population::load(store);
  std::map<std::string, ClearCounts> by_village;
  auto add = [](ClearCounts& c, const FourClears& f) {
    ++c.persons;
    c.identity += f.identity;
    c.labour += f.labour;
    c.status += f.status;
    c.willingness += f.willingness;
    c.all += f.all();
  };
  for (const Entity* p : pop.persons()) {
    const std::string& village = pop.village_of(*p);
    auto d = deriver.derive(pop.facts(*p));
    auto f = four_clears(d, (pop.flags_of(*p) & kFlagIdentityOk) != 0);
    auto& c = by_village[village];
    c.code = village;
    add(c, f);
    add(s.total, f);
  }
  for (auto& [code, c] : by_village) {
    if (tree)
      if (auto* r = tree->find(code)) c.name = r->name;
    s.villages.push_back(c);
  }
  return s;
}

}  // namespace tz::ops
