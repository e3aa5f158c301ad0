// The collector's day through the real field-cli: the interactive form for each entity driven at its
// prompts (skip logic, re-asks, review and confirm, Ctrl-C, input ending), a field added to the
// schema at test time appearing in the form, --set, edit and show with two collectors, find.
#include <catch2/catch.hpp>

#include <csignal>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "cli_session.hpp"
#include "tz/model/id_number.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

using tz::test::idc;

// A session whose store is initialised.
struct Session : tz::test::CliSession {
  Session() { init(); }
  // add person --set in village 522632101001, with more FIELD=VALUE inputs if given.
  tz::test::ProcessResult add_person(const std::string& hh, const std::string& name, const std::string& id,
                                     const std::vector<std::string>& more = {}) const {
    std::vector<std::string> args{"add", "person", "--store", store, "--set", "村代码=522632101001", "--set",
                                  "户编号=" + hh, "--set", "姓名=" + name, "--set", "身份证号=" + id};
    for (auto& m : more) {
      args.push_back("--set");
      args.push_back(m);
    }
    return run(args);
  }
};

// Answers each prompt with the first unused scripted answer whose label starts the prompt; other
// prompts get an empty answer (skip). Returns the prompts seen, in order.
struct Driven {
  std::vector<std::string> prompts;
  tz::test::ProcessResult result;
  bool asked(const std::string& label) const {
    for (auto& p : prompts)
      if (p.rfind(label, 0) == 0) return true;
    return false;
  }
};

Driven drive(tz::test::Conversation& c, std::vector<std::pair<std::string, std::string>> script,
             const std::string& interrupt_at = {}) {
  Driven d;
  std::vector<bool> used(script.size(), false);
  while (auto prompt = c.next_prompt()) {
    std::string p = *prompt;
    while (!p.empty() && p[0] == ' ') p.erase(0, 1);
    d.prompts.push_back(p);
    if (!interrupt_at.empty() && p.rfind(interrupt_at, 0) == 0) {
      c.interrupt();
      break;
    }
    std::string reply;
    for (size_t i = 0; i < script.size(); ++i)
      if (!used[i] && p.rfind(script[i].first, 0) == 0) {
        reply = script[i].second;
        used[i] = true;
        break;
      }
    c.answer(reply);
  }
  d.result = c.finish();
  return d;
}

FieldId pf(const char* name) { return tz::test::resources().schema.entity(EntityType::person).require(name).id; }

}  // namespace

TEST_CASE("add person: not employed asks willingness and no job - a bad ID is re-asked - confirm saves", "[cli][form]") {
  Session s;
  tz::test::Conversation c(FIELD_CLI_PATH, {"add", "person", "--store", s.store}, s.env);
  std::string id = idc("52263219900101003");
  auto d = drive(c, {{"村代码", "522632101001"},
                     {"户编号", "0001"},
                     {"户主姓名", "张伟"},
                     {"姓名", "张伟"},
                     {"身份证号", "12345"},            // re-asked
                     {"身份证号", id},
                     {"与户主关系", "1"},
                     {"联系电话", "139 0000 1111"},
                     {"劳动技能", "2"},
                     {"就业状态", "3"},                 // 失业
                     {"外出意愿", "1"},                 // 有 → where is asked
                     {"意愿务工地域", "省外"},
                     {"确认保存", "是"}});
  CHECK(d.result.exit_code == 0);
  CHECK(d.asked("外出意愿"));
  CHECK(d.asked("意愿务工地域"));
  CHECK_FALSE(d.asked("现在录入当前务工经历"));
  CHECK(d.result.out.find("身份证号“12345”无效") != std::string::npos);
  CHECK(d.result.out.find("已保存") != std::string::npos);
  auto store = s.open();
  auto p = store->get(store->natural_keys().person(id));
  REQUIRE(p);
  CHECK(p->value_or(pf("name")) == "张伟");
  CHECK(p->value_or(pf("phone")) == "13900001111");
  CHECK(p->value_or(pf("declared_status")) == "2026:03");
  CHECK(p->value_or(pf("willing_where")) == "3");
  CHECK(p->fields.at(pf("name")).live[0].collector == "王芳");
  CHECK(store->entity_count(EntityType::household) == 1);
}

TEST_CASE("add person: employed skips willingness and enters the job in the same save", "[cli][form]") {
  Session s;
  tz::test::Conversation c(FIELD_CLI_PATH, {"add", "person", "--store", s.store, "--collector", "李强"}, s.env);
  std::string id = idc("52263219800101001");
  auto d = drive(c, {{"村代码", "522632101001"},
                     {"户编号", "0002"},
                     {"姓名", "王小明"},
                     {"身份证号", id},
                     {"劳动技能", "1"},
                     {"就业状态", "已就业"},
                     {"现在录入当前务工经历", "是"},
                     {"务工开始年月", "2026-02"},
                     {"务工地域", "3"},
                     {"务工单位", "广东某电子厂"},
                     {"月收入", "4500"},
                     {"确认保存", ""}});  // default: yes
  CHECK(d.result.exit_code == 0);
  CHECK_FALSE(d.asked("外出意愿"));
  CHECK(d.asked("务工单位"));
  auto store = s.open();
  CHECK(store->entity_count(EntityType::job) == 1);
  auto pid = store->natural_keys().person(id);
  CHECK(store->get(pid)->fields.at(pf("name")).live[0].collector == "李强");
  // The list sees the job.
  auto list = s.run({"list", "employed", "--store", s.store, "--json"});
  auto j = nlohmann::json::parse(list.out);
  REQUIRE(j["count"] == 1);
  CHECK(j["rows"][0]["务工单位"] == "广东某电子厂");
}

TEST_CASE("answering no at the review saves nothing - the input ending mid-form saves nothing", "[cli][form]") {
  Session s;
  {
    tz::test::Conversation c(FIELD_CLI_PATH, {"add", "household", "--store", s.store}, s.env);
    auto d = drive(c, {{"村代码", "522632101001"}, {"户编号", "0009"}, {"户主姓名", "李四"}, {"确认保存", "否"}});
    CHECK(d.result.exit_code == 1);
  }
  auto partial = s.run({"add", "person", "--store", s.store}, {}, "522632101001\n0009\n");
  CHECK(partial.exit_code == 1);
  CHECK(partial.out.find("未保存") != std::string::npos);
  auto store = s.open();
  CHECK(store->info().next_seq == 1);
  CHECK(store->entity_count(EntityType::household) == 0);
}

TEST_CASE("Ctrl-C in the middle of the form leaves nothing half-saved", "[cli][form]") {
  Session s;
  std::string before = tz::test::store_digest(*s.open());
  tz::test::Conversation c(FIELD_CLI_PATH, {"add", "person", "--store", s.store}, s.env);
  auto d = drive(c, {{"村代码", "522632101001"}, {"户编号", "0003"}, {"姓名", "赵六"}, {"身份证号", idc("52263219950505003")}},
                 "劳动技能");
  CHECK(d.result.exit_code == 130);
  CHECK(d.result.out.find("未保存") != std::string::npos);
  CHECK(tz::test::store_digest(*s.open()) == before);
}

TEST_CASE("add job and add visit ask for whom - a visit defaults to today and a home visit", "[cli][form]") {
  Session s;
  std::string id = idc("52263219900101003");
  REQUIRE(s.add_person("0001", "张伟", id, {"劳动技能=普通劳动力"})
              .exit_code == 0);
  {
    tz::test::Conversation c(FIELD_CLI_PATH, {"add", "job", "--store", s.store}, s.env);
    auto d = drive(c, {{"务工人员", id}, {"务工开始年月", "2026-05"}, {"务工地点", "440300"}, {"务工单位", "深圳某厂"}, {"确认保存", "是"}});
    CHECK(d.result.exit_code == 0);
    CHECK(d.result.out.find("张伟") != std::string::npos);  // the person is shown before the job form
  }
  {
    tz::test::Conversation c(FIELD_CLI_PATH, {"add", "visit", "--store", s.store}, s.env);
    auto d = drive(c, {{"摸查对象", "522632101001/0001"}, {"摸查情况", "全家在家"}, {"确认保存", "是"}});
    CHECK(d.result.exit_code == 0);
    bool default_shown = false;
    for (auto& p : d.prompts)
      if (p.rfind("摸查日期", 0) == 0 && p.find("[2026-11-01]") != std::string::npos) default_shown = true;
    CHECK(default_shown);
  }
  auto household = s.run({"show", "522632101001/0001", "--store", s.store});
  CHECK(household.out.find("成员：张伟") != std::string::npos);
  auto store = s.open();
  CHECK(store->entity_count(EntityType::job) == 1);
  CHECK(store->entity_count(EntityType::visit) == 1);
  const auto& vs = tz::test::resources().schema.entity(EntityType::visit);
  store->scan(EntityType::visit, [&](EntityRow&& r) {
    CHECK(r.entity.value_or(vs.require("date").id) == "2026-11-01");
    CHECK(r.entity.value_or(vs.require("method").id) == "01");
    CHECK(r.entity.value_or(vs.require("visitor").id) == "王芳");
  });
}

TEST_CASE("a field added to the schema only at test time appears in the form", "[cli][form]") {
  Session s;
  TempDir sdir;
  tz::test::schemas_with_field(sdir, "person.json", "    {\"id\": 22,",
                               "    {\"id\": 40, \"name\": \"wechat\", \"type\": \"text\", \"label_zh\": \"微信号\", \"label_en\": \"WeChat\"}");
  auto env = s.env;
  env["TAIZHANG_SCHEMA_DIR"] = sdir.path().string();
  tz::test::Conversation c(FIELD_CLI_PATH, {"add", "person", "--store", s.store}, env);
  auto d = drive(c, {{"村代码", "522632101001"}, {"户编号", "0001"}, {"姓名", "张伟"}, {"身份证号", idc("52263219900101003")},
                     {"微信号", "zw1990"}, {"确认保存", "是"}});
  CHECK(d.result.exit_code == 0);
  CHECK(d.asked("微信号"));
  auto show = s.run({"show", idc("52263219900101003"), "--store", s.store}, {{"TAIZHANG_SCHEMA_DIR", sdir.path().string()}});
  CHECK(show.out.find("微信号：zw1990") != std::string::npos);
}

TEST_CASE("edit with --set by two collectors - show lists live versions - who and when - and the history", "[cli]") {
  Session s;
  std::string id = idc("52263219900101003");
  REQUIRE(s.add_person("0001", "张伟", id, {"phone=13900001111"})
              .exit_code == 0);
  auto later = std::to_string(tz::test::kNowMs + 3600 * 1000);
  auto e = s.run({"edit", id, "--store", s.store, "--collector", "李强", "--set", "联系电话=13900002222", "--set",
                  "外出意愿=有"},
                 {{"TAIZHANG_CLOCK_MS", later}});
  CHECK(e.exit_code == 0);
  CHECK(s.run({"edit", id, "--store", s.store, "--set", "劳动技能=高手"}).exit_code == 1);  // refused, named
  CHECK(s.run({"edit", id, "--store", s.store, "--set", "不存在的项=1"}).exit_code == 1);
  auto show = s.run({"show", id, "--store", s.store});
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("联系电话：13900002222") != std::string::npos);
  CHECK(show.out.find("李强 于 2026-11-01 13:00") != std::string::npos);
  CHECK(show.out.find("王芳 于 2026-11-01 12:00") != std::string::npos);
  CHECK(show.out.find("联系电话 = 13900001111") != std::string::npos);  // history keeps the old value
  CHECK(show.out.find("联系电话 = 13900002222") != std::string::npos);
  CHECK(show.out.find("522632********") != std::string::npos);
  CHECK(show.out.find("文化程度：（未填写）") != std::string::npos);  // every field, filled in or not
  auto js = nlohmann::json::parse(s.run({"show", id, "--store", s.store, "--json"}).out);
  bool phone_by_li = false;
  for (auto& f : js["fields"])
    if (f["field"] == "phone") phone_by_li = f["versions"][0]["collector"] == "李强";
  CHECK(phone_by_li);
  CHECK(js["history"].size() == 6);  // name, ID, phone, household; then phone and willingness
}

TEST_CASE("find by name substring - pinyin - ID number and phone", "[cli]") {
  Session s;
  auto add = [&](const std::string& hh, const std::string& name, const std::string& id, const std::string& phone) {
    REQUIRE(s.add_person(hh, name, id, {"电话=" + phone})
                .exit_code == 0);
  };
  add("0001", "张伟", idc("52263219900101003"), "13900001111");
  add("0002", "章伟", idc("52263219910202004"), "13900002222");
  add("0003", "李秀英", idc("52263219850303005"), "13900003333");
  auto names = [&](const std::string& q) {
    auto j = nlohmann::json::parse(s.run({"find", q, "--store", s.store, "--json"}).out);
    std::set<std::string> out;
    for (auto& r : j["results"]) out.insert(r["name"].get<std::string>());
    return out;
  };
  CHECK(names("秀") == std::set<std::string>{"李秀英"});
  CHECK(names("张伟") == std::set<std::string>{"张伟", "章伟"});  // 同音字 by pinyin
  CHECK(names("zhangwei") == std::set<std::string>{"张伟", "章伟"});
  CHECK(names("lxy") == std::set<std::string>{"李秀英"});
  CHECK(names(idc("52263219910202004")) == std::set<std::string>{"章伟"});
  CHECK(names("139-0000-3333") == std::set<std::string>{"李秀英"});
  CHECK(names("王").empty());
  auto table = s.run({"find", "伟", "--store", s.store});
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("522632********") != std::string::npos);
}

TEST_CASE("add household: relocated asks the resettlement questions - not relocated skips them", "[cli][form]") {
  Session s;
  {
    tz::test::Conversation c(FIELD_CLI_PATH, {"add", "household", "--store", s.store}, s.env);
    auto d = drive(c, {{"村代码", "522632101001"}, {"户编号", "0021"}, {"户主姓名", "吴明"}, {"易地扶贫搬迁", "1"},
                       {"安置方式", "集中安置"}, {"安置点", "城北安置点"}, {"确认保存", "是"}});
    CHECK(d.result.exit_code == 0);
    CHECK(d.asked("安置方式"));
    CHECK(d.asked("安置点"));
  }
  {
    tz::test::Conversation c(FIELD_CLI_PATH, {"add", "household", "--store", s.store}, s.env);
    auto d = drive(c, {{"村代码", "522632101001"}, {"户编号", "0022"}, {"户主姓名", "杨芳"}, {"易地扶贫搬迁", "否"},
                       {"确认保存", "是"}});
    CHECK(d.result.exit_code == 0);
    CHECK_FALSE(d.asked("安置方式"));
  }
  auto store = s.open();
  CHECK(store->entity_count(EntityType::household) == 2);
  auto hh = store->get(store->natural_keys().household("522632101001", "0021"));
  REQUIRE(hh);
  const auto& hs = tz::test::resources().schema.entity(EntityType::household);
  CHECK(hh->value_or(hs.require("relocation_mode").id) == "01");
  CHECK(hh->value_or(hs.require("relocation_site").id) == "城北安置点");
}

TEST_CASE("a life event is a status change: the person stays on record but leaves the labour count", "[cli]") {
  Session s;
  std::string id = idc("52263219900101003");
  REQUIRE(s.add_person("0001", "张伟", id, {"劳动技能=普通劳动力", "就业状态=未就业"})
              .exit_code == 0);
  auto count = [&](const char* kind) {
    return nlohmann::json::parse(s.run({"list", kind, "--store", s.store, "--json"}).out)["count"].get<int>();
  };
  CHECK(count("unemployed") == 1);
  CHECK(s.run({"edit", id, "--store", s.store, "--set", "人员变更=迁出", "--set", "变更日期=2026-09-01"}).exit_code == 0);
  CHECK(count("unemployed") == 0);
  auto show = s.run({"show", id, "--store", s.store});
  CHECK(show.out.find("人员变更：迁出") != std::string::npos);
  CHECK(show.out.find("姓名：张伟") != std::string::npos);  // never deleted
  // A date in the future is refused and nothing changes.
  CHECK(s.run({"edit", id, "--store", s.store, "--set", "变更日期=2027-01-01"}).exit_code == 1);
}

TEST_CASE("add person with an ID already registered edits that person in place and keeps the household", "[cli][form]") {
  Session s;
  std::string id = idc("52263219900101003");
  REQUIRE(s.add_person("0001", "张伟", id, {"劳动技能=普通劳动力"})
              .exit_code == 0);
  tz::test::Conversation c(FIELD_CLI_PATH, {"add", "person", "--store", s.store}, s.env);
  auto d = drive(c, {{"村代码", "522632101001"}, {"户编号", "0099"}, {"户主姓名", "别人"}, {"姓名", "张三"}, {"身份证号", id},
                     {"继续将修改此人的记录", "是"}, {"姓名", ""},  // Enter keeps 张伟
                     {"联系电话", "13900009999"}, {"确认保存", "是"}});
  CHECK(d.result.exit_code == 0);
  CHECK(d.result.out.find("该身份证号已登记") != std::string::npos);
  auto store = s.open();
  auto p = store->get(store->natural_keys().person(id));
  REQUIRE(p);
  CHECK(p->value_or(pf("name")) == "张伟");
  CHECK(p->value_or(pf("phone")) == "13900009999");
  CHECK(p->value_or(pf("household_id")) == store->natural_keys().household("522632101001", "0001").hex());
  CHECK_FALSE(store->get(store->natural_keys().household("522632101001", "0099")).has_value());
}

TEST_CASE("range and cross-field rules are checked at the field and asked again", "[cli][form]") {
  Session s;
  std::string id = idc("52263219800101001");
  REQUIRE(s.add_person("0001", "王小明", id)
              .exit_code == 0);
  tz::test::Conversation c(FIELD_CLI_PATH, {"add", "job", "--store", s.store, "--for", id}, s.env);
  auto d = drive(c, {{"务工开始年月", "2026-03"},
                     {"务工结束年月", "2026-01"},  // before the start: asked again
                     {"务工结束年月", "2026-06"},
                     {"务工月数", "13"},           // outside 0–12: asked again
                     {"务工月数", "4"},
                     {"务工单位", "某厂"},
                     {"月收入", "-3"},             // refused by the format (a negative amount) or the range
                     {"月收入", "3000"},
                     {"确认保存", "是"}});
  CHECK(d.result.exit_code == 0);
  CHECK(d.result.out.find("早于务工开始年月") != std::string::npos);
  CHECK(d.result.out.find("不在 0–12 之内") != std::string::npos);
  auto store = s.open();
  const auto& js = tz::test::resources().schema.entity(EntityType::job);
  int jobs = 0;
  store->scan(EntityType::job, [&](EntityRow&& r) {
    ++jobs;
    CHECK(r.entity.value_or(js.require("end_month").id) == "2026-06");
    CHECK(r.entity.value_or(js.require("months_in_period").id) == "4");
    CHECK(r.entity.value_or(js.require("monthly_income").id) == "3000");
  });
  CHECK(jobs == 1);
}

TEST_CASE("edit refuses an ID that another person already has", "[cli]") {
  Session s;
  std::string a = idc("52263219900101003"), b = idc("52263219910202004");
  for (auto& [hh, name, id] : std::vector<std::tuple<std::string, std::string, std::string>>{{"0001", "张伟", a}, {"0002", "章伟", b}})
    REQUIRE(s.add_person(hh, name, id)
                .exit_code == 0);
  auto r = s.run({"edit", b, "--store", s.store, "--set", "身份证号=" + a});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("已登记在“张伟”名下") != std::string::npos);
  auto store = s.open();
  CHECK(store->get(store->natural_keys().person(b))->value_or(pf("id_number")) == b);
}

TEST_CASE("a field left empty that a warning rule wants is flagged at once but does not block", "[cli][form]") {
  Session s;
  tz::test::Conversation c(FIELD_CLI_PATH, {"add", "person", "--store", s.store}, s.env);
  auto d = drive(c, {{"村代码", "522632101001"}, {"户编号", "0031"}, {"姓名", "老李"}, {"身份证号", ""}, {"确认保存", "是"}});
  CHECK(d.result.exit_code == 0);
  auto after_id = d.result.out.find("身份证号：");
  REQUIRE(after_id != std::string::npos);
  CHECK(d.result.out.find("! 未填写身份证号", after_id) != std::string::npos);
  CHECK(s.open()->entity_count(EntityType::person) == 1);
}
