// The verification rules (SPEC §8) on hand-made data, each with the normal cases that must not fire:
// households split from one family (分户) sharing a phone, 劳务协作 placements at one employer, an
// evening of typing up paper forms, the county admin's records.
#include <catch2/catch.hpp>

#include <algorithm>

#include "store_fixture.hpp"
#include "tz/crypto/natural_keys.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/reconcile.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/ops/verify.hpp"

using namespace tz;
using tz::test::idc;
using tz::test::TempDir;

namespace {

const std::string kV1 = "522632101001", kV2 = "522632101002", kV3 = "522632102001";

struct Roster {
  std::string text =
      "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态,务工地域,务工单位,务工开始年月,务工月数,月收入,"
      "有组织输出,点对点输送,就业渠道\n";
  int seq = 0;
  // One person, the head of household hh unless hh is written "NO/子女"; employed when bucket is
  // given. Returns the ID.
  std::string add(const std::string& village, std::string hh, const std::string& name, const std::string& phone,
                  const std::string& bucket = "", const std::string& employer = "", const std::string& start = "",
                  const std::string& months = "", const std::string& income = "", const std::string& organised = "",
                  const std::string& source = "") {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%03d", ++seq);
    const std::string id = idc("5226321985" + std::string(seq % 2 ? "0102" : "0304") + buf);
    std::string relation = "户主";
    if (auto slash = hh.find('/'); slash != std::string::npos) {
      relation = hh.substr(slash + 1);
      hh = hh.substr(0, slash);
    }
    text += village + "," + hh + "," + name + "," + id + "," + relation + "," + phone +
            ",普通劳动力," + (bucket.empty() ? "未就业" : "已就业") + "," + bucket + "," + employer + "," + start + "," + months +
            "," + income + "," + organised + ",," + source + "\n";
    return id;
  }
};

struct Fixture {
  TempDir dir;
  std::unique_ptr<DeviceStore> store = tz::test::make_store(dir.path());
  region::RegionTree tree = region::RegionTree::parse_csv(store->info().config.region_tree_csv, "t").take();
  ops::VerifyInput in;

  Fixture() {
    in.store = store.get();
    in.thresholds = ops::load_verification_thresholds(tz::test::resources()).take();
    in.excluded_collectors = {"县管理员"};
  }
  void import(const Roster& r, const std::string& collector = "王芳") {
    auto rep = ops::import_roster(*store, r.text, tz::test::import_env(&tree, collector)).take();
    INFO(rep.problems.size());
    REQUIRE(rep.written);
  }
  // Visits to a person on the given dates, recorded by collector.
  void visits(const std::string& id18, const std::vector<std::string>& dates, const std::string& collector) {
    auto person = ops::person_by_id_number(*store, id18);
    REQUIRE(person);
    const auto& vs = store->schema().entity(EntityType::visit);
    ops::Editor ed(*store, ops::EditContext{collector, tz::test::kNowMs});
    for (auto& d : dates) {
      Entity& v = ed.get_or_create(EntityType::visit, crypto::random_entity_id());
      ed.set(v, vs.require("subject_id").id, person->hex());
      ed.set(v, vs.require("date").id, d);
      ed.set(v, vs.require("visitor").id, collector);
      ed.set(v, vs.require("method").id, "01");
    }
    REQUIRE(ed.commit());
  }
  std::vector<ops::Finding> run(const std::string& rule) {
    const auto pop = ops::Population::load(*store);
    for (auto& r : ops::verification_rules())
      if (r.id == rule) return r.run(in, pop);
    FAIL("no rule " << rule);
    return {};
  }
  // The names the findings are about (a job's finding names its person), sorted.
  std::vector<std::string> names(const std::vector<ops::Finding>& fs) {
    std::vector<std::string> out;
    for (auto& f : fs) out.push_back(f.zh.substr(0, f.zh.find("（")));
    std::sort(out.begin(), out.end());
    return out;
  }
};

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("The verification thresholds come from schemas/verification.json", "[ops][verify]") {
  auto t = ops::load_verification_thresholds(tz::test::resources()).take();
  CHECK(t.phone_max_households == 3);
  CHECK(t.employer_min_persons == 10);
  CHECK(t.max_visits_per_day == 30);
  CHECK(t.severity.at("visits_per_day") == "info");
  CHECK(t.min_monthly_income.at("out_province") == 1500);
  CHECK(ops::verification_rules().size() == 7);
  CHECK_FALSE(ops::parse_verification_thresholds("{\"rules\": {}}"));
  CHECK_FALSE(ops::parse_verification_thresholds("not json"));
}

TEST_CASE("One phone on more than 3 households or in two villages is flagged but split households sharing one are not",
          "[ops][verify]") {
  Fixture f;
  Roster r;
  // 分户: a father's household and his two sons' households, one village, one phone — normal.
  r.add(kV1, "0001", "老王", "13911112222");
  r.add(kV1, "0002", "王大", "13911112222");
  r.add(kV1, "0003", "王二", "13911112222");
  // Four households of one village on one phone.
  for (auto hh : {"0011", "0012", "0013", "0014"}) r.add(kV1, hh, std::string("户") + hh, "13922223333");
  // Two villages on one phone.
  r.add(kV1, "0021", "张甲", "13933334444");
  r.add(kV2, "0021", "张乙", "13933334444");
  // Family members of one household share a phone: nothing to see.
  r.add(kV3, "0031", "李一", "13944445555");
  r.add(kV3, "0031/子女", "李二", "13944445555");
  f.import(r);
  auto found = f.run("shared_phone");
  CHECK(f.names(found) == Names{"张乙", "张甲", "户0011", "户0012", "户0013", "户0014"});
  for (auto& x : found) {
    CHECK(x.type == EntityType::person);
    REQUIRE(x.villages.size() == 1);
    CHECK(x.zh.find("139****") != std::string::npos);  // the phone is masked in the message
  }
}

TEST_CASE("An employer claimed by many without arranged placements is flagged but a labour cooperation placement is not",
          "[ops][verify]") {
  Fixture f;
  Roster r;
  // 劳务协作: 12 people placed together by organised out-migration at one factory — normal.
  for (int i = 0; i < 12; ++i) r.add(kV1, "01" + std::to_string(10 + i), "协作" + std::to_string(i), "", "省外", "宁波某服装厂", "2026-03", "8", "4200", "是");
  // 10 people self-reporting one local employer, none arranged.
  for (int i = 0; i < 10; ++i) r.add(kV2, "02" + std::to_string(10 + i), "自报" + std::to_string(i), "", "县内", "榕江 某建材公司", "2026-03", "8", "2600", "否");
  // 9 people at another: under the threshold.
  for (int i = 0; i < 9; ++i) r.add(kV3, "03" + std::to_string(10 + i), "少数" + std::to_string(i), "", "县内", "榕江某超市", "2026-03", "8", "2600", "否");
  f.import(r);
  auto found = f.run("employer_crowd");
  REQUIRE(found.size() == 10);
  for (auto& x : found) {
    CHECK(x.type == EntityType::job);
    CHECK(x.zh.rfind("自报", 0) == 0);
    CHECK(x.villages == std::vector<std::string>{kV2});
  }
}

TEST_CASE("Income or months implausible for the place are flagged and ordinary ones are not", "[ops][verify]") {
  Fixture f;
  Roster r;
  r.add(kV1, "0001", "低收入", "", "省外", "广东某厂", "2026-03", "8", "300");
  r.add(kV1, "0002", "高收入", "", "县内", "榕江某厂", "2026-03", "8", "80000");
  r.add(kV1, "0003", "县内普通", "", "县内", "榕江扶贫车间", "2026-03", "8", "1200");
  r.add(kV1, "0004", "省外普通", "", "省外", "广东某厂", "2026-03", "8", "4500");
  r.add(kV1, "0005", "月数过多", "", "省外", "广东某厂", "2026-09", "8", "4500");
  r.add(kV1, "0006", "月数正好", "", "省外", "广东某厂", "2026-09", "3", "4500");
  f.import(r);
  CHECK(f.names(f.run("implausible_income")) == Names{"低收入", "高收入"});
  auto months = f.run("implausible_months");
  CHECK(f.names(months) == Names{"月数过多"});
  CHECK(months.at(0).zh.find("只有 3 个月") != std::string::npos);
}

TEST_CASE("Employed with no employer is flagged unless the work has none", "[ops][verify]") {
  Fixture f;
  Roster r;
  r.add(kV1, "0001", "无单位", "", "省外", "", "2026-03", "8", "4500");
  r.add(kV1, "0002", "灵活就业", "", "县内", "", "2026-03", "8", "1800", "", "灵活就业");
  r.add(kV1, "0003", "自主创业", "", "县内", "", "2026-03", "8", "3000", "", "自主创业");
  r.add(kV1, "0004", "有单位", "", "省外", "广东某厂", "2026-03", "8", "4500");
  f.import(r);
  CHECK(f.names(f.run("employed_without_employer")) == Names{"无单位"});
}

TEST_CASE("Many visits dated one day by one collector are flagged but an evening typing up a week of forms is not",
          "[ops][verify]") {
  Fixture f;
  Roster r;
  const std::string a = r.add(kV1, "0001", "甲", ""), b = r.add(kV2, "0002", "乙", ""), c = r.add(kV3, "0003", "丙", "");
  f.import(r);
  // 李强 recorded 31 visits dated 2026-10-15: more doors than a day allows.
  f.visits(a, std::vector<std::string>(16, "2026-10-15"), "李强");
  f.visits(b, std::vector<std::string>(15, "2026-10-15"), "李强");
  // 王芳 typed up 28 paper forms in one evening, the forms dated over a week (4 a day).
  std::vector<std::string> week;
  for (int d = 1; d <= 7; ++d)
    for (int i = 0; i < 4; ++i) week.push_back("2026-10-0" + std::to_string(d));
  f.visits(c, week, "王芳");
  // 30 on one day is the limit, not over it.
  f.visits(c, std::vector<std::string>(30, "2026-10-20"), "王芳");
  // The county admin's records are not a collector's visits.
  f.visits(a, std::vector<std::string>(40, "2026-10-16"), "县管理员");
  auto found = f.run("visits_per_day");
  REQUIRE(found.size() == 1);
  CHECK(found[0].type == EntityType::visit);
  CHECK(found[0].zh.find("李强 在 2026-10-15 一天登记了 31 次") != std::string::npos);
  CHECK(found[0].villages == std::vector<std::string>{kV1, kV2});
}

TEST_CASE("A household outside its collector's scope is flagged", "[ops][verify]") {
  Fixture f;
  Roster own, other;
  own.add(kV1, "0001", "本村", "");
  other.add(kV3, "0009", "外村", "");
  f.import(own, "王芳");
  f.import(other, "王芳");
  Roster admin;
  admin.add(kV3, "0010", "名册", "");
  f.import(admin, "县管理员");  // the register imported by the county admin
  Roster unknown;
  unknown.add(kV3, "0011", "李强录入", "");
  f.import(unknown, "李强");  // a collector with no enrolled device is not judged
  f.in.collector_scopes = {{"王芳", {"522632101"}}};
  auto found = f.run("household_outside_scope");
  REQUIRE(found.size() == 1);
  CHECK(found[0].type == EntityType::household);
  CHECK(found[0].villages == std::vector<std::string>{kV3});
  CHECK(found[0].zh.find("户 0009") != std::string::npos);
  CHECK(found[0].zh.find("王芳") != std::string::npos);
}

TEST_CASE("A crowded employer is not flagged when its 用工备案 filing covers the people claiming it", "[ops][verify]") {
  Fixture f;
  Roster r;
  // 10 people self-reporting one local employer, none arranged.
  for (int i = 0; i < 10; ++i) r.add(kV2, "02" + std::to_string(10 + i), "自报" + std::to_string(i), "", "县内", "榕江 某建材公司", "2026-03", "8", "2600", "否");
  f.import(r);
  const std::string key = ops::employer_key("榕江某建材公司");
  // A filing of fewer people than claim the employer does not explain the crowd.
  f.in.filed_headcounts = {{key, 9}, {ops::employer_key("另一公司"), 50}};
  CHECK(f.run("employer_crowd").size() == 10);
  // A filing of as many (or more) does; the filed name is compared as 务工单位 is (full width, spaces).
  f.in.filed_headcounts = {{ops::employer_key("榕江某建材公司 "), 10}};
  CHECK(f.run("employer_crowd").empty());
  f.in.filed_headcounts = {{key, 40}};
  CHECK(f.run("employer_crowd").empty());
}
