// Open conflicts, resolutions and notices on the device.
#include "tz/ops/conflicts.hpp"

#include <algorithm>
#include <tuple>

#include "tz/model/merge.hpp"
#include "tz/ops/records.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

namespace {

bool is_deletion_name(std::string_view name) {
  return name == "deleted" || name == "删除" || name == "deletion" || name == "已删除";
}

std::optional<EntityId> ref_of(const Entity& e, FieldId f) {
  if (const std::string* v = e.value(f)) return EntityId::from_hex(*v);
  return std::nullopt;
}

// Fills in whom a conflict concerns by the entity's parent links: the person directly or through a
// job's person or a visit's subject, the household directly, through a visit or through the person.
void describe_subject(const DeviceStore& store, FieldConflict& c) {
  const Schema& schema = store.schema();
  const auto& ps = schema.entity(EntityType::person);
  std::optional<Entity> person, household;
  auto self = store.get(c.entity);
  if (!self) return;
  if (c.type == EntityType::person) person = self;
  if (c.type == EntityType::household) household = self;
  if (c.type == EntityType::job)
    if (auto p = ref_of(*self, schema.entity(EntityType::job).require("person_id").id)) person = store.get(*p);
  if (c.type == EntityType::visit)
    if (auto s = ref_of(*self, schema.entity(EntityType::visit).require("subject_id").id)) {
      auto subject = store.get(*s);
      if (subject && subject->type == EntityType::person) person = subject;
      if (subject && subject->type == EntityType::household) household = subject;
    }
  if (person && !household)
    if (auto h = ref_of(*person, ps.require("household_id").id)) household = store.get(*h);
  if (person) {
    c.person_name = person->value_or(ps.require("name").id);
    c.id_number = person->value_or(ps.require("id_number").id);
  }
  if (household) c.household_no = household->value_or(schema.entity(EntityType::household).require("household_no").id);
}

std::vector<FieldConflict> conflicts_of(const Schema& schema, const EntityRow& row) {
  std::vector<FieldConflict> out;
  EntityState s = to_state(row.entity, row.merge);
  const auto& es = schema.entity(row.entity.type);
  for (auto& cv : conflicts(s)) {
    FieldConflict fc;
    fc.type = row.entity.type;
    fc.entity = row.entity.id;
    fc.village = row.village;
    fc.field_id = cv.field;
    fc.field = cv.field == kDeletedField ? nullptr : es.field(cv.field);
    int n = 0;
    bool first = true;
    for (auto& vv : cv.values) {
      for (auto& v : vv.versions) fc.versions.push_back(ConflictVersion{++n, v, first});
      first = false;
    }
    out.push_back(std::move(fc));
  }
  return out;
}

}  // namespace

std::vector<FieldConflict> list_conflicts(const DeviceStore& store, std::string_view region) {
  std::vector<FieldConflict> out;
  store.scan(std::nullopt, [&](EntityRow&& row) {
    if (!region.empty() && row.village.rfind(region, 0) != 0) return;
    for (auto& c : conflicts_of(store.schema(), row)) out.push_back(std::move(c));
  });
  for (auto& c : out) describe_subject(store, c);
  std::sort(out.begin(), out.end(), [](const FieldConflict& a, const FieldConflict& b) {
    return std::tie(a.village, a.household_no, a.person_name, a.entity, a.field_id) <
           std::tie(b.village, b.household_no, b.person_name, b.entity, b.field_id);
  });
  return out;
}

std::vector<FieldConflict> entity_conflicts(const DeviceStore& store, const EntityId& id) {
  auto row = store.get_row(id);
  if (!row) return {};
  auto out = conflicts_of(store.schema(), *row);
  for (auto& c : out) describe_subject(store, c);
  return out;
}

Result<ResolveReport> resolve_conflict(DeviceStore& store, const EntityId& id, std::string_view field_name,
                                       const Resolution& how, const EditContext& edit, const ValidationContext& ctx) {
  auto row = store.get_row(id);
  if (!row) return Error(ErrorCode::not_found, {id.hex()});
  const auto& es = store.schema().entity(row->entity.type);
  std::string name = text::trim(std::string(field_name));
  const FieldDef* field = es.find_field(name);
  FieldId fid = kDeletedField;
  if (field)
    fid = field->id;
  else if (!is_deletion_name(name))
    return Error(ErrorCode::not_found, {bilingual(es.label_zh + "没有“" + name + "”这一项", es.label_en + " has no field \"" + name + "\"")});
  const std::string label_zh = field ? field->label_zh : "删除", label_en = field ? field->label_en : "deletion";
  if (how.pick.has_value() == how.value.has_value())
    return Error(ErrorCode::usage, {bilingual("请用 --pick 版本 或 --value 值 二者之一", "give one of --pick VERSION or --value V")});

  auto all = conflicts_of(store.schema(), *row);
  auto it = std::find_if(all.begin(), all.end(), [&](const FieldConflict& c) { return c.field_id == fid; });
  if (it == all.end())
    return Error(ErrorCode::invalid_input, {bilingual(label_zh + "没有冲突，无需处理（修改请用 edit）",
                                                      label_en + " has no conflict to resolve (use edit to change it)")});
  const FieldConflict& conflict = *it;

  std::string value;
  if (how.pick) {
    std::string p = text::trim(*how.pick);
    const ConflictVersion* chosen = nullptr;
    for (auto& v : conflict.versions)
      if (std::to_string(v.number) == p || v.version.id.str() == p) chosen = &v;
    if (!chosen) {
      std::string nums;
      for (auto& v : conflict.versions) nums += (nums.empty() ? "" : ", ") + std::to_string(v.number);
      return Error(ErrorCode::invalid_input, {bilingual(label_zh + "没有版本“" + p + "”（可选：" + nums + "）",
                                                        label_en + " has no version \"" + p + "\" (choose one of " + nums + ")")});
    }
    value = chosen->version.value;
  } else if (field) {
    auto inputs = parse_inputs(es, {field->name + "=" + *how.value}, ctx);
    if (!inputs) return inputs.error();
    value = inputs->front().value.value;
  } else {
    value = *how.value;  // a deletion reason, or "" to restore
  }

  ResolveReport rep;
  rep.value = value;
  for (auto& v : conflict.versions) rep.replaced.push_back(v.version.id);
  std::sort(rep.replaced.begin(), rep.replaced.end());
  rep.version = VersionId{store.info().device, Seq{store.info().next_seq}};
  Editor ed(store, edit);
  Entity* e = ed.find(id);
  if (!e) return Error(ErrorCode::not_found, {id.hex()});
  if (field)
    ed.resolve(*e, fid, value);
  else
    ed.delete_entity(*e, value);  // its base names every live version, earlier deletions included
  if (auto st = ed.commit("device.resolve.before_commit"); !st) return st.error();
  return rep;
}

std::string notice_kind_name(uint8_t kind) {
  switch (kind) {
    case 1: return "quarantined";
    case 2: return "released";
    case 3: return "rejected";
    case 4: return "redirected";
    case 5: return "clock";
    case 6: return "flagged";
  }
  return "notice";
}

std::string notice_kind_label(uint8_t kind, Lang lang) {
  bool zh = lang == Lang::zh;
  switch (kind) {
    case 1: return zh ? "已隔离，待县里审核" : "quarantined for review";
    case 2: return zh ? "审核已放行" : "released by the reviewer";
    case 3: return zh ? "审核未通过（退回）" : "rejected by the reviewer";
    case 4: return zh ? "已转交" : "redirected";
    case 5: return zh ? "设备时钟不准" : "device clock is off";
    case 6: return zh ? "县里核查发现疑点，请核实" : "flagged by the county's checks; please verify";
  }
  return zh ? "通知" : "notice";
}

std::vector<NoticeView> list_notices(const DeviceStore& store) {
  std::vector<NoticeView> out;
  for (auto& n : store.notices()) {
    NoticeView v;
    v.notice = n;
    if (!n.entity.is_zero() || n.field != 0) v.field = store.schema().entity(n.type).field(n.field);
    if (n.version.device == store.info().device && n.version.seq.value > 0 && store.has_change(n.version.seq.value)) {
      auto c = store.changes_range(n.version.seq.value - 1, 1);
      if (!c.empty() && c.front().version == n.version) v.value = c.front().value;
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace tz::ops
