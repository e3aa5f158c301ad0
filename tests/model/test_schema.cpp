// The schema engine over the project's real schemas/*.json: entity types, the roster headers of
// SPEC §9, field lookup by name / label / alias with width and space variants, enum matching,
// rules well-formed; and every way a damaged schema is refused with schema_error. A field added
// to person.json only here loads and is found like any other.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "tz/model/schema.hpp"

using nlohmann::json;
using tz::EntityType;
using tz::ErrorCode;
using tz::FieldType;
using tz::Schema;

namespace {

using tz::test::schema_files;

Schema load_schema() {
  auto r = Schema::parse(schema_files());
  if (!r.ok()) FAIL("schema did not load: " << r.error().message(tz::Lang::en));
  return r.value();
}

json& field_of(json& entity, const std::string& name) {
  for (auto& f : entity.at("fields"))
    if (f.at("name") == name) return f;
  throw std::runtime_error("test: no field " + name);
}

json& rule_of(json& entity, const std::string& id) {
  for (auto& r : entity.at("rules"))
    if (r.at("id") == id) return r;
  throw std::runtime_error("test: no rule " + id);
}

// The schema files with one file's JSON changed by mutate.
template <typename F>
std::map<std::string, std::string> mutated(const std::string& file, F mutate) {
  auto files = schema_files();
  json j = json::parse(files.at(file));
  mutate(j);
  files[file] = j.dump();
  return files;
}

// Parses files that must be refused; returns the error.
tz::Error refused(const std::map<std::string, std::string>& files) {
  auto r = Schema::parse(files);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message(tz::Lang::en));
  CHECK(r.error().code() == ErrorCode::schema_error);
  return r.error();
}

bool mentions(const tz::Error& e, const std::string& what) {
  return e.message(tz::Lang::en).find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("schema: the project's schemas load with all five entity types", "[model]") {
  auto files = schema_files();
  CHECK(files.count("manifest.json") == 1);
  CHECK(files.size() >= 6);
  Schema s = load_schema();
  CHECK(s.version() >= 1);
  for (auto t : tz::kEntityTypes) {
    INFO(tz::entity_type_name(t));
    const auto& es = s.entity(t);
    CHECK(es.type == t);
    CHECK_FALSE(es.label_zh.empty());
    CHECK_FALSE(es.label_en.empty());
    CHECK_FALSE(es.fields.empty());
    CHECK_FALSE(es.rules.empty());
  }
  CHECK(s.entity(EntityType::household).label_zh == "户");
  CHECK(s.entity(EntityType::person).label_zh == "贫困劳动力");
  CHECK(s.entity(EntityType::job).label_zh == "务工经历");
  CHECK(s.entity(EntityType::visit).label_zh == "摸查记录");
  CHECK(s.entity(EntityType::subsidy).label_zh == "政策落实");
}

TEST_CASE("schema: settings and lists from the manifest", "[model]") {
  Schema s = load_schema();
  CHECK(s.settings().labour_age_min == 16);
  CHECK(s.settings().labour_age_max == 64);
  CHECK_FALSE(s.settings().farming_counts_as_employment);
  s.mutable_settings().farming_counts_as_employment = true;
  CHECK(s.settings().farming_counts_as_employment);
  for (auto kind : {"employed", "unemployed", "willing", "returned", "flagged"}) {
    INFO(kind);
    const auto* l = s.list(kind);
    REQUIRE(l != nullptr);
    CHECK_FALSE(l->title_zh.empty());
    CHECK_FALSE(l->title_en.empty());
    CHECK_FALSE(l->columns.empty());
  }
  CHECK(s.list("employed")->title_zh == "就业人员清单");
  CHECK(s.list("nonsense") == nullptr);
}

TEST_CASE("schema: every roster header of SPEC §9 resolves to exactly one field", "[model]") {
  Schema s = load_schema();
  struct Want {
    const char* header;
    EntityType type;
    const char* field;
  };
  const Want wants[] = {
      {"村代码", EntityType::household, "village_code"},
      {"户编号", EntityType::household, "household_no"},
      {"姓名", EntityType::person, "name"},
      {"身份证号", EntityType::person, "id_number"},
      {"与户主关系", EntityType::person, "relation"},
      {"联系电话", EntityType::person, "phone"},
      {"劳动技能", EntityType::person, "labour_ability"},
      {"就业状态", EntityType::person, "declared_status"},
      {"务工地域", EntityType::job, "place_bucket"},
      {"务工地点", EntityType::job, "work_place"},
      {"务工单位", EntityType::job, "employer"},
      {"务工开始年月", EntityType::job, "start_month"},
      {"务工月数", EntityType::job, "months_in_period"},
      {"月收入", EntityType::job, "monthly_income"},
      {"有组织输出", EntityType::job, "organised"},
      {"点对点输送", EntityType::job, "point_to_point"},
      {"外出意愿", EntityType::person, "willing_to_go_out"},
      {"返乡回流", EntityType::person, "returned"},
  };
  for (auto& w : wants) {
    INFO(w.header);
    int hits = 0;
    for (auto t : {EntityType::household, EntityType::person, EntityType::job})
      if (s.entity(t).find_field(w.header)) ++hits;
    CHECK(hits == 1);  // one column, one field: an import never has to guess
    const auto* f = s.entity(w.type).find_field(w.header);
    REQUIRE(f != nullptr);
    CHECK(f->name == w.field);
  }
}

TEST_CASE("schema: field ids and names unique per entity - every rule well-formed", "[model]") {
  Schema s = load_schema();
  for (auto t : tz::kEntityTypes) {
    const auto& es = s.entity(t);
    INFO(tz::entity_type_name(t));
    std::set<tz::FieldId> ids;
    std::set<std::string> names;
    for (auto& f : es.fields) {
      INFO(f.name);
      CHECK(f.id != 0);
      CHECK(ids.insert(f.id).second);
      CHECK(names.insert(f.name).second);
      CHECK_FALSE(f.label_zh.empty());
      CHECK_FALSE(f.label_en.empty());
      CHECK(es.field(f.id) == &f);
      CHECK(es.field(f.name) == &f);
      CHECK(&es.require(f.name) == &f);
      if (f.type == FieldType::enumeration || f.type == FieldType::period_enum || f.type == FieldType::boolean) {
        CHECK_FALSE(f.options.empty());
        std::set<std::string> codes;
        for (auto& o : f.options) {
          CHECK(codes.insert(o.code).second);
          CHECK_FALSE(o.zh.empty());
          CHECK_FALSE(o.en.empty());
          CHECK(f.option(o.code) == &o);
        }
      }
    }
    std::set<std::string> rule_ids;
    const std::string prefix = std::string(tz::entity_type_name(t)) + ".";
    for (auto& r : es.rules) {
      INFO(r.id);
      CHECK_FALSE(r.id.empty());
      CHECK(r.id.rfind(prefix, 0) == 0);  // rule ids are namespaced by entity
      CHECK(rule_ids.insert(r.id).second);
      CHECK_FALSE(r.zh.empty());
      CHECK_FALSE(r.en.empty());
      CHECK(es.field(r.field) != nullptr);
      for (auto& name : r.any_of) CHECK(es.field(name) != nullptr);
      for (auto& c : r.when) CHECK(es.field(c.field) != nullptr);
      if (!r.other.empty()) CHECK(es.field(r.other) != nullptr);
    }
  }
  CHECK_THROWS_AS(s.entity(EntityType::person).require("no_such_field"), tz::Failure);
}

TEST_CASE("schema: labour_ability has the national codes 01..04 and labels", "[model]") {
  Schema s = load_schema();
  const auto& f = s.entity(EntityType::person).require("labour_ability");
  CHECK(f.type == FieldType::enumeration);
  REQUIRE(f.options.size() == 4);
  const std::pair<const char*, const char*> want[] = {
      {"01", "普通劳动力"}, {"02", "技能劳动力"}, {"03", "丧失劳动力"}, {"04", "无劳动力"}};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(f.options[i].code == want[i].first);
    CHECK(f.options[i].zh == want[i].second);
    CHECK(f.options[i].label(tz::Lang::zh) == want[i].second);
    CHECK_FALSE(f.options[i].label(tz::Lang::en).empty());
  }
}

TEST_CASE("schema: core fields have the types the derived figures rely on", "[model]") {
  Schema s = load_schema();
  const auto& p = s.entity(EntityType::person);
  CHECK(p.require("id_number").type == FieldType::id_number);
  CHECK(p.require("phone").type == FieldType::phone);
  CHECK(p.require("declared_status").type == FieldType::period_enum);
  CHECK(p.require("willing_to_go_out").type == FieldType::boolean);
  CHECK(p.require("household_id").type == FieldType::ref);
  CHECK(p.require("household_id").ref == "household");
  CHECK(p.require("id_number").pii);
  CHECK_FALSE(p.require("household_id").prompt);
  const auto& j = s.entity(EntityType::job);
  CHECK(j.require("start_month").type == FieldType::year_month);
  CHECK(j.require("monthly_income").type == FieldType::money);
  CHECK(j.require("months_in_period").type == FieldType::integer);
  CHECK(s.entity(EntityType::household).require("village_code").type == FieldType::region_code);
  CHECK(s.entity(EntityType::visit).require("date").type == FieldType::date);
  CHECK(tz::field_type_from_name("enum") == FieldType::enumeration);
  CHECK(tz::field_type_from_name("bool") == FieldType::boolean);
  CHECK(tz::field_type_from_name("int") == FieldType::integer);
  CHECK_FALSE(tz::field_type_from_name("float").has_value());
}

TEST_CASE("schema: find_field by name - zh label - en label and alias - with width/space/case variants", "[model]") {
  Schema s = load_schema();
  const auto& p = s.entity(EntityType::person);
  const auto& j = s.entity(EntityType::job);
  const auto& h = s.entity(EntityType::household);
  auto name_of = [](const tz::FieldDef* f) { return f ? f->name : std::string("<none>"); };

  CHECK(name_of(p.find_field("id_number")) == "id_number");
  CHECK(name_of(p.find_field("身份证号")) == "id_number");
  CHECK(name_of(p.find_field("ID number")) == "id_number");
  CHECK(name_of(p.find_field("公民身份号码")) == "id_number");
  CHECK(name_of(p.find_field("残疾证号")) == "id_number");
  // Spaces anywhere, ideographic spaces, full-width letters, case.
  CHECK(name_of(p.find_field("  身份证号 ")) == "id_number");
  CHECK(name_of(p.find_field("身份 证号")) == "id_number");
  CHECK(name_of(p.find_field("\u3000身份证号\u3000")) == "id_number");
  CHECK(name_of(p.find_field("ＩＤ　ｎｕｍｂｅｒ")) == "id_number");
  CHECK(name_of(p.find_field("id NUMBER")) == "id_number");
  CHECK(name_of(p.find_field("IdNumber")) == "id_number");
  CHECK(name_of(p.find_field("ID_NUMBER")) == "id_number");
  CHECK(name_of(p.find_field("手机号码")) == "phone");
  CHECK(name_of(p.find_field("劳动能力")) == "labour_ability");
  // Full-width brackets in a header fold onto the ASCII alias.
  CHECK(name_of(j.find_field("月收入（元）")) == "monthly_income");
  CHECK(name_of(j.find_field("月收入(元)")) == "monthly_income");
  CHECK(name_of(j.find_field("务工时长（月）")) == "months_in_period");
  CHECK(name_of(h.find_field("村（社区）代码")) == "village_code");
  CHECK(name_of(j.find_field("务工状况")) == "place_bucket");
  CHECK(name_of(h.find_field("Village Code")) == "village_code");
  // Not found.
  CHECK(p.find_field("") == nullptr);
  CHECK(p.find_field("微信号") == nullptr);
  CHECK(p.find_field("村代码") == nullptr);  // a household column, not a person one
  CHECK(p.find_field("身份证号码X") == nullptr);
}

TEST_CASE("schema: lookup_key folds width - spaces and ASCII case only", "[model]") {
  CHECK(tz::lookup_key(" Ａｂ Ｃ ") == "abc");
  CHECK(tz::lookup_key("月收入（元）") == "月收入(元)");
  CHECK(tz::lookup_key("姓\u3000名") == "姓名");
  CHECK(tz::lookup_key("MixedCase") == "mixedcase");
}

TEST_CASE("schema: match_option by code - zh label - en label and alias", "[model]") {
  Schema s = load_schema();
  const auto& p = s.entity(EntityType::person);
  const auto& j = s.entity(EntityType::job);
  auto code_of = [](const tz::EnumOption* o) { return o ? o->code : std::string("<none>"); };

  const auto& labour = p.require("labour_ability");
  CHECK(code_of(labour.match_option("01")) == "01");
  CHECK(code_of(labour.match_option("技能劳动力")) == "02");
  CHECK(code_of(labour.match_option("lost ability to work")) == "03");
  CHECK(code_of(labour.match_option("LOST ABILITY TO WORK")) == "03");
  CHECK(code_of(labour.match_option(" 无劳动力 ")) == "04");
  CHECK(code_of(labour.match_option("０１")) == "01");
  CHECK(labour.match_option("05") == nullptr);
  CHECK(labour.match_option("") == nullptr);
  CHECK(labour.match_option("劳动力") == nullptr);

  const auto& relation = p.require("relation");
  CHECK(code_of(relation.match_option("户主")) == "01");
  CHECK(code_of(relation.match_option("本人")) == "01");
  CHECK(code_of(relation.match_option("妻子")) == "02");
  CHECK(code_of(relation.match_option("女儿")) == "03");
  CHECK(code_of(relation.match_option("孙女")) == "06");
  CHECK(code_of(relation.match_option("other")) == "99");

  const auto& bucket = j.require("place_bucket");
  CHECK(code_of(bucket.match_option("省外")) == "out_province");
  CHECK(code_of(bucket.match_option("04")) == "out_province");   // national 务工状况 code
  CHECK(code_of(bucket.match_option("02")) == "in_county");
  CHECK(code_of(bucket.match_option("乡(镇)外县内")) == "in_county");
  CHECK(code_of(bucket.match_option("乡（镇）外县内")) == "in_county");
  CHECK(code_of(bucket.match_option("03")) == "in_province");
  CHECK(code_of(bucket.match_option("境外")) == "abroad");
  CHECK(code_of(bucket.match_option("国外")) == "abroad");
  CHECK(code_of(bucket.match_option("05")) == "other");

  // Booleans: the schema's own options and the default ones.
  const auto& willing = p.require("willing_to_go_out");
  CHECK(code_of(willing.match_option("有")) == "1");
  CHECK(code_of(willing.match_option("是")) == "1");
  CHECK(code_of(willing.match_option("无")) == "0");
  CHECK(code_of(willing.match_option("否")) == "0");
  CHECK(code_of(willing.match_option("Yes")) == "1");
  const auto& returned = p.require("returned");  // no options in the JSON: the defaults
  REQUIRE(returned.options.size() == 2);
  CHECK(code_of(returned.match_option("是")) == "1");
  CHECK(code_of(returned.match_option("有")) == "1");
  CHECK(code_of(returned.match_option("√")) == "1");
  CHECK(code_of(returned.match_option("TRUE")) == "1");
  CHECK(code_of(returned.match_option("否")) == "0");
  CHECK(code_of(returned.match_option("无")) == "0");
  CHECK(code_of(returned.match_option("×")) == "0");
  CHECK(returned.match_option("也许") == nullptr);

  const auto& declared = p.require("declared_status");
  CHECK(code_of(declared.match_option("已就业")) == "01");
  CHECK(code_of(declared.match_option("就业")) == "01");
  CHECK(code_of(declared.match_option("未就业")) == "02");
  CHECK(code_of(declared.match_option("失业")) == "03");

  const auto& source = j.require("source");
  CHECK(code_of(source.match_option("务农")) == "07");
  CHECK(code_of(source.match_option("农业生产")) == "07");
  CHECK(code_of(source.match_option("就业扶贫车间")) == "02");
}

TEST_CASE("schema: a field added to person.json only here loads and is found", "[model]") {
  auto files = mutated("person.json", [](json& j) {
    j["fields"].push_back(json::parse(
        R"({"id": 99, "name": "wechat", "type": "text", "label_zh": "微信号", "label_en": "WeChat", "list": true,
            "aliases": ["微信"]})"));
  });
  auto r = Schema::parse(files);
  REQUIRE(r.ok());
  const auto& p = r->entity(EntityType::person);
  const auto* f = p.find_field("微信号");
  REQUIRE(f != nullptr);
  CHECK(f->id == 99);
  CHECK(f->name == "wechat");
  CHECK(f->type == FieldType::text);
  CHECK(f->list);
  CHECK(f->prompt);          // default
  CHECK_FALSE(f->pii);       // default
  CHECK(f->max_length == 200);  // default
  CHECK(p.find_field("wechat") == f);
  CHECK(p.find_field("WeChat") == f);
  CHECK(p.find_field("ｗｅｃｈａｔ") == f);
  CHECK(p.find_field("微信") == f);
  CHECK(p.field(tz::FieldId{99}) == f);
  CHECK(p.fields.back().name == "wechat");  // form order: appended at the end
  // The other fields are untouched.
  CHECK(p.find_field("身份证号")->name == "id_number");
}

TEST_CASE("schema: refused — duplicate field id", "[model]") {
  auto e = refused(mutated("person.json", [](json& j) { field_of(j, "name")["id"] = 1; }));
  CHECK(mentions(e, "duplicate field id 1"));
  CHECK(mentions(e, "person.json"));
}

TEST_CASE("schema: refused — an alias used by two fields", "[model]") {
  auto e = refused(mutated("person.json", [](json& j) { field_of(j, "remarks")["aliases"] = {"电话"}; }));
  CHECK(mentions(e, "used by two fields"));
  // A label equal to another field's alias, modulo width and case, is the same clash.
  refused(mutated("job.json", [](json& j) { field_of(j, "industry")["label_zh"] = "月收入（元）"; }));
  // A name equal to another field's English label.
  refused(mutated("household.json", [](json& j) { field_of(j, "address")["aliases"] = {"VILLAGE CODE"}; }));
  // Two fields with the same name.
  refused(mutated("visit.json", [](json& j) {
    j["fields"].push_back(json::parse(R"({"id": 50, "name": "note", "type": "text", "label_zh": "x", "label_en": "x2"})"));
  }));
}

TEST_CASE("schema: refused — unknown rule kind", "[model]") {
  auto e = refused(mutated("job.json", [](json& j) { rule_of(j, "job.months.range")["kind"] = "between"; }));
  CHECK(mentions(e, "job.months.range"));
  CHECK(mentions(e, "unknown kind"));
}

TEST_CASE("schema: refused — a rule on an unknown field", "[model]") {
  auto e = refused(mutated("person.json", [](json& j) { rule_of(j, "person.name.required")["field"] = "nickname"; }));
  CHECK(mentions(e, "nickname"));
  // In a condition, in any_of and in other.
  refused(mutated("person.json", [](json& j) {
    rule_of(j, "person.willing.required")["when"][0]["field"] = "nickname";
  }));
  refused(mutated("job.json", [](json& j) {
    rule_of(j, "job.open.place_required")["any_of"] = {"place_bucket", "nickname"};
  }));
  refused(mutated("job.json", [](json& j) { rule_of(j, "job.end_month.before_start")["other"] = "nickname"; }));
}

TEST_CASE("schema: refused — the reported field of an any_of rule is unknown", "[model]") {
  // schema.cpp checks only the any_of names when a rule lists them, never the rule's own `field`,
  // so a rule with any_of and a misspelt field loads and reports on a field with no label.
  refused(mutated("job.json", [](json& j) { rule_of(j, "job.open.place_required")["field"] = "nickname"; }));
}

TEST_CASE("schema: refused — a missing or mistyped core field", "[model]") {
  // person without id_number (and without the rules that name it, so the core check is what fails).
  auto e = refused(mutated("person.json", [](json& j) {
    auto& fields = j["fields"];
    for (auto it = fields.begin(); it != fields.end(); ++it)
      if ((*it)["name"] == "id_number") {
        fields.erase(it);
        break;
      }
    json kept = json::array();
    for (auto& r : j["rules"])
      if (r["field"] != "id_number") kept.push_back(r);
    j["rules"] = kept;
  }));
  CHECK(mentions(e, "person.id_number"));
  // Without removing the rules too, it is still refused.
  refused(mutated("person.json", [](json& j) {
    auto& fields = j["fields"];
    for (auto it = fields.begin(); it != fields.end(); ++it)
      if ((*it)["name"] == "id_number") {
        fields.erase(it);
        break;
      }
  }));
  // A core field of the wrong type.
  auto t = refused(mutated("job.json", [](json& j) { field_of(j, "start_month")["type"] = "text"; }));
  CHECK(mentions(t, "job.start_month"));
  // A whole entity missing from the manifest.
  auto files = schema_files();
  json m = json::parse(files.at("manifest.json"));
  m["entities"] = {"household.json", "person.json", "job.json", "subsidy.json"};
  files["manifest.json"] = m.dump();
  auto v = refused(files);
  CHECK(mentions(v, "visit"));
}

TEST_CASE("schema: refused — other malformed definitions", "[model]") {
  // Field id 0 is reserved.
  refused(mutated("person.json", [](json& j) { field_of(j, "remarks")["id"] = 0; }));
  // Unknown field type.
  refused(mutated("person.json", [](json& j) { field_of(j, "remarks")["type"] = "blob"; }));
  // An enum without options.
  refused(mutated("person.json", [](json& j) { field_of(j, "education").erase("options"); }));
  // One option code or label used by two options.
  refused(mutated("person.json", [](json& j) { field_of(j, "health")["options"][1]["zh"] = "健康"; }));
  refused(mutated("person.json", [](json& j) { field_of(j, "health")["options"][1]["code"] = "01"; }));
  // Duplicate rule id.
  refused(mutated("visit.json", [](json& j) {
    json first = j["rules"][0];
    j["rules"].push_back(first);
  }));
  // Bad severity.
  refused(mutated("visit.json", [](json& j) { rule_of(j, "visit.method.required")["severity"] = "fatal"; }));
  // A rule without a message in one language.
  refused(mutated("visit.json", [](json& j) { rule_of(j, "visit.method.required")["en"] = ""; }));
  refused(mutated("visit.json", [](json& j) { rule_of(j, "visit.method.required").erase("zh"); }));
  // A field without a label.
  refused(mutated("visit.json", [](json& j) { field_of(j, "note").erase("label_zh"); }));
  // An unknown entity name.
  refused(mutated("visit.json", [](json& j) { j["entity"] = "village"; }));
  // Wrong JSON value types.
  refused(mutated("visit.json", [](json& j) { field_of(j, "note")["id"] = "five"; }));
  // Not JSON at all.
  auto files = schema_files();
  files["job.json"] = "{\"entity\": \"job\", ";
  auto e = refused(files);
  CHECK(mentions(e, "job.json"));
  // Manifest missing, or naming a file that is not there.
  auto no_manifest = schema_files();
  no_manifest.erase("manifest.json");
  refused(no_manifest);
  auto no_file = schema_files();
  no_file.erase("subsidy.json");
  auto nf = refused(no_file);
  CHECK(mentions(nf, "subsidy.json"));
  auto bad_manifest = schema_files();
  bad_manifest["manifest.json"] = "[1, 2";
  refused(bad_manifest);
}

TEST_CASE("schema: refused — two files defining the same entity", "[model]") {
  // Schema::parse keeps the first file for an entity type and silently drops a second one
  // (entities_.emplace), so fields added in an extra file named in the manifest never appear.
  auto files = schema_files();
  json extra = json::parse(files.at("visit.json"));
  extra["fields"] = json::array();
  extra["fields"].push_back(json::parse(
      R"({"id": 1, "name": "subject_id", "type": "ref", "label_zh": "摸查对象", "label_en": "Subject"})"));
  extra["fields"].push_back(json::parse(
      R"({"id": 2, "name": "date", "type": "date", "label_zh": "摸查日期", "label_en": "Date"})"));
  extra["rules"] = json::array();
  files["visit_extra.json"] = extra.dump();
  json m = json::parse(files.at("manifest.json"));
  m["entities"].push_back("visit_extra.json");
  files["manifest.json"] = m.dump();
  refused(files);
}

TEST_CASE("schema: an alias that repeats an option's code or label does not displace it", "[model]") {
  // An alias equal to another option's label is ignored for matching: codes and labels win.
  auto files = mutated("person.json", [](json& j) {
    field_of(j, "labour_ability")["options"][0]["aliases"] = {"技能劳动力", "普工"};
  });
  auto r = Schema::parse(files);
  REQUIRE(r.ok());
  const auto& f = r->entity(EntityType::person).require("labour_ability");
  CHECK(f.match_option("技能劳动力")->code == "02");
  CHECK(f.match_option("普工")->code == "01");
}

TEST_CASE("schema: settings in the manifest are read", "[model]") {
  auto files = schema_files();
  json m = json::parse(files.at("manifest.json"));
  m["settings"] = {{"labour_age_min", 18}, {"labour_age_max", 60}, {"farming_counts_as_employment", true}};
  files["manifest.json"] = m.dump();
  auto r = Schema::parse(files);
  REQUIRE(r.ok());
  CHECK(r->settings().labour_age_min == 18);
  CHECK(r->settings().labour_age_max == 60);
  CHECK(r->settings().farming_counts_as_employment);
}
