// The shared conflicts listing and resolution output.
#include "tz/cli/conflicts.hpp"

#include <ostream>

#include "tz/model/id_number.hpp"

namespace tz::cli {

using nlohmann::json;

std::string shown_value(const FieldDef* f, const std::string& stored, Lang lang, bool full_ids) {
  if (!f) return stored;
  std::string s = display_value(*f, stored, lang);
  return f->type == FieldType::id_number && !full_ids ? idn::mask_id(s) : s;
}

std::string conflict_record(const Schema& schema, const ops::FieldConflict& c, Lang lang, bool full_ids) {
  const bool zh = lang == Lang::zh;
  const std::string open = zh ? "（" : " (", close = zh ? "）" : ")";
  std::string person;
  if (!c.person_name.empty()) {
    person = schema.entity(EntityType::person).label(lang) + " " + c.person_name;
    if (!c.id_number.empty()) person += open + (full_ids ? c.id_number : idn::mask_id(c.id_number)) + close;
  }
  std::string household;
  if (!c.household_no.empty()) household = schema.entity(EntityType::household).label(lang) + " " + c.village + "/" + c.household_no;
  std::string out;
  if (c.type == EntityType::person && !person.empty())
    out = person;
  else if (c.type == EntityType::household && !household.empty())
    return household;
  else {
    out = schema.entity(c.type).label(lang) + " " + c.entity.hex().substr(0, 8);
    if (!person.empty()) return out + open + person + (household.empty() ? "" : (zh ? "，" : ", ") + household) + close;
  }
  return household.empty() ? out : out + (zh ? "，" : ", ") + household;
}

namespace {

std::string field_label(const Io& io, const ops::FieldConflict& c) {
  return c.field ? c.field->label(io.lang) : io.tr("deletion_field");
}

std::string time_or_empty(int64_t ms) { return ms > 0 ? format_china_time(ms) : ""; }

}  // namespace

void print_conflicts(const Io& io, const Schema& schema, const std::vector<ops::FieldConflict>& list, bool full_ids) {
  if (io.as_json) {
    json arr = json::array();
    for (auto& c : list) {
      json versions = json::array();
      for (auto& v : c.versions)
        versions.push_back({{"number", v.number},
                            {"value", shown_value(c.field, v.version.value, io.lang, full_ids)},
                            {"version", v.version.id.str()},
                            {"collector", v.version.collector},
                            {"device", v.version.id.device.hex()},
                            {"device_time", time_or_empty(v.version.device_ms)},
                            {"server_time", time_or_empty(v.version.server_ms)},
                            {"shown", v.shown}});
      arr.push_back({{"type", entity_type_name(c.type)},
                     {"id", c.entity.hex()},
                     {"record", conflict_record(schema, c, io.lang, full_ids)},
                     {"village", c.village},
                     {"household_no", c.household_no},
                     {"person_name", c.person_name},
                     {"id_number", full_ids || c.id_number.empty() ? c.id_number : idn::mask_id(c.id_number)},
                     {"field", c.field ? c.field->name : "deleted"},
                     {"label", field_label(io, c)},
                     {"versions", versions}});
    }
    io.print_json({{"ok", true}, {"count", list.size()}, {"conflicts", arr}});
    return;
  }
  if (list.empty()) {
    io.out << io.tr("no_conflicts") << "\n";
    return;
  }
  io.out << io.tr("conflicts_count", {std::to_string(list.size())}) << "\n";
  for (auto& c : list) {
    io.out << conflict_record(schema, c, io.lang, full_ids) << "  " << field_label(io, c) << "  " << c.entity.hex() << "\n";
    for (auto& v : c.versions) {
      const std::string& stored = v.version.value;
      std::string value = c.field ? shown_value(c.field, stored, io.lang, full_ids)
                                  : (stored.empty() ? io.tr("restored") : io.tr("deleted_because", {stored}));
      io.out << "  " << v.number << (v.shown ? "*" : " ") << " " << value << "  "
             << io.tr("attribution", {v.version.collector, format_china_time(v.version.device_ms),
                                      v.version.id.device.hex().substr(0, 8), std::to_string(v.version.id.seq.value)})
             << "\n";
    }
  }
  io.out << io.tr("conflicts_hint") << "\n";
}

json resolved_json(EntityType type, const EntityId& id, const FieldDef* f, const std::string& shown,
                   const ops::ResolveReport& r, const std::string& collector) {
  json replaced = json::array();
  for (auto& v : r.replaced) replaced.push_back(v.str());
  return {{"ok", true},
          {"type", entity_type_name(type)},
          {"id", id.hex()},
          {"field", f ? f->name : "deleted"},
          {"value", shown},
          {"version", r.version.str()},
          {"replaced", replaced},
          {"collector", collector}};
}

}  // namespace tz::cli
