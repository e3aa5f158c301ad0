// Scope membership (SPEC §5 "Scope"). Which field places an entity is fixed by the data model: a
// household's 村代码, a person's household, a job's or subsidy's person, a visit's subject.
#include "tz/sync/scope.hpp"
#include "tz/util/sorted.hpp"

#include <algorithm>

namespace tz::sync {

namespace {

const char* placing_field_name(EntityType type) {
  switch (type) {
    case EntityType::household: return "village_code";
    case EntityType::person: return "household_id";
    case EntityType::job: return "person_id";
    case EntityType::subsidy: return "person_id";
    case EntityType::visit: return "subject_id";
  }
  return nullptr;
}

std::optional<FieldId> placing_field(const Schema& schema, EntityType type) {
  const char* name = placing_field_name(type);
  if (!name) return std::nullopt;
  if (auto* f = schema.entity(type).field(std::string_view(name))) return f->id;
  return std::nullopt;
}

// The distinct non-empty live values of a field, sorted.
std::vector<std::string> live_values(const EntityState& e, FieldId field) {
  std::vector<std::string> out;
  auto it = e.fields.find(field);
  if (it == e.fields.end()) return out;
  for (auto& v : it->second.live)
    if (!v.value.empty()) out.push_back(v.value);
  sort_unique(out);
  return out;
}

}  // namespace

bool scope_holds(const Scope& scope, std::string_view village) {
  for (auto& code : scope)
    if (!code.empty() && village.size() >= code.size() && village.compare(0, code.size(), code) == 0) return true;
  return false;
}

bool scope_holds_any(const Scope& scope, const std::vector<std::string>& villages) {
  return std::any_of(villages.begin(), villages.end(), [&](const std::string& v) { return scope_holds(scope, v); });
}

std::vector<std::string> own_villages(const Schema& schema, const EntityState& e) {
  if (e.type != EntityType::household) return {};
  auto f = placing_field(schema, e.type);
  return f ? live_values(e, *f) : std::vector<std::string>{};
}

std::vector<EntityId> parents_of(const Schema& schema, const EntityState& e) {
  std::vector<EntityId> out;
  if (e.type == EntityType::household) return out;
  auto f = placing_field(schema, e.type);
  if (!f) return out;
  for (auto& v : live_values(e, *f))
    if (auto id = EntityId::from_hex(v)) out.push_back(*id);
  sort_unique(out);
  return out;
}

bool is_placing_field(const Schema& schema, EntityType type, FieldId field) {
  auto f = placing_field(schema, type);
  return f && *f == field;
}

std::vector<std::string> village_union(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  sort_unique(a);
  return a;
}

MergeLinks parse_merge_links(std::string_view text) {
  MergeLinks out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    auto a = EntityId::from_hex(line.substr(0, sp)), b = EntityId::from_hex(line.substr(sp + 1));
    if (a && b) out[*a] = *b;
  }
  return out;
}

std::string format_merge_links(const MergeLinks& links) {
  std::vector<std::pair<EntityId, EntityId>> v(links.begin(), links.end());
  std::sort(v.begin(), v.end());
  std::string out;
  for (auto& [a, b] : v) out += a.hex() + " " + b.hex() + "\n";
  return out;
}

std::map<EntityId, std::vector<EntityId>> merged_from(const MergeLinks& links) {
  std::map<EntityId, std::vector<EntityId>> out;
  for (auto& [away, survivor] : links) out[survivor].push_back(away);
  for (auto& [survivor, aways] : out) std::sort(aways.begin(), aways.end());
  return out;
}

void append_merge_lines(std::string& digest, const std::map<EntityId, std::vector<EntityId>>& from, const EntityId& survivor) {
  auto it = from.find(survivor);
  if (it == from.end()) return;
  for (auto& away : it->second) digest += "merged " + away.hex() + "\n";
}

}  // namespace tz::sync
