// End to end over loopback HTTPS with the real programs: a county `sync-server` (init, period,
// register, tokens, serve on a free port read from its startup line) and collectors' `field-cli`
// stores (init, enroll, edit offline, sync, conflicts, resolve, notices). The test process only reads
// the stores afterwards (digests, ids, sequences) and sends crafted requests over HTTPS pinned to the
// server's key. No sleeps: the server's startup line is awaited on its output.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <csignal>
#include <random>
#include <set>

#include "e2e_fixture.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/net/http.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"
#include "tz/util/bytes.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/encoding.hpp"
#include "tz/util/text.hpp"

using namespace tz;
using namespace tz::test;
using nlohmann::json;

TEST_CASE("two devices edit the same field offline: the conflict shows on both and the server then is resolved and all converge", "[e2e]") {
  County c;
  c.init();
  const std::string ta = c.token(), tb = c.token();
  c.serve();
  CHECK(c.url.rfind("https://127.0.0.1:", 0) == 0);

  Device a, b;
  a.init();
  b.init();
  a.enroll(c, ta);
  b.enroll(c, tb);
  auto first = a.sync();
  CHECK(first["pulled_records"].get<uint64_t>() > 0);
  b.sync();
  // The register in scope reached both devices.
  CHECK(a.value(kSun, "name") == "孙毅杰");
  CHECK(b.value(kSun, "phone") == "16122694676");
  converged(c, a, b);

  // Offline: the same field of the same person, two values.
  a.edit(kSun, "联系电话=13900001111");
  b.edit(kSun, "联系电话=13900002222");
  CHECK(a.sync()["conflicts"] == 0);
  CHECK(b.sync()["conflicts"] == 1);
  CHECK(a.sync()["open_conflicts"] == 1);

  for (const Device* d : {&a, &b}) {
    auto j = d->conflicts();
    REQUIRE(j["count"] == 1);
    CHECK(j["conflicts"][0]["field"] == "phone");
    CHECK(j["conflicts"][0]["id"] == a.person(kSun).hex());
    std::set<std::string> values;
    for (auto& v : j["conflicts"][0]["versions"]) values.insert(v["value"]);
    CHECK(values == std::set<std::string>{"13900001111", "13900002222"});
  }
  // The server lists it too, while serve runs.
  auto sc = c.ok_json({"conflicts"});
  REQUIRE(sc["count"] == 1);
  CHECK(sc["conflicts"][0]["id"] == a.person(kSun).hex());
  CHECK(sc["conflicts"][0]["versions"].size() == 2);

  // Resolved on A by picking B's value.
  auto j = a.conflicts();
  std::string pick;
  for (auto& v : j["conflicts"][0]["versions"])
    if (v["value"] == "13900002222") pick = std::to_string(v["number"].get<int>());
  REQUIRE_FALSE(pick.empty());
  a.ok({"resolve", kSun, "联系电话", "--pick", pick});
  CHECK(a.conflicts()["count"] == 0);
  a.sync();
  b.sync();
  CHECK(a.conflicts()["count"] == 0);
  CHECK(b.conflicts()["count"] == 0);
  CHECK(c.ok_json({"conflicts"})["count"] == 0);
  CHECK(a.value(kSun, "phone") == "13900002222");
  CHECK(b.value(kSun, "phone") == "13900002222");
  converged(c, a, b);

  // Admin commands against the serving server: a second conflict resolved by the county.
  a.edit(kFu, "联系电话=13700001111");
  b.edit(kFu, "联系电话=13700002222");
  a.sync();
  b.sync();
  auto listed = c.ok_json({"conflicts"});
  REQUIRE(listed["count"] == 1);
  std::string county_pick;
  for (auto& v : listed["conflicts"][0]["versions"])
    if (v["value"] == "13700001111") county_pick = std::to_string(v["number"].get<int>());
  REQUIRE_FALSE(county_pick.empty());
  auto resolved = c.ok_json({"resolve", kFu, "联系电话", "--pick", county_pick});
  CHECK(resolved["value"] == "13700001111");
  CHECK(c.ok_json({"conflicts"})["count"] == 0);
  a.sync();
  b.sync();
  CHECK(a.conflicts()["count"] == 0);
  CHECK(b.conflicts()["count"] == 0);
  CHECK(a.value(kFu, "phone") == "13700001111");
  CHECK(b.value(kFu, "phone") == "13700001111");
  converged(c, a, b);

  // The digests the programs print (field-cli sync --json, sync-server device list --json) agree.
  const std::string da = a.sync()["digest"], db = b.sync()["digest"];
  CHECK(da == crypto::to_hex(crypto::sha256(c.digest({kTownship}))));
  CHECK(db == da);
  auto devices = c.ok_json({"device", "list"});
  int enrolled = 0;
  for (auto& d : devices["devices"])
    if (d["enrolled"] == true) {
      CHECK(d["digest"] == da);
      ++enrolled;
      CHECK(d["status"] == "active");
      CHECK(d["acked_seq"].get<uint64_t>() > 0);
    }
  CHECK(enrolled == 2);
  CHECK(c.ok_json({"quarantine"})["count"] == 0);
  CHECK(c.stop().exit_code == 0);
}

TEST_CASE("a store used before enrolment ends with the same ids as one enrolled first", "[e2e]") {
  County c;
  c.init();
  const std::string tc = c.token(), td = c.token();
  c.serve();
  const std::string id_number = idc("52263219850505123");
  const std::vector<std::string> person{"add", "person", "--set", "村代码=522632001008", "--set", "户编号=5226320010089001",
                                        "--set", "姓名=韦小宝", "--set", "身份证号=" + id_number};

  // D enrols and syncs first, then adds the person.
  Device d;
  d.join(c, td);
  d.ok(person);

  // C adds the same person before it is enrolled, then enrols (re-keyed) and syncs.
  Device cdev;
  cdev.init();
  cdev.ok(person);
  const EntityId before = cdev.person(id_number);
  auto enrolled = cdev.ok_json({"enroll", c.url, tc});
  CHECK(enrolled["rekeyed"].get<uint64_t>() > 0);
  CHECK(cdev.person(id_number) != before);
  cdev.sync();
  d.sync();
  cdev.sync();

  const EntityId id = d.person(id_number);
  CHECK(cdev.person(id_number) == id);
  auto on_server = c.persons_with_id(id_number);
  REQUIRE(on_server.size() == 1);
  CHECK(on_server[0] == id);
  CHECK(cdev.value(id_number, "name") == "韦小宝");
  CHECK(d.value(id_number, "name") == "韦小宝");
  CHECK(cdev.conflicts()["count"] == 0);
  converged(c, cdev, d);
  CHECK(c.stop().exit_code == 0);
}

namespace {

// Records the first request a DeviceSync sends and answers it with a network error: a correctly
// signed push of the device's pending changes, for the test to send (and damage) itself.
class Capture final : public sync::Transport {
 public:
  std::string request;
  Result<std::string> exchange(std::string_view r) override {
    if (request.empty()) request = std::string(r);
    return Error(ErrorCode::network, {"captured"});
  }
};

std::string code_of(const Result<std::string>& reply) {
  REQUIRE(reply);
  auto e = sync::decode_error_reply(*reply);
  if (!e) return "(not an ErrorReply: " + std::string(sync::message_type_name(static_cast<sync::MessageType>((*reply)[0]))) + ")";
  return e->code;
}

}  // namespace

TEST_CASE("refusals over HTTPS carry the right error and apply nothing", "[e2e]") {
  County c;
  c.init();
  const std::string tg = c.token(), tr = c.token(), expiring = c.token();
  c.serve();
  const sync::Scope county{"522632"};

  Device g, r;
  g.init();
  r.init();
  g.enroll(c, tg);
  r.enroll(c, tr);
  g.sync();
  r.sync();

  // Nothing changed on the server: digest and log.
  auto server_state = [&] { return std::make_pair(c.digest(county), c.last_seq()); };

  {  // A token used already.
    auto before = server_state();
    Device x;
    x.init();
    auto used = x.cli({"enroll", c.url, tg});
    CHECK(used.exit_code == 1);
    CHECK(used.err.find("已被另一台设备使用") != std::string::npos);
    CHECK_FALSE(x.open()->identity());
    CHECK(server_state() == before);
  }

  // A revoked device: its pending change is refused whole.
  r.edit(kSun, "联系电话=13500000001");
  {
    const auto before = server_state();
    const uint64_t acked = r.acked();
    auto revoked = c.ok_json({"device", "revoke", r.id().hex()});
    CHECK(revoked["status"] == "revoked");
    const auto after_revoke = server_state();
    auto refused = r.cli({"sync"});
    CHECK(refused.exit_code == 1);
    INFO(refused.err);
    CHECK(refused.err.find("已被县里停用") != std::string::npos);
    CHECK(server_state() == after_revoke);
    CHECK(r.acked() == acked);
    CHECK(before.first == after_revoke.first);
  }

  // Crafted requests, pinned to the server's key.
  const auto id = c.identity();
  net::HttpTransport t(c.url, id.sign.pub);
  g.edit(kFu, "联系电话=13500000002");
  Capture cap;
  {
    auto gs = g.open();
    auto gid = gs->identity();
    REQUIRE(gid);
    ops::DeviceSyncOptions so;
    so.signer = ops::RequestSigner{gs->info().device, gid->sign_priv};
    ops::DeviceSync ds(*gs, cap, [] { return kNowMs; }, so);
    CHECK_FALSE(ds.sync());
  }
  REQUIRE_FALSE(cap.request.empty());
  auto signed_req = sync::decode_signed_request(cap.request).take();
  REQUIRE(signed_req.body[0] == static_cast<char>(sync::MessageType::push_request));
  const uint64_t g_acked = g.acked();
  {
    const auto before = server_state();
    // Unknown device: a fresh key for a device the server never saw.
    auto stranger = sync::sign_request(crypto::random_device_id(), 1, signed_req.body, crypto::ed25519_generate().priv);
    CHECK(code_of(t.exchange(sync::encode(stranger))) == "unknown_device");
    // Bad signature: an enrolled device's id, another key's signature.
    auto forged = sync::sign_request(signed_req.device, signed_req.counter, signed_req.body, crypto::ed25519_generate().priv);
    CHECK(code_of(t.exchange(sync::encode(forged))) == "bad_signature");
    // Tampered body: one byte of the signed inner frame flipped.
    auto tampered = signed_req;
    tampered.body[tampered.body.size() / 2] = static_cast<char>(tampered.body[tampered.body.size() / 2] ^ 0x01);
    CHECK(code_of(t.exchange(sync::encode(tampered))) == "bad_signature");
    // A container whose length says more than the body holds.
    ByteWriter w;
    w.raw(signed_req.device.view());
    w.varint(signed_req.counter);
    w.raw(signed_req.signature);
    w.varint(signed_req.body.size() + 4096);
    w.raw(signed_req.body);
    CHECK(code_of(t.exchange(sync::seal_frame(sync::MessageType::signed_request, w.data()))) == "invalid_input");
    // Another protocol version: of the frame, and of the signed inner frame.
    std::string v2 = cap.request;
    v2[1] = static_cast<char>(sync::kProtocolVersion + 1);
    CHECK(code_of(t.exchange(v2)) == "schema_version");
    auto g_priv = g.open()->identity()->sign_priv;
    std::string inner_v2 = signed_req.body;
    inner_v2[1] = static_cast<char>(sync::kProtocolVersion + 1);
    CHECK(code_of(t.exchange(sync::encode(sync::sign_request(signed_req.device, signed_req.counter, inner_v2, g_priv)))) ==
          "schema_version");
    // Malformed: random bytes, and random bytes behind a valid frame header.
    std::mt19937 rng(7);
    std::string noise(600, '\0');
    for (auto& ch : noise) ch = static_cast<char>(rng());
    noise[0] = static_cast<char>(0xee);
    noise[1] = static_cast<char>(sync::kProtocolVersion);
    CHECK(code_of(t.exchange(noise)) == "invalid_input");
    CHECK(code_of(t.exchange(sync::seal_frame(sync::MessageType::signed_request, noise))) == "invalid_input");
    CHECK(code_of(t.exchange(std::string())) == "invalid_input");
    CHECK(server_state() == before);
    CHECK(g.acked() == g_acked);
  }
  {
    // Replay: the correctly signed request is applied once; the same bytes again are stale.
    auto once = t.exchange(cap.request);
    REQUIRE(once);
    auto applied = sync::decode_push_reply_or_error(*once);
    INFO((applied ? std::string() : applied.error().message(Lang::en)));
    REQUIRE(applied);
    CHECK(applied->refusal == sync::PushReply::Refusal::none);
    CHECK(applied->outcomes.size() == 1);
    const auto after_once = server_state();
    auto again = t.exchange(cap.request);
    REQUIRE(again);
    auto stale = sync::decode_error_reply(*again);
    REQUIRE(stale);
    CHECK(stale->code == "stale_counter");
    CHECK(stale->last_counter == signed_req.counter);
    CHECK(server_state() == after_once);
    // The device goes on: its next sync finds the change held already.
    auto j = g.sync();
    CHECK(j["duplicates"].get<uint64_t>() + j["applied"].get<uint64_t>() == 1);
    CHECK(g.conflicts()["count"] == 0);
  }

  // An oversized body: refused by HTTP before the handler; nothing applied.
  const std::string dir = c.dir.path().string();
  std::string csv = "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态\n";
  for (int i = 0; i < 60; ++i) {
    char id17[18];
    std::snprintf(id17, sizeof id17, "5226321990%02d%02d%03d", 1 + i % 12, 1 + i % 28, 100 + i);
    csv += "522632001008,5226320010089100,批量" + std::to_string(i) + "," + idc(id17) + "," + (i ? "子女" : "户主") +
           ",139000" + std::to_string(10000 + i * 37) + ",普通劳动力,未就业\n";
  }
  write_file(c.dir / "batch.csv", csv);
  {
    auto imported = g.cli({"import", (c.dir / "batch.csv").string()});
    INFO(imported.out << imported.err);
    REQUIRE(imported.exit_code == 0);
  }
  CHECK(c.stop().exit_code == 0);
  c.serve({"--max-body", "1024"});
  {
    const auto before = server_state();
    const auto g_before = g.acked();
    auto big = g.cli({"sync"});  // refused at once: a retry would be refused again
    CHECK(big.exit_code == 1);
    CHECK(big.err.find("413") != std::string::npos);
    CHECK(server_state() == before);
    CHECK(g.acked() == g_before);
  }
  CHECK(c.stop().exit_code == 0);

  // An expired token: the server's clock 8 days after the token was made.
  c.serve({}, {{"TAIZHANG_CLOCK_MS", std::to_string(kNowMs + 8 * kDayMs)}});
  {
    const auto before = server_state();
    Device y;
    y.init();
    auto expired = y.cli({"enroll", c.url, expiring});
    CHECK(expired.exit_code == 1);
    CHECK(expired.err.find("登记令牌已过期") != std::string::npos);
    CHECK_FALSE(y.open()->identity());
    CHECK(server_state() == before);
    auto tokens = c.ok_json({"token", "list"});
    int unused = 0;
    for (auto& tk : tokens["tokens"]) unused += tk["status"] != "used";
    CHECK(unused == 1);
  }
  CHECK(c.stop().exit_code == 0);

  // Back to a normal limit on the same address: the big push goes through.
  c.serve();
  {
    auto j = g.sync();
    CHECK(j["applied"].get<uint64_t>() > 60);
    CHECK(g.acked() == g.last_own_seq());
    CHECK(g.digest() == c.digest({kTownship}));
  }
  const int port = c.port;
  CHECK(c.stop().exit_code == 0);

  // Another county server (another init, another key) on the same address: refused as an impostor.
  County other;
  other.init(false);
  other.port = port;
  other.serve();
  REQUIRE(other.port == port);
  g.edit(kFu, "联系电话=13500000003");
  {
    const std::string device_before = g.everything();
    const auto other_before = std::make_pair(other.digest(county), other.last_seq());
    auto mitm = g.cli({"sync"});
    CHECK(mitm.exit_code == 1);
    CHECK(mitm.err.find("服务器证书与登记时的不一致") != std::string::npos);
    CHECK(g.everything() == device_before);
    CHECK(std::make_pair(other.digest(county), other.last_seq()) == other_before);
  }
  CHECK(other.stop().exit_code == 0);
}

TEST_CASE("out-of-scope changes and a retired device's later changes are quarantined and not refused", "[e2e]") {
  County c;
  c.init();
  const std::string ta = c.token();
  c.serve();
  Device a;
  a.join(c, ta);

  // A household in a village outside the device's scope.
  a.ok({"add", "household", "--set", std::string("村代码=") + kOutside, "--set", "户编号=5226321010019001", "--set",
        "户主姓名=吴外村"});
  auto j = a.sync();
  CHECK(j["quarantined"].get<uint64_t>() > 0);
  CHECK(j["applied"] == 0);
  auto notices = a.ok_json({"notices"});
  REQUIRE(notices["count"].get<int>() > 0);
  for (auto& n : notices["notices"]) CHECK(n["kind"] == "quarantined");
  auto held = c.ok_json({"quarantine"});
  CHECK(held["count"] == j["quarantined"]);
  for (auto& q : held["changes"]) CHECK(q["device"] == a.id().hex());
  for (auto& q : held["changes"]) CHECK(q["type"] == "household");
  CHECK(c.digest({kOutside}) == c.digest({"522632101002"}));  // nothing placed in that village

  // Retired at a sequence while serve runs: what came before is applied, what came after is held.
  a.edit(kSun, "联系电话=13600000001");
  const uint64_t at = a.last_own_seq();
  a.edit(kFu, "联系电话=13600000002");
  const uint64_t quarantined_before = held["count"];
  auto retired = c.ok_json({"device", "retire", a.id().hex(), "--at", std::to_string(at)});
  CHECK(retired["status"] == "retired");
  CHECK(retired["retired_after"] == at);
  auto after = a.sync();
  CHECK(after["applied"] == 1);
  CHECK(after["quarantined"] == 1);
  held = c.ok_json({"quarantine"});
  CHECK(held["count"] == quarantined_before + 1);
  bool later_held = false;
  for (auto& q : held["changes"])
    if (q["seq"].get<uint64_t>() > at) {
      later_held = true;
      CHECK(q["value"] == "13600000002");
    }
  CHECK(later_held);
  auto sun = c.entity(a.person(kSun));
  auto fu = c.entity(a.person(kFu));
  REQUIRE(sun);
  REQUIRE(fu);
  CHECK(live_value(*sun, "phone") == "13600000001");
  CHECK(live_value(*fu, "phone") == "14291007040");
  CHECK(a.ok_json({"notices"})["count"].get<int>() > notices["count"].get<int>());
  auto devices = c.ok_json({"device", "list"});
  bool listed = false;
  for (auto& d : devices["devices"])
    if (d["id"] == a.id().hex()) {
      listed = true;
      CHECK(d["status"] == "retired");
    }
  CHECK(listed);
  CHECK(c.stop().exit_code == 0);
}

// The person pushed with a new household outside the scope is held with it: its villages come from
// that household's placing in the same batch (the server does not hold the household).
TEST_CASE("a person added to a new household outside the scope is quarantined with it", "[e2e]") {
  County c;
  c.init(false);
  const std::string ta = c.token();
  c.serve();
  Device a;
  a.join(c, ta);
  const std::string outsider = idc("52263219770707111");
  a.ok({"add", "person", "--set", std::string("村代码=") + kOutside, "--set", "户编号=5226321010019002", "--set", "姓名=吴外村",
        "--set", "身份证号=" + outsider});
  auto j = a.sync();
  CHECK(j["quarantined"].get<uint64_t>() > 0);
  CHECK(j["applied"] == 0);
  CHECK(c.persons_with_id(outsider).empty());
  CHECK(c.stop().exit_code == 0);
}

// Backup while serving and restore (SPEC §6 backups, §5 epochs): a device's changes made after the
// backup are re-sent to the restored server and nothing is lost; a device enrolled after the backup
// is refused with a clear message; a wrong passphrase or a running serve changes nothing.
TEST_CASE("a backup taken while serving is restored with a new epoch and devices re-send what it lacks", "[e2e][backup]") {
  County c;
  c.init();
  c.env["TAIZHANG_BACKUP_PASSPHRASE"] = "县里另外保管的口令";
  c.env["TAIZHANG_KDF_LOG2N"] = "10";
  const std::string ta = c.token(), tb = c.token();
  c.serve();
  Device a;
  a.join(c, ta);
  a.edit(kSun, "联系电话=13900001111");
  a.sync();
  const std::string backup = (c.dir / "county.tzb").string();
  auto made = c.ok_json({"backup", "--out", backup});
  CHECK(made["files"].get<int>() >= 2);  // the server store and the admin replica at least
  const std::string epoch_before = made["epoch"];

  // After the backup: a changes more; b enrols and pushes its own change.
  a.edit(kFu, "联系电话=13900003333");
  a.sync();
  Device b;
  b.join(c, tb);
  b.edit(kSun, "文化程度=大专及以上");
  b.sync();

  // Not while serve runs on the folder; nothing changed.
  auto busy = c.run({"restore", backup});
  CHECK(busy.exit_code == 1);
  CHECK(busy.err.find("serve") != std::string::npos);
  CHECK(c.stop().exit_code == 0);
  const std::string before = c.digest({kTownship});
  // A wrong passphrase: refused, the folder untouched.
  auto wrong = run_process(SYNC_SERVER_PATH, {"restore", backup, "--data", c.data},
                           [&] { auto e = c.env; e["TAIZHANG_BACKUP_PASSPHRASE"] = "not it"; return e; }());
  CHECK(wrong.exit_code != 0);
  CHECK(wrong.err.find("备份口令不对") != std::string::npos);
  CHECK(c.digest({kTownship}) == before);

  auto restored = c.ok_json({"restore", backup});
  CHECK(restored["backup_epoch"] == epoch_before);
  CHECK(restored["epoch"] != epoch_before);
  CHECK(std::filesystem::exists(restored["kept"].get<std::string>()));  // the replaced folder is kept
  // The restored server lacks a's later change until a syncs again.
  CHECK(live_value(*c.entity(a.person(kFu)), "phone") != "13900003333");
  c.serve();
  auto j = a.sync();
  CHECK(j["pushed"].get<uint64_t>() > 0);
  CHECK(live_value(*c.entity(a.person(kFu)), "phone") == "13900003333");
  CHECK(live_value(*c.entity(a.person(kSun)), "phone") == "13900001111");
  CHECK(a.digest() == c.digest({kTownship}));

  // b was enrolled after the backup: the restored server does not know it. It enrols again with a
  // new token, keeping its device id and its change, which then reaches the server.
  auto refused = b.cli({"sync"});
  CHECK(refused.exit_code == 1);
  INFO(refused.err);
  CHECK(refused.err.find("服务器不认识本设备") != std::string::npos);
  const DeviceId b_id = b.id();
  b.enroll(c, c.token());
  CHECK(b.id() == b_id);
  b.sync();
  CHECK(live_value(*c.entity(a.person(kSun)), "education") == "06");
  a.sync();
  converged(c, a, b);
  CHECK(c.stop().exit_code == 0);
}
// --- Offline bundles and token files (issue 6): the same programs, files only, no `serve` ---

TEST_CASE("two devices enrolled by token files converge through files only with a conflict recorded", "[e2e][bundle]") {
  County c;
  c.init();
  BundleDevice a, b;
  enrol_by_file(c, a);
  enrol_by_file(c, b);
  // Enrolled with no network: the county's configuration is there at once.
  CHECK(a.open()->identity()->server_url.empty());
  CHECK(a.open()->identity()->scope == std::vector<std::string>{kTownship});

  // The first bundle registers the device; imported twice, it is applied once.
  const auto a1 = a.export_bundle("a1.bundle");
  const auto r1 = import_bundle(c, a1, (a.dir / "a1.response").string());
  const auto after_first = server_state(c);
  const auto r1again = import_bundle(c, a1, (a.dir / "a1again.response").string());
  CHECK(c.device(a.id())->sign_pub == a.open()->identity()->sign_pub);
  auto j = a.import_response(r1);
  CHECK(j["registered"] == true);
  CHECK(j["pulled_records"].get<uint64_t>() > 0);
  CHECK(a.value(kSun, "name") == "孙毅杰");
  CHECK(a.import_response(r1again)["already"] == true);
  round_trip(c, b, "b1");

  // A conflicting edit on both, carried by files.
  a.edit(kSun, "联系电话=13900001111");
  b.edit(kSun, "联系电话=13900002222");
  const auto a2 = a.export_bundle("a2.bundle");
  const auto b2 = b.export_bundle("b2.bundle");
  // No personal data in clear: the new phones, the register's IDs and names in any encoding.
  for (const auto& path : {a1, a2, b2}) {
    const std::string raw = read_file(path);
    for (const std::string& secret : {std::string("13900001111"), std::string("13900002222"), std::string(kSun),
                                      std::string(kSun).substr(0, 14), std::string("16122694676")})
      CHECK(raw.find(secret) == std::string::npos);
    CHECK(raw.find("孙毅杰") == std::string::npos);
    CHECK(raw.find(encoding::utf8_to_utf16le("孙毅杰")) == std::string::npos);
    CHECK(raw.find(encoding::utf8_to_gb18030("孙毅杰")) == std::string::npos);
  }
  const auto ra2 = import_bundle(c, a2, (a.dir / "a2.response").string());
  const auto rb2 = import_bundle(c, b2, (b.dir / "b2.response").string());
  for (const auto& path : {ra2, rb2}) {
    const std::string raw = read_file(path);
    CHECK(raw.find("13900001111") == std::string::npos);
    CHECK(raw.find(encoding::utf8_to_gb18030("孙毅杰")) == std::string::npos);
  }
  // The same bundle again: nothing duplicated, nothing changed.
  const auto before_repeat = server_state(c);
  auto repeat = c.ok_json({"bundle", "import", a2, "--out", (a.dir / "a2again.response").string()});
  CHECK(repeat["applied"] == 0);
  CHECK(repeat["duplicates"] == 1);
  CHECK(server_state(c).substr(0, 64) == before_repeat.substr(0, 64));
  a.import_response(ra2);
  auto jb = b.import_response(rb2);
  CHECK(jb["conflicts"] == 1);
  // An old response after a newer one changes nothing.
  const std::string b_before = b.everything();
  CHECK(b.import_response((b.dir / "b1.response").string())["already"] == true);
  CHECK(b.everything() == b_before);
  // A gets the conflict with its next round trip; both end equal to the server.
  auto ja = round_trip(c, a, "a3");
  CHECK(ja["open_conflicts"] == 1);
  round_trip(c, b, "b3");
  converged(c, a, b);
  auto listed = c.ok_json({"conflicts"});
  REQUIRE(listed["count"] == 1);
  CHECK(listed["conflicts"][0]["id"] == a.person(kSun).hex());
  // The printed digests agree with the server's, and the device kept the signed audit head.
  CHECK(ja["digest"] == crypto::to_hex(crypto::sha256(c.digest({kTownship}))));
  auto head = a.open()->sync_config("audit_head");
  REQUIRE(head);
  CHECK(head->first > 0);
  CHECK(c.ok_json({"audit", "verify"})["ok"] == true);
  (void)after_first;
}

TEST_CASE("damaged foreign or misdirected bundles are refused with nothing applied on either side", "[e2e][bundle]") {
  County c, other;
  c.init();
  other.init(false);
  BundleDevice a, b;
  enrol_by_file(c, a);
  enrol_by_file(c, b);
  round_trip(c, a, "a1");
  round_trip(c, b, "b1");
  a.edit(kSun, "联系电话=13900001111");
  const auto good = a.export_bundle("a2.bundle");
  const std::string bytes = read_file(good);
  const auto before = server_state(c);
  auto refused = [&](const std::string& name, const std::string& content, const std::string& expect_en) {
    const std::string path = a.file(name, content);
    auto r = c.run({"bundle", "import", path, "--out", (a.dir / (name + ".response")).string(), "--lang", "en"});
    INFO(name << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(expect_en));
    CHECK_THAT(r.err, Catch::Contains("nothing was changed"));
    CHECK_FALSE(std::filesystem::exists(a.dir / (name + ".response")));
    CHECK(server_state(c) == before);
  };
  refused("truncated", bytes.substr(0, bytes.size() - 40), "cut short");
  refused("flipped", flip(bytes, bytes.size() - 100), "altered");
  refused("version", flip(bytes, 8), "format version");
  refused("garbage", "hello", "not a taizhang bundle");
  // Encrypted to another county server.
  {
    auto r = other.run({"bundle", "import", good, "--out", (a.dir / "other.response").string(), "--lang", "en"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("another county server"));
  }
  // Re-signed by another key: the bundle built again with the same parts, signed by a stranger.
  {
    auto s = a.open();
    auto id = *s->identity();
    auto opened = sync::open_bundle(bytes, sync::BundleKind::device, id.server_box_pub, c.identity().box.priv).take();
    auto stranger = crypto::ed25519_generate();
    auto forged = sync::seal_bundle(sync::BundleKind::device, id.server_box_pub, stranger.priv, opened.header, opened.parts);
    refused("resigned", forged, "not signed by the key device");
  }
  // Chinese by default.
  {
    auto r = c.run({"bundle", "import", a.file("t2", bytes.substr(0, 100)), "--out", (a.dir / "t2.response").string()});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("服务器未做任何改动"));
  }

  // The genuine bundle still goes through; its response is refused on another device, cut or altered.
  const auto response = import_bundle(c, good, (a.dir / "a2.response").string());
  const std::string resp = read_file(response);
  const std::string b_before = b.everything(), a_before = a.everything();
  auto device_refused = [&](const BundleDevice& d, const std::string& name, const std::string& content, const std::string& expect_en) {
    auto r = d.cli({"bundle", "import", d.file(name, content), "--lang", "en"});
    INFO(name << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(expect_en));
    CHECK_THAT(r.err, Catch::Contains("nothing was changed"));
  };
  device_refused(b, "wrong-device", resp, "for another device");
  device_refused(a, "cut", resp.substr(0, resp.size() / 2), "cut short");
  device_refused(a, "altered", flip(resp, resp.size() - 10), "altered");
  device_refused(a, "not-a-response", bytes, "a device's bundle");
  CHECK(b.everything() == b_before);
  CHECK(a.everything() == a_before);
  a.import_response(response);
  CHECK(a.acked() == a.last_own_seq());

  // A revoked device's bundle is refused whole.
  c.ok({"device", "revoke", a.id().hex()});
  a.edit(kSun, "联系电话=13900003333");
  const auto revoked = a.export_bundle("a3.bundle");
  const auto after_revoke = server_state(c);
  auto r = c.run({"bundle", "import", revoked, "--out", (a.dir / "a3.response").string(), "--lang", "en"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("revoked"));
  CHECK(server_state(c) == after_revoke);
}

TEST_CASE("token files expire on the device and a used one is refused at the server until a new token", "[e2e][bundle]") {
  County c;
  c.init();
  BundleDevice a, b;
  const auto shared = token_file(c, a.dir, "shared.token", {"--expires-days", "1"});
  a.init();
  b.init();
  // After the expiry the device refuses the file (its own clock).
  {
    auto r = a.cli({"enroll", "--token-file", shared.path, "--code", shared.code, "--lang", "en"},
                   {{"TAIZHANG_CLOCK_MS", std::to_string(kNowMs + 2 * kDayMs)}});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("expired"));
    CHECK_FALSE(a.open()->enrolled());
  }
  // A wrong code opens nothing.
  CHECK(a.cli({"enroll", "--token-file", shared.path, "--code", "0000-0000-0000"}).exit_code == 1);
  a.enroll_file(shared);
  b.enroll_file(shared);  // the device cannot know the token was used
  round_trip(c, a, "a1");
  const std::string wei = idc("52263219850505123");
  b.ok({"add", "person", "--set", "村代码=522632001008", "--set", "户编号=5226320010089001", "--set", "姓名=韦小宝",
        "--set", "身份证号=" + wei});
  const auto b1 = b.export_bundle("b1.bundle");
  const auto before = server_state(c);
  auto r = c.run({"bundle", "import", b1, "--out", (b.dir / "b1.response").string(), "--lang", "en"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("used by another device"));
  CHECK(server_state(c) == before);
  // B re-enrols with a new token file: same device id, its change kept and delivered. A bundle
  // imported after the expiry of its token is not refused for its age.
  const DeviceId b_id = b.id();
  const auto fresh = token_file(c, b.dir, "fresh.token", {"--expires-days", "1"});
  b.enroll_file(fresh);
  CHECK(b.id() == b_id);
  CHECK(b.value(wei, "name") == "韦小宝");
  const auto b2 = b.export_bundle("b2.bundle");
  c.env["TAIZHANG_CLOCK_MS"] = std::to_string(kNowMs + 30 * kDayMs);
  auto imported = c.ok_json({"bundle", "import", b2, "--out", (b.dir / "b2.response").string()});
  c.env["TAIZHANG_CLOCK_MS"] = std::to_string(kNowMs);
  CHECK(imported["applied"].get<uint64_t>() >= 4);
  CHECK(imported["quarantined"] == 0);
  CHECK(imported["registered_now"] == true);
  // Its month on the road is not taken for a wrong clock.
  CHECK(b.import_response((b.dir / "b2.response").string())["notices"] == 0);
  round_trip(c, a, "a2");
  CHECK(a.value(wei, "name") == "韦小宝");
  converged(c, a, b);
}

TEST_CASE("a store restored from an older copy is refused through a bundle and recovers by renumbering", "[e2e][bundle]") {
  OneFileDevice f;
  County& c = f.c;
  BundleDevice& a = f.a;
  const auto copy = a.dir / "older-copy";
  std::filesystem::copy(a.store, copy, std::filesystem::copy_options::recursive);
  a.edit(kSun, "联系电话=13900001111");
  a.edit(kFu, "联系电话=13900001112");
  round_trip(c, a, "a2");
  const uint64_t held = a.last_own_seq();
  // Back to the older copy, then a different edit under a sequence the server already holds.
  std::filesystem::remove_all(a.store);
  std::filesystem::copy(copy, a.store, std::filesystem::copy_options::recursive);
  a.edit(kSun, "联系电话=13900009999");
  const auto before = server_state(c);
  const auto bundle = a.export_bundle("a3.bundle");
  auto refused = c.ok_json({"bundle", "import", bundle, "--out", (a.dir / "a3.response").string()});
  CHECK(refused["rolled_back"] == true);
  CHECK(refused["highest_seq_held"] == held);
  CHECK(refused["applied"] == 0);
  CHECK(server_state(c).substr(0, 64) == before.substr(0, 64));
  auto told = a.import_response((a.dir / "a3.response").string());
  CHECK(told["rolled_back"] == true);
  CHECK(told["highest_seq_held"] == held);
  CHECK(told["more"] == true);
  // Renumbered after what the server holds; the next round trip brings the lost edits back.
  CHECK(a.last_own_seq() == held + 1);
  auto j4 = round_trip(c, a, "a4");
  INFO(j4.dump());
  auto j = round_trip(c, a, "a5");
  INFO(j.dump());
  CHECK(j["more"] == false);
  CHECK(a.value(kFu, "phone") == "13900001112");
  CHECK(a.digest() == c.digest({kTownship}));
  CHECK(a.acked() == held + 1);
}

TEST_CASE("a retired device's bundle is applied up to its sequence and later changes are quarantined", "[e2e][bundle]") {
  OneFileDevice f;
  County& c = f.c;
  BundleDevice& a = f.a;
  a.edit(kSun, "联系电话=13900001111");
  const uint64_t n = a.last_own_seq();
  a.edit(kFu, "联系电话=13900001112");
  c.ok({"device", "retire", a.id().hex(), "--at", std::to_string(n)});
  auto j = c.ok_json({"bundle", "import", a.export_bundle("a2.bundle"), "--out", (a.dir / "a2.response").string()});
  CHECK(j["applied"] == 1);
  CHECK(j["quarantined"] == 1);
  CHECK(c.ok_json({"quarantine"})["count"] == 1);
  auto r = a.import_response((a.dir / "a2.response").string());
  CHECK(r["quarantined"] == 1);
  CHECK(a.value(kSun, "phone") == "13900001111");
}

TEST_CASE("a bundle partly acknowledged over the network and imported late changes nothing", "[e2e][bundle]") {
  County c;
  c.init();
  const std::string token = c.token();
  c.serve();
  BundleDevice a;
  a.join(c, token);
  a.edit(kSun, "联系电话=13900001111");
  a.edit(kFu, "联系电话=13900001112");
  const auto bundle = a.export_bundle("a1.bundle");
  a.edit(kFu, "联系电话=13900001113");
  a.sync();  // everything acknowledged over the network
  const std::string server_before = c.digest({kTownship});
  const uint64_t log_before = c.last_seq();
  auto j = c.ok_json({"bundle", "import", bundle, "--out", (a.dir / "a1.response").string()});
  CHECK(j["duplicates"] == 2);
  CHECK(j["applied"] == 0);
  CHECK(c.digest({kTownship}) == server_before);
  CHECK(c.last_seq() == log_before);
  const std::string device_before = a.digest();
  auto r = a.import_response((a.dir / "a1.response").string());
  CHECK(r["pages_skipped"] == true);
  CHECK(a.digest() == device_before);
  CHECK(a.value(kFu, "phone") == "13900001113");
  // The network goes on after the bundle spent a request counter on the server.
  a.edit(kSun, "联系电话=13900001114");
  CHECK(a.sync()["applied"] == 1);
  CHECK(a.digest() == c.digest({kTownship}));
  CHECK(c.stop().exit_code == 0);
}

TEST_CASE("a store whose passphrase is lost is opened with the server's key file and loses nothing", "[e2e][bundle]") {
  OneFileDevice f;
  County& c = f.c;
  BundleDevice& a = f.a;
  a.edit(kSun, "联系电话=13900001111");  // unpushed
  const std::string before = a.everything();
  const auto audit_before = c.ok_json({"audit", "verify"})["count"].get<uint64_t>();
  const std::string request = (a.dir / "recover.request").string(), keyfile = (a.dir / "recover.key").string();
  // The request needs no passphrase.
  auto exported = a.cli({"recover", "--export", request}, {{"TAIZHANG_PASSPHRASE", ""}});
  REQUIRE(exported.exit_code == 0);
  auto made = c.ok_json({"device", "recover", request, "--out", keyfile});
  CHECK(made["device"] == a.id().hex());
  CHECK(c.ok_json({"audit", "verify"})["count"].get<uint64_t>() == audit_before + 1);
  // Another device's key file is refused.
  BundleDevice b;
  b.init();
  auto wrong = b.cli({"recover", keyfile, "--lang", "en"});
  CHECK(wrong.exit_code == 1);
  auto r = a.cli({"recover", keyfile, "--json"}, {{"TAIZHANG_PASSPHRASE", "a new passphrase"}});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["pending_changes"] == 1);
  // The old passphrase no longer opens it; the new one does, with everything there.
  CHECK(a.cli({"status"}).exit_code == 0);  // status needs no passphrase
  CHECK(a.cli({"find", kSun}).exit_code == 1);
  auto s = open_device_store(a.store, "a new passphrase", resources().schema).take();
  CHECK(store_digest(*s) == before);
  // A key file is used once: its one-time key is gone.
  CHECK(a.cli({"recover", keyfile}, {{"TAIZHANG_PASSPHRASE", "another passphrase"}}).exit_code == 1);
}

TEST_CASE("a bundle uploaded over HTTPS is answered with its response bundle", "[e2e][bundle]") {
  County c;
  c.init();
  BundleDevice a;
  enrol_by_file(c, a);
  c.serve();
  net::HttpTransport t(c.url, c.identity().sign.pub);
  auto reply = t.post("/api/v1/bundle", read_file(a.export_bundle("a1.bundle")));
  REQUIRE(reply);
  const std::string response = a.file("a1.response", *reply);
  auto j = a.import_response(response);
  CHECK(j["registered"] == true);
  CHECK(j["pulled_records"].get<uint64_t>() > 0);
  // A refusal is a JSON error naming the problem.
  auto bad = t.post("/api/v1/bundle", "not a bundle");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(Lang::en), Catch::Contains("not a taizhang bundle"));
  CHECK(c.stop().exit_code == 0);
  CHECK(a.digest() == c.digest({kTownship}));
}

// Personal data stays in (SPEC §6, issue "hostile input"): after a full cycle — register import,
// enrolment, sync, a conflicting edit, a resolution, sync again — neither the server's log (its
// standard error: one line per request) nor what `field-cli sync` prints holds any ID number (or its
// first 14 digits), name or phone of the register or of the edits.
TEST_CASE("no ID number or name or phone appears in the server log or the sync output after a full cycle", "[e2e][privacy]") {
  County c;
  c.init();
  const std::string ta = c.token(), tb = c.token();
  c.serve();
  Device a, b;
  a.init();
  b.init();
  a.enroll(c, ta);
  b.enroll(c, tb);
  std::string device_log;
  auto sync_logged = [&](const Device& d) {
    for (bool as_json : {false, true}) {
      std::vector<std::string> args{"sync"};
      if (as_json) args.push_back("--json");
      auto r = d.cli(args);
      INFO(r.out << r.err);
      REQUIRE(r.exit_code == 0);
      device_log += r.out + r.err;
    }
  };
  sync_logged(a);
  sync_logged(b);
  a.edit(kSun, "联系电话=13900001111");
  b.edit(kSun, "联系电话=13900002222");
  sync_logged(a);
  sync_logged(b);
  auto j = b.conflicts();  // b pushed second: it has both values
  REQUIRE(j["count"] == 1);
  b.ok({"resolve", kSun, "联系电话", "--pick", std::to_string(j["conflicts"][0]["versions"][0]["number"].get<int>())});
  sync_logged(b);
  sync_logged(a);
  CHECK(a.conflicts()["count"] == 0);
  const auto stopped = c.stop();
  REQUIRE(stopped.exit_code == 0);
  const std::string server_log = stopped.out + stopped.err;
  REQUIRE(server_log.find("/api/v1/sync") != std::string::npos);  // the log is there, one line per request

  // Every ID, name and phone of the register, read from the file itself.
  auto text = encoding::to_utf8(read_file(source_dir() / "data/samples/roster-522632.gb18030.csv")).take();
  auto rows = csv::parse(text).take();
  REQUIRE(rows.size() > 100);
  const auto& header = rows[0].cells;
  auto col = [&](const std::string& name) {
    auto it = std::find(header.begin(), header.end(), name);
    REQUIRE(it != header.end());
    return static_cast<size_t>(it - header.begin());
  };
  const size_t c_name = col("姓名"), c_id = col("身份证号"), c_phone = col("联系电话");
  std::vector<std::string> secrets{"13900001111", "13900002222"};
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i].cells;
    if (r.size() <= std::max({c_name, c_id, c_phone})) continue;
    const std::string id = csv::unwrap_excel_text(r[c_id]);
    if (id.size() == 18) {
      secrets.push_back(id);
      secrets.push_back(id.substr(0, 14));
    }
    if (text::utf8_to_u32(r[c_name]).size() >= 2) secrets.push_back(r[c_name]);
    if (r[c_phone].size() == 11) secrets.push_back(r[c_phone]);
  }
  REQUIRE(secrets.size() > 300);
  for (const auto& s : secrets) {
    INFO(s);
    CHECK(server_log.find(s) == std::string::npos);
    CHECK(device_log.find(s) == std::string::npos);
  }
}

TEST_CASE("bundle imports killed before they commit are imported again and converge", "[e2e][bundle]") {
  OneFileDevice f;
  County& c = f.c;
  BundleDevice& a = f.a;
  a.edit(kSun, "联系电话=13900001111");
  a.edit(kFu, "联系电话=13900001112");
  const auto bundle = a.export_bundle("a2.bundle");
  // The server killed in the middle of applying the batch: nothing of it is kept, nor a response.
  const std::string before = server_state(c);
  const std::string response = (a.dir / "a2.response").string();
  auto env = c.env;
  env["TAIZHANG_CRASH_AT"] = "server.apply.before_commit";
  auto killed = run_process(SYNC_SERVER_PATH, {"bundle", "import", bundle, "--out", response, "--data", c.data}, env);
  CHECK(killed.signal == SIGKILL);
  CHECK_FALSE(std::filesystem::exists(response));
  CHECK(server_state(c) == before);
  import_bundle(c, bundle, response);
  // The device killed before the page commits: imported again, it ends where one clean import ends.
  auto dead = a.cli({"bundle", "import", response}, {{"TAIZHANG_CRASH_AT", "device.pull.before_commit"}});
  CHECK(dead.signal == SIGKILL);
  auto j = a.import_response(response);
  CHECK(j["already"] == false);
  CHECK(a.acked() == a.last_own_seq());
  round_trip(c, a, "a3");
  CHECK(a.digest() == c.digest({kTownship}));
  CHECK(a.value(kFu, "phone") == "13900001112");
}

TEST_CASE("sync-server audit verify reports an intact chain and names the entry a tampering broke", "[e2e][bundle]") {
  County c;
  c.init();
  auto ok = c.run({"audit", "verify"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("审计链完整"));
  auto j = c.ok_json({"audit", "verify"});
  CHECK(j["count"].get<uint64_t>() >= 4);  // init, period set, the register's batch, register import
  CHECK(j["head_seq"] == j["count"]);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((std::filesystem::path(c.data) / "server.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE audit SET actor = 'someone else' WHERE seq = 2", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto broken = c.run({"audit", "verify"});
  CHECK(broken.exit_code == 1);
  CHECK_THAT(broken.err, Catch::Contains("第 2 条审计记录"));
  auto en = c.run({"audit", "verify", "--lang", "en"});
  CHECK_THAT(en.err, Catch::Contains("audit entry 2"));
}

// A truncated chain that is consistent in itself (the last entries removed and the head moved back)
// passes `audit verify` alone; the head a device kept (signed by the server when it synced) shows it.
TEST_CASE("a truncated audit chain is caught with the head a device has seen", "[e2e][audit]") {
  County c;
  c.init();
  const std::string ta = c.token();
  c.serve();
  Device a;
  a.join(c, ta);
  a.edit(kSun, "联系电话=13900001111");
  a.sync();
  CHECK(c.stop().exit_code == 0);
  auto head = a.ok_json({"audit", "head"});
  const std::string check = head["check"];
  const uint64_t seen = head["seq"];
  REQUIRE(seen >= 3);
  CHECK(c.run({"audit", "verify", "--head", check}).exit_code == 0);
  CHECK_THAT(a.ok({"audit", "head"}).out, Catch::Contains("sync-server audit verify --head " + check));

  // Remove the last two entries and move the head back onto the one before them.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((std::filesystem::path(c.data) / "server.db").c_str(), &db) == SQLITE_OK);
  const std::string keep = std::to_string(seen - 2);
  REQUIRE(sqlite3_exec(db, ("DELETE FROM audit WHERE seq > " + keep).c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, ("UPDATE meta SET value = '" + keep + " ' || (SELECT hash FROM audit WHERE seq = " + keep +
                            ") WHERE key = 'x:audit_head'").c_str(),
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CHECK(c.run({"audit", "verify"}).exit_code == 0);  // consistent in itself
  auto caught = c.run({"audit", "verify", "--head", check});
  CHECK(caught.exit_code == 1);
  CHECK_THAT(caught.err, Catch::Contains("审计链被截断"));
  auto en = c.run({"audit", "verify", "--head", check, "--lang", "en"});
  CHECK_THAT(en.err, Catch::Contains("the chain was truncated"));
  CHECK(c.run({"audit", "verify", "--head", "12:abc"}).exit_code == 2);
}

TEST_CASE("an old bundle imported after a newer one changes nothing on either side", "[e2e][bundle]") {
  OneFileDevice f;
  County& c = f.c;
  BundleDevice& a = f.a;
  a.edit(kSun, "联系电话=13900001111");
  const auto older = a.export_bundle("old.bundle");
  a.edit(kFu, "联系电话=13900001112");
  const auto newer = a.export_bundle("new.bundle");
  const auto r_new = import_bundle(c, newer, (a.dir / "new.response").string());
  const auto server_after_new = server_state(c);
  auto j = c.ok_json({"bundle", "import", older, "--out", (a.dir / "old.response").string()});
  CHECK(j["applied"] == 0);
  CHECK(j["duplicates"] == 1);
  CHECK(server_state(c).substr(0, 64) == server_after_new.substr(0, 64));
  CHECK(c.last_seq() == std::stoull(server_after_new.substr(server_after_new.find(" log ") + 5)));
  a.import_response(r_new);
  const std::string device_after_new = a.everything();
  CHECK(a.import_response((a.dir / "old.response").string())["already"] == true);
  CHECK(a.everything() == device_after_new);
  CHECK(a.acked() == a.last_own_seq());
  CHECK(a.digest() == c.digest({kTownship}));
}

namespace {

std::string review_state_on(const Device& d, const std::string& record) {
  return d.ok_json({"show", record})["review"]["state"].get<std::string>();
}

// The county approves RECORD by command; after a sync both devices hold it 已通过, and `show` prints
// the state and the decision field (labelled field_label) as the decision, by the county admin.
void county_approves(const County& c, const Device& a, const Device& b, const std::string& record, const std::string& field_label) {
  auto approved = c.ok_json({"review", record, "--approve"});
  CHECK(approved["state"] == "approved");
  CHECK(approved["label"] == "已通过");
  a.sync();
  b.sync();
  CHECK(review_state_on(a, record) == "approved");
  CHECK(review_state_on(b, record) == "approved");
  auto shown = a.ok({"show", record}).out;
  CHECK_THAT(shown, Catch::Contains("县里审核：已通过"));
  CHECK_THAT(shown, Catch::Contains(field_label + "：审核通过"));  // the decision, not the versions it names
  CHECK_THAT(shown, Catch::Contains("县管理员"));                 // attributed like any edit
}

// a edits RECORD after its approval: 待复核 on a, then on the server and on b after syncs, and b's
// `list flagged` says so (flagged: the text expected there).
void edit_after_approval(const County& c, const Device& a, const Device& b, const std::string& record, const std::string& set,
                         const std::string& flagged) {
  a.edit(record, set);
  CHECK(review_state_on(a, record) == "to review again");
  a.sync();
  CHECK(c.ok_json({"review", record})["state"] == "to review again");
  b.sync();
  CHECK(review_state_on(b, record) == "to review again");
  CHECK_THAT(b.ok({"list", "flagged", "--format", "csv"}).out, Catch::Contains(flagged));
}

}  // namespace

TEST_CASE("The review loop over HTTPS: an approval holds until an edit and a record sent back shows until approved again",
          "[e2e][review]") {
  County c;
  c.init();
  const std::string ta = c.token(), tb = c.token();
  c.serve();
  Device a, b;
  a.init();
  b.init();
  a.enroll(c, ta);
  b.enroll(c, tb);
  a.sync();
  b.sync();
  auto state_on = [](const Device& d) { return review_state_on(d, kSun); };
  CHECK(state_on(a) == "not reviewed");

  // The county approves what it holds of 孙毅杰; both devices see 已通过 after a sync.
  county_approves(c, a, b, kSun, "审核结论");

  // An edit after approval writes nothing but the edit: the record is 待复核 everywhere.
  edit_after_approval(c, a, b, kSun, "联系电话=13900001111", "审核通过后有修改，待复核");

  // Sent back with a reason: in both collectors' notices until approved again.
  CHECK(c.ok_json({"review", kSun, "--send-back", "电话与本人不符，请核实"})["state"] == "sent back");
  a.sync();
  b.sync();
  for (const Device* d : {&a, &b}) {
    auto n = d->ok_json({"notices"});
    REQUIRE(n["sent_back"].size() == 1);
    CHECK(n["sent_back"][0]["id"] == a.person(kSun).hex());
    CHECK(n["sent_back"][0]["reason"] == "电话与本人不符，请核实");
    CHECK_THAT(d->ok({"notices"}).out, Catch::Contains("审核退回"));
    CHECK_THAT(d->ok({"list", "flagged", "--format", "csv"}).out, Catch::Contains("县里审核退回：电话与本人不符，请核实"));
  }
  b.edit(kSun, "联系电话=13900002222");
  b.sync();
  CHECK(c.ok_json({"review", kSun, "--approve"})["state"] == "approved");
  a.sync();
  b.sync();
  for (const Device* d : {&a, &b}) {
    CHECK(d->ok_json({"notices"})["sent_back"].empty());
    CHECK(state_on(*d) == "approved");
  }
  converged(c, a, b);
  CHECK(c.run({"review", kSun, "--approve", "--send-back", "x"}).exit_code == 2);
  // Every decision is in the audit chain, the reason only as its hash; the chain verifies.
  {
    auto store = sync::open_sqlite_server_store(c.data).take();
    int approvals = 0, send_backs = 0;
    for (auto& e : store->audit_entries()) {
      if (e.summary.find("\"review approve\"") != std::string::npos) ++approvals;
      if (e.summary.find("\"review send-back\"") != std::string::npos) ++send_backs;
      CHECK(e.summary.find("电话与本人不符") == std::string::npos);
    }
    CHECK(approvals == 2);
    CHECK(send_backs == 1);
  }
  CHECK(c.run({"audit", "verify"}).exit_code == 0);
}

TEST_CASE("A household is reviewed like a person: approved until edited and sent back over the API until approved again",
          "[e2e][review]") {
  County c;
  c.init();
  c.env["TAIZHANG_USER_PASSWORD"] = "correct horse";
  c.ok({"user", "add", "town", "--role", "reviewer", "--agency", "人社局", "--scope", kTownship});
  const std::string ta = c.token(), tb = c.token();
  c.serve();
  Device a, b;
  a.join(c, ta);
  b.join(c, tb);
  const auto sun_row = a.open()->get_row(a.person(kSun));
  REQUIRE(sun_row);
  REQUIRE(sun_row->parent);
  const std::string hh = sun_row->parent->hex();  // 孙毅杰's household, the same id everywhere
  auto state_on = [&hh](const Device& d) { return review_state_on(d, hh); };
  CHECK(state_on(a) == "not reviewed");

  // The county approves the household; both devices see 已通过 after a sync.
  county_approves(c, a, b, hh, "户审核结论");
  // A member's edit is the member's record: the household stays approved.
  a.edit(kSun, "联系电话=13900001111");
  CHECK(state_on(a) == "approved");

  // An edit of the household after approval: 待复核 on the device, the server and the other device.
  edit_after_approval(c, a, b, hh, "家庭住址=车民街道新村8号", "户：审核通过后有修改，待复核");

  // A reviewer sends it back over the review API (HTTPS, the server's key pinned).
  net::HttpTransport api(c.url, c.identity().sign.pub);
  auto login = api.post("/api/v1/login", json{{"name", "town"}, {"password", "correct horse"}}.dump());
  REQUIRE(login);
  api.set_bearer_token(json::parse(*login)["token"].get<std::string>());
  auto pending = json::parse(api.get("/api/v1/review").take());
  REQUIRE(pending["households"].size() == 1);
  CHECK(pending["households"][0]["id"] == hh);
  CHECK(pending["households"][0]["state"] == "to review again");
  auto back = api.post("/api/v1/review", json{{"id", hh}, {"decision", "send_back"}, {"reason", "家庭住址与户籍不符"}}.dump());
  REQUIRE(back);
  CHECK(json::parse(*back)["type"] == "household");
  CHECK(json::parse(*back)["state"] == "sent back");
  a.sync();
  b.sync();
  for (const Device* d : {&a, &b}) {
    auto n = d->ok_json({"notices"});
    REQUIRE(n["sent_back"].size() == 1);
    CHECK(n["sent_back"][0]["type"] == "household");
    CHECK(n["sent_back"][0]["id"] == hh);
    CHECK(n["sent_back"][0]["reason"] == "家庭住址与户籍不符");
    auto text = d->ok({"notices"}).out;
    CHECK_THAT(text, Catch::Contains("审核退回"));
    CHECK_THAT(text, Catch::Contains("户 522632001008/"));
    CHECK_THAT(d->ok({"list", "flagged", "--format", "csv"}).out, Catch::Contains("户：县里审核退回：家庭住址与户籍不符"));
  }
  // Fixed by a collector: still sent back (in the notices) until a reviewer approves it again.
  b.edit(hh, "家庭住址=车民街道老村8号");
  b.sync();
  CHECK(c.ok_json({"review", hh})["state"] == "sent back");
  a.sync();
  CHECK(a.ok_json({"notices"})["sent_back"].size() == 1);
  auto again = api.post("/api/v1/review", json{{"id", hh}, {"decision", "approve"}}.dump());
  REQUIRE(again);
  CHECK(json::parse(*again)["state"] == "approved");
  CHECK(json::parse(api.get("/api/v1/review").take())["count"] == 0);
  a.sync();
  b.sync();
  for (const Device* d : {&a, &b}) {
    CHECK(d->ok_json({"notices"})["sent_back"].empty());
    CHECK(state_on(*d) == "approved");
    CHECK_THAT(d->ok({"list", "flagged", "--format", "csv"}).out, !Catch::Contains("户：县里审核"));
  }
  converged(c, a, b);
  // The decisions are in the audit chain with the record's type, the API's under the reviewer's name.
  {
    auto store = sync::open_sqlite_server_store(c.data).take();
    int by_admin = 0, by_town = 0;
    for (auto& e : store->audit_entries()) {
      if (e.summary.find("\"household\"") == std::string::npos) continue;
      if (e.actor == "town" && (e.kind == "review approve" || e.kind == "review send-back")) ++by_town;
      if (e.summary.find("\"review approve\"") != std::string::npos) ++by_admin;
      CHECK(e.summary.find("家庭住址与户籍不符") == std::string::npos);
    }
    CHECK(by_admin == 1);
    CHECK(by_town == 2);
  }
  CHECK(c.run({"audit", "verify"}).exit_code == 0);
}

// SPEC §6: a list exported with full ID numbers on a device is recorded there and pushed into the
// county's audit chain — over the network or in a bundle — once, with the device as the actor and
// never an ID in the record.
namespace {
std::vector<sync::AuditEntry> device_full_id_entries(const County& c) {
  std::vector<sync::AuditEntry> out;
  for (auto& e : sync::open_sqlite_server_store(c.data).take()->audit_entries())
    if (e.kind == "device list --full-ids") out.push_back(e);
  return out;
}
}  // namespace

TEST_CASE("a device's full-ID export reaches the county's audit chain once over the network or in a bundle", "[e2e][audit]") {
  SECTION("over the network") {
    County c;
    c.init();
    const std::string ta = c.token();
    c.serve();
    Device a;
    a.join(c, ta);
    auto listed = a.ok({"list", "employed", "--full-ids"});
    REQUIRE(listed.out.find(kSun) != std::string::npos);  // the full numbers were shown
    CHECK(device_full_id_entries(c).empty());             // recorded on the device until it syncs
    a.sync();
    CHECK(device_full_id_entries(c).size() == 1);
    a.sync();  // a second sync sends nothing again
    CHECK(c.stop().exit_code == 0);
    auto entries = device_full_id_entries(c);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].actor == "device:" + a.id().hex());
    CHECK(entries[0].summary.find("employed") != std::string::npos);
    CHECK(entries[0].summary.find(kSun) == std::string::npos);
    CHECK(c.run({"audit", "verify"}).exit_code == 0);
  }
  SECTION("in a bundle") {
    OneFileDevice f;
    f.a.ok({"list", "employed", "--full-ids"});
    round_trip(f.c, f.a, "a2");
    round_trip(f.c, f.a, "a3");  // the response of a2 dropped the note: a3 does not carry it again
    auto entries = device_full_id_entries(f.c);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].actor == "device:" + f.a.id().hex());
  }
}
