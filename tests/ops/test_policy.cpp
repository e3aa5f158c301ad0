// Work standards (seed 004) and subsidies (seed 002) from schemas/policy.json, on the boundary cases
// of each rule: amounts written by hand from SPEC §9 and the rules file.
#include <catch2/catch.hpp>

#include "store_fixture.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/ops/policy.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/subsidy_records.hpp"
#include "tz/model/merge.hpp"

using namespace tz;
using tz::test::idc;
using tz::test::TempDir;

namespace {

struct JobSpec {
  std::string start, end, bucket;
  std::map<std::string, std::string> more;  // field name -> stored value
};

// Employed people (declared 已就业), each with the jobs given, in village 522632101001.
struct County {
  TempDir dir;
  std::unique_ptr<DeviceStore> store = tz::test::make_store(dir.path());
  region::RegionTree tree = region::RegionTree::parse_csv(store->info().config.region_tree_csv, "t").take();
  ops::Policy policy = ops::load_policy(tz::test::resources()).take();
  int next = 1;

  void person(const std::string& name, const std::vector<JobSpec>& jobs) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "52263219850101%03d", next++);
    const std::string id = idc(buf);
    std::string csv = "村代码,户编号,姓名,身份证号,劳动技能,就业状态\n522632101001," + std::to_string(1000 + next) + "," + name + "," + id +
                      ",普通劳动力,已就业\n";
    REQUIRE(ops::import_roster(*store, csv, tz::test::import_env(&tree)).take().written);
    auto pid = ops::person_by_id_number(*store, id);
    REQUIRE(pid);
    const auto& js = store->schema().entity(EntityType::job);
    std::vector<ops::Draft> drafts;
    for (auto& j : jobs) {
      ops::Draft d{EntityType::job, crypto::random_entity_id(),
                   {{js.require("person_id").id, pid->hex()}, {js.require("start_month").id, j.start},
                    {js.require("place_bucket").id, j.bucket}}};
      if (!j.end.empty()) d.values[js.require("end_month").id] = j.end;
      for (auto& [f, v] : j.more) d.values[js.require(f).id] = v;
      drafts.push_back(std::move(d));
    }
    ValidationContext ctx;
    ctx.today = china_date_of(tz::test::kNowMs);
    ctx.period_year = 2026;
    ctx.settings = &store->schema().settings();
    auto saved = ops::save_drafts(*store, drafts, ops::EditContext{"王芳", tz::test::kNowMs + next}, ctx).take();
    INFO(name);
    for (auto& [i, p] : saved.problems) INFO(p.message_zh);
    REQUIRE(saved.saved);
  }
  std::vector<ops::SubsidyLine> subsidies(const std::string& kind) {
    std::vector<ops::SubsidyLine> out;
    for (auto& l : ops::compute_subsidies(*store, policy, "").take())
      if (l.kind == kind) out.push_back(l);
    return out;
  }
};

std::map<std::string, double> amounts(const std::vector<ops::SubsidyLine>& lines) {
  std::map<std::string, double> m;
  for (auto& l : lines) m[l.name] += l.amount;
  return m;
}

}  // namespace

TEST_CASE("the rules file says what SPEC §9 and seed 002 say", "[ops][policy]") {
  ops::Policy p = ops::load_policy(tz::test::resources()).take();
  CHECK(p.transport_max == 800);
  CHECK(p.referral_amounts == std::map<std::string, double>{{"in_county", 500}, {"in_province", 800}, {"out_province", 1000}});
  CHECK(p.keeping_per_month == 200);
  CHECK(p.keeping_from == 2);
  CHECK(p.keeping_to == 6);
  CHECK_FALSE(ops::parse_policy("{}").ok());
  auto bad = ops::parse_policy(R"({"work_standards":{"in_county":{"min_months":6,"min_income":1},"outside_county":{"min_months":6,"min_income":1}},
    "subsidies":{"transport":{"rule":"t","max_amount":800},"referral":{"rule":"r","from_month":7,"to_month":6,"min_contract_months":12,"amounts":{}},
    "job_keeping":{"rule":"k","from_month":2,"to_month":6,"per_month":200,"local_sources":[]}}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message(Lang::en).find("policy.json") != std::string::npos);
}

TEST_CASE("transport subsidy: the fare up to 800 yuan once for organised out-migration", "[ops][policy]") {
  County c;
  auto organised = [](const char* fare) { return std::map<std::string, std::string>{{"organised", "1"}, {"fare", fare}}; };
  c.person("甲", {{"2026-02", "", "out_province", organised("800")}});
  c.person("乙", {{"2026-02", "", "out_province", organised("801")}});
  c.person("丙", {{"2026-02", "", "in_province", organised("799.5")}});
  c.person("丁", {{"2026-02", "", "out_province", {{"organised", "0"}, {"fare", "500"}}}});
  c.person("戊", {{"2026-01", "2026-03", "out_province", organised("300")}, {"2026-04", "", "out_province", organised("600")}});
  auto lines = c.subsidies("transport");
  CHECK(amounts(lines) == std::map<std::string, double>{{"甲", 800}, {"乙", 800}, {"丙", 799.5}, {"戊", 300}});
  for (auto& l : lines) CHECK(l.rule == "subsidy.transport");
}

TEST_CASE("job-referral subsidy: 500 / 800 / 1000 by bucket in the window with the contract term to the agency", "[ops][policy]") {
  County c;
  auto placed = [](const char* months, const char* agency) {
    std::map<std::string, std::string> m{{"contract", "1"}, {"contract_months", months}, {"organised", "1"}};
    if (*agency) m["placing_agency"] = agency;
    return m;
  };
  c.person("一", {{"2026-02", "", "in_county", placed("12", "甲劳务公司")}});      // first month of the window
  c.person("二", {{"2026-06", "", "in_province", placed("24", "甲劳务公司")}});    // last month of the window
  c.person("三", {{"2026-07", "", "out_province", placed("12", "乙人力资源")}});   // after it
  c.person("四", {{"2026-01", "", "out_province", placed("12", "乙人力资源")}});   // before it
  c.person("五", {{"2026-03", "", "out_province", placed("11", "乙人力资源")}});   // contract one month short
  c.person("六", {{"2026-04", "", "out_province", placed("12", "乙人力资源")}});
  c.person("七", {{"2026-04", "", "out_province", placed("12", "")}});             // no agency recorded
  auto lines = c.subsidies("referral");
  CHECK(amounts(lines) == std::map<std::string, double>{{"一", 500}, {"二", 800}, {"六", 1000}});
  auto tables = ops::subsidy_tables(ops::compute_subsidies(*c.store, c.policy, "").take(), c.store->schema(), &c.tree, Lang::zh);
  REQUIRE(tables.size() == 3);
  // Per agency: 甲劳务公司 placed two (500 + 800), 乙人力资源 one.
  CHECK(tables[2].rows == std::vector<std::vector<std::string>>{{"乙人力资源", "1", "1000"}, {"甲劳务公司", "2", "1300"}});
  for (auto& row : tables[0].rows)
    if (row[5] == "职业介绍补贴") CHECK(row[7] == "subsidy.referral");
}

TEST_CASE("job-keeping subsidy: 200 yuan per month worked February to June outside the county or locally", "[ops][policy]") {
  County c;
  c.person("子", {{"2025-06", "", "out_province", {}}});                                       // Feb-Jun: 5
  c.person("丑", {{"2026-03", "2026-04", "in_county", {{"source", "02"}}}});                   // 扶贫车间: 2
  c.person("寅", {{"2026-03", "2026-04", "in_county", {{"source", "03"}}}});                   // 公益性岗位: none
  c.person("卯", {{"2026-06", "2026-09", "in_province", {}}});                                 // June only: 1
  c.person("辰", {{"2026-02", "2026-04", "out_province", {}}, {"2026-03", "2026-05", "in_province", {}}});  // Feb-May once: 4
  c.person("巳", {{"2026-07", "", "in_province", {}}});                                        // after the window
  auto lines = c.subsidies("job_keeping");
  CHECK(amounts(lines) == std::map<std::string, double>{{"子", 1000}, {"丑", 400}, {"卯", 200}, {"辰", 800}});
  auto tables = ops::subsidy_tables(ops::compute_subsidies(*c.store, c.policy, "").take(), c.store->schema(), &c.tree, Lang::zh);
  // Per village: one village, and the total row.
  REQUIRE(tables[1].rows.size() == 2);
  CHECK(tables[1].rows[0] == std::vector<std::string>{"522632101001", "忠诚社区居民委员会", "0", "0", "2400", "2400"});
}

TEST_CASE("work standards: months and income in and outside the county against the thresholds", "[ops][policy]") {
  County c;
  // Defaults: in the county 6 months or 12000 yuan; outside 6 months or 20000 yuan.
  c.person("甲", {{"2026-01", "2026-06", "in_county", {{"monthly_income", "2000"}}}});     // 6 months, 12000: both
  c.person("乙", {{"2026-01", "2026-05", "in_county", {{"monthly_income", "2000"}}}});     // 5 months, 10000: neither
  c.person("丙", {{"2026-01", "2026-06", "out_province", {{"monthly_income", "3333"}}}});  // 6 months, 19998: time only
  c.person("丁", {{"2026-01", "", "out_province", {{"monthly_income", "2000"}}}});         // 11 months, 22000: both
  auto people = ops::work_standards(*c.store, c.policy, "").take();
  REQUIRE(people.size() == 4);
  std::map<std::string, std::pair<bool, bool>> got;
  for (auto& p : people) got[p.name] = {p.time_ok, p.income_ok};
  CHECK(got == std::map<std::string, std::pair<bool, bool>>{
                   {"甲", {true, true}}, {"乙", {false, false}}, {"丙", {true, false}}, {"丁", {true, true}}});
  auto tables = ops::work_standards_tables(people, c.policy, &c.tree, Lang::zh);
  CHECK(tables[0].rows[0] == std::vector<std::string>{"522632101001", "忠诚社区居民委员会", "4", "3", "2", "2"});
  CHECK(ops::work_standards(*c.store, c.policy, "5226321").error().message(Lang::zh).find("--region") != std::string::npos);
}

TEST_CASE("subsidy records: kept once per person rule and period - updated - paid ones never changed - withdrawn when no longer due",
          "[ops][policy]") {
  County c;
  auto organised = [](const char* fare) { return std::map<std::string, std::string>{{"organised", "1"}, {"fare", fare}}; };
  c.person("甲", {{"2026-02", "", "out_province", organised("600")}});  // transport 600 + job-keeping 1000
  c.person("乙", {{"2026-05", "", "out_province", organised("700")}});  // transport 700 + job-keeping 400
  const ops::EditContext ctx{"县管理员", tz::test::kNowMs + 100};
  const auto& ss = c.store->schema().entity(EntityType::subsidy);
  const FieldId f_amount = ss.require("amount").id, f_status = ss.require("status").id, f_person = ss.require("person_id").id;
  auto record = [&] {
    return ops::record_subsidies(*c.store, ops::compute_subsidies(*c.store, c.policy, "").take(), "", ctx).take();
  };
  // What is stored: the subsidy records by (person name, kind).
  auto stored = [&] {
    std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> m;  // -> (amount, status)
    const FieldId f_name = c.store->schema().entity(EntityType::person).require("name").id;
    const FieldId f_kind = ss.require("kind").id;
    c.store->scan(EntityType::subsidy, [&](EntityRow&& row) {
      if (is_deleted(to_state(row.entity, row.merge))) return;
      auto person = c.store->get(*EntityId::from_hex(row.entity.value_or(f_person)));
      REQUIRE(person);
      CHECK(row.parent == person->id);  // placed under the person: it travels with the person's scope
      m[{person->value_or(f_name), row.entity.value_or(f_kind)}] = {row.entity.value_or(f_amount), row.entity.value_or(f_status)};
    });
    return m;
  };
  using Stored = std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>>;
  auto first = record();
  CHECK(first.added == 4);
  CHECK(stored() == Stored{{{"甲", "transport"}, {"600", "01"}},
                           {{"甲", "job_keeping"}, {"1000", "01"}},
                           {{"乙", "transport"}, {"700", "01"}},
                           {{"乙", "job_keeping"}, {"400", "01"}}});
  // Recording again changes nothing: the ids come from (person, rule, period).
  auto again = record();
  CHECK(again.added == 0);
  CHECK(again.unchanged == 4);
  CHECK(c.store->entity_count(EntityType::subsidy) == 4);

  // 甲's transport subsidy is paid; then the county lowers the cap and drops job-keeping in May and June.
  EntityId jia;
  for (auto& l : ops::compute_subsidies(*c.store, c.policy, "").take())
    if (l.name == "甲") jia = l.person;
  auto paid = ops::mark_subsidy_paid(*c.store, c.policy, jia, "一次性交通补贴", ctx).take();
  CHECK(paid.changed);
  CHECK(paid.kind == "transport");
  CHECK_FALSE(ops::mark_subsidy_paid(*c.store, c.policy, jia, "transport", ctx).take().changed);  // already paid
  auto bad_kind = ops::mark_subsidy_paid(*c.store, c.policy, jia, "路费", ctx);
  REQUIRE_FALSE(bad_kind.ok());
  CHECK(bad_kind.error().message(Lang::zh).find("--kind “路费”") != std::string::npos);
  c.policy.transport_max = 500;
  c.policy.keeping_to = 4;
  auto changed = record();
  CHECK(changed.paid == 1);       // 甲's transport stays 600 as paid
  CHECK(changed.updated == 2);    // 乙's transport 700 -> 500; 甲's job-keeping 1000 -> 600
  CHECK(changed.withdrawn == 1);  // 乙 started in May: no job-keeping month left
  CHECK(stored() == Stored{{{"甲", "transport"}, {"600", "02"}},
                           {{"甲", "job_keeping"}, {"600", "01"}},
                           {{"乙", "transport"}, {"500", "01"}}});
  // A withdrawn record is deleted with its reason and its history kept; recording is idempotent again.
  auto last = record();
  CHECK(last.added + last.updated + last.withdrawn == 0);
  CHECK(last.unchanged == 2);
  CHECK(last.paid == 1);
  // Due again: the withdrawn record comes back (the same id), as entitled.
  c.policy.keeping_to = 6;
  auto back = record();
  CHECK(back.added == 1);
  CHECK(back.updated == 1);  // 甲's job-keeping 600 -> 1000
  CHECK(stored() == Stored{{{"甲", "transport"}, {"600", "02"}},
                           {{"甲", "job_keeping"}, {"1000", "01"}},
                           {{"乙", "transport"}, {"500", "01"}},
                           {{"乙", "job_keeping"}, {"400", "01"}}});
  CHECK(c.store->entity_count(EntityType::subsidy) == 4);
}
