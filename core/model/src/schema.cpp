// Loads and checks the JSON schema: field ids unique and stable, labels present, options and rules
// well-formed, and the fields the derived figures rely on present with the right types.
#include "tz/model/schema.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "tz/util/text.hpp"

namespace tz {

using nlohmann::json;

std::optional<FieldType> field_type_from_name(std::string_view n) {
  static const std::pair<std::string_view, FieldType> kTypes[] = {
      {"text", FieldType::text},           {"id_number", FieldType::id_number}, {"phone", FieldType::phone},
      {"enum", FieldType::enumeration},    {"bool", FieldType::boolean},        {"date", FieldType::date},
      {"year_month", FieldType::year_month}, {"int", FieldType::integer},       {"money", FieldType::money},
      {"region_code", FieldType::region_code}, {"ref", FieldType::ref},         {"period_enum", FieldType::period_enum}};
  for (auto& [name, t] : kTypes)
    if (name == n) return t;
  return std::nullopt;
}

std::string lookup_key(std::string_view s) {
  std::string k = text::remove_spaces(text::normalize_width(s));
  for (auto& c : k)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  // Full-width brackets (月收入（元）) were folded to ASCII by normalize_width, so both forms match.
  return k;
}

const EnumOption* FieldDef::option(std::string_view code) const {
  for (auto& o : options)
    if (o.code == code) return &o;
  return nullptr;
}

const EnumOption* FieldDef::match_option(std::string_view input) const {
  auto it = option_keys_.find(lookup_key(input));
  return it == option_keys_.end() ? nullptr : &options[it->second];
}

const FieldDef* EntitySchema::field(std::string_view name) const {
  if (!by_name_.empty()) {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &fields[it->second];
  }
  for (auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

const FieldDef* EntitySchema::field(FieldId id) const {
  for (auto& f : fields)
    if (f.id == id) return &f;
  return nullptr;
}

const FieldDef* EntitySchema::find_field(std::string_view key) const {
  auto it = by_key_.find(lookup_key(key));
  return it == by_key_.end() ? nullptr : &fields[it->second];
}

const FieldDef& EntitySchema::require(std::string_view name) const {
  if (auto* f = field(name)) return *f;
  throw Failure(ErrorCode::schema_error, {std::string(entity_type_name(type)) + "." + std::string(name) + " missing"});
}

const EntitySchema& Schema::entity(EntityType t) const {
  auto it = entities_.find(t);
  if (it == entities_.end()) throw Failure(ErrorCode::schema_error, {std::string(entity_type_name(t)) + " not defined"});
  return it->second;
}

const ListSpec* Schema::list(std::string_view kind) const {
  for (auto& l : lists_)
    if (l.kind == kind) return &l;
  return nullptr;
}

namespace {

Error schema_error(const std::string& where, const std::string& what) {
  return Error(ErrorCode::schema_error, {where + ": " + what});
}

std::vector<std::string> string_list(const json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key))
    for (auto& v : j.at(key)) out.push_back(v.get<std::string>());
  return out;
}

std::vector<EnumOption> default_bool_options() {
  return {{"1", "是", "yes", {"有", "y", "yes", "true", "√", "1"}}, {"0", "否", "no", {"无", "n", "no", "false", "×", "0"}}};
}

std::optional<RuleKind> rule_kind(std::string_view n) {
  static const std::pair<std::string_view, RuleKind> kKinds[] = {
      {"required", RuleKind::required},     {"format", RuleKind::format},         {"id_county", RuleKind::id_county},
      {"age_range", RuleKind::age_range},   {"range", RuleKind::range},           {"not_future", RuleKind::not_future},
      {"not_before", RuleKind::not_before}, {"required_if", RuleKind::required_if}, {"min_age_at", RuleKind::min_age_at},
      {"region_known", RuleKind::region_known}};
  for (auto& [name, k] : kKinds)
    if (name == n) return k;
  return std::nullopt;
}

Result<std::vector<Condition>> parse_conditions(const json& list, const EntitySchema& es, const std::string& where) {
  std::vector<Condition> out;
  for (auto& jc : list) {
    Condition c;
    c.field = jc.at("field").get<std::string>();
    if (jc.contains("in")) {
      c.op = Condition::Op::in;
      c.values = string_list(jc, "in");
    } else {
      c.op = jc.value("empty", false) ? Condition::Op::empty : Condition::Op::not_empty;
    }
    if (!es.field(c.field)) return schema_error(where, "unknown field " + c.field);
    out.push_back(std::move(c));
  }
  return out;
}

Result<EntitySchema> parse_entity(const std::string& file, const json& j) {
  EntitySchema es;
  auto type = entity_type_from_name(j.at("entity").get<std::string>());
  if (!type) return schema_error(file, "unknown entity " + j.at("entity").get<std::string>());
  es.type = *type;
  es.label_zh = j.at("label_zh").get<std::string>();
  es.label_en = j.at("label_en").get<std::string>();
  std::set<FieldId> ids;
  for (auto& jf : j.at("fields")) {
    FieldDef f;
    f.id = jf.at("id").get<FieldId>();
    f.name = jf.at("name").get<std::string>();
    std::string where = file + " field " + f.name;
    if (f.id == 0) return schema_error(where, "field id 0 is reserved");
    if (!ids.insert(f.id).second) return schema_error(where, "duplicate field id " + std::to_string(f.id));
    auto t = field_type_from_name(jf.at("type").get<std::string>());
    if (!t) return schema_error(where, "unknown type " + jf.at("type").get<std::string>());
    f.type = *t;
    f.label_zh = jf.at("label_zh").get<std::string>();
    f.label_en = jf.at("label_en").get<std::string>();
    f.aliases = string_list(jf, "aliases");
    f.pii = jf.value("pii", false);
    f.list = jf.value("list", false);
    f.prompt = jf.value("prompt", true);
    f.max_length = jf.value("max_length", size_t{200});
    f.ref = jf.value("ref", std::string());
    f.default_value = jf.value("default", std::string());
    if (jf.contains("options")) {
      for (auto& jo : jf.at("options")) {
        EnumOption o{jo.at("code").get<std::string>(), jo.at("zh").get<std::string>(), jo.at("en").get<std::string>(),
                     string_list(jo, "aliases")};
        f.options.push_back(std::move(o));
      }
    }
    if (f.type == FieldType::boolean && f.options.empty()) f.options = default_bool_options();
    if ((f.type == FieldType::enumeration || f.type == FieldType::period_enum) && f.options.empty())
      return schema_error(where, "an enum needs options");
    // Codes and labels win over aliases: insert them first; an alias never displaces one.
    for (size_t k = 0; k < f.options.size(); ++k)
      for (auto* key : {&f.options[k].code, &f.options[k].zh, &f.options[k].en})
        if (!f.option_keys_.emplace(lookup_key(*key), k).second && f.option_keys_[lookup_key(*key)] != k)
          return schema_error(where, "option \"" + *key + "\" used twice");
    for (size_t k = 0; k < f.options.size(); ++k)
      for (auto& a : f.options[k].aliases) f.option_keys_.emplace(lookup_key(a), k);
    es.fields.push_back(std::move(f));
  }
  for (size_t i = 0; i < es.fields.size(); ++i) es.by_name_[es.fields[i].name] = i;
  for (size_t i = 0; i < es.fields.size(); ++i) {
    auto& f = es.fields[i];
    auto& jf = j.at("fields").at(i);
    if (jf.contains("ask_if")) {
      auto conds = parse_conditions(jf.at("ask_if"), es, file + " field " + f.name);
      if (!conds) return conds.error();
      f.ask_if = std::move(*conds);
    }
    std::vector<std::string> keys = {f.name, f.label_zh, f.label_en};
    keys.insert(keys.end(), f.aliases.begin(), f.aliases.end());
    for (auto& k : keys) {
      auto [it, inserted] = es.by_key_.emplace(lookup_key(k), i);
      if (!inserted && it->second != i)
        return schema_error(file, "label or alias \"" + k + "\" used by two fields");
    }
  }
  if (j.contains("rules")) {
    std::set<std::string> rule_ids;
    for (auto& jr : j.at("rules")) {
      Rule r;
      r.id = jr.at("id").get<std::string>();
      if (!rule_ids.insert(r.id).second) return schema_error(file, "duplicate rule id " + r.id);
      auto k = rule_kind(jr.at("kind").get<std::string>());
      if (!k) return schema_error(file + " rule " + r.id, "unknown kind");
      r.kind = *k;
      auto sev = jr.at("severity").get<std::string>();
      if (sev != "error" && sev != "warning") return schema_error(file + " rule " + r.id, "severity must be error or warning");
      r.severity = sev == "error" ? Severity::error : Severity::warning;
      r.field = jr.at("field").get<std::string>();
      r.any_of = string_list(jr, "any_of");
      if (r.any_of.empty()) r.any_of = {r.field};
      r.other = jr.value("other", std::string());
      if (jr.contains("min")) r.min = jr.at("min").get<double>();
      if (jr.contains("max")) r.max = jr.at("max").get<double>();
      r.min_setting = jr.value("min_setting", std::string());
      r.max_setting = jr.value("max_setting", std::string());
      if (jr.contains("when")) {
        auto conds = parse_conditions(jr.at("when"), es, file + " rule " + r.id);
        if (!conds) return conds.error();
        r.when = std::move(*conds);
      }
      r.zh = jr.at("zh").get<std::string>();
      r.en = jr.at("en").get<std::string>();
      if (r.zh.empty() || r.en.empty()) return schema_error(file + " rule " + r.id, "needs zh and en messages");
      if (!es.field(r.field)) return schema_error(file + " rule " + r.id, "unknown field " + r.field);
      for (auto& name : r.any_of)
        if (!es.field(name)) return schema_error(file + " rule " + r.id, "unknown field " + name);
      if (!r.other.empty() && !es.field(r.other)) return schema_error(file + " rule " + r.id, "unknown field " + r.other);
      es.rules.push_back(std::move(r));
    }
  }
  return es;
}

// Fields the derived status, import and lists rely on, with the types they must have.
Status check_core_fields(const std::map<EntityType, EntitySchema>& ents) {
  struct Need {
    EntityType t;
    const char* name;
    FieldType type;
  };
  static const Need kNeeds[] = {
      {EntityType::household, "village_code", FieldType::region_code},
      {EntityType::household, "household_no", FieldType::text},
      {EntityType::person, "household_id", FieldType::ref},
      {EntityType::person, "name", FieldType::text},
      {EntityType::person, "id_number", FieldType::id_number},
      {EntityType::person, "labour_ability", FieldType::enumeration},
      {EntityType::person, "declared_status", FieldType::period_enum},
      {EntityType::person, "willing_to_go_out", FieldType::boolean},
      {EntityType::person, "returned", FieldType::boolean},
      {EntityType::person, "life_event", FieldType::enumeration},
      {EntityType::person, "student", FieldType::boolean},
      {EntityType::person, "phone", FieldType::phone},
      {EntityType::job, "person_id", FieldType::ref},
      {EntityType::job, "start_month", FieldType::year_month},
      {EntityType::job, "end_month", FieldType::year_month},
      {EntityType::job, "months_in_period", FieldType::integer},
      {EntityType::job, "work_place", FieldType::text},
      {EntityType::job, "place_bucket", FieldType::enumeration},
      {EntityType::job, "employer", FieldType::text},
      {EntityType::job, "source", FieldType::enumeration},
      {EntityType::job, "monthly_income", FieldType::money},
      {EntityType::job, "point_to_point", FieldType::boolean},
      {EntityType::visit, "subject_id", FieldType::ref},
      {EntityType::visit, "date", FieldType::date},
  };
  for (auto& n : kNeeds) {
    auto it = ents.find(n.t);
    if (it == ents.end()) return Error(ErrorCode::schema_error, {std::string(entity_type_name(n.t)) + " not defined"});
    auto* f = it->second.field(n.name);
    if (!f || f->type != n.type)
      return Error(ErrorCode::schema_error,
                   {std::string(entity_type_name(n.t)) + "." + n.name + " missing or of the wrong type"});
  }
  return ok_status();
}

}  // namespace

Result<Schema> Schema::parse(const std::map<std::string, std::string>& files) {
  auto mit = files.find("manifest.json");
  if (mit == files.end()) return schema_error("schemas", "manifest.json missing");
  try {
    json manifest = json::parse(mit->second);
    Schema s;
    s.version_ = manifest.at("version").get<int>();
    for (auto& name : manifest.at("entities")) {
      auto fname = name.get<std::string>();
      auto fit = files.find(fname);
      if (fit == files.end()) return schema_error("manifest.json", fname + " missing");
      json j;
      try {
        j = json::parse(fit->second);
      } catch (const json::exception& e) {
        return schema_error(fname, e.what());
      }
      auto es = parse_entity(fname, j);
      if (!es) return es.error();
      EntityType t = es->type;
      if (!s.entities_.emplace(t, std::move(*es)).second)
        return schema_error(fname, "entity " + std::string(entity_type_name(t)) + " defined twice");
    }
    auto st = check_core_fields(s.entities_);
    if (!st) return st.error();
    if (manifest.contains("settings")) {
      auto& js = manifest.at("settings");
      s.settings_.labour_age_min = js.value("labour_age_min", 16);
      s.settings_.labour_age_max = js.value("labour_age_max", 64);
      s.settings_.farming_counts_as_employment = js.value("farming_counts_as_employment", false);
    }
    for (auto& jl : manifest.at("lists")) {
      ListSpec l{jl.at("kind").get<std::string>(), jl.at("title_zh").get<std::string>(),
                 jl.at("title_en").get<std::string>(), string_list(jl, "columns")};
      s.lists_.push_back(std::move(l));
    }
    return s;
  } catch (const json::exception& e) {
    return schema_error("schemas", e.what());
  }
}

}  // namespace tz
