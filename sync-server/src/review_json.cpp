// JSON shapes shared by the admin commands and the review API.
#include "review_json.hpp"

#include "tz/model/id_number.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::server_cli {

using nlohmann::json;

std::string in_lang(const std::string& s, Lang lang) {
  auto sep = s.find('\x1f');
  if (sep == std::string::npos) return s;
  return lang == Lang::zh ? s.substr(0, sep) : s.substr(sep + 1);
}

json quarantined_json(const sync::StoredChange& q, const Schema& schema, Lang lang) {
  const FieldDef* def = schema.entity(q.change.type).field(q.change.field);
  return {{"id", q.change.version.str()},
          {"device", q.change.version.device.hex()},
          {"seq", q.change.version.seq.value},
          {"type", std::string(entity_type_name(q.change.type))},
          {"entity", q.change.entity.hex()},
          {"field", def ? def->name : std::to_string(q.change.field)},
          {"value", q.change.value},
          {"collector", q.change.collector},
          {"received", q.server_ms > 0 ? format_china_time(q.server_ms) : ""},
          {"reason", in_lang(q.reason, lang)}};
}

json reconcile_json(const ops::ReconcileReport& r, Lang lang, bool full_ids, bool with_rows) {
  using K = ops::Discrepancy::Kind;
  json j{{"kind", ops::reconcile_kind_label(r.kind, lang)},
         {"encoding", r.encoding},
         {"compared", r.compared},
         {"ours", r.ours},
         {"theirs", r.theirs},
         {"matched", r.matched},
         {"ours_only", r.count(K::ours_only)},
         {"theirs_only", r.count(K::theirs_only)},
         {"field_differences", r.count(K::field)},
         {"persons_with_field_differences", r.persons_with_field_differences()},
         {"outside_scope", r.outside_scope}};
  if (!with_rows) return j;
  json rows = json::array();
  for (auto& d : r.rows)
    rows.push_back({{"kind", d.kind == K::ours_only ? "ours_only" : d.kind == K::theirs_only ? "theirs_only" : "field"},
                    {"name", d.name},
                    {"id_number", full_ids ? d.id18 : idn::mask_id(d.id18)},
                    {"village", d.village},
                    {"person", d.person.is_zero() ? json(nullptr) : json(d.person.hex())},
                    {"line", d.line ? json(d.line) : json(nullptr)},
                    {"field", d.field.empty() ? json(nullptr) : json(d.field)},
                    {"ours", d.ours},
                    {"theirs", d.theirs}});
  j["rows"] = rows;
  return j;
}

json problems_json(const std::vector<ops::ImportProblem>& problems, Lang lang) {
  json arr = json::array();
  for (auto& p : problems)
    arr.push_back({{"line", p.line}, {"column", p.column}, {"rule", p.rule_id}, {"message", p.message(lang)}});
  return arr;
}

}  // namespace tz::server_cli
