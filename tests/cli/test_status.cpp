// The four clears and `status` on a register whose answers are known by construction, a visit inside
// the period settling 就业状态清 while one in the previous period does not, `status` with no passphrase
// at all, and `validate` grouped by village and collector.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_session.hpp"
#include "tz/model/id_number.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

using tz::test::idc;

// Village 522632101001: 王小明 (all four clear), 李芳 (all four), 张伟 (no status, no willingness).
// Village 522632102001: 老李 (no ID, no labour ability, no status, no willingness), 欧阳娜娜 (lost the
// ability to work: willingness not asked; no status).
std::string roster() {
  return "村代码,户编号,姓名,身份证号,劳动技能,就业状态,务工地域,务工单位,外出意愿\n"
         "522632101001,0001,王小明," + idc("52263219800101001") + ",普通劳动力,已就业,省外,广东某电子厂,\n"
         "522632101001,0001,李芳," + idc("52263219850305002") + ",普通劳动力,未就业,,,有\n"
         "522632101001,0002,张伟," + idc("52263219900101003") + ",技能劳动力,,,,\n"
         "522632102001,0007,老李,,,,,,\n"
         "522632102001,0007,欧阳娜娜," + idc("52263219750720006") + ",丧失劳动力,,,,\n";
}

struct Session : tz::test::CliSession {
  Session() {
    init();
    REQUIRE(run({"import", file("r.csv", roster()), "--store", store}).exit_code == 0);
  }
  nlohmann::json status() const {
    // No passphrase at all: status must not need it.
    auto r = run({"status", "--store", store, "--json"}, {{"TAIZHANG_PASSPHRASE", ""}});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  }
};

nlohmann::json village(const nlohmann::json& s, const std::string& code) {
  for (auto& v : s["villages"])
    if (v["village"] == code) return v;
  FAIL("no village " << code);
  return {};
}

void check_counts(const nlohmann::json& v, int persons, int identity, int labour, int status, int willingness, int all) {
  CHECK(v["persons"] == persons);
  CHECK(v["identity"] == identity);
  CHECK(v["labour"] == labour);
  CHECK(v["status"] == status);
  CHECK(v["willingness"] == willingness);
  CHECK(v["all"] == all);
}

}  // namespace

TEST_CASE("status gives the four clears per village with everyone in scope counted - no passphrase needed", "[cli][status]") {
  Session s;
  auto st = s.status();
  check_counts(village(st, "522632101001"), 3, 3, 3, 2, 2, 2);
  check_counts(village(st, "522632102001"), 2, 1, 1, 0, 1, 0);
  check_counts(st["total"], 5, 4, 4, 2, 3, 2);
  CHECK(st["pending_changes"].get<int>() > 0);
  CHECK(st["period"] == 2026);
  auto text = s.run({"status", "--store", s.store}, {{"TAIZHANG_PASSPHRASE", ""}});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("就业状态清") != std::string::npos);
  CHECK(text.out.find("忠诚社区居民委员会") != std::string::npos);
  CHECK(text.out.find("尚未同步过") != std::string::npos);
}

TEST_CASE("a visit inside the period settles the employment status - one in the previous period does not", "[cli][status]") {
  Session s;
  CHECK(s.run({"add", "visit", "--store", s.store, "--for", idc("52263219900101003"), "--set", "摸查日期=2026-06-01"})
            .exit_code == 0);
  CHECK(s.run({"add", "visit", "--store", s.store, "--for", idc("52263219750720006"), "--set", "摸查日期=2025-12-20"})
            .exit_code == 0);
  auto st = s.status();
  check_counts(village(st, "522632101001"), 3, 3, 3, 3, 2, 2);  // 张伟 now has a known status
  check_counts(village(st, "522632102001"), 2, 1, 1, 0, 1, 0);  // last year's visit does not count
  // Filling in 张伟's willingness completes his four clears.
  CHECK(s.run({"edit", idc("52263219900101003"), "--store", s.store, "--set", "外出意愿=无"}).exit_code == 0);
  check_counts(village(s.status(), "522632101001"), 3, 3, 3, 3, 3, 3);
}

TEST_CASE("validate lists every problem grouped by village and collector", "[cli][status]") {
  Session s;
  CHECK(s.run({"edit", idc("52263219800101001"), "--store", s.store, "--collector", "李强", "--set", "电话=0855-1234567"})
            .exit_code == 0);
  auto r = s.run({"validate", "--store", s.store});
  CHECK(r.exit_code == 0);
  auto b = r.out.find("村代码 522632101001");
  auto c = r.out.find("村代码 522632102001");
  REQUIRE(b != std::string::npos);
  REQUIRE(c != std::string::npos);
  CHECK(r.out.find("采集员 李强", b) < c);  // 王小明's phone, edited by 李强
  CHECK(r.out.find("person.phone.format") != std::string::npos);
  CHECK(r.out.find("未填写身份证号", c) != std::string::npos);  // 老李, village 102001
  auto j = nlohmann::json::parse(s.run({"validate", "--store", s.store, "--json"}).out);
  bool found = false;
  for (auto& p : j["problems"])
    if (p["rule"] == "person.phone.format" && p["collector"] == "李强" && p["village"] == "522632101001") found = true;
  CHECK(found);
}
