// Conflicts for the county admin: one scan over the store, then the people and households they
// concern looked up by parent links.
#include "tz/ops/admin_conflicts.hpp"

#include <algorithm>
#include <tuple>

namespace tz::ops {

namespace {

std::optional<EntityId> ref_of(const Entity& e, FieldId f) {
  if (const std::string* v = e.value(f)) return EntityId::from_hex(*v);
  return std::nullopt;
}

}  // namespace

std::vector<AdminConflict> list_conflicts_for_admin(const DeviceStore& store, Lang lang, const std::string& region) {
  const Schema& schema = store.schema();
  std::vector<AdminConflict> out;
  store.scan(std::nullopt, [&](EntityRow&& row) {
    if (!region.empty() && row.village.rfind(region, 0) != 0) return;
    const EntitySchema& es = schema.entity(row.entity.type);
    for (auto& [fid, versions] : row.entity.fields) {
      if (!versions.conflict()) continue;
      AdminConflict c;
      c.type = row.entity.type;
      c.entity = row.entity.id;
      c.village = row.village;
      c.field = fid;
      const FieldDef* def = es.field(fid);
      c.field_name = def ? def->name : std::to_string(fid);
      c.field_label = def ? def->label(lang) : c.field_name;
      for (auto& v : versions.live) {
        AdminConflictValue x;
        x.version = v.id;
        x.value = v.value;
        x.shown = v.value;
        if (def)
          if (const EnumOption* o = def->option(v.value)) x.shown = o->label(lang);
        x.collector = v.collector;
        x.device_ms = v.device_ms;
        x.server_ms = v.server_ms;
        c.values.push_back(std::move(x));
      }
      std::sort(c.values.begin(), c.values.end(), [&](const AdminConflictValue& a, const AdminConflictValue& b) {
        auto ka = std::find_if(versions.live.begin(), versions.live.end(), [&](const Version& v) { return v.id == a.version; });
        auto kb = std::find_if(versions.live.begin(), versions.live.end(), [&](const Version& v) { return v.id == b.version; });
        return std::tie(ka->ts, a.version) < std::tie(kb->ts, b.version);
      });
      out.push_back(std::move(c));
    }
  });
  // Who each conflict concerns: the person (directly, or through a job's or visit's person) and the
  // household (directly, or through the person).
  const FieldId person_name = schema.entity(EntityType::person).require("name").id;
  const FieldId person_idn = schema.entity(EntityType::person).require("id_number").id;
  const FieldId person_household = schema.entity(EntityType::person).require("household_id").id;
  const FieldId household_no = schema.entity(EntityType::household).require("household_no").id;
  const FieldId job_person = schema.entity(EntityType::job).require("person_id").id;
  const FieldId visit_subject = schema.entity(EntityType::visit).require("subject_id").id;
  for (auto& c : out) {
    std::optional<Entity> person, household;
    auto self = store.get(c.entity);
    if (!self) continue;
    if (c.type == EntityType::person) person = self;
    if (c.type == EntityType::household) household = self;
    if (c.type == EntityType::job)
      if (auto p = ref_of(*self, job_person)) person = store.get(*p);
    if (c.type == EntityType::visit)
      if (auto s = ref_of(*self, visit_subject)) {
        auto subject = store.get(*s);
        if (subject && subject->type == EntityType::person) person = subject;
        if (subject && subject->type == EntityType::household) household = subject;
      }
    if (person && !household)
      if (auto h = ref_of(*person, person_household)) household = store.get(*h);
    if (person) {
      c.person_name = person->value_or(person_name);
      c.id_number = person->value_or(person_idn);
    }
    if (household) c.household_no = household->value_or(household_no);
  }
  std::sort(out.begin(), out.end(), [](const AdminConflict& a, const AdminConflict& b) {
    return std::tie(a.village, a.household_no, a.person_name, a.entity, a.field) <
           std::tie(b.village, b.household_no, b.person_name, b.entity, b.field);
  });
  return out;
}

}  // namespace tz::ops
