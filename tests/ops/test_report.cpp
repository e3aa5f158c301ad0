// The progress report (SPEC §9) on a hand-written county of 15 people whose figures were worked out
// by hand from SPEC §3 and §9 (not from the code's output), the baseline file's import contract, and
// the CSV layout.
#include <catch2/catch.hpp>

#include <map>

#include "generated_county.hpp"
#include "store_fixture.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/ops/baseline.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/report.hpp"
#include "tz/util/csv.hpp"

using namespace tz;
using tz::test::idc;
using tz::test::TempDir;

namespace {

// Villages: A = 522632101001 and B = 522632101002 (township 忠诚镇 522632101), C = 522632102001
// (寨蒿镇 522632102). Period 2026, as of 2026-11-30; the import is made on 2026-11-01.
//   P01 A 省外, 点对点 是, declared employed                      -> 省外, 跨省点对点
//   P02 A a job 2025-09..2026-02 in the province, not declared    -> 省内县外 (crosses the boundary)
//   P03 A a job 2025-03..2025-12 only, willing 有                 -> not employed, willing
//   P04 A 县内 from 2026-01 for 3 months, then 省外 from 2026-04   -> 省外 (8 months beat 3)
//   P05 A 境外, declared employed                                  -> 境外, outside 共计
//   P06 B 其他, declared employed                                  -> 其他, outside 共计
//   P07 B died (人员变更 死亡)                                      -> no figure; life events apart
//   P08 B 县内, 点对点 是, declared employed                       -> 县内 (point-to-point only counts 省外)
//   P09 B declared 失业, willing 无                                -> not employed, not willing
//   P10 B 在校生, 未就业, willing 有                               -> outside the labour count
//   P11 C 省内县外, declared employed                              -> 省内县外
//   P12 C 未就业, willing 有                                       -> willing
//   P13 C 丧失劳动力, 未就业                                       -> outside the labour count
//   P14 C 县内, declared employed                                  -> 县内
//   P15 C a 务农 job, nothing declared, no labour ability           -> not employed (务农 does not count)
// Baseline (last year): P01 P02 P03 P04 P05 | P07 P08 P09 | P14 P15 and X (C, not in the roster).
const std::string kA = "522632101001", kB = "522632101002", kC = "522632102001";

std::string id_of(int n) {  // P01..P15: born 1980..1994, the check character computed
  char buf[32];
  std::snprintf(buf, sizeof buf, "522632%04d0101%03d", 1980 + n - 1, n);
  return idc(buf);
}
const std::string kStudentId = idc("52263220080101010");  // P10, born 2008
const std::string kOutsiderId = idc("52263219700101099");  // X

std::string roster() {
  auto id = [](int n) { return n == 10 ? kStudentId : id_of(n); };
  std::string s =
      "村代码,户编号,姓名,身份证号,劳动技能,就业状态,务工地域,务工开始年月,务工月数,点对点输送,就业渠道,外出意愿,人员变更,在校生\n";
  auto row = [&](const std::string& v, const std::string& hh, const std::string& name, int n, const std::string& rest) {
    s += v + "," + hh + "," + name + "," + id(n) + "," + rest + "\n";
  };
  row(kA, "0001", "王一", 1, "普通劳动力,已就业,省外,2026-02,8,是,,,,");
  row(kA, "0001", "王二", 2, "普通劳动力,,,,,,,,,");
  row(kA, "0002", "王三", 3, "普通劳动力,,,,,,,有,,");
  row(kA, "0002", "王四", 4, "普通劳动力,,县内,2026-01,3,否,,,,");
  row(kA, "0003", "王五", 5, "技能劳动力,已就业,境外,2026-01,,否,,,,");
  row(kB, "0001", "李一", 6, "普通劳动力,已就业,其他,2026-05,,否,,,,");
  row(kB, "0001", "李二", 7, "普通劳动力,,,,,,,,死亡,");
  row(kB, "0002", "李三", 8, "普通劳动力,已就业,县内,2026-03,,是,,,,");
  row(kB, "0002", "李四", 9, "普通劳动力,失业,,,,,,无,,");
  row(kB, "0002", "李五", 10, "普通劳动力,未就业,,,,,,有,,是");
  row(kC, "0001", "张一", 11, "普通劳动力,已就业,省内县外,2026-01,,否,,,,");
  row(kC, "0001", "张二", 12, "普通劳动力,未就业,,,,,,有,,");
  row(kC, "0002", "张三", 13, "丧失劳动力,未就业,,,,,,,,");
  row(kC, "0002", "张四", 14, "普通劳动力,已就业,县内,2026-02,,否,,,,");
  row(kC, "0003", "张五", 15, ",,县内,2026-03,,否,务农,,,");
  return s;
}

std::string baseline_csv() {
  std::string s = "村代码,姓名,身份证号\n";
  for (int n : {1, 2, 3, 4, 5}) s += kA + ",P" + std::to_string(n) + "," + id_of(n) + "\n";
  for (int n : {7, 8, 9}) s += kB + ",P" + std::to_string(n) + "," + id_of(n) + "\n";
  for (int n : {14, 15}) s += kC + ",P" + std::to_string(n) + "," + id_of(n) + "\n";
  s += kC + ",某某," + kOutsiderId + "\n";
  return s;
}

struct Golden {
  TempDir dir;
  std::unique_ptr<DeviceStore> store = tz::test::make_store(dir.path());
  region::RegionTree tree = region::RegionTree::parse_csv(store->info().config.region_tree_csv, "t").take();

  Golden() {
    REQUIRE(ops::import_roster(*store, roster(), tz::test::import_env(&tree)).take().written);
    // The jobs the roster cannot hold: P02's crosses the period's start, P03's ended last year, P04's second.
    const auto& js = store->schema().entity(EntityType::job);
    auto job = [&](int n, const char* start, const char* end, const char* bucket) {
      auto pid = ops::person_by_id_number(*store, id_of(n));
      REQUIRE(pid);
      ops::Draft d{EntityType::job, crypto::random_entity_id(),
                   {{js.require("person_id").id, pid->hex()}, {js.require("start_month").id, start},
                    {js.require("place_bucket").id, bucket}}};
      if (*end) d.values[js.require("end_month").id] = end;
      return d;
    };
    std::vector<ops::Draft> drafts = {job(2, "2025-09", "2026-02", "in_province"), job(3, "2025-03", "2025-12", "out_province"),
                                      job(4, "2026-04", "", "out_province")};
    ValidationContext ctx;
    ctx.today = china_date_of(tz::test::kNowMs);
    ctx.period_year = 2026;
    ctx.settings = &store->schema().settings();
    ctx.tree = &tree;
    auto saved = ops::save_drafts(*store, drafts, ops::EditContext{"王芳", tz::test::kNowMs + 1000}, ctx).take();
    REQUIRE(saved.saved);
  }
  void set_baseline(const std::string& csv) {
    auto b = ops::parse_baseline_csv(csv, "522632", &tree, CivilDate{2026, 11, 1}, &tz::test::resources().counties).take();
    REQUIRE(b.report.error_count() == 0);
    WriteBatch wb;
    wb.configs.push_back({ops::kConfigBaseline, {1, ops::baseline_config_value(b.baseline)}});
    REQUIRE(store->write(wb));
  }
  ops::ProgressReport report(std::vector<std::string> roots = {}) {
    return ops::make_report(*store, &tree, ops::ReportOptions{std::move(roots), Lang::zh}).take();
  }
};

const ops::RegionFigures& row(const ops::ProgressReport& r, const std::string& code) {
  for (auto& f : r.regions)
    if (f.code == code) return f;
  FAIL("no row " << code);
  throw;
}

struct Expect {
  size_t baseline = 0, total = 0, out = 0, in_prov = 0, in_county = 0, p2p = 0, willing = 0, abroad = 0, other = 0,
         persons = 0, all_clear = 0;
};
// Every figure; the four clears only when the expectation knows them.
void check(const ops::RegionFigures& f, const Expect& e, bool with_clears = true) {
  INFO(f.code);
  CHECK(f.baseline == e.baseline);
  CHECK(f.total == e.total);
  CHECK(f.out_province == e.out);
  CHECK(f.in_province == e.in_prov);
  CHECK(f.in_county == e.in_county);
  CHECK(f.p2p == e.p2p);
  CHECK(f.willing == e.willing);
  CHECK(f.abroad == e.abroad);
  CHECK(f.other == e.other);
  CHECK(f.persons == e.persons);
  if (with_clears) CHECK(f.all_clear == e.all_clear);
}

}  // namespace

TEST_CASE("golden county: every figure of every row as worked out by hand", "[ops][report]") {
  Golden g;
  g.set_baseline(baseline_csv());
  auto r = g.report();
  REQUIRE(r.regions.size() == 6);  // county, 2 townships, 3 villages, in code order
  CHECK(r.regions[0].code == "522632");
  CHECK(r.regions[1].code == "522632101");
  CHECK(r.regions[2].code == kA);
  CHECK(r.regions[3].code == kB);
  CHECK(r.regions[4].code == "522632102");
  CHECK(r.regions[5].code == kC);
  CHECK(r.regions[1].name == "忠诚镇");
  //                        base tot out prov cnty p2p will abr oth pers clear
  check(row(r, kA), Expect{5, 3, 2, 1, 0, 1, 1, 1, 0, 5, 4});
  check(row(r, kB), Expect{3, 1, 0, 0, 1, 0, 0, 0, 1, 5, 4});
  check(row(r, kC), Expect{3, 2, 0, 1, 1, 0, 1, 0, 0, 5, 4});
  check(row(r, "522632101"), Expect{8, 4, 2, 1, 1, 1, 1, 1, 1, 10, 8});
  check(row(r, "522632102"), Expect{3, 2, 0, 1, 1, 0, 1, 0, 0, 5, 4});
  check(row(r, "522632"), Expect{11, 6, 2, 2, 2, 1, 2, 1, 1, 15, 12});
  // The four clears apart: P15 has no labour ability and no willingness recorded; P03, P07 and P15
  // have no status confirmed in the period.
  const auto& county = row(r, "522632");
  CHECK(county.identity == 15);
  CHECK(county.labour == 14);
  CHECK(county.status == 12);
  CHECK(county.willingness == 14);

  // Below last year's count: every village and both townships (never the county).
  std::vector<std::string> below;
  for (size_t i : r.below) below.push_back(r.regions[i].code);
  CHECK(below == std::vector<std::string>{"522632101", kA, kB, "522632102", kC});

  // Person by person: who was counted last year and has not gone out (P05 is abroad: gone out).
  REQUIRE(r.not_gone_out.size() == 4);
  CHECK(r.not_gone_out[0].name == "王三");
  CHECK(r.not_gone_out[0].situation == "未就业");
  CHECK(r.not_gone_out[1].name == "李四");
  CHECK(r.not_gone_out[1].situation == "失业");
  CHECK(r.not_gone_out[2].name.empty());  // X: not in the roster, shown by masked ID
  CHECK(r.not_gone_out[2].situation == "不在台账中");
  CHECK(r.not_gone_out[2].masked_id == idn::mask_id(kOutsiderId));
  CHECK(r.not_gone_out[3].name == "张五");
  REQUIRE(r.life_events.size() == 1);
  CHECK(r.life_events[0].name == "李二");
  CHECK(r.life_events[0].situation == "死亡");
}

TEST_CASE("golden county: ratios - 万人 - the CSV layout", "[ops][report]") {
  Golden g;
  g.set_baseline(baseline_csv());
  auto r = g.report();
  auto csv_text = ops::render_report_csv(r, ops::ReportUnit::person, Lang::zh);
  REQUIRE(csv_text.rfind("\xEF\xBB\xBF", 0) == 0);
  auto rows = csv::parse(csv_text).take();
  // One header row (the annex's two rows joined), then one row per region starting code, name, level.
  CHECK(rows[0].cells[0] == "代码");
  CHECK(rows[0].cells[3] == "2025年外出务工人数");
  CHECK(rows[0].cells[4] == "2026年已外出务工人数·共计");
  CHECK(rows[0].cells[5] == "2026年已外出务工人数·占2025年外出务工数比例");
  CHECK(rows[0].cells[9] == "2026年已外出务工人数·跨省点对点输送人数");
  CHECK(rows[0].cells[10] == "2026年未外出但有意愿外出务工人数");
  CHECK(rows[1].cells == std::vector<std::string>{"522632", "榕江县", "县", "11", "6", "54.55%", "2", "2", "2", "1", "2", "1",
                                                   "1", "15", "15", "14", "12", "14", "12", "80.00%"});
  CHECK(rows[3].cells[5] == "60.00%");  // village A: 3 of 5
  CHECK(rows[4].cells[5] == "33.33%");  // village B: 1 of 3
  // The other parts follow the region rows: each a title row, a header row, its rows.
  CHECK(rows[7].cells[0] == "低于2025年外出务工人数的村和乡镇");
  CHECK(rows[8].cells.back() == "差额");
  CHECK(rows[9].cells == std::vector<std::string>{"522632101", "忠诚镇", "乡镇", "8", "4", "4"});
  // The empty line before each part is a real empty line.
  CHECK(csv_text.find("\r\n\r\n低于2025年") != std::string::npos);
  CHECK(ops::report_count(1735, ops::ReportUnit::wan) == "0.17");
  CHECK(ops::report_count(173500, ops::ReportUnit::wan) == "17.35");
  CHECK(ops::report_count(50, ops::ReportUnit::wan) == "0.01");
  CHECK(ops::report_count(49, ops::ReportUnit::wan) == "0.00");
  CHECK(ops::report_ratio(7053, 6947) == "101.53%");
  CHECK(ops::report_ratio(1, 0).empty());
}

TEST_CASE("golden county: a region narrows the report to the rows below it", "[ops][report]") {
  Golden g;
  g.set_baseline(baseline_csv());
  auto t = g.report({"522632101"});
  REQUIRE(t.regions.size() == 3);
  check(t.regions[0], Expect{8, 4, 2, 1, 1, 1, 1, 1, 1, 10, 8});
  CHECK(t.not_gone_out.size() == 2);  // 王三, 李四
  auto v = g.report({kC});
  REQUIRE(v.regions.size() == 1);
  check(v.regions[0], Expect{3, 2, 0, 1, 1, 0, 1, 0, 0, 5, 4});
  auto bad = ops::make_report(*g.store, &g.tree, ops::ReportOptions{{"52263"}, Lang::en});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message(Lang::en).find("--region 52263") != std::string::npos);
}

TEST_CASE("without a baseline the report leaves last year's columns empty", "[ops][report]") {
  Golden g;
  auto r = g.report();
  CHECK_FALSE(r.has_baseline);
  CHECK(r.below.empty());
  CHECK(r.not_gone_out.empty());
  auto tables = ops::report_tables(r, ops::ReportUnit::person, Lang::zh);
  CHECK(tables[0].rows[0][3].empty());
  CHECK(tables[0].rows[0][4] == "6");
}

TEST_CASE("baseline file: every bad row by line and column - the whole file or nothing", "[ops][report][baseline]") {
  auto tree = region::RegionTree::parse_csv(tz::test::resources().county_tree_csv("522632").value(), "t").take();
  const CivilDate today{2026, 11, 1};
  auto parse = [&](const std::string& csv) {
    return ops::parse_baseline_csv(csv, "522632", &tree, today, &tz::test::resources().counties);
  };
  std::string csv = "姓名,身份证号,村代码,备注\n"
                    "王一," + id_of(1) + "," + kA + ",x\n"           // line 2: good
                    "王二," + id_of(1) + "," + kB + ",\n"            // line 3: the same ID as line 2
                    "," + id_of(3) + "," + kA + ",\n"                // line 4: no name
                    "王四,5.22632E+17," + kA + ",\n"                 // line 5: Excel-damaged ID
                    "王五," + id_of(5) + ",52263210100,\n"           // line 6: village code of 11 digits
                    "王六," + id_of(6) + ",513431101001,\n"          // line 7: another county
                    "王七,522632198001010012," + kA + ",\n";         // line 8: a bad check character
  auto r = parse(csv).take();
  std::vector<std::pair<size_t, std::string>> got;
  for (auto& p : r.report.problems) got.emplace_back(p.line, p.column);
  CHECK(got == std::vector<std::pair<size_t, std::string>>{
                   {3, "身份证号"}, {4, "姓名"}, {5, "身份证号"}, {6, "村代码"}, {7, "村代码"}, {8, "身份证号"}});
  CHECK(r.report.problems[0].message_zh.find("第 2 行") != std::string::npos);
  CHECK(r.report.extra_columns == std::vector<std::string>{"备注"});
  CHECK(r.report.error_count() == 6);

  auto missing = parse("姓名,身份证号\n王一," + id_of(1) + "\n");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message(Lang::zh).find("村代码") != std::string::npos);

  // GB18030 and an unknown village (a warning; the row is kept).
  auto ok = parse("村代码,姓名,身份证号\n522632199999,王一," + id_of(1) + "\n").take();
  CHECK(ok.report.error_count() == 0);
  CHECK(ok.report.warning_count() == 1);
  REQUIRE(ok.baseline.entries.size() == 1);
  auto back = ops::parse_baseline_config(ops::baseline_config_value(ok.baseline));
  REQUIRE(back);
  CHECK(back->entries[0].key == ops::baseline_key("522632", id_of(1)));
  CHECK(back->entries[0].masked_id == idn::mask_id(id_of(1)));
  CHECK(back->entries[0].village == "522632199999");
  // Neither a name nor a full ID travels in the record.
  CHECK(ops::baseline_config_value(ok.baseline).find(id_of(1)) == std::string::npos);
  CHECK(ops::baseline_config_value(ok.baseline).find("王一") == std::string::npos);
}


TEST_CASE("generated county: the report's figures at every level are the roster's by construction", "[ops][report]") {
  TempDir dir;
  auto county = tz::test::generated_county(dir.path(), 9, 1500,
                                           {"522632101001", "522632101002", "522632101003", "522632102001", "522632102002"});
  auto& store = county.store;
  const auto& tree = county.tree;
  const auto& roster = county.roster;

  // Last year's list: every third person of the roster.
  std::string baseline = "村代码,姓名,身份证号\n";
  std::map<std::string, Expect> want;  // by village, township and county code
  auto add = [&](const std::string& village, auto&& fn) {
    for (auto code : {village.substr(0, 6), village.substr(0, 9), village}) fn(want[code]);
  };
  for (size_t i = 0; i < roster.persons.size(); ++i) {
    const auto& p = roster.persons[i];
    const bool employed = p.status == "已就业";
    const bool able = p.labour == "普通劳动力" || p.labour == "技能劳动力";
    add(p.village, [&](Expect& e) {
      e.persons += 1;
      if (i % 3 == 0) e.baseline += 1;
      if (!employed) {
        e.willing += able && p.willing == "有";
        return;
      }
      if (p.bucket == "省外") e.out += 1, e.p2p += p.p2p == "是";
      else if (p.bucket == "省内县外") e.in_prov += 1;
      else if (p.bucket == "县内") e.in_county += 1;
      else if (p.bucket == "境外") e.abroad += 1;
      else e.other += 1;
    });
    if (i % 3 == 0) baseline += p.village + "," + p.name + "," + p.id_number + "\n";
  }
  auto b = ops::parse_baseline_csv(baseline, "522632", &tree, CivilDate{2026, 11, 1}, &tz::test::resources().counties).take();
  REQUIRE(b.report.error_count() == 0);
  WriteBatch wb;
  wb.configs.push_back({ops::kConfigBaseline, {1, ops::baseline_config_value(b.baseline)}});
  REQUIRE(store->write(wb));

  auto r = ops::make_report(*store, &tree, ops::ReportOptions{}).take();
  REQUIRE(r.regions.size() == 8);  // the county, 2 townships, 5 villages
  size_t not_gone = 0;
  for (auto& f : r.regions) {
    INFO(f.code);
    REQUIRE(want.count(f.code));
    Expect e = want[f.code];
    e.total = e.out + e.in_prov + e.in_county;
    check(f, e, false);
  }
  for (size_t i = 0; i < roster.persons.size(); i += 3) not_gone += roster.persons[i].status != "已就业";
  CHECK(r.not_gone_out.size() == not_gone);
  CHECK(r.life_events.empty());
}
