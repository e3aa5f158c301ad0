// The roster import contract (SPEC §9): exact line/column/rule for bad rows with nothing written,
// repeated IDs, idempotent and order/encoding-independent re-import, N changed cells -> N changes,
// one roster job per person and period, and a field added to the schema only at test time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <random>

#include "store_fixture.hpp"
#include "tz/model/id_number.hpp"
#include "tz/ops/lists.hpp"
#include "tz/util/encoding.hpp"
#include "tz/util/text.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

using tz::test::idc;

const std::string kHeader =
    "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态,务工地域,务工单位,务工开始年月,务工月数,月收入,"
    "有组织输出,点对点输送,外出意愿,返乡回流\n";

// Six people in three households of 522632101001 / 522632102001; answers known by construction.
std::vector<std::string> base_rows() {
  return {
      "522632101001,0001,王小明," + idc("52263219800101001") + ",户主,13812345678,普通劳动力,已就业,省外,广东某电子厂,2026-02,8,4500,是,是,,否",
      "522632101001,0001,李芳," + idc("52263219850305002") + ",配偶,,普通劳动力,未就业,,,,,,,,有,否",
      "522632101001,0002,张伟," + idc("52263219900101003") + ",户主,13900001111,技能劳动力,失业,,,,,,,,无,是",
      "522632101001,0002,张小雨," + idc("52263220080101004") + ",子女,,普通劳动力,已就业,县内,榕江县扶贫车间,2026-03,6,2200,否,否,,否",
      "522632102001,0007,欧阳娜娜," + idc("52263219750720006") + ",户主,13700002222,丧失劳动力,未就业,,,,,,,,,否",
      "522632102001,0007,阿依古丽·买买提," + idc("52263219950909007") + ",配偶,15800003333,普通劳动力,已就业,省内县外,贵阳某物流公司,2025-10,10,3800,是,否,,是",
  };
}

std::string join(const std::vector<std::string>& rows) {
  std::string out = kHeader;
  for (auto& r : rows) out += r + "\n";
  return out;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<DeviceStore> store;
  region::RegionTree tree;
  Fixture() : store(tz::test::make_store(dir.path())), tree(region::RegionTree::parse_csv(store->info().config.region_tree_csv, "t").take()) {}
  Result<ops::ImportReport> import(const std::string& bytes, bool dry_run = false, int64_t now = tz::test::kNowMs) {
    ops::ImportOptions o;
    o.dry_run = dry_run;
    return ops::import_roster(*store, bytes, tz::test::import_env(&tree, "王芳", now), o);
  }
};

const ops::ImportProblem* find_problem(const ops::ImportReport& r, size_t line, const std::string& rule) {
  for (auto& p : r.problems)
    if (p.line == line && p.rule_id == rule) return &p;
  return nullptr;
}

}  // namespace

TEST_CASE("a clean roster imports households - persons and one job per employed person", "[ops][import]") {
  Fixture f;
  auto r = f.import(join(base_rows())).take();
  CHECK(r.written);
  CHECK(r.error_count() == 0);
  CHECK(r.rows == 6);
  CHECK(r.households_created == 3);
  CHECK(r.persons_created == 6);
  CHECK(r.jobs_created == 3);
  CHECK(f.store->entity_count(EntityType::person) == 6);
  CHECK(f.store->entity_count(EntityType::job) == 3);
  CHECK(r.changes == f.store->changes_after(0).size());
  CHECK(f.store->info().next_seq == r.changes + 1);
}

TEST_CASE("bad rows are reported by physical line - column and rule - and nothing is written", "[ops][import]") {
  Fixture f;
  REQUIRE(f.import(join(base_rows())).take().written);
  std::string before = tz::test::store_digest(*f.store);
  std::string csv = kHeader +
                    // line 2: fine
                    base_rows()[0] + "\n" +
                    // line 3: wrong check character
                    "522632101001,0003,赵六," + idc("52263219900101008").substr(0, 17) + "0,户主,,普通劳动力,,,,,,,,,,\n" +
                    // line 4 and 5: a quoted remark spanning two physical lines (the 户编号 cell)
                    "522632101001,\"00\n04\",钱七," + idc("52263219900101009") + ",户主,,普劳,,,,,,,,,,\n" +
                    // line 6: bad income and bad month
                    "522632101001,0005,孙八," + idc("52263219900101010") + ",户主,,普通劳动力,已就业,省外,某厂,2026-13,8,abc,,,,\n" +
                    // line 7: Excel-damaged ID
                    "522632101001,0006,周九,5.22632E+17,户主,,普通劳动力,,,,,,,,,,\n";
  // Make line 3's ID check character certainly wrong.
  auto r = f.import(csv).take();
  CHECK_FALSE(r.written);
  CHECK(r.error_count() >= 5);
  const auto* p3 = find_problem(r, 3, "person.id_number.format");
  REQUIRE(p3);
  CHECK(p3->column == "身份证号");
  CHECK(p3->message_zh.find("身份证号") != std::string::npos);
  const auto* p4 = find_problem(r, 4, "person.labour_ability.format");
  REQUIRE(p4);  // the row starts on line 4; its quoted cell runs into line 5
  CHECK(p4->column == "劳动技能");
  CHECK(find_problem(r, 6, "job.monthly_income.format"));
  CHECK(find_problem(r, 6, "job.start_month.format"));
  const auto* p7 = find_problem(r, 7, "import.excel_damaged");
  REQUIRE(p7);
  CHECK(p7->message_zh.find("文本") != std::string::npos);
  CHECK_FALSE(find_problem(r, 7, "person.id_number.missing"));
  CHECK_FALSE(find_problem(r, 2, "person.id_number.format"));
  CHECK(tz::test::store_digest(*f.store) == before);
}

TEST_CASE("two rows with the same normalised ID are refused naming both lines", "[ops][import]") {
  Fixture f;
  auto rows = base_rows();
  // A 15-digit legacy ID and its 18-digit form are the same person.
  std::string id18 = "130503196704010016";
  rows.push_back("522632101001,0009,甲," + id18 + ",户主,,普通劳动力,,,,,,,,,,");
  rows.push_back("522632101001,0009,乙,130503670401001,子女,,普通劳动力,,,,,,,,,,");
  auto r = f.import(join(rows)).take();
  CHECK_FALSE(r.written);
  const auto* p = find_problem(r, 9, "import.duplicate_id");
  REQUIRE(p);
  CHECK(p->message_zh.find("第 9 行") != std::string::npos);
  CHECK(p->message_zh.find("第 8 行") != std::string::npos);
  CHECK(f.store->entity_count(EntityType::person) == 0);
}

TEST_CASE("re-import changes nothing - whatever the order or encoding", "[ops][import]") {
  Fixture f;
  auto rows = base_rows();
  REQUIRE(f.import(join(rows)).take().written);
  std::string digest = tz::test::store_digest(*f.store);

  auto again = f.import(join(rows), false, tz::test::kNowMs + 60000).take();
  CHECK(again.written);
  CHECK(again.changes == 0);

  std::reverse(rows.begin(), rows.end());
  auto reordered = f.import(join(rows), false, tz::test::kNowMs + 120000).take();
  CHECK(reordered.changes == 0);

  encoding::SourceEncoding enc{};
  auto gb = encoding::utf8_to_gb18030(join(rows));
  auto gb_import = f.import(gb, false, tz::test::kNowMs + 180000).take();
  CHECK(gb_import.encoding == "gb18030");
  CHECK(gb_import.changes == 0);
  (void)enc;

  auto bom = f.import("\xEF\xBB\xBF" + join(rows), false, tz::test::kNowMs + 240000).take();
  CHECK(bom.encoding == "utf8_bom");
  CHECK(bom.changes == 0);
  CHECK(tz::test::store_digest(*f.store) == digest);
  CHECK(f.store->entity_count(EntityType::job) == 3);  // no second job for anyone
}

TEST_CASE("a file with N changed cells records exactly N field changes", "[ops][import]") {
  Fixture f;
  auto rows = base_rows();
  REQUIRE(f.import(join(rows)).take().written);
  uint64_t seq_before = f.store->info().next_seq;
  // Three cells change: a phone, a months figure and a willingness; rows also shuffled.
  auto edited = rows;
  auto replace = [](std::string& s, const std::string& from, const std::string& to) {
    auto p = s.find(from);
    REQUIRE(p != std::string::npos);
    s.replace(p, from.size(), to);
  };
  replace(edited[0], "13812345678", "13812345679");
  replace(edited[3], ",6,2200", ",7,2200");
  replace(edited[1], ",有,否", ",无,否");
  std::swap(edited[0], edited[5]);
  auto r = f.import(encoding::utf8_to_gb18030(join(edited)), false, tz::test::kNowMs + 60000).take();
  CHECK(r.changes == 3);
  CHECK(f.store->info().next_seq == seq_before + 3);
  auto changes = f.store->changes_after(seq_before - 1);
  REQUIRE(changes.size() == 3);
  for (auto& c : changes) CHECK(c.base.size() == 1);  // each replaces the one version shown
  CHECK(f.store->entity_count(EntityType::job) == 3);
}

TEST_CASE("a dry run reports problems and writes nothing", "[ops][import]") {
  Fixture f;
  auto r = f.import(join(base_rows()), true).take();
  CHECK_FALSE(r.written);
  CHECK(r.rows == 6);
  CHECK(f.store->info().next_seq == 1);
  CHECK(f.store->entity_count(EntityType::person) == 0);
}

TEST_CASE("headers by alias - extra columns reported - required columns enforced", "[ops][import]") {
  Fixture f;
  std::string csv = "行政村代码,户号,姓名,身份证号码,手机号,劳动能力,备用列\n522632101001,0001,王小明," +
                    idc("52263219800101001") + ",138 1234 5678,普通劳动力,xyz\n";
  auto r = f.import(csv).take();
  CHECK(r.written);
  REQUIRE(r.extra_columns == std::vector<std::string>{"备用列"});
  auto id = f.store->natural_keys().person(idc("52263219800101001"));
  auto p = f.store->get(id);
  REQUIRE(p);
  CHECK(p->value_or(tz::test::resources().schema.entity(EntityType::person).require("phone").id) == "13812345678");

  auto missing = f.import("姓名,身份证号\n王小明,1\n");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message(Lang::zh).find("村代码") != std::string::npos);
  CHECK(missing.error().message(Lang::en).find("required columns") != std::string::npos);

  auto bad_bytes = f.import(std::string("村代码,户编号,姓名\n\xff\xfe\xfd,1,2\n"));
  CHECK_FALSE(bad_bytes.ok());
}

TEST_CASE("a field added to the schema only at test time is imported - validated and listed", "[ops][import]") {
  // Copy the schemas, add a field to person.json, load that schema.
  TempDir sdir;
  tz::test::schemas_with_field(sdir, "person.json", "    {\"id\": 22,",
                               "    {\"id\": 40, \"name\": \"wechat_phone\", \"type\": \"phone\", \"label_zh\": \"微信号\", "
                               "\"label_en\": \"WeChat number\", \"aliases\": [\"微信\"], \"list\": true}");
  auto schema = ops::load_schema_dir(sdir.path()).take();

  TempDir dir;
  auto store = tz::test::make_store(dir.path(), {}, &schema);
  std::string good = "村代码,户编号,姓名,身份证号,劳动技能,就业状态,外出意愿,微信\n522632101001,0001,王小明," +
                     idc("52263219800101001") + ",普通劳动力,未就业,有,139-0000-1111\n";
  auto r = ops::import_roster(*store, good, tz::test::import_env()).take();
  REQUIRE(r.written);
  auto p = store->get(store->natural_keys().person(idc("52263219800101001")));
  REQUIRE(p);
  CHECK(p->value_or(40) == "13900001111");

  // Validated: a phone-typed field refuses garbage with the generic format rule, naming its label.
  std::string bad = "村代码,户编号,姓名,身份证号,微信号\n522632101001,0001,王小明," + idc("52263219800101001") + ",abc\n";
  auto rb = ops::import_roster(*store, bad, tz::test::import_env()).take();
  bool found = false;
  for (auto& pr : rb.problems)
    if (pr.rule_id == "person.wechat_phone.format" && pr.line == 2 && pr.column == "微信号") found = true;
  CHECK(found);

  // Listed: the unemployed list carries the new column.
  ops::ListOptions o;
  o.kind = "unemployed";
  auto t = ops::make_list(*store, tz::test::resources(), nullptr, o).take();
  auto col = std::find(t.headers.begin(), t.headers.end(), "微信号");
  REQUIRE(col != t.headers.end());
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0][static_cast<size_t>(col - t.headers.begin())] == "13900001111");
}

TEST_CASE("a re-import that replaces a value collected since says so - naming who set it", "[ops][import]") {
  Fixture f;
  auto rows = base_rows();
  REQUIRE(f.import(join(rows)).take().written);
  // A collector records 李芳's willingness as 无 on the device.
  const auto& ps = tz::test::resources().schema.entity(EntityType::person);
  ops::Editor ed(*f.store, {"李强", tz::test::kNowMs + 1000});
  Entity* p = ed.find(f.store->natural_keys().person(tz::test::idc("52263219850305002")));
  REQUIRE(p);
  ed.set(*p, ps.require("willing_to_go_out").id, "0");
  REQUIRE(ed.commit().ok());
  // The county's sheet, unchanged, comes in again.
  auto r = f.import(join(rows), false, tz::test::kNowMs + 2000).take();
  CHECK(r.changes == 1);
  const auto* w = find_problem(r, 3, "import.overwrites");
  REQUIRE(w);
  CHECK(w->severity == Severity::warning);
  CHECK(w->message_zh.find("李强") != std::string::npos);
  CHECK(w->message_zh.find("“无”") != std::string::npos);
}

TEST_CASE("an ID whose last digits Excel turned into 000 gets the advice to fix the column", "[ops][import]") {
  Fixture f;
  std::string id = tz::test::idc("52263219880305100");
  std::string damaged = id.substr(0, 15) + "000";
  REQUIRE(damaged != id);
  auto r = f.import("村代码,户编号,姓名,身份证号\n522632101001,0001,王五," + damaged + "\n").take();
  CHECK_FALSE(r.written);
  const auto* p = find_problem(r, 2, "import.excel_damaged");
  REQUIRE(p);
  CHECK(p->message_zh.find("文本") != std::string::npos);
}

TEST_CASE("damaged roster files never crash the import and a refused file writes nothing", "[ops][import]") {
  const uint64_t seed = 77031;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  Fixture f;
  REQUIRE(f.import(join(base_rows())).take().written);
  const std::string good = join(base_rows());
  const std::string noise[] = {",", "\"", "\n", "\r\n", "\xff", "\xe4\xb8", "=\"", "5.2E+17", "", "\xef\xbb\xbf"};
  for (int round = 0; round < 300; ++round) {
    std::string bytes = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      size_t pos = bytes.empty() ? 0 : rng() % bytes.size();
      switch (rng() % 4) {
        case 0: bytes.resize(pos); break;                                               // cut off
        case 1: if (!bytes.empty()) bytes[pos] = static_cast<char>(rng() & 0xff); break;  // flip a byte
        case 2: bytes.insert(pos, noise[rng() % std::size(noise)]); break;                // stray syntax
        case 3: bytes.erase(pos, rng() % 20); break;                                      // lose a piece
      }
    }
    std::string before = tz::test::store_digest(*f.store);
    auto r = f.import(bytes, false, tz::test::kNowMs + 1000 * (round + 1));
    if (!r.ok() || !r->written) {
      CHECK(tz::test::store_digest(*f.store) == before);
    } else {
      CHECK(r->error_count() == 0);
    }
  }
}
