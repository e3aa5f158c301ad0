// An entity as the store keeps it (live versions in the row, merge bookkeeping beside them) and the
// merge state sync works on.
#include "tz/store/device_store.hpp"

namespace tz {

EntityState to_state(const Entity& e, const MergeExtras& extras) {
  EntityState s;
  s.type = e.type;
  s.id = e.id;
  for (auto& [f, fv] : e.fields)
    if (!fv.live.empty()) s.fields[f].live = fv.live;
  for (auto& [f, ids] : extras.superseded)
    if (!ids.empty()) s.fields[f].superseded = ids;
  s.deletion_bases = extras.deletion_bases;
  return s;
}

void from_state(const EntityState& s, Entity& e, MergeExtras& extras) {
  e = Entity{};
  e.type = s.type;
  e.id = s.id;
  extras = MergeExtras{};
  for (auto& [f, fs] : s.fields) {
    if (!fs.live.empty()) e.fields[f].live = fs.live;
    if (!fs.superseded.empty()) extras.superseded[f] = fs.superseded;
  }
  extras.deletion_bases = s.deletion_bases;
}

}  // namespace tz
