// Lists (SPEC §9) on a roster whose answers are known by construction: who is in each list, the
// bucket columns, --region, ID masking, the Excel-safe CSV, and byte-identical output for the same
// data in two stores.
#include <catch2/catch.hpp>

#include <algorithm>

#include "store_fixture.hpp"
#include "tz/model/id_number.hpp"
#include "generated_county.hpp"
#include "tz/ops/lists.hpp"
#include "tz/ops/population.hpp"
#include "tz/ops/report.hpp"
#include "tz/util/csv.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

using tz::test::idc;

// By construction: employed = 王小明 (省外), 张小雨 (县内), 阿依古丽·买买提 (省内县外);
// unemployed = 李芳, 张伟, 老周 (labour count, not employed; 欧阳娜娜 has lost the ability to work,
// 刘一 died, 陈二 is a student); willing = 李芳; returned = 张伟, 阿依古丽·买买提;
// flagged = 老周 (age 70, outside 16–64) and 陈二 (a phone that is not a mobile number).
std::string roster() {
  return "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态,务工地域,务工单位,务工开始年月,务工月数,月收入,"
         "有组织输出,点对点输送,外出意愿,返乡回流,人员变更,在校生\n"
         "522632101001,0001,王小明," + idc("52263219800101001") + ",户主,13812345678,普通劳动力,已就业,省外,广东某电子厂,2026-02,8,4500,是,是,,否,,\n"
         "522632101001,0001,李芳," + idc("52263219850305002") + ",配偶,,普通劳动力,未就业,,,,,,,,有,否,,\n"
         "522632101001,0002,张伟," + idc("52263219900101003") + ",户主,13900001111,技能劳动力,失业,,,,,,,,无,是,,\n"
         "522632101001,0002,张小雨," + idc("52263220080101004") + ",子女,,普通劳动力,已就业,县内,榕江县扶贫车间,2026-03,6,2200,否,否,,否,,\n"
         "522632101001,0002,老周," + idc("52263219560101005") + ",父母,,普通劳动力,未就业,,,,,,,,无,否,,\n"
         "522632102001,0007,欧阳娜娜," + idc("52263219750720006") + ",户主,13700002222,丧失劳动力,未就业,,,,,,,,,否,,\n"
         "522632102001,0007,阿依古丽·买买提," + idc("52263219950909006") + ",配偶,15800003333,普通劳动力,已就业,省内县外,贵阳某物流公司,2025-10,10,3800,是,否,,是,,\n"
         "522632102001,0007,刘一," + idc("52263219700101008") + ",兄弟姐妹,,普通劳动力,,,,,,,,,,否,死亡,\n"
         "522632102001,0007,陈二," + idc("52263220090101009") + ",子女,0855-1234567,普通劳动力,未就业,,,,,,,,无,否,,是\n";
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<DeviceStore> store;
  region::RegionTree tree;
  explicit Fixture(std::string secret = {})
      : store(tz::test::make_store(dir.path(), std::move(secret))),
        tree(region::RegionTree::parse_csv(store->info().config.region_tree_csv, "t").take()) {
    auto r = ops::import_roster(*store, roster(), tz::test::import_env(&tree)).take();
    REQUIRE(r.written);
  }
  ops::Table list(const std::string& kind, std::string region = {}, bool full = false, Lang lang = Lang::zh) {
    ops::ListOptions o{kind, std::move(region), full, lang};
    return ops::make_list(*store, tz::test::resources(), &tree, o).take();
  }
};

std::vector<std::string> column(const ops::Table& t, const std::string& header) {
  auto it = std::find(t.headers.begin(), t.headers.end(), header);
  REQUIRE(it != t.headers.end());
  size_t c = static_cast<size_t>(it - t.headers.begin());
  std::vector<std::string> out;
  for (auto& r : t.rows) out.push_back(r.at(c));
  return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("each list holds exactly the people it should", "[ops][lists]") {
  Fixture f;
  CHECK(column(f.list("employed"), "姓名") == Names{"王小明", "张小雨", "阿依古丽·买买提"});
  CHECK(column(f.list("unemployed"), "姓名") == Names{"李芳", "张伟", "老周"});
  CHECK(column(f.list("willing"), "姓名") == Names{"李芳"});
  CHECK(column(f.list("returned"), "姓名") == Names{"张伟", "阿依古丽·买买提"});
  auto flagged = f.list("flagged");
  CHECK(column(flagged, "姓名") == Names{"老周", "陈二"});
  auto problems = column(flagged, "待核实问题");
  CHECK(problems[0].find("劳动年龄") != std::string::npos);
  CHECK(problems[1].find("手机号") != std::string::npos);
}

TEST_CASE("the employed list shows the bucket - months and the bucket job", "[ops][lists]") {
  Fixture f;
  auto t = f.list("employed");
  CHECK(column(t, "务工地域") == Names{"省外", "县内", "省内县外"});
  CHECK(column(t, "务工单位") == Names{"广东某电子厂", "榕江县扶贫车间", "贵阳某物流公司"});
  CHECK(column(t, "务工月数") == Names{"8", "6", "10"});
  CHECK(column(t, "村名称")[0] == "忠诚社区居民委员会");
  CHECK(column(t, "性别") == Names{"男", "女", "女"});
  CHECK(column(t, "序号") == Names{"1", "2", "3"});
}

TEST_CASE("a region narrows the list to a village or township - a bad code is refused", "[ops][lists]") {
  Fixture f;
  CHECK(column(f.list("employed", "522632102001"), "姓名") == Names{"阿依古丽·买买提"});
  CHECK(column(f.list("employed", "522632101"), "姓名") == Names{"王小明", "张小雨"});
  CHECK(f.list("employed", "522632").rows.size() == 3);
  CHECK(f.list("employed", "513431").rows.empty());
  ops::ListOptions bad{"employed", "52263", false, Lang::zh};
  auto r = ops::make_list(*f.store, tz::test::resources(), &f.tree, bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message(Lang::zh).find("--region") != std::string::npos);
  ops::ListOptions unknown{"nobody", "", false, Lang::en};
  CHECK_FALSE(ops::make_list(*f.store, tz::test::resources(), &f.tree, unknown).ok());
}

TEST_CASE("IDs are masked unless full IDs are asked for", "[ops][lists]") {
  Fixture f;
  auto masked = column(f.list("employed"), "身份证号");
  CHECK(masked[0] == "522632********" + idc("52263219800101001").substr(14));
  auto full = column(f.list("employed", "", true), "身份证号");
  CHECK(full[0] == idc("52263219800101001"));
}

TEST_CASE("CSV: BOM - one header line - one row per person - long digits kept as text", "[ops][lists]") {
  Fixture f;
  auto t = f.list("employed", "", true);
  std::string csv = ops::render_csv(t);
  REQUIRE(csv.rfind("\xEF\xBB\xBF", 0) == 0);
  auto rows = csv::parse(csv).take();
  REQUIRE(rows.size() == 1 + 3);
  CHECK(rows[0].cells == t.headers);
  CHECK(csv.find("\"=\"\"" + idc("52263219800101001") + "\"\"\"") != std::string::npos);
  CHECK(csv::unwrap_excel_text(rows[1].cells[6]) == idc("52263219800101001"));
  CHECK(csv.find("\"=\"\"13812345678\"\"\"") != std::string::npos);
}

TEST_CASE("the same data gives byte-identical lists in two stores", "[ops][lists]") {
  std::string secret(32, 's');
  Fixture a(secret), b(secret);
  for (auto& kind : ops::list_kinds()) {
    INFO(kind);
    CHECK(ops::render_csv(a.list(kind)) == ops::render_csv(b.list(kind)));
    CHECK(ops::render_table(a.list(kind), Lang::zh) == ops::render_table(b.list(kind), Lang::zh));
  }
  // English headers on request.
  CHECK(a.list("employed", "", false, Lang::en).headers[4] == "Name");
}

TEST_CASE("a county read and made on one thread or four gives the same report and lists", "[ops][lists]") {
  // Large enough that the read, the derivation, the sort and each list are split across threads.
  TempDir dir;
  auto county = tz::test::generated_county(dir.path(), 11, 8500, {"522632101001", "522632101002", "522632102001"});
  auto& store = county.store;
  const auto& tree = county.tree;
  auto outputs = [&](unsigned threads) {
    const auto pop = ops::Population::load(*store, threads);
    std::vector<std::string> out;
    for (auto* p : pop.persons()) out.push_back(p->id.hex());  // the order everything is listed in
    out.push_back(ops::render_report_csv(ops::make_report(*store, pop, &tree, {}).take(), ops::ReportUnit::person, Lang::zh));
    for (auto& kind : ops::list_kinds())
      out.push_back(ops::render_csv(ops::make_list(*store, pop, tz::test::resources(), &tree, {kind, "", false, Lang::zh}).take()));
    return out;
  };
  const auto one = outputs(1);
  REQUIRE(one.size() == 8500 + 6);
  CHECK(outputs(4) == one);
  CHECK(outputs(2) == one);
}
