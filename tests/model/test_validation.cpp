// Validation over the project's real schemas: normalize_value for every field type, and every rule
// of schemas/*.json triggered by a record made for it and not triggered by a clean one, with the
// exact rule id, severity and a Chinese message naming the field. A table of cases drives the
// rules; a guard test fails when a rule is added to the schema without a case here.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "tz/model/id_number.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/model/schema.hpp"
#include "tz/model/validation.hpp"

using tz::CivilDate;
using tz::EntityType;
using tz::FieldValues;
using tz::Problem;
using tz::Severity;
using tz::ValidationContext;

namespace {

using tz::test::schema_files;

std::string data_file(const std::string& rel) {
  return tz::test::read_file(tz::test::source_dir() / "data" / "regions" / rel);
}

// The schema, the national county list and 榕江县's region tree, loaded once.
struct World {
  tz::Schema schema;
  tz::region::CountyList counties;
  tz::region::RegionTree tree;
};

const World& world() {
  static const World w = [] {
    auto s = tz::Schema::parse(schema_files());
    if (!s.ok()) throw std::runtime_error("schema: " + s.error().message(tz::Lang::en));
    auto c = tz::region::CountyList::parse(data_file("counties.csv"));
    if (!c.ok()) throw std::runtime_error("counties: " + c.error().message(tz::Lang::en));
    auto t = tz::region::RegionTree::parse_csv(data_file("trees/522632.csv"), "2023");
    if (!t.ok()) throw std::runtime_error("tree: " + t.error().message(tz::Lang::en));
    return World{s.value(), c.value(), t.value()};
  }();
  return w;
}

const tz::EntitySchema& es(EntityType t) { return world().schema.entity(t); }

const CivilDate kToday{2026, 6, 30};

ValidationContext base_ctx() {
  ValidationContext c;
  c.today = kToday;
  c.period_year = 2026;
  c.settings = &world().schema.settings();
  c.counties = &world().counties;
  c.tree = &world().tree;
  c.person_birth = CivilDate{1990, 5, 15};
  return c;
}

// An 18-character ID from a division code, a birth date YYYYMMDD and a 3-digit sequence.
std::string make_id(const std::string& county6, const std::string& birth8, const std::string& seq3 = "123") {
  std::string first17 = county6 + birth8 + seq3;
  char c = tz::idn::check_char(first17);
  REQUIRE(c != '\0');
  return first17 + c;
}

// The same with a wrong check character.
std::string bad_check_id(const std::string& county6, const std::string& birth8) {
  std::string id = make_id(county6, birth8);
  id.back() = id.back() == '0' ? '1' : '0';
  return id;
}

const std::string kHex = "0123456789abcdef0123456789abcdef";
const std::string kVillage = "522632100002";  // 梨子园社区, 古州镇, 榕江县

// Field values by schema name; "" means the field is absent.
using Named = std::map<std::string, std::string>;

FieldValues to_values(EntityType t, const Named& named) {
  FieldValues v;
  for (auto& [name, value] : named) {
    const auto* f = es(t).field(name);
    if (!f) throw std::runtime_error("test: no field " + name);
    if (!value.empty()) v[f->id] = value;
  }
  return v;
}

// Clean records: no problem at all under base_ctx().
Named clean(EntityType t) {
  switch (t) {
    case EntityType::household:
      return {{"village_code", kVillage}, {"household_no", "0001"}, {"head_name", "杨老三"},
              {"relocated", "1"}, {"relocation_mode", "01"}};
    case EntityType::person:
      return {{"household_id", kHex},        {"name", "杨阿妹"},
              {"id_number", make_id("522632", "19900515", "124")},
              {"relation", "03"},            {"phone", "13812345678"},
              {"labour_ability", "01"},      {"declared_status", "2026:02"},
              {"willing_to_go_out", "1"},    {"willing_where", "3"},
              {"returned", "1"},             {"returned_date", "2026-02-10"},
              {"student", "0"}};
    case EntityType::job:
      return {{"person_id", kHex},           {"start_month", "2025-03"},  {"months_in_period", "6"},
              {"work_place", "广东省东莞市"}, {"place_bucket", "out_province"}, {"employer", "东莞某电子厂"},
              {"source", "01"},              {"monthly_income", "4200"},  {"contract", "1"},
              {"contract_months", "12"},     {"organised", "1"},          {"point_to_point", "1"},
              {"fare", "350"}};
    case EntityType::visit:
      return {{"subject_id", kHex}, {"date", "2026-03-01"}, {"method", "01"}, {"visitor", "王书记"}};
    case EntityType::subsidy:
      return {{"person_id", kHex}, {"kind", "transport"}, {"amount", "350"}, {"period", "2026"}, {"status", "01"}};
  }
  return {};
}

std::vector<Problem> validate(EntityType t, const Named& named, const ValidationContext& ctx) {
  return tz::validate_record(es(t), to_values(t, named), ctx);
}

Named with(Named base, const Named& changes) {
  for (auto& [k, v] : changes) base[k] = v;
  return base;
}

std::string describe(const std::vector<Problem>& ps) {
  std::ostringstream out;
  for (auto& p : ps) out << "[" << p.rule_id << " " << (p.severity == Severity::error ? "E" : "W") << "] "
                         << p.message_zh << " | " << p.message_en << "\n";
  return out.str();
}

std::multiset<std::string> ids_of(const std::vector<Problem>& ps) {
  std::multiset<std::string> ids;
  for (auto& p : ps) ids.insert(p.rule_id);
  return ids;
}

const tz::Rule* rule_by_id(const std::string& id) {
  for (auto t : tz::kEntityTypes)
    for (auto& r : es(t).rules)
      if (r.id == id) return &r;
  return nullptr;
}

// Checks that `ps` holds exactly one problem with rule_id, with the rule's severity, a Chinese
// message naming the field (when the template uses {label}) and no placeholder left unreplaced.
const Problem* expect_one(const std::vector<Problem>& ps, EntityType t, const std::string& rule_id, Severity sev) {
  INFO("problems:\n" << describe(ps));
  const Problem* found = nullptr;
  int n = 0;
  for (auto& p : ps)
    if (p.rule_id == rule_id) {
      found = &p;
      ++n;
    }
  CHECK(n == 1);
  if (!found) return nullptr;
  CHECK(found->severity == sev);
  const tz::Rule* r = rule_by_id(rule_id);
  if (r) {
    CHECK(r->severity == sev);
    CHECK(found->field == r->field);
    const auto* f = es(t).field(r->field);
    REQUIRE(f != nullptr);
    if (r->zh.find("{label}") != std::string::npos) CHECK(found->message_zh.find(f->label_zh) != std::string::npos);
    if (r->en.find("{label}") != std::string::npos) CHECK(found->message_en.find(f->label_en) != std::string::npos);
  }
  for (auto* m : {&found->message_zh, &found->message_en}) {
    CHECK_FALSE(m->empty());
    for (auto ph : {"{label}", "{value}", "{detail}", "{min}", "{max}"}) CHECK(m->find(ph) == std::string::npos);
  }
  CHECK(&found->message(tz::Lang::zh) == &found->message_zh);
  CHECK(&found->message(tz::Lang::en) == &found->message_en);
  return found;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// One rule case: a record that triggers the rule (and exactly the listed other problems) and one
// that does not trigger it (and has no problem at all).
struct RuleCase {
  const char* rule_id;
  Severity severity;
  EntityType type;
  const char* what;
  Named trigger;                         // changes to the clean record
  std::vector<std::string> also = {};    // other rule ids the trigger record is expected to give
  Named quiet = {};                      // changes to the clean record that must stay clean
  std::function<void(ValidationContext&)> trigger_ctx = {};
  std::function<void(ValidationContext&)> quiet_ctx = {};
  std::vector<std::string> zh_has = {};  // texts the Chinese message must contain
};

const std::string kPermit = "810000199408230021";  // 香港居民居住证: checksums, not a resident ID

std::vector<RuleCase> rule_cases() {
  const auto W = Severity::warning;
  const auto E = Severity::error;
  using H = EntityType;
  return {
      // household
      {"household.village_code.required", E, H::household, "no village code", {{"village_code", ""}}},
      {"household.village_code.format", E, H::household, "8 digits", {{"village_code", "52263210"}},
       {}, {{"village_code", " 5226 3210 0003 "}}, {}, {}, {"村代码", "52263210", "12 位数字"}},
      {"household.village_code.format", E, H::household, "11 digits", {{"village_code", "52263210000"}}},
      {"household.village_code.unknown", W, H::household, "not in the tree", {{"village_code", "522632100999"}},
       {}, {{"village_code", "522632100003"}}, {}, {}, {"村代码", "522632100999", "不在本县区划中"}},
      {"household.village_code.unknown", W, H::household, "another county's village",
       {{"village_code", "513431100001"}}},
      {"household.village_code.unknown", W, H::household, "no region tree at all", {},
       {}, {}, [](ValidationContext& c) { c.tree = nullptr; }, {}, {"尚无本县区划树"}},
      {"household.household_no.required", E, H::household, "no household number", {{"household_no", ""}},
       {}, {{"household_no", "A-17"}}},
      {"household.relocation_mode.format", E, H::household, "not an option", {{"relocation_mode", "就地安置"}},
       {}, {{"relocation_mode", "分散安置"}}, {}, {}, {"安置方式", "就地安置", "集中安置"}},

      // person
      {"person.name.required", E, H::person, "no name", {{"name", ""}}, {}, {{"name", "阿依古丽·买买提"}}},
      {"person.household.required", E, H::person, "no household", {{"household_id", ""}}},
      {"person.id_number.missing", W, H::person, "no ID", {{"id_number", ""}}},
      {"person.id_number.format", E, H::person, "bad check character",
       {{"id_number", bad_check_id("522632", "19900515")}}, {}, {}, {}, {}, {"身份证号", "校验位不正确"}},
      {"person.id_number.format", E, H::person, "impossible birth date",
       {{"id_number", make_id("522632", "19900230")}}, {}, {}, {}, {}, {"身份证号", "出生日期不存在"}},
      {"person.id_number.format", E, H::person, "Hong Kong residence permit", {{"id_number", kPermit}},
       {}, {}, {}, {}, {"身份证号", "居住证"}},
      {"person.id_number.format", E, H::person, "unknown province", {{"id_number", make_id("992632", "19900515")}},
       {}, {}, {}, {}, {"省份代码"}},
      {"person.id_number.format", E, H::person, "wrong length", {{"id_number", "52263219900515"}},
       {}, {}, {}, {}, {"长度"}},
      {"person.id_number.format", E, H::person, "a letter inside", {{"id_number", "5226321990O515124X"}}},
      {"person.id_number.format", E, H::person, "bad disability suffix",
       {{"id_number", make_id("522632", "19900515") + "85"}}, {}, {{"id_number", make_id("522632", "19900515") + "72"}},
       {}, {}, {"残疾证号"}},
      {"person.id_number.format", E, H::person, "birth in the future (no age warning on top)",
       {{"id_number", make_id("522632", "20270101")}}, {}, {}, {}, {}, {"晚于今天"}},
      {"person.id_number.unknown_county", W, H::person, "division code not a current county",
       {{"id_number", make_id("522621", "19900515")}}, {}, {}, {}, {}, {"身份证号", "522621"}},
      {"person.id_number.unknown_county", W, H::person, "not checked without a county list",
       {{"id_number", make_id("522621", "19900515")}}, {}, {{"id_number", make_id("522621", "19900515")}},
       {}, [](ValidationContext& c) { c.counties = nullptr; }},
      {"person.age.labour_range", W, H::person, "66 years old", {{"id_number", make_id("522632", "19600101")}},
       {}, {{"id_number", make_id("522632", "19610701")}}, {}, {}, {"66", "16", "64"}},
      {"person.age.labour_range", W, H::person, "65 on the day", {{"id_number", make_id("522632", "19610630")}},
       {}, {{"id_number", make_id("522632", "20100630")}}},
      {"person.age.labour_range", W, H::person, "15 years old", {{"id_number", make_id("522632", "20100701")}},
       {}, {}, {}, {}, {"15"}},
      {"person.age.labour_range", W, H::person, "configured maximum 60",
       {{"id_number", make_id("522632", "19640101")}}, {}, {{"id_number", make_id("522632", "19640101")}},
       [](ValidationContext& c) {
         static tz::Settings s;
         s.labour_age_max = 60;
         c.settings = &s;
       },
       {}, {"62", "60"}},
      {"person.phone.format", W, H::person, "starts with 12", {{"phone", "12812345678"}},
       {}, {{"phone", "+86 139-1234-5678"}}, {}, {}, {"联系电话", "12812345678"}},
      {"person.phone.format", W, H::person, "a landline", {{"phone", "0855-1234567"}}},
      {"person.phone.format", W, H::person, "10 digits", {{"phone", "1381234567"}}},
      {"person.willing.required", W, H::person, "not employed, able, no willingness",
       {{"declared_status", "2026:02"}, {"labour_ability", "01"}, {"willing_to_go_out", ""}},
       {}, {{"declared_status", "2026:02"}, {"labour_ability", "01"}, {"willing_to_go_out", "0"}}, {}, {},
       {"外出意愿"}},
      {"person.willing.required", W, H::person, "失业, skilled, no willingness",
       {{"declared_status", "2026:03"}, {"labour_ability", "02"}, {"willing_to_go_out", ""}},
       {}, {{"declared_status", "2026:01"}, {"labour_ability", "02"}, {"willing_to_go_out", ""}}},
      {"person.willing.required", W, H::person, "declared for another period",
       {{"declared_status", "2026:02"}, {"willing_to_go_out", ""}},
       {}, {{"declared_status", "2026:02"}, {"willing_to_go_out", ""}}, {},
       [](ValidationContext& c) { c.period_year = 2027; }},
      {"person.willing.required", W, H::person, "not able to work",
       {{"declared_status", "2026:02"}, {"willing_to_go_out", ""}},
       {}, {{"declared_status", "2026:02"}, {"labour_ability", "03"}, {"willing_to_go_out", ""}}},
      {"person.returned_date.not_future", E, H::person, "tomorrow", {{"returned_date", "2026-07-01"}},
       {}, {{"returned_date", "2026-06-30"}}, {}, {}, {"返乡日期", "2026-07-01"}},
      {"person.life_event_date.not_future", E, H::person, "next year",
       {{"life_event", "01"}, {"life_event_date", "2027-01-01"}},
       {}, {{"life_event", "01"}, {"life_event_date", "2026-06-01"}}, {}, {}, {"变更日期"}},

      // job
      {"job.person.required", E, H::job, "no person", {{"person_id", ""}}},
      {"job.open.place_required", W, H::job, "open job without bucket or place",
       {{"place_bucket", ""}, {"work_place", ""}},
       {}, {{"place_bucket", ""}, {"work_place", "522632100002"}}, {}, {}, {"务工地域", "务工地点"}},
      {"job.open.place_required", W, H::job, "ended job needs no place",
       {{"place_bucket", ""}, {"work_place", ""}},
       {}, {{"place_bucket", ""}, {"work_place", ""}, {"end_month", "2026-02"}}},
      {"job.open.place_required", W, H::job, "bucket alone is enough",
       {{"place_bucket", ""}, {"work_place", ""}}, {}, {{"work_place", ""}}},
      {"job.open.employer_required", W, H::job, "open job without employer", {{"employer", ""}},
       {}, {{"employer", ""}, {"end_month", "2026-05"}}, {}, {}, {"务工单位"}},
      {"job.end_month.before_start", E, H::job, "ends before it starts",
       {{"start_month", "2025-03"}, {"end_month", "2025-02"}},
       {}, {{"start_month", "2025-03"}, {"end_month", "2025-03"}}, {}, {}, {"务工结束年月", "2025-02", "2025-03"}},
      {"job.end_month.before_start", E, H::job, "across a year",
       {{"start_month", "2025-01"}, {"end_month", "2024-12"}}},
      {"job.start_month.not_future", E, H::job, "next month", {{"start_month", "2026-07"}},
       {}, {{"start_month", "2026-06"}}, {}, {}, {"务工开始年月", "2026-07"}},
      {"job.start_month.min_age", E, H::job, "started at 14", {{"start_month", "2026-01"}},
       {}, {{"start_month", "2026-01"}},
       [](ValidationContext& c) { c.person_birth = CivilDate{2012, 1, 1}; },
       [](ValidationContext& c) { c.person_birth = CivilDate{2010, 1, 31}; }, {"务工开始年月", "2026-01", "16"}},
      {"job.start_month.min_age", E, H::job, "one day short of 16 at the month's end",
       {{"start_month", "2026-01"}}, {}, {{"start_month", "2026-01"}},
       [](ValidationContext& c) { c.person_birth = CivilDate{2010, 2, 1}; },
       [](ValidationContext& c) { c.person_birth = std::nullopt; }},
      {"job.months.range", E, H::job, "13 months", {{"months_in_period", "13"}},
       {}, {{"months_in_period", "12"}}, {}, {}, {"务工月数", "13", "0", "12"}},
      {"job.months.range", E, H::job, "negative", {{"months_in_period", "-1"}}, {}, {{"months_in_period", "0"}}},
      {"job.income.range", E, H::job, "over a million", {{"monthly_income", "1000001"}}, {"job.income.plausible"},
       {{"monthly_income", "50000"}}, {}, {}, {"月收入", "1000001", "1000000"}},
      {"job.income.range", E, H::job, "negative", {{"monthly_income", "-5"}}, {"job.income.plausible"},
       {{"monthly_income", "300"}}},
      {"job.income.plausible", W, H::job, "too low", {{"monthly_income", "299.99"}},
       {}, {{"monthly_income", "300"}}, {}, {}, {"月收入", "299.99", "300", "50000"}},
      {"job.income.plausible", W, H::job, "too high", {{"monthly_income", "50000.01"}},
       {}, {{"monthly_income", "49999.5"}}},
      {"job.contract_months.range", E, H::job, "601 months", {{"contract_months", "601"}},
       {}, {{"contract_months", "600"}}, {}, {}, {"合同期限"}},
      {"job.fare.range", E, H::job, "over 20000", {{"fare", "20000.5"}}, {}, {{"fare", "20000"}}, {}, {}, {"交通费用"}},
      {"job.fare.range", E, H::job, "negative", {{"fare", "-1"}}, {}, {{"fare", "0"}}},

      // visit
      {"visit.subject.required", E, H::visit, "no subject", {{"subject_id", ""}}},
      {"visit.date.required", E, H::visit, "no date", {{"date", ""}}},
      {"visit.date.not_future", E, H::visit, "tomorrow", {{"date", "2026-07-01"}},
       {}, {{"date", "2026-06-30"}}, {}, {}, {"摸查日期", "2026-07-01"}},
      {"visit.method.required", W, H::visit, "no method", {{"method", ""}}, {}, {{"method", "99"}}, {}, {}, {"摸查方式"}},

      // subsidy
      {"subsidy.person.required", E, H::subsidy, "no person", {{"person_id", ""}}},
      {"subsidy.amount.range", E, H::subsidy, "over 100000", {{"amount", "100000.01"}},
       {}, {{"amount", "100000"}}, {}, {}, {"金额"}},
      {"subsidy.amount.range", E, H::subsidy, "negative", {{"amount", "-800"}}, {}, {{"amount", "0"}}},
  };
}

}  // namespace

TEST_CASE("validation: the clean records have no problem", "[model]") {
  auto ctx = base_ctx();
  for (auto t : tz::kEntityTypes) {
    INFO(tz::entity_type_name(t));
    auto ps = validate(t, clean(t), ctx);
    INFO(describe(ps));
    CHECK(ps.empty());
  }
}

TEST_CASE("validation: every rule of the schemas has a case here", "[model]") {
  std::set<std::string> covered;
  for (auto& c : rule_cases()) covered.insert(c.rule_id);
  std::set<std::string> in_schema;
  for (auto t : tz::kEntityTypes)
    for (auto& r : es(t).rules) in_schema.insert(r.id);
  for (auto& id : in_schema) {
    INFO("rule without a test case: " << id);
    CHECK(covered.count(id) == 1);
  }
  for (auto& id : covered) {
    INFO("test case for a rule the schema does not have: " << id);
    CHECK(in_schema.count(id) == 1);
  }
}

TEST_CASE("validation: every rule triggers on its bad record and stays quiet on a good one", "[model]") {
  for (auto& c : rule_cases()) {
    INFO("rule " << c.rule_id << " — " << c.what);
    auto base = clean(c.type);
    // Trigger.
    auto tctx = base_ctx();
    if (c.trigger_ctx) c.trigger_ctx(tctx);
    auto ps = validate(c.type, with(base, c.trigger), tctx);
    INFO("trigger problems:\n" << describe(ps));
    const Problem* p = expect_one(ps, c.type, c.rule_id, c.severity);
    std::multiset<std::string> want{c.rule_id};
    want.insert(c.also.begin(), c.also.end());
    CHECK(ids_of(ps) == want);
    if (p)
      for (auto& text : c.zh_has) {
        INFO("message_zh should contain " << text);
        CHECK(contains(p->message_zh, text));
      }
    bool any_error = false;
    for (auto& q : ps) any_error = any_error || q.severity == Severity::error;
    CHECK(tz::has_error(ps) == any_error);
    if (c.severity == Severity::error) CHECK(any_error);
    // Quiet.
    auto qctx = base_ctx();
    if (c.quiet_ctx) c.quiet_ctx(qctx);
    auto qs = validate(c.type, with(base, c.quiet), qctx);
    INFO("quiet problems:\n" << describe(qs));
    CHECK(qs.empty());
  }
}

TEST_CASE("validation: a record with several faults gets every problem", "[model]") {
  auto ctx = base_ctx();
  auto person = with(clean(EntityType::person), {{"name", ""},
                                                  {"household_id", ""},
                                                  {"id_number", make_id("522632", "19500101")},
                                                  {"phone", "123"},
                                                  {"relation", "邻居"},
                                                  {"declared_status", "2026:03"},
                                                  {"willing_to_go_out", ""},
                                                  {"returned_date", "2030-01-01"}});
  auto ps = validate(EntityType::person, person, ctx);
  INFO(describe(ps));
  std::multiset<std::string> want{"person.name.required", "person.household.required", "person.age.labour_range",
                                  "person.phone.format",  "person.relation.format",    "person.willing.required",
                                  "person.returned_date.not_future"};
  CHECK(ids_of(ps) == want);
  CHECK(tz::has_error(ps));

  auto job = with(clean(EntityType::job), {{"person_id", ""},
                                           {"start_month", "2026-09"},
                                           {"end_month", "2026-01"},
                                           {"months_in_period", "14"},
                                           {"monthly_income", "100"},
                                           {"fare", "30000"}});
  auto js = validate(EntityType::job, job, ctx);
  INFO(describe(js));
  std::multiset<std::string> jwant{"job.person.required", "job.end_month.before_start", "job.start_month.not_future",
                                   "job.months.range", "job.income.plausible", "job.fare.range"};
  CHECK(ids_of(js) == jwant);

  // Warnings only: saved and flagged, not refused.
  auto warn = validate(EntityType::person,
                       with(clean(EntityType::person), {{"phone", "123"}, {"id_number", ""}}), ctx);
  CHECK(ids_of(warn) == std::multiset<std::string>{"person.phone.format", "person.id_number.missing"});
  CHECK_FALSE(tz::has_error(warn));
  CHECK_FALSE(tz::has_error({}));
}

TEST_CASE("validation: format problems come first - then the schema's rules in order", "[model]") {
  auto ctx = base_ctx();
  auto person = with(clean(EntityType::person), {{"name", ""}, {"phone", "123"}});
  auto ps = validate(EntityType::person, person, ctx);
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].rule_id == "person.phone.format");
  CHECK(ps[1].rule_id == "person.name.required");
}

TEST_CASE("validation: a field without a declared format rule gets a generic format error", "[model]") {
  auto ctx = base_ctx();
  auto ps = validate(EntityType::person, with(clean(EntityType::person), {{"education", "博士后"}}), ctx);
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].rule_id == "person.education.format");
  CHECK(ps[0].severity == Severity::error);
  CHECK(ps[0].field == "education");
  CHECK(contains(ps[0].message_zh, "文化程度"));
  CHECK(contains(ps[0].message_zh, "博士后"));
  CHECK(contains(ps[0].message_zh, "小学"));  // the options are listed
  CHECK(contains(ps[0].message_en, "Education"));

  auto js = validate(EntityType::job, with(clean(EntityType::job), {{"months_in_period", "六个月"}}), ctx);
  REQUIRE(js.size() == 1);
  CHECK(js[0].rule_id == "job.months_in_period.format");
  CHECK(contains(js[0].message_zh, "务工月数"));
  CHECK(contains(js[0].message_zh, "整数"));

  auto vs = validate(EntityType::visit, with(clean(EntityType::visit), {{"date", "2026-02-30"}}), ctx);
  REQUIRE(vs.size() == 1);
  CHECK(vs[0].rule_id == "visit.date.format");

  auto rs = validate(EntityType::person, with(clean(EntityType::person), {{"household_id", "not-a-record"}}), ctx);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].rule_id == "person.household_id.format");

  auto long_name = std::string();
  for (int i = 0; i < 51; ++i) long_name += "名";
  auto ns = validate(EntityType::person, with(clean(EntityType::person), {{"name", long_name}}), ctx);
  REQUIRE(ns.size() == 1);
  CHECK(ns[0].rule_id == "person.name.format");
}

TEST_CASE("validation: a retired village code is flagged with its successor", "[model]") {
  const std::string csv =
      "code,name,streetCode,provinceCode,cityCode,areaCode,successor\n"
      "522632,榕江县,,52,5226,,\n"
      "522632100,古州镇,,52,5226,522632,\n"
      "522632100002,梨子园社区,522632100,52,5226,522632,\n"
      "522632100008,老村,522632100,52,5226,522632,522632100002\n";
  auto tree = tz::region::RegionTree::parse_csv(csv, "2024");
  REQUIRE(tree.ok());
  auto ctx = base_ctx();
  ctx.tree = &tree.value();
  auto ps = validate(EntityType::household, with(clean(EntityType::household), {{"village_code", "522632100008"}}), ctx);
  const Problem* p = expect_one(ps, EntityType::household, "household.village_code.unknown", Severity::warning);
  REQUIRE(p != nullptr);
  CHECK(contains(p->message_zh, "已撤销"));
  CHECK(contains(p->message_zh, "522632100002"));
  CHECK(contains(p->message_en, "retired; now 522632100002"));
  CHECK(validate(EntityType::household, clean(EntityType::household), ctx).empty());
}

// ---------------------------------------------------------------------------------------------
// normalize_value per field type

namespace {

const tz::FieldDef& fd(EntityType t, const std::string& name) { return es(t).require(name); }

std::string norm_ok(EntityType t, const std::string& field, const std::string& raw,
                    const ValidationContext& ctx = base_ctx()) {
  auto n = tz::normalize_value(fd(t, field), raw, ctx);
  INFO(field << " \"" << raw << "\": " << n.detail_en);
  CHECK(n.ok);
  CHECK(n.detail_zh.empty());
  return n.value;
}

tz::Normalized norm_bad(EntityType t, const std::string& field, const std::string& raw,
                        const ValidationContext& ctx = base_ctx()) {
  auto n = tz::normalize_value(fd(t, field), raw, ctx);
  INFO(field << " \"" << raw << "\" gave " << n.value);
  CHECK_FALSE(n.ok);
  CHECK_FALSE(n.detail_zh.empty());
  CHECK_FALSE(n.detail_en.empty());
  return n;
}

}  // namespace

TEST_CASE("normalize: enums by code - label - English label and alias", "[model]") {
  using H = EntityType;
  CHECK(norm_ok(H::person, "labour_ability", "01") == "01");
  CHECK(norm_ok(H::person, "labour_ability", "普通劳动力") == "01");
  CHECK(norm_ok(H::person, "labour_ability", " 技能劳动力 ") == "02");
  CHECK(norm_ok(H::person, "labour_ability", "No Labour Ability") == "04");
  CHECK(norm_ok(H::person, "relation", "妻子") == "02");
  CHECK(norm_ok(H::person, "relation", "本人") == "01");
  CHECK(norm_ok(H::job, "place_bucket", "县外省内") == "in_province");
  CHECK(norm_ok(H::job, "place_bucket", "０４") == "out_province");
  CHECK(norm_ok(H::job, "source", "公益岗位") == "03");
  auto bad = norm_bad(H::person, "labour_ability", "半劳动力");
  CHECK(bad.value == "半劳动力");
  CHECK(contains(bad.detail_zh, "普通劳动力、技能劳动力、丧失劳动力、无劳动力"));
  CHECK(contains(bad.detail_en, "ordinary labour"));
  norm_bad(H::person, "labour_ability", "1");  // codes are matched exactly, not numerically
}

TEST_CASE("normalize: booleans 是/否/有/无 and friends", "[model]") {
  using H = EntityType;
  for (auto field : {"returned", "willing_to_go_out", "student"}) {
    INFO(field);
    CHECK(norm_ok(H::person, field, "是") == "1");
    CHECK(norm_ok(H::person, field, "有") == "1");
    CHECK(norm_ok(H::person, field, "否") == "0");
    CHECK(norm_ok(H::person, field, "无") == "0");
    CHECK(norm_ok(H::person, field, "1") == "1");
    CHECK(norm_ok(H::person, field, "0") == "0");
    CHECK(norm_ok(H::person, field, "Y") == "1");
    CHECK(norm_ok(H::person, field, "no") == "0");
    norm_bad(H::person, field, "不清楚");
  }
  CHECK(norm_ok(H::job, "point_to_point", "√") == "1");
  CHECK(norm_ok(H::job, "organised", "×") == "0");
}

TEST_CASE("normalize: period_enum takes the period year from the context", "[model]") {
  using H = EntityType;
  auto ctx = base_ctx();
  CHECK(norm_ok(H::person, "declared_status", "未就业", ctx) == "2026:02");
  CHECK(norm_ok(H::person, "declared_status", "失业", ctx) == "2026:03");
  CHECK(norm_ok(H::person, "declared_status", "已就业", ctx) == "2026:01");
  CHECK(norm_ok(H::person, "declared_status", "就业", ctx) == "2026:01");
  CHECK(norm_ok(H::person, "declared_status", "02", ctx) == "2026:02");
  CHECK(norm_ok(H::person, "declared_status", "unemployed", ctx) == "2026:03");
  // Already canonical, possibly for another year: the year is kept.
  CHECK(norm_ok(H::person, "declared_status", "2026:02", ctx) == "2026:02");
  CHECK(norm_ok(H::person, "declared_status", "2025:01", ctx) == "2025:01");
  CHECK(norm_ok(H::person, "declared_status", "2025:已就业", ctx) == "2025:01");
  ctx.period_year = 2027;
  CHECK(norm_ok(H::person, "declared_status", "未就业", ctx) == "2027:02");
  norm_bad(H::person, "declared_status", "待业", ctx);
  norm_bad(H::person, "declared_status", "2026:09", ctx);
  norm_bad(H::person, "declared_status", "26:01", ctx);
}

TEST_CASE("normalize: dates in the forms collectors type", "[model]") {
  using H = EntityType;
  for (auto raw : {"2020-06-03", "2020/06/03", "20200603", "2020.06.03", "2020年6月3日", "2020年06月03日",
                   " 2020-06-03 ", "２０２０－０６－０３", "２０２０年６月３日", "2020-06-3", "2020-6-03"}) {
    INFO(raw);
    CHECK(norm_ok(H::visit, "date", raw) == "2020-06-03");
  }
  CHECK(norm_ok(H::visit, "date", "2020-10-3") == "2020-10-03");
  CHECK(norm_ok(H::visit, "date", "2020-6-13") == "2020-06-13");
  CHECK(norm_ok(H::visit, "date", "2020-02-29") == "2020-02-29");
  CHECK(norm_ok(H::visit, "date", "2000-02-29") == "2000-02-29");
  for (auto raw : {"2021-02-29", "1900-02-29", "2020-02-30", "2020-13-01", "2020-00-10", "2020-06-00", "20200230",
                   "2020-06", "06/03/2020", "2020-6-3-1", "昨天", "2020-06-03x", "202006031"}) {
    INFO(raw);
    norm_bad(H::visit, "date", raw);
  }
}

TEST_CASE("normalize: year-months", "[model]") {
  using H = EntityType;
  for (auto raw : {"2020-06", "2020/06", "2020.06", "202006", "2020年6月", "2020年06月", "２０２０－０６",
                   "2020-06-15", "2020年6月15日", "2020-6-15"}) {
    INFO(raw);
    CHECK(norm_ok(H::job, "start_month", raw) == "2020-06");
  }
  CHECK(norm_ok(H::job, "end_month", "2020-12") == "2020-12");
  CHECK(norm_ok(H::job, "end_month", "2020年12月") == "2020-12");
  for (auto raw : {"2020-13", "2020-0", "202013", "2020", "June 2020", "2020-06-31", "20-06", "2020年"}) {
    INFO(raw);
    norm_bad(H::job, "start_month", raw);
  }
}

TEST_CASE("normalize: 8-character dates and 6-character months with separators", "[model]") {
  // civil_time.cpp: parse_date treats every 8-character input as YYYYMMDD and parse_year_month every
  // 6-character input as YYYYMM, and return nullopt when those are not all digits, instead of falling
  // through to the separated forms. So 2020-6-3, 2020/6/3, 2020.6.3 and 2020-6, 2020/6, 2020.6 are
  // refused while 2020-6-13 and 2020-06 are accepted.
  using H = EntityType;
  for (auto raw : {"2020-6-3", "2020/6/3", "2020.6.3"}) {
    INFO(raw);
    CHECK(norm_ok(H::visit, "date", raw) == "2020-06-03");
  }
  for (auto raw : {"2020-6", "2020/6", "2020.6"}) {
    INFO(raw);
    CHECK(norm_ok(H::job, "start_month", raw) == "2020-06");
  }
}

TEST_CASE("normalize: integers", "[model]") {
  using H = EntityType;
  CHECK(norm_ok(H::job, "months_in_period", "6") == "6");
  CHECK(norm_ok(H::job, "months_in_period", "06") == "6");
  CHECK(norm_ok(H::job, "months_in_period", "0") == "0");
  CHECK(norm_ok(H::job, "months_in_period", "00") == "0");
  // Excel writes whole numbers as 6.0 or 6.00: the same integer.
  CHECK(norm_ok(H::job, "months_in_period", "6.0") == "6");
  CHECK(norm_ok(H::job, "months_in_period", "6.00") == "6");
  CHECK(norm_ok(H::job, "months_in_period", "１２") == "12");
  CHECK(norm_ok(H::job, "months_in_period", " 12 ") == "12");
  CHECK(norm_ok(H::job, "contract_months", "1,200") == "1200");
  CHECK(norm_ok(H::job, "months_in_period", "-1") == "-1");  // a number; the range rule refuses it
  CHECK(norm_ok(H::job, "months_in_period", "-0") == "0");
  for (auto raw : {"6.5", "6个月", "six", "", "-", ".", "1e3", "6 7", "0x10", "+6"}) {
    INFO("\"" << raw << "\"");
    norm_bad(H::job, "months_in_period", raw);
  }
}

TEST_CASE("normalize: money", "[model]") {
  using H = EntityType;
  CHECK(norm_ok(H::job, "monthly_income", "3500") == "3500");
  CHECK(norm_ok(H::job, "monthly_income", "3,500") == "3500");
  CHECK(norm_ok(H::job, "monthly_income", "3500.50元") == "3500.5");
  CHECK(norm_ok(H::job, "monthly_income", "3500.00") == "3500");
  CHECK(norm_ok(H::job, "monthly_income", "3500 元") == "3500");
  CHECK(norm_ok(H::job, "monthly_income", "３５００元") == "3500");
  CHECK(norm_ok(H::job, "monthly_income", "3500yuan") == "3500");
  CHECK(norm_ok(H::job, "monthly_income", "1,234,567.89") == "1234567.89");
  CHECK(norm_ok(H::job, "monthly_income", "0.5") == "0.5");
  CHECK(norm_ok(H::job, "monthly_income", ".5") == "0.5");
  CHECK(norm_ok(H::job, "monthly_income", "007") == "7");
  CHECK(norm_ok(H::job, "fare", "-20") == "-20");
  CHECK(norm_ok(H::subsidy, "amount", "800元") == "800");
  for (auto raw : {"3500.555", "三千五", "元", "3500元整", "¥3500", "3,500.5,0", "3500.5.0", ""}) {
    INFO("\"" << raw << "\"");
    norm_bad(H::job, "monthly_income", raw);
  }
}

TEST_CASE("normalize: region codes have 12 digits", "[model]") {
  using H = EntityType;
  CHECK(norm_ok(H::household, "village_code", "522632100002") == "522632100002");
  CHECK(norm_ok(H::household, "village_code", " 5226 3210 0002 ") == "522632100002");
  CHECK(norm_ok(H::household, "village_code", "５２２６３２１００００２") == "522632100002");
  for (auto raw : {"52263210000", "5226321000021", "522632", "52263210000A", "5.22632E+11"}) {
    INFO(raw);
    auto n = norm_bad(H::household, "village_code", raw);
    CHECK(contains(n.detail_zh, "12 位数字"));
  }
}

TEST_CASE("normalize: ID numbers", "[model]") {
  using H = EntityType;
  auto ctx = base_ctx();
  CHECK(norm_ok(H::person, "id_number", "11010519491231002X", ctx) == "11010519491231002X");
  CHECK(norm_ok(H::person, "id_number", "11010519491231002x", ctx) == "11010519491231002X");
  CHECK(norm_ok(H::person, "id_number", "１１０１０５１９４９１２３１００２Ｘ", ctx) == "11010519491231002X");
  CHECK(norm_ok(H::person, "id_number", "１１０１０５１９４９１２３１００２ｘ", ctx) == "11010519491231002X");
  CHECK(norm_ok(H::person, "id_number", " 110105 19491231 002X ", ctx) == "11010519491231002X");
  CHECK(norm_ok(H::person, "id_number", "110105\u300019491231\u3000002X", ctx) == "11010519491231002X");
  // 15 → 18.
  CHECK(norm_ok(H::person, "id_number", "610104620927690", ctx) == "610104196209276908");
  CHECK(norm_ok(H::person, "id_number", "６１０１０４６２０９２７６９０", ctx) == "610104196209276908");
  auto id15 = std::string("522632560101123");
  auto id18 = make_id("522632", "19560101", "123");
  CHECK(norm_ok(H::person, "id_number", id15, ctx) == id18);
  // A 残疾证号 keeps its 20 characters.
  CHECK(norm_ok(H::person, "id_number", "11010519491231002X11", ctx) == "11010519491231002X11");
  // An unknown county is not a format problem (it is the id_county rule's warning).
  CHECK(norm_ok(H::person, "id_number", make_id("522621", "19900515"), ctx) == make_id("522621", "19900515"));

  auto bc = norm_bad(H::person, "id_number", "11010519491231002x0", ctx);  // 19 characters
  CHECK(contains(bc.detail_zh, "长度"));
  auto chk = norm_bad(H::person, "id_number", "110105 19491231 0021", ctx);
  CHECK(chk.value == "110105194912310021");  // cleaned, so the message shows what was checked
  CHECK(contains(chk.detail_zh, "校验位"));
  CHECK(contains(chk.detail_en, "check character"));
  auto date = norm_bad(H::person, "id_number", "360426199113010079", ctx);
  CHECK(contains(date.detail_zh, "出生日期不存在"));
  auto permit = norm_bad(H::person, "id_number", kPermit, ctx);
  CHECK(contains(permit.detail_zh, "居住证"));
  auto fut = norm_bad(H::person, "id_number", make_id("522632", "20260701"), ctx);  // born tomorrow
  CHECK(contains(fut.detail_zh, "晚于今天"));
  CHECK(norm_ok(H::person, "id_number", make_id("522632", "20260630"), ctx) == make_id("522632", "20260630"));
  auto x = norm_bad(H::person, "id_number", "1101051949123X0021", ctx);
  CHECK(contains(x.detail_zh, "X"));
}

TEST_CASE("normalize: phones", "[model]") {
  using H = EntityType;
  for (auto raw : {"13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678",
                   "008613812345678", "8613812345678", "１３８１２３４５６７８", "(+86) 138-1234-5678"}) {
    INFO(raw);
    CHECK(norm_ok(H::person, "phone", raw) == "13812345678");
  }
  CHECK(norm_ok(H::person, "phone", "19912345678") == "19912345678");
  for (auto raw : {"12812345678", "10812345678", "1381234567", "138123456789", "0855-8221234", "1381234567a"}) {
    INFO(raw);
    norm_bad(H::person, "phone", raw);
  }
}

TEST_CASE("normalize: text and references", "[model]") {
  using H = EntityType;
  CHECK(norm_ok(H::person, "name", "  阿依古丽·买买提 ") == "阿依古丽·买买提");
  CHECK(norm_ok(H::person, "name", "\u3000王𠀀\u3000") == "王𠀀");  // outside the BMP: one character
  std::string fifty;
  for (int i = 0; i < 50; ++i) fifty += "𠀀";
  CHECK(norm_ok(H::person, "name", fifty) == fifty);
  norm_bad(H::person, "name", fifty + "a");
  norm_bad(H::person, "name", "\xff\xfe");
  CHECK(norm_ok(H::person, "household_id", kHex) == kHex);
  norm_bad(H::person, "household_id", kHex.substr(1));
  norm_bad(H::person, "household_id", "zz" + kHex.substr(2));
}

TEST_CASE("display_value shows labels - birth and gender from an ID", "[model]") {
  using H = EntityType;
  CHECK(tz::display_value(fd(H::person, "labour_ability"), "01", tz::Lang::zh) == "普通劳动力");
  CHECK(tz::display_value(fd(H::person, "labour_ability"), "01", tz::Lang::en) == "ordinary labour");
  CHECK(tz::display_value(fd(H::person, "labour_ability"), "77", tz::Lang::zh) == "77");
  CHECK(tz::display_value(fd(H::person, "returned"), "1", tz::Lang::zh) == "是");
  CHECK(tz::display_value(fd(H::person, "declared_status"), "2026:02", tz::Lang::zh) == "未就业（2026年）");
  CHECK(tz::display_value(fd(H::person, "declared_status"), "2026:03", tz::Lang::en) == "unemployed (2026)");
  CHECK(tz::display_value(fd(H::person, "name"), "张三", tz::Lang::en) == "张三");

  CHECK(tz::birth_of_id("11010519491231002X") == CivilDate{1949, 12, 31});
  CHECK(tz::birth_of_id("11010519491231002X11") == CivilDate{1949, 12, 31});
  CHECK_FALSE(tz::birth_of_id("610104620927690").has_value());
  CHECK_FALSE(tz::birth_of_id("360426199113010079").has_value());
  CHECK(tz::gender_of_id("11010519491231002X") == 'F');
  CHECK(tz::gender_of_id(make_id("522632", "19900515", "123")) == 'M');
  CHECK(tz::gender_of_id("123") == 0);
}
