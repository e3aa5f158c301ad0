// Live versions, the shown value, and the merge kernel used by local edits.
#include "tz/model/record.hpp"

#include <algorithm>
#include <stdexcept>

namespace tz {

const Version* FieldVersions::shown() const {
  const Version* best = nullptr;
  for (auto& v : live)
    if (!best || std::tie(v.ts, v.id.device) > std::tie(best->ts, best->id.device)) best = &v;
  return best;
}

bool FieldVersions::conflict() const {
  for (size_t i = 1; i < live.size(); ++i)
    if (live[i].value != live[0].value) return true;
  return false;
}

const std::string* Entity::value(FieldId f) const {
  auto it = fields.find(f);
  if (it == fields.end()) return nullptr;
  auto* v = it->second.shown();
  return v ? &v->value : nullptr;
}

std::string Entity::value_or(FieldId f, std::string fallback) const {
  auto* v = value(f);
  return v ? *v : std::move(fallback);
}

std::vector<VersionId> Entity::live_ids(FieldId f) const {
  std::vector<VersionId> ids;
  auto it = fields.find(f);
  if (it != fields.end())
    for (auto& v : it->second.live) ids.push_back(v.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<const Version*> Entity::all_versions() const {
  std::vector<const Version*> out;
  for (auto& [f, fv] : fields)
    for (auto& v : fv.live) out.push_back(&v);
  return out;
}

void apply_change(Entity& e, const FieldChange& c) {
  auto& fv = e.fields[c.field];
  for (auto& v : fv.live)
    if (v.id == c.version) return;
  erase_if(fv.live, [&](const Version& v) {
    return std::find(c.base.begin(), c.base.end(), v.id) != c.base.end();
  });
  fv.live.push_back(Version{c.version, c.value, c.ts, c.collector, c.device_ms, 0});
}

}  // namespace tz
