// field-cli conflicts / resolve / notices through the real binary: a conflict that sync would bring
// (another device's concurrent edit merged into the store), listed, resolved by pick and by value, and
// the county's notices in both languages.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "../sync/server_fixture.hpp"
#include "cli_session.hpp"
#include "tz/ops/conflicts.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/rekey.hpp"
#include "tz/sync/transport.hpp"

using namespace tz;
using tz::test::idc;
using Cli = tz::test::CliSession;
using nlohmann::json;

namespace {

const std::string kId = idc("52263219800101001");
const std::string kRoster =
    "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能\n"
    "522632101001,0001,王小明," + kId + ",户主,13812345678,普通劳动力\n";

FieldId fid(EntityType t, const char* name) { return tz::test::resources().schema.entity(t).require(name).id; }

// The store after import, with another collector's concurrent phone edit merged in (as a pull does).
EntityId with_conflict(const Cli& c, const std::string& other_phone = "13900000000", uint64_t seq = 1) {
  auto s = c.open();
  EntityId pid = s->natural_keys().person(kId);
  ops::Editor ed(*s, {"王芳", tz::test::kNowMs});
  auto st = *ed.state(pid);
  FieldChange ch;
  ch.type = EntityType::person;
  ch.entity = pid;
  ch.field = fid(EntityType::person, "phone");
  ch.value = other_phone;
  ch.version = VersionId{DeviceId::from_bytes(std::string(16, '\x7f')), Seq{seq}};
  ch.ts = Hlc{tz::test::kNowMs + 5000, 0};  // later: shown provisionally
  ch.collector = "张三";
  ch.device_ms = tz::test::kNowMs + 5000;
  merge_apply(st, ch);
  ed.put_state(st);
  REQUIRE(ed.commit().ok());
  return pid;
}

void setup(const Cli& c) {
  c.init();
  REQUIRE(c.run({"import", c.file("r.csv", kRoster), "--store", c.store}).exit_code == 0);
}

}  // namespace

TEST_CASE("conflicts lists each value with who set it and resolve picks one", "[cli][review]") {
  Cli c;
  setup(c);
  auto none = c.run({"conflicts", "--store", c.store});
  CHECK(none.exit_code == 0);
  CHECK(none.out.find("没有冲突") != std::string::npos);
  EntityId pid = with_conflict(c);

  auto j = c.run({"--json", "conflicts", "--store", c.store});
  REQUIRE(j.exit_code == 0);
  auto doc = json::parse(j.out);
  REQUIRE(doc["count"] == 1);
  auto& conf = doc["conflicts"][0];
  CHECK(conf["id"] == pid.hex());
  CHECK(conf["field"] == "phone");
  CHECK(conf["label"] == "联系电话");
  REQUIRE(conf["versions"].size() == 2);
  CHECK(conf["versions"][0]["number"] == 1);
  CHECK(conf["versions"][0]["value"] == "13900000000");
  CHECK(conf["versions"][0]["collector"] == "张三");
  CHECK(conf["versions"][0]["shown"] == true);
  CHECK(conf["versions"][1]["value"] == "13812345678");
  CHECK(conf["versions"][1]["collector"] == "王芳");
  // IDs masked unless asked.
  CHECK(conf["record"].get<std::string>().find(kId) == std::string::npos);
  CHECK(conf["record"].get<std::string>().find("********") != std::string::npos);
  // Whom it concerns, as sync-server lists it too, and the region filter.
  CHECK_FALSE(conf["person_name"].get<std::string>().empty());
  CHECK(conf["id_number"].get<std::string>().find("********") != std::string::npos);
  const std::string village = conf["village"];
  auto in_region = [&](const std::string& code) {
    return json::parse(c.run({"conflicts", "--json", "--region", code, "--store", c.store}).out)["count"];
  };
  CHECK(in_region(village) == 1);
  CHECK(in_region(village.substr(0, 6)) == 1);
  CHECK(in_region("522632999") == 0);
  auto full = c.run({"conflicts", "--store", c.store, "--full-ids"});
  CHECK(full.out.find(kId) != std::string::npos);

  auto zh = c.run({"conflicts", "--store", c.store});
  CHECK(zh.exit_code == 0);
  CHECK(zh.out.find("联系电话") != std::string::npos);
  CHECK(zh.out.find("1* 13900000000") != std::string::npos);
  CHECK(zh.out.find("张三") != std::string::npos);
  auto en = c.run({"conflicts", "--lang", "en", "--store", c.store});
  CHECK(en.out.find("conflicts") != std::string::npos);
  CHECK(en.out.find("Phone") != std::string::npos);

  // Usage and user errors.
  CHECK(c.run({"resolve", kId, "联系电话", "--store", c.store}).exit_code == 2);
  CHECK(c.run({"resolve", kId, "--pick", "1", "--store", c.store}).exit_code == 2);
  CHECK(c.run({"resolve", kId, "联系电话", "--pick", "1", "--value", "x", "--store", c.store}).exit_code == 2);
  auto bad_version = c.run({"resolve", kId, "联系电话", "--pick", "7", "--store", c.store});
  CHECK(bad_version.exit_code == 1);
  CHECK(bad_version.err.find("7") != std::string::npos);
  auto no_conflict = c.run({"resolve", kId, "姓名", "--pick", "1", "--store", c.store, "--lang", "en"});
  CHECK(no_conflict.exit_code == 1);
  CHECK(no_conflict.err.find("no conflict") != std::string::npos);
  CHECK(c.run({"resolve", kId, "no_such_field", "--pick", "1", "--store", c.store}).exit_code == 1);
  CHECK(c.run({"resolve", idc("52263219900101003"), "phone", "--pick", "1", "--store", c.store}).exit_code == 1);

  // By the ID number and the Chinese label, options after the words; picking the older value.
  auto r = c.run({"resolve", kId, "联系电话", "--pick", "2", "--store", c.store, "--collector", "李强", "--json"});
  REQUIRE(r.exit_code == 0);
  auto rj = json::parse(r.out);
  CHECK(rj["value"] == "13812345678");
  CHECK(rj["replaced"].size() == 2);
  CHECK(rj["collector"] == "李强");
  CHECK(json::parse(c.run({"conflicts", "--json", "--store", c.store}).out)["count"] == 0);
  auto s = c.open();
  auto p = s->get(pid);
  REQUIRE(p->fields.at(fid(EntityType::person, "phone")).live.size() == 1);
  CHECK(p->fields.at(fid(EntityType::person, "phone")).live[0].value == "13812345678");
  CHECK(p->fields.at(fid(EntityType::person, "phone")).live[0].collector == "李强");
}

TEST_CASE("resolve takes a new value by schema name and the record id", "[cli][review]") {
  Cli c;
  setup(c);
  EntityId pid = with_conflict(c);
  auto r = c.run({"--store", c.store, "resolve", pid.hex(), "phone", "--value", "137 0000 0000"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("已解决") != std::string::npos);
  CHECK(r.out.find("13700000000") != std::string::npos);
  CHECK(c.run({"conflicts", "--store", c.store}).out.find("没有冲突") != std::string::npos);
  // A version id (as `conflicts --json` shows it) works for --pick too.
  with_conflict(c, "13600000000", 2);
  auto doc = json::parse(c.run({"conflicts", "--json", "--store", c.store}).out);
  REQUIRE(doc["count"] == 1);
  std::string version = doc["conflicts"][0]["versions"][0]["version"];
  auto byid = c.run({"resolve", pid.hex(), "Phone", "--pick", version, "--store", c.store, "--json"});
  REQUIRE(byid.exit_code == 0);
  CHECK(json::parse(byid.out)["value"] == "13600000000");
}

TEST_CASE("notices shows what the county quarantined in Chinese or English", "[cli][review]") {
  Cli c;
  setup(c);
  auto empty = c.run({"notices", "--store", c.store});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out.find("没有通知") != std::string::npos);
  {
    auto s = c.open();
    EntityId pid = s->natural_keys().person(kId);
    WriteBatch b;
    b.notices.push_back(tz::test::notice_on_own_change(*s, pid, fid(EntityType::person, "phone"), 12, "该户不在本设备的摸查范围内",
                                                       "the household is outside this device's scope"));
    b.clock = s->clock();
    REQUIRE(s->write(b).ok());
  }
  auto zh = c.run({"notices", "--store", c.store});
  REQUIRE(zh.exit_code == 0);
  CHECK(zh.out.find("已隔离") != std::string::npos);
  CHECK(zh.out.find("王小明") != std::string::npos);
  CHECK(zh.out.find("联系电话 = 13812345678") != std::string::npos);
  CHECK(zh.out.find("摸查范围") != std::string::npos);
  CHECK(zh.out.find(kId) == std::string::npos);
  auto en = c.run({"--lang", "en", "notices", "--store", c.store});
  CHECK(en.out.find("quarantined for review") != std::string::npos);
  CHECK(en.out.find("outside this device's scope") != std::string::npos);
  auto j = json::parse(c.run({"notices", "--store", c.store, "--json"}).out);
  REQUIRE(j["count"] == 1);
  CHECK(j["notices"][0]["kind"] == "quarantined");
  CHECK(j["notices"][0]["field"] == "phone");
  CHECK(j["notices"][0]["value"] == "13812345678");
  // Wrong usage and a wrong passphrase.
  CHECK(c.run({"notices", "extra", "--store", c.store}).exit_code == 2);
  CHECK(c.run({"notices", "--pick", "1", "--store", c.store}).exit_code == 2);
  CHECK(c.run({"notices", "--store", c.store}, {{"TAIZHANG_PASSPHRASE", "wrong one!"}}).exit_code == 1);
}

TEST_CASE("a store re-keyed before its first push merges with the county and its conflict is resolved", "[cli][review][rekey]") {
  // Device a has the county secret from the start; b imported the same roster under a local secret,
  // changed a phone, and is re-keyed at enrolment. After syncing, the two are one person with a
  // conflict on the phone, which b's collector lists and resolves with field-cli; a receives it.
  const std::string county_secret(32, 'c');
  tz::test::ServerFixture f;
  sync::LoopbackTransport net(*f.server);
  Cli ca, cb;
  auto a = tz::test::make_store(ca.store, county_secret);
  auto b = tz::test::make_store(cb.store, std::string(32, 'l'));
  REQUIRE(ops::import_roster(*a, kRoster, tz::test::import_env()).take().written);
  REQUIRE(ops::import_roster(*b, kRoster, tz::test::import_env(nullptr, "李强")).take().written);
  {
    ops::Editor ed(*b, {"李强", tz::test::kNowMs + 1000});
    Entity* p = ed.find(b->natural_keys().person(kId));
    REQUIRE(p);
    ed.set(*p, fid(EntityType::person, "phone"), "13500000000");
    REQUIRE(ed.commit().ok());
  }
  REQUIRE(ops::rekey_store(*b, county_secret).ok());
  const sync::Scope scope{tz::test::kTownship};
  REQUIRE(f.server->register_device(a->info().device, scope));
  REQUIRE(f.server->register_device(b->info().device, scope));
  auto sync_ok = [&](DeviceStore& s) {
    ops::DeviceSync ds(s, net, [&] { return f.now; });
    auto r = ds.sync();
    if (!r) FAIL(r.error().message(Lang::en));
  };
  for (int round = 0; round < 2; ++round) {
    sync_ok(*a);
    sync_ok(*b);
  }
  CHECK(ops::device_scope_digest(*a, scope) == f.server->scope_digest(scope));
  CHECK(ops::device_scope_digest(*b, scope) == f.server->scope_digest(scope));
  CHECK(a->entity_count(EntityType::person) == 1);
  CHECK(b->entity_count(EntityType::person) == 1);
  CHECK(a->entity_count(EntityType::household) == 1);
  EntityId pid = a->natural_keys().person(kId);
  CHECK(b->natural_keys().person(kId) == pid);
  REQUIRE(ops::list_conflicts(*a).size() == 1);
  b.reset();

  auto doc = json::parse(cb.run({"conflicts", "--json", "--store", cb.store}).out);
  REQUIRE(doc["count"] == 1);
  CHECK(doc["conflicts"][0]["id"] == pid.hex());
  CHECK(doc["conflicts"][0]["field"] == "phone");
  REQUIRE(doc["conflicts"][0]["versions"].size() == 2);
  int pick = 0;
  for (auto& v : doc["conflicts"][0]["versions"])
    if (v["value"] == "13500000000") pick = v["number"];
  REQUIRE(pick > 0);
  auto r = cb.run({"resolve", kId, "联系电话", "--pick", std::to_string(pick), "--store", cb.store, "--collector", "李强"});
  REQUIRE(r.exit_code == 0);
  b = cb.open();
  CHECK(ops::list_conflicts(*b).empty());
  sync_ok(*b);
  sync_ok(*a);
  CHECK(ops::list_conflicts(*a).empty());
  CHECK(a->get(pid)->value_or(fid(EntityType::person, "phone")) == "13500000000");
  CHECK(ops::device_scope_digest(*a, scope) == f.server->scope_digest(scope));
  CHECK(ops::device_scope_digest(*b, scope) == f.server->scope_digest(scope));
}

TEST_CASE("edit add and import refuse the review decision fields in Chinese or English and write nothing", "[cli][review]") {
  Cli c;
  setup(c);
  const uint64_t seq_before = c.open()->info().next_seq;
  const std::string person_zh = "“审核结论”只能由县审核人员设定", person_en = "\"Review decision\" can only be set by the county's reviewers";
  const std::string hh_zh = "“户审核结论”只能由县审核人员设定";

  // edit, by label, schema name and in English; the household's field by its own label.
  auto zh = c.run({"edit", kId, "--store", c.store, "--set", "审核结论=approve:" + std::string(32, '0') + ":1"});
  CHECK(zh.exit_code == 1);
  CHECK(zh.err.find(person_zh) != std::string::npos);
  auto en = c.run({"--lang", "en", "edit", kId, "--store", c.store, "--set", "review=return:x"});
  CHECK(en.exit_code == 1);
  CHECK(en.err.find(person_en) != std::string::npos);
  auto hh = c.run({"edit", "522632101001/0001", "--store", c.store, "--set", "户审核结论=approve:x"});
  CHECK(hh.exit_code == 1);
  CHECK(hh.err.find(hh_zh) != std::string::npos);
  // Beside an acceptable value: the whole edit is refused.
  CHECK(c.run({"edit", kId, "--store", c.store, "--set", "联系电话=13900000001", "--set", "审核结论=x"}).exit_code == 1);
  // add
  auto add = c.run({"add", "person", "--store", c.store, "--set", "村代码=522632101001", "--set", "户编号=0002", "--set",
                    "姓名=李四", "--set", "审核结论=approve:x"});
  CHECK(add.exit_code == 1);
  CHECK(add.err.find(person_zh) != std::string::npos);

  // import: the column is refused whole, named with its line.
  auto roster = c.file("rv.csv", "村代码,户编号,姓名,审核结论\n522632101001,0003,赵五,approve:x\n");
  auto iz = c.run({"import", roster, "--store", c.store});
  CHECK(iz.exit_code == 1);
  CHECK(iz.err.find("第 1 行，“审核结论”列") != std::string::npos);
  CHECK(iz.err.find(person_zh) != std::string::npos);
  CHECK(iz.err.find("未写入任何数据") != std::string::npos);
  auto ie = c.run({"--lang", "en", "import", roster, "--store", c.store});
  CHECK(ie.exit_code == 1);
  CHECK(ie.err.find(person_en) != std::string::npos);
  CHECK(ie.err.find("nothing was written") != std::string::npos);

  // Nothing written: no change made, the review field still empty, the phone as imported.
  auto s = c.open();
  CHECK(s->info().next_seq == seq_before);
  auto p = s->get(s->natural_keys().person(kId));
  REQUIRE(p);
  CHECK(p->value_or(fid(EntityType::person, "review")).empty());
  CHECK(p->value_or(fid(EntityType::person, "phone")) == "13812345678");
  CHECK(!s->get_row(s->natural_keys().household("522632101001", "0003")));
}
