// sync-server's admin commands, run as the real binary over a data folder in a temp directory; the
// devices that sync with it run in this process (register, push, pull over the loopback transport)
// on the same server store, as `serve` will on the same folder.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_session.hpp"
#include "process.hpp"
#include "server_folder.hpp"
#include "store_fixture.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/ops/dedup.hpp"
#include "tz/server_cli/messages.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/records.hpp"
#include "tz/sync/audit.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/transport.hpp"
#include "xlsx_read.hpp"

using namespace tz;
using namespace tz::test;
using nlohmann::json;

namespace {

const char* kFirstId = "522632196806187893";  // the first person of data/samples' roster

struct ServerCli {
  TempDir dir;
  std::string data = (dir / "data").string();
  std::map<std::string, std::string> env = server_test_env();

  ProcessResult run(const std::vector<std::string>& args) const { return run_process(SYNC_SERVER_PATH, args, env); }
  // Runs with --data and expects success.
  ProcessResult ok(std::vector<std::string> args) const {
    args.push_back("--data");
    args.push_back(data);
    auto r = run(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  json ok_json(std::vector<std::string> args) const {
    args.push_back("--json");
    return json::parse(ok(std::move(args)).out);
  }
  ProcessResult fails(std::vector<std::string> args, int code = 1) const {
    args.push_back("--data");
    args.push_back(data);
    auto r = run(args);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == code);
    return r;
  }
  void init() const { ok({"init", "--county", "522632", "--name", "榕江县人社局"}); }
  void period() const { ok({"period", "set", "2026", "--as-of", "2026-11-30"}); }
  // init, period set and the sample register imported.
  void with_register() const {
    init();
    period();
    ok({"register", "import", roster()});
  }
  std::string roster() const { return (source_dir() / "data/samples/roster-522632.gb18030.csv").string(); }
  std::string file(const std::string& name, const std::string& content) const {
    write_file(dir / name, content);
    return (dir / name).string();
  }

  std::unique_ptr<sync::ServerStore> store() const { return sync::open_sqlite_server_store(data).take(); }
  std::string county_secret() const { return *store()->meta_value("county_secret"); }
};

// A collector's device in this process, syncing with the server store of the folder.
struct Device {
  std::unique_ptr<DeviceStore> store;
  DeviceId id() const { return store->info().device; }

  Device(const ServerCli& s, const std::filesystem::path& dir, bool register_it = true) {
    store = make_store(dir, s.county_secret());
    if (register_it) {
      auto st = s.store();
      with_server(*st, [&](sync::SyncServer& server) { REQUIRE(server.register_device(id(), {"522632"})); });
    }
  }
  template <typename Fn>
  static void with_server(sync::ServerStore& st, Fn&& fn) {
    static const auto tree = region::RegionTree::parse_csv(*resources().county_tree_csv("522632"), "shipped").take();
    ValidationContext ctx;
    ctx.today = china_date_of(kNowMs);
    ctx.period_year = 2026;
    ctx.settings = &resources().schema.settings();
    ctx.counties = &resources().counties;
    ctx.tree = &tree;
    sync::SyncServer server(st, resources().schema, ctx, [] { return kNowMs; });
    fn(server);
  }
  Result<ops::SyncReport> sync(const ServerCli& s) {
    auto st = s.store();
    Result<ops::SyncReport> out = Error(ErrorCode::internal);
    with_server(*st, [&](sync::SyncServer& server) {
      sync::LoopbackTransport t(server);
      ops::DeviceSync ds(*store, t, [] { return kNowMs; });
      out = ds.sync();
    });
    return out;
  }
  EntityId person(const std::string& id18) const { return *ops::person_by_id_number(*store, id18); }
  void set_phone(const EntityId& person, const std::string& phone, const std::string& collector = "王芳") {
    ops::Editor ed(*store, ops::EditContext{collector, kNowMs});
    Entity* e = ed.find(person);
    REQUIRE(e);
    ed.set(*e, resources().schema.entity(EntityType::person).require("phone").id, phone);
    REQUIRE(ed.commit());
  }
  std::string phone_of(const EntityId& person) const {
    auto e = store->get(person);
    return e->value_or(resources().schema.entity(EntityType::person).require("phone").id);
  }
};

// Devices a and b pull the register, then each sets the first person's phone without seeing the
// other's and pushes: a conflict on the server. Returns the person.
EntityId phone_conflict(const ServerCli& s, Device& a, Device& b) {
  REQUIRE(a.sync(s));
  REQUIRE(b.sync(s));
  const EntityId p = a.person(kFirstId);
  a.set_phone(p, "13900000001", "王芳");
  b.set_phone(p, "13900000002", "李强");
  REQUIRE(a.sync(s));
  REQUIRE(b.sync(s));
  return p;
}

size_t entity_count(const sync::ServerStore& s) {
  size_t n = 0;
  s.scan_entities([&](const sync::EntityRecord&) { ++n; });
  return n;
}

}  // namespace

TEST_CASE("sync-server init then regions import keeps retired codes", "[server_cli]") {
  ServerCli s;
  s.init();
  auto again = s.fails({"init", "--county", "522632", "--name", "x"});
  CHECK(again.err.find("已存在：县服务器（县代码 522632）") != std::string::npos);
  s.fails({"init", "--county", "999999", "--name", "x"}, 1);
  // The admin replica's key is private to the server's user.
  auto perms = std::filesystem::status(s.dir / "data/admin/key").permissions();
  CHECK(perms == (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));

  // A newer tree: one village gone without a word, one retired in favour of a new village.
  std::string shipped = *resources().county_tree_csv("522632");
  auto old_tree = region::RegionTree::parse_csv(shipped, "shipped").take();
  auto villages = old_tree.villages();
  REQUIRE(villages.size() > 3);
  const std::string gone = villages[0]->code, merged_away = villages[1]->code;
  const std::string newcomer = merged_away.substr(0, 9) + "999";
  std::string csv = "code,name,successor\n";
  for (auto* r : {old_tree.find("522632")}) csv += r->code + "," + r->name + ",\n";
  for (auto* t : old_tree.children("522632")) csv += t->code + "," + t->name + ",\n";
  for (auto* v : villages) {
    if (v->code == gone) continue;
    csv += v->code + "," + v->name + "," + (v->code == merged_away ? newcomer : "") + "\n";
  }
  csv += newcomer + ",新合村,\n";
  auto j = s.ok_json({"regions", "import", s.file("tree-2027.csv", csv), "--version", "2027"});
  CHECK(j["version"] == "2027");
  CHECK(j["retired_villages"] == 2);

  auto value = s.store()->config("region_tree");
  REQUIRE(value);
  auto cfg = ops::parse_region_tree_config(value->second);
  REQUIRE(cfg);
  CHECK(cfg->version == "2027");
  auto tree = region::RegionTree::parse_csv(cfg->csv, cfg->version).take();
  REQUIRE(tree.find(gone));
  CHECK(tree.find(gone)->retired);
  REQUIRE(tree.find(merged_away));
  CHECK(tree.find(merged_away)->retired);
  CHECK(tree.find(merged_away)->successor == newcomer);
  REQUIRE(tree.find(newcomer));
  CHECK_FALSE(tree.find(newcomer)->retired);

  // Importing the same file again changes nothing; a tree of another county is refused.
  CHECK(s.ok_json({"regions", "import", s.file("tree-2027.csv", csv), "--version", "2027"})["changed"] == false);
  auto other = s.fails({"regions", "import", s.file("other.csv", *resources().county_tree_csv("513431"))});
  CHECK(other.err.find("513431") != std::string::npos);
}

TEST_CASE("sync-server register import and list need the period", "[server_cli]") {
  ServerCli s;
  s.init();
  auto r = s.fails({"register", "import", s.roster()});
  CHECK(r.err.find("period set") != std::string::npos);
  CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
  s.fails({"list", "employed"});
  s.fails({"period", "set", "2026", "--as-of", "2025-06-30"});
  s.fails({"period", "set", "2026"}, 2);
  s.period();
  CHECK(s.store()->config("period")->second == "2026:2026-11-30");
}

TEST_CASE("sync-server register import lists the same employed persons as a device", "[server_cli]") {
  ServerCli s;
  s.init();
  s.period();
  auto j = s.ok_json({"register", "import", s.roster()});
  CHECK(j["ok"] == true);
  CHECK(j["persons_created"] == 120);
  CHECK(j["pushed"]["applied"] == j["changes"]);
  CHECK(entity_count(*s.store()) > 120);
  auto server_list = s.ok({"list", "employed", "--format", "csv"}).out;

  // The same roster imported by a collector's device gives the same list, byte for byte.
  CliSession device;
  device.init();
  REQUIRE(device.run({"import", s.roster(), "--store", device.store}).exit_code == 0);
  auto device_list = device.run({"list", "employed", "--format", "csv", "--store", device.store});
  REQUIRE(device_list.exit_code == 0);
  CHECK(server_list == device_list.out);

  // A device that pulls the county gets the register.
  Device d(s, s.dir / "dev");
  REQUIRE(d.sync(s));
  CHECK(d.store->entity_count(EntityType::person) == 120);

  // Importing the register again changes nothing.
  auto again = s.ok_json({"register", "import", s.roster()});
  CHECK(again["changes"] == 0);
}

TEST_CASE("sync-server register import with a bad row writes nothing", "[server_cli]") {
  ServerCli s;
  s.init();
  s.period();
  const std::string bad = (source_dir() / "data/samples/roster-bad.csv").string();
  auto r = s.fails({"register", "import", bad});
  CHECK(r.err.find("第 ") != std::string::npos);
  CHECK(r.err.find("列") != std::string::npos);
  auto j = json::parse(s.fails({"register", "import", bad, "--json"}).out);
  CHECK(j["ok"] == false);
  CHECK(j["written"] == false);
  REQUIRE(!j["problems"].empty());
  CHECK(j["problems"][0].contains("line"));
  CHECK(j["problems"][0].contains("column"));
  CHECK(entity_count(*s.store()) == 0);
  auto devices = s.ok_json({"device", "list"})["devices"];
  REQUIRE(devices.size() == 1);
  CHECK(devices[0]["acked_seq"] == 0);
}

TEST_CASE("sync-server device list retire and revoke", "[server_cli]") {
  ServerCli s;
  s.with_register();
  Device a(s, s.dir / "a"), b(s, s.dir / "b"), c(s, s.dir / "c");
  REQUIRE(a.sync(s));
  a.set_phone(a.person(kFirstId), "13900000001");
  REQUIRE(a.sync(s));

  auto list = s.ok_json({"device", "list"})["devices"];
  REQUIRE(list.size() == 4);
  json row_a;
  for (auto& d : list)
    if (d["id"] == a.id().hex()) row_a = d;
  CHECK(row_a["status"] == "active");
  CHECK(row_a["acked_seq"] == 1);
  CHECK(row_a["scope"] == json::array({"522632"}));
  CHECK(row_a["last_push"] == "2026-11-01 12:00");
  auto text = s.ok({"device", "list"}).out;
  CHECK(text.find(a.id().hex()) != std::string::npos);
  CHECK(text.find("县管理员副本") != std::string::npos);

  // Retire by a unique prefix; --at below the acknowledged sequence is refused.
  s.fails({"device", "retire", a.id().hex(), "--at", "0"});
  auto r = s.ok_json({"device", "retire", a.id().hex().substr(0, 12), "--at", "3"});
  CHECK(r["status"] == "retired");
  CHECK(r["retired_after"] == 3);
  s.ok({"device", "retire", b.id().hex()});
  s.ok({"device", "revoke", c.id().hex()});
  std::map<std::string, std::string> status;
  const json after = s.ok_json({"device", "list"});
  for (auto& d : after["devices"]) status[d["id"].get<std::string>()] = d["status"].get<std::string>();
  CHECK(status[a.id().hex()] == "retired");
  CHECK(status[b.id().hex()] == "retired");
  CHECK(status[c.id().hex()] == "revoked");
  CHECK_FALSE(c.sync(s));  // a revoked device is refused

  s.fails({"device", "retire", "ffffffff"});
  auto admin = s.store()->meta_value("admin_device");
  s.fails({"device", "revoke", *admin});
  s.fails({"device", "retire"}, 2);
}

TEST_CASE("sync-server conflicts and resolve a conflict between two devices", "[server_cli]") {
  ServerCli s;
  s.with_register();
  CHECK(s.ok({"conflicts"}).out.find("没有冲突") != std::string::npos);
  Device a(s, s.dir / "a"), b(s, s.dir / "b");
  const EntityId p = phone_conflict(s, a, b);

  auto j = s.ok_json({"conflicts"});
  REQUIRE(j["count"] == 1);
  auto c = j["conflicts"][0];
  CHECK(c["id"] == p.hex());
  CHECK(c["type"] == "person");
  CHECK(c["field"] == "phone");
  CHECK(c["label"] == "联系电话");
  CHECK_FALSE(c["person_name"].get<std::string>().empty());
  CHECK_FALSE(c["household_no"].get<std::string>().empty());
  CHECK(c["id_number"] != kFirstId);  // masked without --full-ids
  CHECK(c["record"].get<std::string>().find(kFirstId) == std::string::npos);
  REQUIRE(c["versions"].size() == 2);
  CHECK(c["versions"][0]["number"] == 1);
  CHECK(c["versions"][0]["shown"] == true);
  CHECK(c["versions"][1]["number"] == 2);
  std::set<std::string> collectors;
  for (auto& v : c["versions"]) collectors.insert(v["collector"]);
  CHECK(collectors == std::set<std::string>{"王芳", "李强"});
  CHECK(s.ok_json({"conflicts", "--full-ids"})["conflicts"][0]["id_number"] == kFirstId);
  // --region: a village, township or county code prefix.
  const std::string village = c["village"];
  CHECK(s.ok_json({"conflicts", "--region", village})["count"] == 1);
  CHECK(s.ok_json({"conflicts", "--region", village.substr(0, 9)})["count"] == 1);
  CHECK(s.ok_json({"conflicts", "--region", "522632999"})["count"] == 0);
  auto text = s.ok({"conflicts"}).out;
  CHECK(text.find("联系电话") != std::string::npos);
  CHECK(text.find("李强") != std::string::npos);
  CHECK(text.find("1* ") != std::string::npos);
  CHECK(text.find("sync-server resolve") != std::string::npos);

  s.fails({"resolve", kFirstId, "联系电话"}, 2);
  s.fails({"resolve", kFirstId, "联系电话", "--pick", "1", "--value", "13900000009"}, 2);
  s.fails({"resolve", kFirstId, "联系电话", "--pick", "3"});
  s.fails({"resolve", kFirstId, "姓名", "--pick", "1"});
  s.fails({"resolve", kFirstId, "no_such_field", "--pick", "1"});
  const std::string picked = c["versions"][1]["value"];
  auto r = s.ok_json({"resolve", kFirstId, "联系电话", "--pick", "2"});
  CHECK(r["value"] == picked);
  CHECK(r["replaced"].size() == 2);
  CHECK(r["collector"] == "县管理员");
  CHECK(s.ok_json({"conflicts"})["count"] == 0);

  // Both devices converge on the county's choice.
  REQUIRE(a.sync(s));
  REQUIRE(b.sync(s));
  CHECK(a.phone_of(p) == picked);
  CHECK(b.phone_of(p) == picked);
  CHECK_FALSE(a.store->get(p)->fields.find(resources().schema.entity(EntityType::person).require("phone").id)->second.conflict());

  // --value takes a new value (canonicalised by the schema).
  a.set_phone(p, "13900000003", "王芳");
  b.set_phone(p, "13900000004", "李强");
  REQUIRE(a.sync(s));
  REQUIRE(b.sync(s));
  s.ok({"resolve", p.hex(), "phone", "--value", "13900000005"});
  REQUIRE(a.sync(s));
  CHECK(a.phone_of(p) == "13900000005");
}

TEST_CASE("a conflict gets the same numbers on a device and on the server", "[server_cli]") {
  ServerCli s;
  s.with_register();
  Device a(s, s.dir / "a"), b(s, s.dir / "b");
  const EntityId p = phone_conflict(s, a, b);
  b.set_phone(b.person("522632196901092745"), "13900000003", "李强");  // a second person, no conflict
  REQUIRE(b.sync(s));
  REQUIRE(a.sync(s));  // a pulls b's changes: both now hold the conflict, as the admin replica does
  a.store.reset();     // field-cli opens the store itself

  CliSession device;
  auto dj = device.run({"conflicts", "--json", "--store", (s.dir / "a").string()});
  INFO(dj.err);
  REQUIRE(dj.exit_code == 0);
  auto on_device = json::parse(dj.out);
  auto on_server = s.ok_json({"conflicts"});
  REQUIRE(on_device["count"] == 1);
  REQUIRE(on_server["count"] == 1);
  // The same listing, field for field: the record, whom it concerns and every numbered version. Only
  // the server's receipt time differs: a device does not learn it for its own changes.
  for (auto* doc : {&on_device, &on_server})
    for (auto& v : (*doc)["conflicts"][0]["versions"]) v.erase("server_time");
  CHECK(on_device["conflicts"] == on_server["conflicts"]);
  auto versions = on_server["conflicts"][0]["versions"];
  REQUIRE(versions.size() == 2);
  CHECK(versions[0]["number"] == 1);
  CHECK(versions[1]["number"] == 2);
  CHECK(on_device["conflicts"][0]["versions"][1]["version"] == versions[1]["version"]);
  CHECK(on_device["conflicts"][0]["versions"][1]["value"] == versions[1]["value"]);

  // --pick by that version id (DEVICE:SEQ) on the server picks what number 2 names on the device.
  auto r = s.ok_json({"resolve", kFirstId, "联系电话", "--pick", versions[1]["version"].get<std::string>()});
  CHECK(r["value"] == versions[1]["value"]);
  Device again{s, s.dir / "a2"};
  REQUIRE(again.sync(s));
  CHECK(again.phone_of(p) == versions[1]["value"].get<std::string>());
}

TEST_CASE("sync-server quarantine list release and reject", "[server_cli]") {
  ServerCli s;
  s.with_register();
  CHECK(s.ok({"quarantine"}).out.find("隔离区为空") != std::string::npos);
  Device a(s, s.dir / "a");
  REQUIRE(a.sync(s));
  const EntityId p = a.person(kFirstId);
  a.set_phone(p, "13900000001");
  REQUIRE(a.sync(s));
  s.ok({"device", "retire", a.id().hex()});
  // Changes after the retirement are held.
  a.set_phone(p, "13900000002");
  a.set_phone(p, "13900000003");
  REQUIRE(a.sync(s));

  auto j = s.ok_json({"quarantine"});
  REQUIRE(j["count"] == 2);
  const std::string first = j["changes"][0]["id"], second = j["changes"][1]["id"];
  CHECK(j["changes"][0]["value"] == "13900000002");
  CHECK(!j["changes"][0]["reason"].get<std::string>().empty());
  CHECK(s.ok({"quarantine", "--lang", "en"}).out.find("quarantine") != std::string::npos);

  s.fails({"quarantine", "release", "nonsense"});
  s.fails({"quarantine", "reject", second}, 2);  // --reason is required
  s.ok({"quarantine", "reject", second, "--reason", "重复录入"});
  s.ok({"quarantine", "release", first});
  CHECK(s.ok_json({"quarantine"})["count"] == 0);
  auto server = s.store();
  CHECK(server->change(a.store->changes_after(0).back().version)->status == sync::StoredChange::Status::rejected);
}

TEST_CASE("sync-server takes options after the command words and speaks English", "[server_cli]") {
  ServerCli s;
  auto none = s.run({"device", "list", "--data", s.data, "--lang", "en"});
  CHECK(none.exit_code == 1);
  CHECK(none.err.find("sync-server init") != std::string::npos);
  CHECK(s.run({"--data", s.data, "init", "--county", "522632", "--name", "Rongjiang", "--lang", "en"}).exit_code == 0);
  auto en = s.run({"period", "set", "--lang", "en", "2026", "--as-of", "2026-11-30", "--data", s.data});
  CHECK(en.exit_code == 0);
  CHECK(en.out.find("period 2026, as of 2026-11-30") != std::string::npos);
  auto list = s.run({"list", "--data", s.data, "employed", "--lang", "en"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("Employed persons") != std::string::npos);
  auto j = json::parse(s.run({"--json", "list", "employed", "--data", s.data}).out);
  CHECK(j["count"] == 0);

  auto usage = s.run({"frobnicate", "--data", s.data, "--lang", "en"});
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.find("frobnicate") != std::string::npos);
  CHECK(s.run({"list", "employed", "--bogus", "--data", s.data}).exit_code == 2);
  CHECK(s.run({"device", "list", "--pick", "1", "--data", s.data}).exit_code == 2);
  CHECK(s.run({}).exit_code == 2);
  auto group = s.run({"device", "--lang", "en"});
  CHECK(group.exit_code == 2);
  CHECK(group.err.find("list, recover, retire, revoke") != std::string::npos);
  CHECK(s.run({"device", "lst"}).exit_code == 2);
  auto err_json = json::parse(s.run({"list", "employed", "--data", (s.dir / "nowhere").string(), "--json"}).out);
  CHECK(err_json["ok"] == false);
  CHECK(s.run({"--help"}).exit_code == 0);
}

TEST_CASE("sync-server waits while another process holds the server store", "[server_cli]") {
  ServerCli s;
  s.init();
  Conversation holder(STORE_HOLDER_PATH, {s.data});
  REQUIRE(holder.next_prompt());  // the write transaction is open
  std::atomic<bool> done{false};
  ProcessResult r;
  std::thread t([&] {
    r = s.run({"period", "set", "2026", "--as-of", "2026-11-30", "--data", s.data});
    done = true;
  });
  // The command holds the admin lock once it has started; then let the other writer finish.
  int fd = ::open((s.dir / "data/admin/lock").c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  while (!done) {
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) break;  // held by the command
    ::flock(fd, LOCK_UN);
    std::this_thread::yield();
  }
  ::close(fd);
  CHECK_FALSE(done);  // it cannot finish while the other process holds the write transaction
  holder.answer("");
  auto h = holder.finish();
  t.join();
  CHECK(h.exit_code == 0);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(s.store()->config("period")->second == "2026:2026-11-30");
}

TEST_CASE("every sync-server text has Chinese and English", "[server_cli]") {
  const auto& m = tz::server_cli::messages();
  for (auto key : m.keys()) {
    INFO(key);
    CHECK(m.has_both_languages(key));
  }
  CHECK(m.tr(Lang::en, "period_needed").find("period set") != std::string::npos);
}

namespace {

// A register with a probable pair (张伟 and 章伟 without an ID, one household, one phone) and twins
// (龙丽 and 龙莉: one household, one birth date, distinct valid IDs), which are not proposed.
const char* kDupRoster =
    "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态,务工地域,务工单位,务工开始年月,务工月数,月收入,外出意愿\n"
    "522632001008,7001,张伟,522632199305121718,户主,15011112222,普通劳动力,未就业,,,,,,有\n"
    "522632001008,7001,章伟,,户主,15011112222,普通劳动力,未就业,,,,,,有\n"
    "522632001008,7002,龙丽,522632199908082228,子女,13500000001,普通劳动力,未就业,,,,,,有\n"
    "522632001008,7002,龙莉,522632199908082244,子女,13500000002,普通劳动力,未就业,,,,,,有\n";

}  // namespace

TEST_CASE("sync-server duplicates lists a probable pair with masked IDs and dismiss remembers it", "[server_cli]") {
  ServerCli s;
  s.init();
  s.period();
  s.ok({"register", "import", s.file("dups.csv", kDupRoster)});
  auto j = s.ok_json({"duplicates"});
  REQUIRE(j["count"] == 1);
  CHECK(j["persons"] == 4);
  const auto& pair = j["pairs"][0];
  std::set<std::string> names{pair["a"]["name"].get<std::string>(), pair["b"]["name"].get<std::string>()};
  CHECK(names == std::set<std::string>{"张伟", "章伟"});
  std::set<std::string> reasons;
  for (auto& r : pair["reasons"]) reasons.insert(r.get<std::string>());
  CHECK(reasons == std::set<std::string>{"same_pinyin", "id_missing", "same_household", "same_phone"});
  CHECK(pair["score"].get<int>() >= 60);
  const json& with_id = pair["a"]["name"] == "张伟" ? pair["a"] : pair["b"];
  CHECK(with_id["id_number"] == "522632********1718");
  // --full-ids shows the whole number; the text form names both persons and the reasons.
  auto full = s.ok_json({"duplicates", "--full-ids"});
  const json& full_pair = full["pairs"][0];
  CHECK((full_pair["a"]["id_number"] == "522632199305121718" || full_pair["b"]["id_number"] == "522632199305121718"));
  auto text = s.ok({"duplicates", "--lang", "en"}).out;
  CHECK(text.find("same name reading (homophone)") != std::string::npos);
  CHECK(text.find("522632********1718") != std::string::npos);
  // Dismissed (by entity id and by ID number): never proposed again, and recorded once.
  const std::string a = pair["a"]["id"], b = pair["b"]["id"];
  const std::string ref_a = pair["a"]["name"] == "张伟" ? std::string("522632199305121718") : a;
  auto d = s.ok_json({"dismiss", ref_a, b});
  CHECK(d["decision"] == "dismissed");
  s.ok({"dismiss", b, a});
  CHECK(s.ok_json({"duplicates"})["count"] == 0);
  auto st = s.store();
  auto decisions = ops::dedup_decisions(*st);
  REQUIRE(decisions.size() == 1);
  CHECK(decisions[0].by == "县管理员");
  CHECK(ops::dismissed_pairs(*st).count(dedup::ordered(*EntityId::from_hex(a), *EntityId::from_hex(b))) == 1);
  // In the audit chain once, as the county admin's decision naming both persons.
  int audited = 0;
  for (auto& e : st->audit_entries())
    if (e.kind == "dismiss") {
      ++audited;
      CHECK(e.actor == sync::kCountyAdminActor);
      CHECK(e.summary.find(a) != std::string::npos);
      CHECK(e.summary.find(b) != std::string::npos);
    }
  CHECK(audited == 1);
  st.reset();
  CHECK(s.ok_json({"audit", "verify"})["ok"] == true);
  // A person given twice, or something that is not a person, is refused.
  s.fails({"dismiss", a, a});
  s.fails({"dismiss", a, "522632001008/7001"});
}

TEST_CASE("An ID added on a device that another person already has merges them on apply and verify keeps an unmerged pair apart", "[server_cli]") {
  ServerCli s;
  s.init();
  s.period();
  s.ok({"register", "import", s.file("dups.csv", kDupRoster)});
  CHECK(s.ok_json({"verify"})["duplicates"]["exact_groups"] == 0);
  Device dev(s, s.dir / "dev");
  REQUIRE(dev.sync(s));
  // 章伟 gets 张伟's ID on the device (a homophone registered twice, the ID added later).
  EntityId zhang_wei = dev.person("522632199305121718"), other;
  const FieldId f_name = resources().schema.entity(EntityType::person).require("name").id;
  const FieldId f_id = resources().schema.entity(EntityType::person).require("id_number").id;
  dev.store->scan(EntityType::person, [&](EntityRow&& row) {
    if (row.entity.value_or(f_name) == "章伟") other = row.entity.id;
  });
  REQUIRE_FALSE(other.is_zero());
  {
    ops::Editor ed(*dev.store, ops::EditContext{"王芳", kNowMs});
    Entity* e = ed.find(other);
    REQUIRE(e);
    ed.set(*e, f_id, "522632199305121718");
    REQUIRE(ed.commit());
  }
  REQUIRE(dev.sync(s));
  // Merged as the push was applied (SPEC §8 "on apply"; decision 221): verify finds nothing left.
  const EntityId keep = std::min(zhang_wei, other), away = std::max(zhang_wei, other);
  CHECK(s.store()->meta_value(sync::kMetaMerges).value_or("").find(away.hex() + " " + keep.hex()) != std::string::npos);
  auto all = s.ok_json({"verify"});
  CHECK(all["rules"].size() > 0);  // the verification rules ran too, after the merges
  CHECK(all["duplicates"]["exact_groups"] == 0);
  // Merged: nothing left to find, the merge is audited, and the device follows it.
  CHECK(s.ok_json({"duplicates"})["count"] == 0);
  CHECK(s.ok_json({"verify"})["duplicates"]["exact_groups"] == 0);
  auto st = s.store();
  auto entries = st->audit_entries();
  REQUIRE_FALSE(entries.empty());
  CHECK(std::any_of(entries.begin(), entries.end(), [&](const sync::AuditEntry& e) {
    return e.kind == "merge" && e.summary.find(away.hex()) != std::string::npos;
  }));
  st.reset();
  // The device heard of the merge in the same sync: the merged-away one is gone from it, and an
  // edit of the survivor goes as any edit.
  CHECK(dev.store->get(away) == std::nullopt);
  dev.set_phone(keep, "13912345678");
  REQUIRE(dev.sync(s));
  // Undone by the survivor's ID number (one merge into it): both are back on the device.
  auto u = s.ok_json({"unmerge", "522632199305121718"});
  CHECK(u["merged_away"] == away.hex());
  CHECK(u["survivor"] == keep.hex());
  REQUIRE(dev.sync(s));
  REQUIRE(dev.store->get(away));
  CHECK(dev.phone_of(keep) == "13912345678");
  // verify keeps a pair a reviewer unmerged apart, as merging on apply and merge_exact do (one rule,
  // the server's record of unmerged pairs): still two, listed, and the device keeps both.
  auto v = s.ok_json({"verify"});
  CHECK(v["duplicates"]["exact_groups"] == 1);
  CHECK(v["duplicates"]["merged"] == 0);
  CHECK(v["duplicates"]["kept_apart"].size() == 1);
  CHECK(v["duplicates"]["groups"][0]["merged"] == false);
  CHECK(s.ok({"verify", "--lang", "en"}).out.find(away.hex() + " and " + keep.hex() + " were unmerged by a reviewer") !=
        std::string::npos);
  CHECK(s.store()->meta_value(sync::kMetaMerges).value_or("").find(away.hex()) == std::string::npos);
  REQUIRE(dev.sync(s));
  CHECK(dev.store->get(away));
  CHECK(dev.store->get(keep));
  // By hand (a reviewer may merge them again), and undone by the merged-away id.
  s.fails({"unmerge", "0123456789abcdef0123456789abcdef"});
  s.fails({"unmerge", away.hex()});
  auto m = s.ok_json({"merge", away.hex(), keep.hex()});
  CHECK(m["survivor"] == keep.hex());
  s.fails({"merge", keep.hex(), away.hex()});
  CHECK(s.ok({"unmerge", away.hex(), "--lang", "en"}).out.find("unmerged") != std::string::npos);
}

namespace {

// Last year's list for the sample register: four of its people and one who is not in it.
std::string baseline_csv() {
  return "村代码,姓名,身份证号\n"
         "522632001008,孙毅杰,522632196806187893\n"   // employed 省外 this year
         "522632001008,付娟,522632196901092745\n"     // 未就业
         "522632001008,孙月桂,522632198904281786\n"   // 失业
         "522632001016,杨明祥,522632198503296995\n"   // employed 县内
         "522632001016,某某,522632197001010016\n";    // not in the register
}

// field-cli run on a device store that Device made (same passphrase and KDF).
ProcessResult device_cli(const std::filesystem::path& store, std::vector<std::string> args) {
  CliSession session;
  args.push_back("--store");
  args.push_back(store.string());
  return session.run(args);
}

}  // namespace

TEST_CASE("sync-server baseline import refuses a bad file whole and names each bad line", "[server_cli][report]") {
  ServerCli s;
  s.with_register();
  const std::string bad = s.file("bad.csv", baseline_csv() + "522632001008,,522632196806187893\n52263200100,王五,522632198503296995\n");
  auto r = s.fails({"baseline", "import", bad});
  CHECK_THAT(r.err, Catch::Contains("第 7 行，“姓名”列"));
  CHECK_THAT(r.err, Catch::Contains("与第 2 行是同一身份证号"));
  CHECK_THAT(r.err, Catch::Contains("第 8 行，“村代码”列"));
  // Nothing was stored: the report has no baseline.
  CHECK(s.ok_json({"report"})["has_baseline"] == false);
  auto en = s.fails({"baseline", "import", bad, "--lang", "en"});
  CHECK_THAT(en.err, Catch::Contains("line 7, column \"姓名\": the name is empty"));
  auto missing = s.fails({"baseline", "import", s.file("m.csv", "姓名,身份证号\n王五,522632198503296995\n")});
  CHECK_THAT(missing.err, Catch::Contains("缺少必需的列：村代码"));
}

TEST_CASE("the report and the lists are the same bytes on a device and on the server", "[server_cli][report]") {
  ServerCli s;
  s.with_register();
  auto imported = s.ok_json({"baseline", "import", s.file("baseline.csv", baseline_csv())});
  CHECK(imported["persons"] == 5);
  CHECK(imported["changed"] == true);
  CHECK(s.ok_json({"baseline", "import", s.file("baseline.csv", baseline_csv())})["changed"] == false);

  auto j = s.ok_json({"report"});
  REQUIRE(j["regions"].size() > 3);
  CHECK(j["regions"][0]["code"] == "522632");
  CHECK(j["regions"][0]["baseline"] == 5);
  CHECK(j["regions"][0]["persons"] == 120);
  std::vector<std::pair<std::string, std::string>> missing;
  for (auto& p : j["not_gone_out"]) missing.emplace_back(p["姓名"], p["今年情况"]);
  CHECK(missing == std::vector<std::pair<std::string, std::string>>{
                       {"付娟", "未就业"}, {"孙月桂", "失业"}, {"", "不在台账中"}});

  // A device of the county pulls the baseline with the register, then makes the same report.
  const auto dev = s.dir / "dev";
  {
    Device d(s, dev);
    REQUIRE(d.sync(s));
  }
  for (const std::vector<std::string>& args : {std::vector<std::string>{"report", "--format", "csv"},
                                              {"report", "--format", "csv", "--region", "522632001", "--unit", "wan"},
                                              {"report", "--format", "table", "--lang", "en"},
                                              {"report", "--json"},
                                              {"list", "employed", "--format", "csv"},
                                              {"standards", "--format", "csv"},
                                              {"subsidies", "--format", "csv", "--region", "522632001008"},
                                              {"subsidies", "--json"}}) {
    INFO(args[0] << " " << args.back());
    auto device = device_cli(dev, args);
    INFO(device.err);
    REQUIRE(device.exit_code == 0);
    CHECK(device.out == s.ok(args).out);
  }
  // XLSX: the workbook is dated from the as-of date, so the bytes agree too.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"report"}, {"list", "unemployed"}, {"standards"}}) {
    auto with_out = [&](std::string path) {
      auto a = args;
      a.insert(a.end(), {"--format", "xlsx", "--out", path});
      return a;
    };
    const std::string on_server = (s.dir / "server.xlsx").string(), on_device = (s.dir / "device.xlsx").string();
    s.ok(with_out(on_server));
    REQUIRE(device_cli(dev, with_out(on_device)).exit_code == 0);
    CHECK(read_file(std::filesystem::path(on_server)) == read_file(std::filesystem::path(on_device)));
  }
}

TEST_CASE("export writes the report and all five lists - the separate commands' bytes - alike on a device", "[server_cli][report]") {
  ServerCli s;
  s.with_register();
  s.ok({"baseline", "import", s.file("baseline.csv", baseline_csv())});
  const auto out = s.dir / "export";
  auto j = s.ok_json({"export", "--out", out.string()});
  REQUIRE(j["files"].size() == 6);
  std::map<std::string, std::string> files;  // kind -> path
  for (auto& f : j["files"]) files[f["kind"]] = f["out"];
  // Each file is what its own command writes.
  CHECK(read_file(std::filesystem::path(files.at("report"))) == s.ok({"report", "--format", "csv"}).out);
  CHECK(files.at("report") == (out / "进度报表.csv").string());
  for (const std::string kind : {"employed", "unemployed", "willing", "returned", "flagged"}) {
    INFO(kind);
    const std::string bytes = read_file(std::filesystem::path(files.at(kind)));
    CHECK(bytes == s.ok({"list", kind, "--format", "csv"}).out);
    CHECK(bytes.rfind("\xEF\xBB\xBF", 0) == 0);  // BOM: Excel on a Chinese Windows reads it as UTF-8
  }
  CHECK(files.at("employed") == (out / "就业人员清单.csv").string());
  for (auto& f : j["files"])
    if (f["kind"] == "employed") CHECK(f["count"] == s.ok_json({"list", "employed"})["count"]);
  const std::string summary = s.ok({"export", "--out", out.string()}).out;
  CHECK_THAT(summary, Catch::Contains("已导出 6 个文件到"));
  CHECK_THAT(summary, Catch::Contains("就业人员清单"));

  // A device of the county makes the same files, in CSV and in XLSX.
  const auto dev = s.dir / "dev";
  {
    Device d(s, dev);
    REQUIRE(d.sync(s));
  }
  for (const std::string format : {"csv", "xlsx"}) {
    INFO(format);
    const auto on_server = s.dir / ("server-" + format), on_device = s.dir / ("device-" + format);
    s.ok({"export", "--out", on_server.string(), "--format", format});
    auto d = device_cli(dev, {"export", "--out", on_device.string(), "--format", format});
    INFO(d.err);
    REQUIRE(d.exit_code == 0);
    size_t n = 0;
    for (auto& e : std::filesystem::directory_iterator(on_server)) {
      ++n;
      CHECK(e.path().extension() == "." + format);
      CHECK(read_file(e.path()) == read_file(on_device / e.path().filename()));
    }
    CHECK(n == 6);
  }
  // The same run with one thread and with four gives the same bytes.
  const auto one = s.dir / "one", four = s.dir / "four";
  for (auto& [path, threads] : {std::pair{one, "1"}, std::pair{four, "4"}}) {
    auto env = s.env;
    env["TZ_THREADS"] = threads;
    REQUIRE(run_process(SYNC_SERVER_PATH, {"export", "--out", path.string(), "--data", s.data}, env).exit_code == 0);
  }
  for (auto& e : std::filesystem::directory_iterator(one)) CHECK(read_file(e.path()) == read_file(four / e.path().filename()));

  // In English: English file names and summary.
  s.ok({"export", "--out", (s.dir / "en").string(), "--lang", "en"});
  CHECK(std::filesystem::exists(s.dir / "en" / "progress-report.csv"));
  CHECK(std::filesystem::exists(s.dir / "en" / "list-flagged.csv"));

  // Refusals name what was wrong and write nothing.
  const auto none = s.dir / "none";
  CHECK_THAT(s.fails({"export"}, 2).err, Catch::Contains("--out"));
  CHECK_THAT(s.fails({"export", "--out", none.string(), "--format", "table"}, 2).err, Catch::Contains("--format"));
  CHECK_THAT(s.fails({"export", "--out", none.string(), "--region", "52263"}, 1).err, Catch::Contains("--region 52263"));
  CHECK_THAT(s.fails({"export", "--out", none.string(), "--region", "52263", "--lang", "en"}, 1).err,
             Catch::Contains("must be a 6-, 9- or 12-digit code"));
  CHECK_FALSE(std::filesystem::exists(none));
}

TEST_CASE("subsidies record keeps what is due as subsidy records - paid marks one - devices receive both", "[server_cli][report]") {
  ServerCli s;
  s.with_register();
  const size_t due = s.ok_json({"subsidies"})["tables"][0]["rows"].size();
  REQUIRE(due > 0);
  auto first = s.ok_json({"subsidies", "record"});
  CHECK(first["added"] == due);
  CHECK(first["withdrawn"] == 0);
  auto again = s.ok_json({"subsidies", "record"});
  CHECK(again["added"] == 0);
  CHECK(again["unchanged"] == due);

  // A device of the county receives them, entitled (应享), each under its person.
  const auto dir = s.dir / "dev";
  Device dev(s, dir);
  REQUIRE(dev.sync(s));
  const auto& ss = dev.store->schema().entity(EntityType::subsidy);
  const FieldId f_status = ss.require("status").id, f_person = ss.require("person_id").id, f_kind = ss.require("kind").id;
  auto statuses = [&] {
    std::map<EntityId, std::string> m;
    dev.store->scan(EntityType::subsidy, [&](EntityRow&& row) { m[row.entity.id] = row.entity.value_or(f_status); });
    return m;
  };
  auto on_device = statuses();
  REQUIRE(on_device.size() == due);
  for (auto& [id, status] : on_device) CHECK(status == "01");

  // One is paid: marked once (a second time changes nothing), audited, and the device follows.
  const EntityId paid = on_device.begin()->first;
  const auto record = *dev.store->get(paid);
  const std::string person = record.value_or(f_person), kind = record.value_or(f_kind);
  CHECK(s.ok_json({"subsidies", "paid", person, "--kind", kind})["changed"] == true);
  CHECK(s.ok_json({"subsidies", "paid", person, "--kind", kind})["changed"] == false);
  auto entries = s.store()->audit_entries();
  CHECK(std::any_of(entries.begin(), entries.end(), [&](const sync::AuditEntry& e) {
    return e.summary.find("subsidies paid") != std::string::npos && e.summary.find(person) != std::string::npos;
  }));
  REQUIRE(dev.sync(s));
  CHECK(statuses()[paid] == "02");
  auto shown = json::parse(device_cli(dir, {"show", person, "--json"}).out);
  REQUIRE(shown["subsidies"].size() >= 1);
  CHECK(std::any_of(shown["subsidies"].begin(), shown["subsidies"].end(),
                    [&](const json& j) { return j["id"] == paid.hex() && j["status"] == "02"; }));
  // Recording again leaves the paid one as it is.
  auto later = s.ok_json({"subsidies", "record"});
  CHECK(later["paid"] == 1);
  CHECK(later["unchanged"] == due - 1);

  // Refusals name what was wrong and change nothing.
  auto bad = s.fails({"subsidies", "paid", person, "--kind", "路费"});
  CHECK_THAT(bad.err, Catch::Contains("--kind “路费”不是补贴类型"));
  auto bad_en = s.fails({"subsidies", "paid", person, "--kind", "fare", "--lang", "en"});
  CHECK_THAT(bad_en.err, Catch::Contains("--kind \"fare\" is not a subsidy kind"));
  s.fails({"subsidies", "paid", person}, 2);
  CHECK_THAT(s.fails({"subsidies", "record", "--region", "5226320010"}).err, Catch::Contains("--region 5226320010"));
  CHECK(s.ok_json({"subsidies", "record"})["unchanged"] == due - 1);
}

TEST_CASE("XLSX read back: title row - Chinese headers - frozen header - IDs as text - totals", "[server_cli][report]") {
  ServerCli s;
  s.with_register();
  s.ok({"baseline", "import", s.file("baseline.csv", baseline_csv())});
  const std::string list = (s.dir / "employed.xlsx").string();
  s.ok({"list", "employed", "--out", list, "--full-ids"});  // the format from the name
  auto sheet = read_sheet(list);
  REQUIRE(sheet.rows.size() > 3);
  CHECK(sheet.rows[0] == std::vector<std::string>{"就业人员清单"});
  CHECK(sheet.frozen_rows == "2");
  const auto& head = sheet.rows[1];
  auto id_col = static_cast<size_t>(std::find(head.begin(), head.end(), "身份证号") - head.begin());
  REQUIRE(id_col < head.size());
  CHECK(sheet.rows[2][id_col] == "522632197310042273");  // 袁福武, the first employed in village order
  CHECK(sheet.is_text[2][id_col]);
  CHECK_FALSE(sheet.is_text[2][0]);  // 序号 is a number
  CHECK(sheet.rows[2][0] == "1");
  const size_t persons = sheet.rows.size() - 3;
  CHECK(sheet.rows.back() == std::vector<std::string>{"合计：" + std::to_string(persons) + " 人"});
  CHECK(unzip(list, "docProps/core.xml").find("<dcterms:created xsi:type=\"dcterms:W3CDTF\">2026-11-29T16:00:00Z") !=
        std::string::npos);

  const std::string report = (s.dir / "report.xlsx").string();
  s.ok({"report", "--out", report});
  auto r = read_sheet(report);
  CHECK(r.rows[0][0] == "贫困劳动力外出务工情况（截至2026年11月30日；单位：人）");
  CHECK(r.rows[1][4] == "2026年已外出务工人数·共计");
  CHECK(r.rows[2][0] == "522632");
  CHECK(r.is_text[2][0]);        // codes stay text
  CHECK(r.rows[2][3] == "5");    // last year's count, a number
  CHECK_FALSE(r.is_text[2][3]);
  auto people = read_sheet(report, 3);
  CHECK(people.rows[1][3] == "姓名");
  CHECK(people.rows[2][3] == "付娟");
  CHECK(people.rows[2][4] == "522632********2745");
}

TEST_CASE("a CSV list exported with full IDs and the roster's headers imports again with no change", "[server_cli][report]") {
  ServerCli s;
  s.with_register();
  const std::string csv = (s.dir / "employed.csv").string();
  s.ok({"list", "employed", "--out", csv, "--full-ids"});
  auto again = s.ok_json({"register", "import", csv});
  CHECK(again["errors"] == 0);
  CHECK(again["rows"] > 0);
  CHECK(again["changes"] == 0);
  CHECK(again["persons_created"] == 0);
}
