// field-cli end to end: the real binary, its exit codes (0 / 1 / 2), options before or after the
// command words, --json and --lang, and an import killed at its crash point leaving the store as it was.
#include <catch2/catch.hpp>

#include <csignal>
#include <nlohmann/json.hpp>

#include "cli_session.hpp"
#include "tz/model/id_number.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

using tz::test::idc;
using Cli = tz::test::CliSession;

const std::string kRoster =
    "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态,务工地域,务工单位,务工开始年月,务工月数,月收入\n"
    "522632101001,0001,王小明," + idc("52263219800101001") + ",户主,13812345678,普通劳动力,已就业,省外,广东某电子厂,2026-02,8,4500\n"
    "522632101001,0001,李芳," + idc("52263219850305002") + ",配偶,,普通劳动力,未就业,,,,,\n";

}  // namespace

TEST_CASE("init creates a store - a second init and bad options fail with the right codes", "[cli]") {
  Cli c;
  auto r = c.run({"--store", c.store, "init", "--county", "522632", "--collector", "王芳,李强", "--period", "2026",
                  "--as-of", "2026-11-30"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("榕江县") != std::string::npos);
  CHECK(r.out.find("252") != std::string::npos);
  auto again = c.run({"init", "--store", c.store, "--county", "522632", "--collector", "王芳", "--period", "2026",
                      "--as-of", "2026-11-30"});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("已存在") != std::string::npos);
  CHECK(c.run({"init", "--store", (c.dir / "x").string(), "--county", "999999", "--collector", "a", "--period", "2026",
               "--as-of", "2026-11-30"}).exit_code == 1);
  CHECK(c.run({"init", "--store", (c.dir / "y").string(), "--collector", "a"}).exit_code == 2);
  CHECK(c.run({}).exit_code == 2);
  CHECK(c.run({"frobnicate"}).exit_code == 2);
  CHECK(c.run({"list", "employed", "--bogus"}).exit_code == 2);
  CHECK(c.run({"import"}).exit_code == 2);
  auto help = c.run({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("用法") != std::string::npos);
  CHECK(c.run({"--help", "--lang", "en"}).out.find("usage") != std::string::npos);
}

TEST_CASE("options may come before or after the command words", "[cli]") {
  Cli c;
  c.init();
  auto path = c.file("r.csv", kRoster);
  CHECK(c.run({"import", path, "--store", c.store}).exit_code == 0);
  auto a = c.run({"--store", c.store, "--format", "csv", "list", "employed"});
  auto b = c.run({"list", "--store", c.store, "employed", "--format=csv"});
  CHECK(a.exit_code == 0);
  CHECK(a.out == b.out);
  CHECK(a.out.find("王小明") != std::string::npos);
}

TEST_CASE("import reports bad rows with line - column and rule - in Chinese or English - as text or JSON", "[cli]") {
  Cli c;
  c.init();
  auto bad = c.file("bad.csv", "村代码,户编号,姓名,身份证号,劳动技能\n522632101001,0001,王小明," + idc("52263219800101001") +
                                   ",普通劳动力\n522632101001,0002,李四,123,普劳\n");
  auto r = c.run({"import", bad, "--store", c.store});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("第 3 行，“身份证号”列") != std::string::npos);
  CHECK(r.err.find("第 3 行，“劳动技能”列") != std::string::npos);
  CHECK(r.err.find("未写入任何数据") != std::string::npos);

  auto en = c.run({"--lang", "en", "import", bad, "--store", c.store});
  CHECK(en.exit_code == 1);
  CHECK(en.err.find("line 3, column \"身份证号\"") != std::string::npos);
  CHECK(en.err.find("nothing was written") != std::string::npos);

  auto js = c.run({"import", bad, "--store", c.store, "--json"});
  CHECK(js.exit_code == 1);
  auto j = nlohmann::json::parse(js.out);
  CHECK(j["ok"] == false);
  CHECK(j["written"] == false);
  bool found = false;
  for (auto& p : j["problems"])
    if (p["line"] == 3 && p["column"] == "劳动技能" && p["rule"] == "person.labour_ability.format") found = true;
  CHECK(found);

  auto dry = c.run({"import", "--dry-run", c.file("ok.csv", kRoster), "--store", c.store, "--json"});
  CHECK(dry.exit_code == 0);
  CHECK(nlohmann::json::parse(dry.out)["written"] == false);
  auto list = c.run({"list", "employed", "--store", c.store, "--json"});
  CHECK(nlohmann::json::parse(list.out)["count"] == 0);
}

TEST_CASE("a wrong or missing passphrase and an unknown collector are user errors", "[cli]") {
  Cli c;
  c.init();
  auto wrong = c.run({"list", "employed", "--store", c.store}, {{"TAIZHANG_PASSPHRASE", "wrong horse"}});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("口令错误") != std::string::npos);
  auto none = c.run({"list", "employed", "--store", c.store}, {{"TAIZHANG_PASSPHRASE", ""}});
  CHECK(none.exit_code == 1);
  CHECK(none.err.find("TAIZHANG_PASSPHRASE") != std::string::npos);
  auto who = c.run({"import", c.file("r.csv", kRoster), "--store", c.store, "--collector", "张三"});
  CHECK(who.exit_code == 1);
  CHECK(who.err.find("张三") != std::string::npos);
  auto missing = c.run({"list", "employed", "--store", (c.dir / "nowhere").string()});
  CHECK(missing.exit_code == 1);
}

TEST_CASE("an import killed at device.import.before_commit leaves the store exactly as before", "[cli][crash]") {
  Cli c;
  c.init();
  CHECK(c.run({"import", c.file("first.csv", kRoster), "--store", c.store}).exit_code == 0);
  std::string before;
  {
    auto s = open_device_store(c.store, "correct horse", tz::test::resources().schema).take();
    before = tz::test::store_digest(*s);
  }
  std::string more = kRoster + "522632101001,0002,张伟," + idc("52263219900101003") + ",户主,13900001111,技能劳动力,失业,,,,,\n";
  auto killed = c.run({"import", c.file("second.csv", more), "--store", c.store},
                      {{"TAIZHANG_CRASH_AT", "device.import.before_commit"}});
  CHECK(killed.signal == SIGKILL);
  {
    auto s = open_device_store(c.store, "correct horse", tz::test::resources().schema).take();
    CHECK(tz::test::store_digest(*s) == before);
  }
  // The same import then goes through completely.
  auto ok = c.run({"import", (c.dir / "second.csv").string(), "--store", c.store, "--json"});
  CHECK(ok.exit_code == 0);
  CHECK(nlohmann::json::parse(ok.out)["persons_created"] == 1);
}

TEST_CASE("list writes an Excel-safe CSV file with --out", "[cli]") {
  Cli c;
  c.init();
  REQUIRE(c.run({"import", c.file("r.csv", kRoster), "--store", c.store}).exit_code == 0);
  std::string out = (c.dir / "employed.csv").string();
  auto r = c.run({"list", "employed", "--format", "csv", "--out", out, "--store", c.store, "--full-ids"});
  CHECK(r.exit_code == 0);
  std::string bytes = tz::test::read_file(out);
  CHECK(bytes.rfind("\xEF\xBB\xBF", 0) == 0);
  CHECK(bytes.find("=\"\"" + idc("52263219800101001")) != std::string::npos);
  CHECK(c.run({"list", "employed", "--format", "pdf", "--store", c.store}).exit_code == 2);
}
