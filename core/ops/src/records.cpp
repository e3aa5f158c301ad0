// Locating records, reading --set inputs and saving validated drafts.
#include "tz/ops/records.hpp"

#include "tz/model/id_number.hpp"
#include "tz/model/review.hpp"
#include "tz/util/crash_point.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

FieldValues shown_values(const Entity* e) {
  FieldValues out;
  if (!e) return out;
  out.reserve(e->fields.size());  // in field order: each goes at the end
  for (auto& [f, fv] : e->fields)
    if (auto* v = fv.shown()) out[f] = v->value;
  return out;
}

std::optional<EntityId> person_by_id_number(const DeviceStore& store, std::string_view id18) {
  const FieldId f_id = store.schema().entity(EntityType::person).require("id_number").id;
  for (auto& cand : store.lookup(LookupKind::id_number, id18)) {
    auto e = store.get(cand);
    if (!e) continue;
    auto c = idn::check_id(e->value_or(f_id), CivilDate{9999, 12, 31});
    if (c.ok() && c.id18 == id18) return cand;
  }
  return std::nullopt;
}

Result<EntityId> locate(const DeviceStore& store, std::string_view ref_in, const CivilDate& today) {
  std::string ref = text::trim(text::normalize_width(ref_in));
  auto not_found = [&] {
    return Error(ErrorCode::not_found, {bilingual("没有与“" + ref + "”对应的记录（可用记录编号、身份证号，或 村代码/户编号）",
                                                  "no record matches \"" + ref + "\" (use a record id, an ID number, or village code/household number)")});
  };
  if (auto id = EntityId::from_hex(ref)) {
    if (store.get_row(*id)) return *id;
    return not_found();
  }
  if (auto slash = ref.find('/'); slash != std::string::npos) {
    std::string village = text::trim(ref.substr(0, slash)), hh = text::trim(ref.substr(slash + 1));
    auto id = store.natural_keys().household(village, hh);
    if (store.get_row(id)) return id;
    return not_found();
  }
  auto c = idn::check_id(ref, today);
  if (!c.ok()) return not_found();
  if (auto id = person_by_id_number(store, c.id18)) return *id;
  return not_found();
}

Result<std::vector<FieldInput>> parse_inputs(const EntitySchema& es, const std::vector<std::string>& args,
                                            const ValidationContext& ctx) {
  std::vector<FieldInput> out;
  for (auto& a : args) {
    auto eq = a.find('=');
    std::string key = text::trim(a.substr(0, eq));
    if (eq == std::string::npos || key.empty())
      return Error(ErrorCode::usage, {bilingual("--set 应为 字段=值，收到“" + a + "”", "--set takes field=value, got \"" + a + "\"")});
    const FieldDef* f = es.find_field(key);
    if (!f || f->type == FieldType::ref)
      return Error(ErrorCode::invalid_input, {bilingual(es.label_zh + "没有“" + key + "”这一项", es.label_en + " has no field \"" + key + "\"")});
    if (reviewer_only(*f)) {
      Problem p = reviewer_only_problem(*f);
      return Error(ErrorCode::invalid_input, {bilingual(p.message_zh, p.message_en)});
    }
    std::string raw = a.substr(eq + 1);
    if (text::trim(raw).empty())
      return Error(ErrorCode::invalid_input, {bilingual(f->label_zh + "的值为空", f->label_en + ": the value is empty")});
    Normalized n = normalize_value(*f, raw, ctx);
    if (!n.ok) {
      Problem p = format_problem(es, *f, n);
      if (p.severity == Severity::error) return Error(ErrorCode::invalid_input, {bilingual(p.message_zh, p.message_en)});
    }
    out.push_back(FieldInput{f, raw, std::move(n)});
  }
  return out;
}

Result<SaveReport> save_drafts(DeviceStore& store, const std::vector<Draft>& drafts, const EditContext& edit,
                               const ValidationContext& ctx) {
  const Schema& schema = store.schema();
  const auto& ps = schema.entity(EntityType::person);
  const FieldId f_id = ps.require("id_number").id, f_phone = ps.require("phone").id;
  const FieldId j_person = schema.entity(EntityType::job).require("person_id").id;
  Editor editor(store, edit);
  SaveReport report;

  // Each record as it will be.
  std::vector<FieldValues> merged;
  for (auto& d : drafts) {
    FieldValues v = shown_values(editor.find(d.id));
    for (auto& [f, val] : d.values) v[f] = val;
    merged.push_back(std::move(v));
  }
  for (size_t i = 0; i < drafts.size(); ++i) {
    ValidationContext c = ctx;
    if (drafts[i].type == EntityType::job) {
      std::string person_hex = merged[i].count(j_person) ? merged[i].at(j_person) : "";
      std::string id;
      for (size_t k = 0; k < drafts.size(); ++k)
        if (drafts[k].type == EntityType::person && drafts[k].id.hex() == person_hex && merged[k].count(f_id))
          id = merged[k].at(f_id);
      if (id.empty())
        if (auto pid = EntityId::from_hex(person_hex))
          if (Entity* p = editor.find(*pid)) id = p->value_or(f_id);
      c.person_birth = birth_of_id(id);
    }
    for (auto& p : validate_record(schema.entity(drafts[i].type), merged[i], c)) report.problems.emplace_back(i, p);
  }
  // One ID, one person: an ID that another person already has is refused (a merge of duplicates is
  // the county's decision, not a side effect of an edit).
  for (size_t i = 0; i < drafts.size(); ++i) {
    if (drafts[i].type != EntityType::person) continue;
    auto it = drafts[i].values.find(f_id);
    if (it == drafts[i].values.end()) continue;
    auto c = idn::check_id(it->second, CivilDate{9999, 12, 31});
    if (!c.ok()) continue;
    if (auto other = person_by_id_number(store, c.id18); other && *other != drafts[i].id) {
      auto theirs = store.get(*other);
      std::string name = theirs ? theirs->value_or(ps.require("name").id, other->hex()) : other->hex();
      report.problems.emplace_back(i, Problem{"person.id_number.taken", Severity::error, "id_number",
                                              "身份证号已登记在“" + name + "”名下（记录 " + other->hex() + "）",
                                              "the ID number is already registered to \"" + name + "\" (record " + other->hex() + ")"});
    }
  }
  for (auto& [i, p] : report.problems)
    if (p.severity == Severity::error) return report;

  for (auto& d : drafts) {
    Entity& e = editor.get_or_create(d.type, d.id);
    for (auto& [f, val] : d.values) {
      if (!editor.set(e, f, val)) continue;
      if (d.type != EntityType::person) continue;
      if (f == f_id) {
        auto c = idn::check_id(val, CivilDate{9999, 12, 31});
        if (c.ok()) editor.add_lookup(LookupKind::id_number, c.id18, d.id);
      }
      if (f == f_phone) editor.add_lookup(LookupKind::phone, val, d.id);
    }
  }
  report.changes = editor.change_count();
  auto st = editor.commit("device.edit.before_commit");
  if (!st) return st.error();
  crash_point("device.edit.after_commit");
  report.saved = true;
  return report;
}

}  // namespace tz::ops
