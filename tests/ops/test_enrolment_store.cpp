// What enrolment changes in a device store: the device identity sealed at rest, the data key for
// escrow, re-keying a store used before enrolment to the county secret, the county's configuration
// applied, and the collector's conflicts and notices.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <csignal>
#include <map>
#include <set>

#include "process.hpp"
#include "roster_gen.hpp"
#include "store_fixture.hpp"
#include "tz/crypto/natural_keys.hpp"
#include "tz/ops/config.hpp"
#include "tz/ops/conflicts.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/rekey.hpp"
#include "tz/ops/status.hpp"

using namespace tz;
using tz::test::idc;
using tz::test::TempDir;

namespace {

const std::string kSecretA(32, 'a'), kSecretB(32, 'b');

// Two households, a person without an ID, roster jobs.
const std::string kRoster =
    "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态,务工地域,务工单位,务工开始年月,务工月数,月收入\n"
    "522632101001,0001,王小明," + idc("52263219800101001") + ",户主,13812345678,普通劳动力,已就业,省外,广东某电子厂,2026-02,8,4500\n"
    "522632101001,0001,李芳," + idc("52263219850305002") + ",配偶,,普通劳动力,未就业,,,,,\n"
    "522632101001,0002,张伟,,户主,13900001111,技能劳动力,已就业,县内,榕江县扶贫车间,2026-03,6,2200\n";

FieldId fid(EntityType t, const char* name) { return tz::test::resources().schema.entity(t).require(name).id; }

// Entity id -> type and shown values: what a user sees, independent of who made the changes.
std::map<std::string, std::string> shown(const DeviceStore& s) {
  std::map<std::string, std::string> out;
  s.scan(std::nullopt, [&](EntityRow&& r) {
    std::string t = std::to_string(static_cast<int>(r.entity.type)) + "|" + r.village + "|" +
                    (r.parent ? r.parent->hex() : "-") + "|" + std::to_string(r.flags);
    for (auto& [f, fv] : r.entity.fields)
      if (auto* v = fv.shown()) t += "|" + std::to_string(f) + "=" + v->value;
    out[r.entity.id.hex()] = t;
  });
  return out;
}

std::set<std::string> logged_entities(const DeviceStore& s) {
  std::set<std::string> out;
  for (auto& c : s.changes_after(0)) out.insert(c.entity.hex());
  return out;
}

std::set<std::string> ids_of(const std::map<std::string, std::string>& m) {
  std::set<std::string> out;
  for (auto& [k, _] : m) out.insert(k);
  return out;
}

}  // namespace

TEST_CASE("the device identity is sealed at rest and survives reopening", "[ops][enrol]") {
  TempDir dir;
  DeviceIdentity id{crypto::random_bytes(32), crypto::random_bytes(32), crypto::random_bytes(32), crypto::random_bytes(32),
                    "https://county.example:8443", crypto::random_bytes(32), crypto::random_bytes(32),
                    {"522632101", "522632102001"}};
  {
    auto s = tz::test::make_store(dir.path());
    CHECK_FALSE(s->enrolled());
    CHECK_FALSE(s->identity());
    CHECK(s->escrow_data_key().size() == 32);
    REQUIRE(s->set_identity(id).ok());
    CHECK(s->identity() == id);
  }
  auto again = open_device_store(dir.path(), "correct horse", tz::test::resources().schema).take();
  CHECK(again->enrolled());
  REQUIRE(again->identity());
  CHECK(*again->identity() == id);
  auto first_key = again->escrow_data_key();
  CHECK(first_key.size() == 32);
  auto locked = open_device_store_locked(dir.path(), tz::test::resources().schema).take();
  CHECK(locked->enrolled());
  CHECK_FALSE(locked->identity());
  CHECK(locked->escrow_data_key().empty());
  CHECK(locked->set_identity(id).error().code() == ErrorCode::wrong_passphrase);
  // Nothing secret in the file: neither private key nor the data key appears in any file of the store.
  again.reset();
  locked.reset();
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    std::string bytes = tz::test::read_file(e.path());
    CHECK(bytes.find(id.sign_priv) == std::string::npos);
    CHECK(bytes.find(id.box_priv) == std::string::npos);
    CHECK(bytes.find(first_key) == std::string::npos);
    CHECK(bytes.find(id.server_url) == std::string::npos);
  }
}

TEST_CASE("a store re-keyed to the county secret has the ids and values of one keyed from the start", "[ops][rekey]") {
  TempDir da, db;
  auto a = tz::test::make_store(da.path(), kSecretA);
  auto b = tz::test::make_store(db.path(), kSecretB);
  REQUIRE(ops::import_roster(*a, kRoster, tz::test::import_env()).take().written);
  REQUIRE(ops::import_roster(*b, kRoster, tz::test::import_env(nullptr, "李强")).take().written);
  // A visit (random id) naming a keyed person, made on b.
  EntityId visit = crypto::random_entity_id();
  EntityId b_person = b->natural_keys().person(idc("52263219800101001"));
  {
    ops::Editor ed(*b, {"李强", tz::test::kNowMs});
    Entity& v = ed.get_or_create(EntityType::visit, visit);
    ed.set(v, fid(EntityType::visit, "subject_id"), b_person.hex());
    ed.set(v, fid(EntityType::visit, "date"), "2026-10-01");
    REQUIRE(ed.commit().ok());
  }
  auto before_a = shown(*a), before_b = shown(*b);
  REQUIRE(ids_of(before_b).size() == ids_of(before_a).size() + 1);
  CHECK(ids_of(before_a) != ids_of(before_b));

  auto plan = ops::rekey_plan(*b, kSecretA);
  CHECK(plan.size() == before_a.size());  // every keyed entity moves: 2 households, 3 people, 2 jobs
  REQUIRE(ops::rekey_store(*b, kSecretA).ok());

  auto after_b = shown(*b);
  after_b.erase(visit.hex());
  CHECK(after_b == before_a);
  // The visit still names the person, now by the county id; the log names only entities that exist.
  EntityId a_person = a->natural_keys().person(idc("52263219800101001"));
  CHECK(b->get(visit)->value_or(fid(EntityType::visit, "subject_id")) == a_person.hex());
  auto all_b = shown(*b);
  for (auto& e : logged_entities(*b)) CHECK(all_b.count(e));
  CHECK(logged_entities(*b) == [&] {
    auto s = logged_entities(*a);
    s.insert(visit.hex());
    return s;
  }());
  // Lookups and natural keys follow: the person is found by ID, a re-import creates nothing.
  CHECK(ops::person_by_id_number(*b, idc("52263219800101001")) == a_person);
  auto again = ops::import_roster(*b, kRoster, tz::test::import_env(nullptr, "李强")).take();
  CHECK(again.written);
  CHECK(again.persons_created == 0);
  CHECK(again.households_created == 0);
  CHECK(again.changes == 0);
  // ... also after reopening (the county secret is stored).
  b.reset();
  auto reopened = open_device_store(db.path(), "correct horse", tz::test::resources().schema).take();
  CHECK(reopened->natural_keys().person(idc("52263219800101001")) == a_person);
  CHECK(ops::compute_status(*reopened, nullptr).total.persons == 3);
}

TEST_CASE("a generated county roster re-keyed matches the same roster imported under the county secret", "[ops][rekey]") {
  bench::RosterSpec spec;
  spec.persons = 1000;
  if (const char* n = std::getenv("TZ_REKEY_PERSONS"); n && *n) spec.persons = std::stoul(n);  // manual timing runs
  spec.villages = bench::villages_of_tree(*tz::test::resources().county_tree_csv("522632"));
  spec.villages.resize(4);
  std::string csv = bench::roster_csv(bench::generate_roster(spec));
  TempDir da, db;
  auto a = tz::test::make_store(da.path(), kSecretA);
  auto b = tz::test::make_store(db.path(), kSecretB);
  REQUIRE(ops::import_roster(*a, csv, tz::test::import_env()).take().written);
  REQUIRE(ops::import_roster(*b, csv, tz::test::import_env()).take().written);
  auto expected = shown(*a);
  REQUIRE(ops::rekey_store(*b, kSecretA).ok());
  CHECK(shown(*b) == expected);
  CHECK(logged_entities(*b) == logged_entities(*a));
  CHECK(ops::compute_status(*b, nullptr).total.all == ops::compute_status(*a, nullptr).total.all);
}

TEST_CASE("a store that has synced is not re-keyed", "[ops][rekey]") {
  TempDir d;
  auto s = tz::test::make_store(d.path(), kSecretB);
  REQUIRE(ops::import_roster(*s, kRoster, tz::test::import_env()).take().written);
  WriteBatch b;
  SyncState st;
  st.server_epoch = "e1";
  st.cursor = 5;
  b.sync = st;
  b.clock = s->clock();
  REQUIRE(s->write(b).ok());
  auto before = tz::test::store_digest(*s);
  auto r = ops::rekey_store(*s, kSecretA);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::invalid_input);
  CHECK(r.error().message(Lang::zh).find("同步") != std::string::npos);
  CHECK(r.error().message(Lang::en).find("synced") != std::string::npos);
  CHECK(tz::test::store_digest(*s) == before);
  // The store refuses as well, whoever calls it.
  CHECK(s->rekey({}, kSecretA).error().code() == ErrorCode::invalid_input);
}

TEST_CASE("a crash in the middle of a re-key leaves the old store", "[ops][rekey]") {
  TempDir d;
  {
    auto s = tz::test::make_store(d.path(), kSecretB);
    REQUIRE(ops::import_roster(*s, kRoster, tz::test::import_env()).take().written);
  }
  std::string before;
  {
    auto s = open_device_store(d.path(), "correct horse", tz::test::resources().schema).take();
    before = tz::test::store_digest(*s);
  }
  auto r = tz::test::run_process(REKEY_PROBE_PATH, {d.path().string(), kSecretA},
                                 {{"TAIZHANG_CRASH_AT", "device.rekey.before_commit"}});
  CHECK(r.signal == SIGKILL);
  auto s = open_device_store(d.path(), "correct horse", tz::test::resources().schema).take();
  CHECK(tz::test::store_digest(*s) == before);
  CHECK(s->natural_keys().person(idc("52263219800101001")) == crypto::NaturalKeys(kSecretB).person(idc("52263219800101001")));
  {
    SQLite::Database db((d / "store.db").string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
  }
  // Without the crash the same run re-keys.
  s.reset();
  auto ok = tz::test::run_process(REKEY_PROBE_PATH, {d.path().string(), kSecretA});
  CHECK(ok.exit_code == 0);
  s = open_device_store(d.path(), "correct horse", tz::test::resources().schema).take();
  CHECK(s->get(crypto::NaturalKeys(kSecretA).person(idc("52263219800101001"))));
}

TEST_CASE("received configuration sets the period and the region tree and derives the flags again", "[ops][config]") {
  TempDir d;
  auto s = tz::test::make_store(d.path());
  std::string csv = "村代码,户编号,姓名,身份证号,劳动技能,就业状态\n522632101001,0001,王小明," + idc("52263219800101001") +
                    ",普通劳动力,已就业\n";
  REQUIRE(ops::import_roster(*s, csv, tz::test::import_env()).take().written);
  CHECK(ops::compute_status(*s, nullptr).total.status == 1);
  // Nothing received: nothing changes.
  auto none = ops::apply_received_config_report(*s).take();
  CHECK_FALSE(none.period_changed);
  CHECK_FALSE(none.region_tree_changed);

  std::string tree = "code,name\n522632,榕江县\n522632101,古州镇\n522632101001,新村\n522632101099,并入村\n";
  WriteBatch b;
  b.configs.push_back({"period", {1, "2027:2027-06-30"}});
  b.configs.push_back({"region_tree", {4, tree}});
  b.clock = s->clock();
  REQUIRE(s->write(b).ok());
  auto r = ops::apply_received_config_report(*s).take();
  CHECK(r.period_changed);
  CHECK(r.region_tree_changed);
  CHECK(r.flags_recomputed == 1);
  CHECK(s->info().config.period.year == 2027);
  CHECK(s->info().config.period.as_of == CivilDate{2027, 6, 30});
  CHECK(s->info().config.region_tree_version == "4");
  CHECK(s->info().derived_period == "2027:2027-06-30");
  // The 2026 declaration no longer counts; the flags say so without deriving again.
  CHECK(ops::compute_status(*s, nullptr).total.status == 0);
  CHECK(ops::compute_status(*s, nullptr).total.status == ops::compute_status_by_derivation(*s, nullptr).total.status);
  // The new tree is merged over the shipped one: its village is there, the old villages stay (retired).
  auto t = region::RegionTree::parse_csv(s->info().config.region_tree_csv, "x").take();
  CHECK(t.find("522632101099"));
  REQUIRE(t.find("522632101002"));
  CHECK(t.find("522632101002")->retired);
  // Applying again changes nothing; survives reopening.
  auto again = ops::apply_received_config_report(*s).take();
  CHECK_FALSE(again.period_changed);
  CHECK_FALSE(again.region_tree_changed);
  s.reset();
  auto re = open_device_store(d.path(), "correct horse", tz::test::resources().schema).take();
  CHECK(re->info().config.period.year == 2027);
  CHECK(re->info().config.region_tree_version == "4");
}

TEST_CASE("period records are read in both forms and a bad one is refused by name", "[ops][config]") {
  CHECK(ops::parse_period_config("2026:2026-11-30")->as_of == CivilDate{2026, 11, 30});
  CHECK(ops::parse_period_config(R"({"year": 2020, "as_of": "2020-12-31"})")->year == 2020);
  CHECK_FALSE(ops::parse_period_config("2026:2027-01-01"));  // as-of outside the year
  CHECK_FALSE(ops::parse_period_config("soon"));
  TempDir d;
  auto s = tz::test::make_store(d.path());
  WriteBatch b;
  b.configs.push_back({"period", {1, "soon"}});
  b.clock = s->clock();
  REQUIRE(s->write(b).ok());
  auto before = s->info().config.period;
  auto r = ops::apply_received_config(*s);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::invalid_input);
  CHECK(r.error().message(Lang::en).find("period") != std::string::npos);
  CHECK(s->info().config.period.year == before.year);
}

TEST_CASE("conflicts are listed with every version and resolved by pick or value", "[ops][conflicts]") {
  TempDir d;
  auto s = tz::test::make_store(d.path());
  REQUIRE(ops::import_roster(*s, kRoster, tz::test::import_env()).take().written);
  EntityId pid = s->natural_keys().person(idc("52263219800101001"));
  const FieldId f_phone = fid(EntityType::person, "phone");
  // Another device's concurrent edit of the phone arrives (the base it saw: the imported value).
  auto put_foreign = [&](FieldId f, std::string value, uint64_t seq) {
    ops::Editor ed(*s, {"王芳", tz::test::kNowMs});
    auto st = *ed.state(pid);
    FieldChange c;
    c.type = EntityType::person;
    c.entity = pid;
    c.field = f;
    c.value = std::move(value);
    c.version = VersionId{DeviceId::from_bytes(std::string(16, '\x7f')), Seq{seq}};
    c.ts = Hlc{tz::test::kNowMs - 1000, 0};
    c.collector = "李强";
    c.device_ms = tz::test::kNowMs - 1000;
    c.base = {};  // saw nothing: a conflict with what is there
    merge_apply(st, c);
    ed.put_state(st);
    REQUIRE(ed.commit().ok());
  };
  put_foreign(f_phone, "13900000000", 1);
  {
    // and a local edit after it, seeing only the shown value.
    ops::Editor ed(*s, {"王芳", tz::test::kNowMs + 1000});
    Entity* p = ed.find(pid);
    ed.set(*p, f_phone, "13700000000");
    REQUIRE(ed.commit().ok());
  }
  auto all = ops::list_conflicts(*s);
  REQUIRE(all.size() == 1);
  CHECK(all[0].entity == pid);
  CHECK(all[0].field->name == "phone");
  REQUIRE(all[0].versions.size() == 2);
  CHECK(all[0].versions[0].number == 1);
  CHECK(all[0].versions[0].shown);
  CHECK(all[0].versions[0].version.value == "13700000000");
  CHECK(all[0].versions[1].version.collector == "李强");
  // Whom it concerns, and the region filter (a village, township or county code prefix).
  CHECK(all[0].person_name == "王小明");
  CHECK(all[0].id_number == idc("52263219800101001"));
  CHECK(all[0].village == "522632101001");
  CHECK(all[0].household_no == "0001");
  CHECK(ops::list_conflicts(*s, "522632101").size() == 1);
  CHECK(ops::list_conflicts(*s, "522632101002").empty());
  REQUIRE(ops::entity_conflicts(*s, pid).size() == 1);
  CHECK(ops::entity_conflicts(*s, pid)[0].household_no == "0001");

  ValidationContext ctx;
  ctx.today = china_date_of(tz::test::kNowMs);
  ctx.settings = &s->schema().settings();
  ops::EditContext edit{"王芳", tz::test::kNowMs + 2000};
  // Errors: a field with no conflict, a version that is not there, both or neither of pick/value.
  CHECK(ops::resolve_conflict(*s, pid, "姓名", {std::string("1"), {}}, edit, ctx).error().code() == ErrorCode::invalid_input);
  CHECK(ops::resolve_conflict(*s, pid, "phone", {std::string("3"), {}}, edit, ctx).error().code() == ErrorCode::invalid_input);
  CHECK(ops::resolve_conflict(*s, pid, "phone", {}, edit, ctx).error().code() == ErrorCode::usage);
  CHECK(ops::resolve_conflict(*s, pid, "nope", {std::string("1"), {}}, edit, ctx).error().code() == ErrorCode::not_found);

  auto by_id = ops::resolve_conflict(*s, pid, "联系电话", {all[0].versions[1].version.id.str(), {}}, edit, ctx).take();
  CHECK(by_id.value == "13900000000");
  CHECK(by_id.replaced.size() == 2);
  CHECK(ops::list_conflicts(*s).empty());
  auto p = s->get(pid);
  REQUIRE(p->fields.at(f_phone).live.size() == 1);
  CHECK(p->fields.at(f_phone).live[0].value == "13900000000");
  // The resolution is a change whose base names both versions.
  auto last = s->changes_after(s->info().next_seq - 2);
  REQUIRE(last.size() == 1);
  CHECK(last[0].base == by_id.replaced);

  // A second conflict resolved with a new value (typed as for --set).
  put_foreign(f_phone, "13600000000", 2);
  REQUIRE(ops::list_conflicts(*s).size() == 1);
  auto by_value = ops::resolve_conflict(*s, pid, "phone", {{}, std::string("135 0000 0000")}, edit, ctx).take();
  CHECK(by_value.value == "13500000000");
  CHECK(ops::list_conflicts(*s).empty());
}

TEST_CASE("notices are listed with their field and the own change's value", "[ops][conflicts]") {
  TempDir d;
  auto s = tz::test::make_store(d.path());
  REQUIRE(ops::import_roster(*s, kRoster, tz::test::import_env()).take().written);
  EntityId pid = s->natural_keys().person(idc("52263219800101001"));
  WriteBatch b;
  b.notices.push_back(
      tz::test::notice_on_own_change(*s, pid, fid(EntityType::person, "phone"), 7, "不在本设备的范围内", "outside this device's scope"));
  StoredNotice clock;
  clock.server_seq = 9;
  clock.kind = 5;
  clock.reason_zh = "设备时钟快了 10 分钟";
  clock.reason_en = "the device clock is 10 minutes fast";
  b.notices.push_back(clock);
  b.clock = s->clock();
  REQUIRE(s->write(b).ok());
  auto list = ops::list_notices(*s);
  REQUIRE(list.size() == 2);
  CHECK(list[0].field->name == "phone");
  CHECK(list[0].value == "13812345678");
  CHECK(ops::notice_kind_name(list[0].notice.kind) == "quarantined");
  CHECK(list[1].field == nullptr);
  CHECK_FALSE(list[1].value);
  CHECK(ops::notice_kind_label(5, Lang::zh) == "设备时钟不准");
}

TEST_CASE("a deletion in conflict is listed and resolved by deleting again or restoring", "[ops][conflicts]") {
  TempDir d;
  auto s = tz::test::make_store(d.path());
  REQUIRE(ops::import_roster(*s, kRoster, tz::test::import_env()).take().written);
  EntityId pid = s->natural_keys().person(idc("52263219800101001"));
  {
    // Another device deleted the person without seeing a later local edit.
    ops::Editor ed(*s, {"王芳", tz::test::kNowMs});
    auto st = *ed.state(pid);
    FieldChange del;
    del.type = EntityType::person;
    del.entity = pid;
    del.field = kDeletedField;
    del.value = "迁出";
    del.version = VersionId{DeviceId::from_bytes(std::string(16, '\x7e')), Seq{1}};
    del.ts = Hlc{tz::test::kNowMs + 1000, 0};
    del.collector = "李强";
    del.device_ms = tz::test::kNowMs + 1000;
    del.base = deletion_base(st);
    Entity* p = ed.find(pid);
    ed.set(*p, fid(EntityType::person, "phone"), "13700000000");  // the local edit the deleter did not see
    auto now = *ed.state(pid);
    merge_apply(now, del);
    ed.put_state(now);
    REQUIRE(ed.commit().ok());
  }
  auto all = ops::list_conflicts(*s);
  REQUIRE(all.size() == 1);
  CHECK(all[0].field == nullptr);
  CHECK(all[0].field_id == kDeletedField);
  REQUIRE(all[0].versions.size() == 1);
  CHECK(all[0].versions[0].version.value == "迁出");
  ValidationContext ctx;
  ctx.today = china_date_of(tz::test::kNowMs);
  auto r = ops::resolve_conflict(*s, pid, "删除", {std::string("1"), {}}, {"王芳", tz::test::kNowMs + 5000}, ctx).take();
  CHECK(r.value == "迁出");
  CHECK(ops::list_conflicts(*s).empty());
  auto row = s->get_row(pid);
  CHECK(is_deleted(to_state(row->entity, row->merge)));
}

TEST_CASE("a re-key can move roster jobs to the server's period year", "[ops][rekey]") {
  TempDir d;
  auto s = tz::test::make_store(d.path(), kSecretB);
  REQUIRE(ops::import_roster(*s, kRoster, tz::test::import_env()).take().written);
  crypto::NaturalKeys b(kSecretB), a(kSecretA);
  EntityId old_job = b.roster_job(b.person(idc("52263219800101001")), 2026);
  REQUIRE(s->get(old_job));
  REQUIRE(ops::rekey_store(*s, kSecretA, 2027).ok());
  CHECK_FALSE(s->get(old_job));
  EntityId job = a.roster_job(a.person(idc("52263219800101001")), 2027);
  REQUIRE(s->get(job));
  CHECK(s->get_row(job)->parent == a.person(idc("52263219800101001")));
}
