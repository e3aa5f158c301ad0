// Enrolment and signed requests against a SyncServer in process (SPEC §6): devices enrolled by
// one-time tokens sync through handle_signed and converge; every refusal (unknown, revoked or keyless
// device, bad signature, tampered body, replay, expired or reused token, unknown protocol version,
// malformed payload, container length beyond the body) leaves the server exactly as it was; a retired
// device's changes are applied up to its sequence and quarantined after.
#include <catch2/catch.hpp>

#include "server_fixture.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/enrol.hpp"
#include "tz/util/bytes.hpp"

using namespace tz;
using namespace tz::sync;
using Catch::Matchers::Contains;
using tz::test::FakeDevice;
using tz::test::kVillageA;
using tz::test::kVillageC;
using tz::test::ServerFixture;

namespace {

const EntityType H = EntityType::household;
const EntityType P = EntityType::person;
const int64_t kDay = 24LL * 3600 * 1000;

// A transport to the network entry points: enrolment frames to handle_enrol, the rest to handle_signed.
class SignedLoopback final : public Transport {
 public:
  explicit SignedLoopback(SyncServer& s) : s_(s) {}
  Result<std::string> exchange(std::string_view request) override {
    ++exchanges;
    if (!request.empty() && static_cast<uint8_t>(request[0]) == static_cast<uint8_t>(MessageType::enrol_request))
      return s_.handle_enrol(request);
    return s_.handle_signed(request);
  }
  int exchanges = 0;

 private:
  SyncServer& s_;
};

ErrorReply error_of(const std::string& frame) {
  auto e = decode_error_reply(frame);
  REQUIRE(e);
  return *e;
}

// Everything a refusal must leave as it was: the county's digest, every device record, the log.
std::string snapshot(ServerFixture& f) {
  std::string out = f.server->scope_digest({"522632"});
  for (auto& d : f.store->devices())
    out += d.id.hex() + " acked " + std::to_string(d.acked_seq) + " counter " + std::to_string(d.last_counter) + " keys " +
           crypto::to_hex(d.sign_pub) + "\n";
  out += "log " + std::to_string(f.store->last_seq()) + " held " + std::to_string(f.server->quarantine().size());
  return out;
}

ServerIdentity make_identity(ServerFixture& f) {
  auto id = create_server_identity(*f.store, "522632", "榕江县");
  REQUIRE(id);
  return *id;
}

// A FakeDevice enrolled by hand: its keys, and signed request frames.
struct KeyedFake {
  FakeDevice d;
  crypto::KeyPair sign = crypto::ed25519_generate();
  crypto::KeyPair box = crypto::x25519_generate();

  std::string enrol_frame(const std::string& token) {
    auto t = decode_token(token);
    REQUIRE(t);
    EnrolRequest r;
    r.token_secret = t->secret;
    r.device = d.id;
    r.sign_pub = sign.pub;
    r.box_pub = box.pub;
    r.signature = crypto::ed25519_sign(sign.priv, enrol_signature_input(r));
    return encode(r);
  }
  // The changes after `after`, signed with the push's own counter.
  std::string signed_push(uint64_t after) {
    PushRequest p = d.push(after);
    return encode(sign_request(d.id, p.request_counter, encode(p), sign.priv));
  }
  std::string signed_pull(uint64_t cursor, const std::string& epoch) {
    PullRequest p;
    p.device = d.id;
    p.cursor = cursor;
    p.max_records = 1000;
    p.server_epoch_seen = epoch;
    return encode(sign_request(d.id, ++d.counter, encode(p), sign.priv));
  }
};

KeyedFake enrolled_fake(ServerFixture& f, uint8_t n, const Scope& scope = {kVillageA}) {
  KeyedFake k{FakeDevice{tz::test::test_device(n)}};
  auto token = f.server->create_token(scope, {"王芳"}, f.now + kDay);
  REQUIRE(token);
  auto reply = f.server->handle_enrol(k.enrol_frame(*token));
  REQUIRE(static_cast<uint8_t>(reply[0]) == static_cast<uint8_t>(MessageType::enrol_reply));
  return k;
}

void household(FakeDevice& d, const EntityId& hh, const std::string& village) {
  d.add(H, hh, "village_code", village);
  d.add(H, hh, "household_no", "0001");
}

struct EnrolledDevice {
  std::filesystem::path dir;
  std::unique_ptr<DeviceStore> store;
  ops::EnrolStart start;
  EnrolGrant grant;
  Scope scope;
};

}  // namespace

TEST_CASE("Server identity is made once and loaded with every key", "[sync][auth]") {
  ServerFixture f;
  auto missing = load_server_identity(*f.store);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::not_found);
  CHECK_THAT(missing.error().message(Lang::en), Contains("run sync-server init"));
  CHECK_FALSE(f.server->create_token({kVillageA}, {}, f.now + kDay));

  CHECK(create_server_identity(*f.store, "52263", "x").error().code() == ErrorCode::invalid_input);
  auto id = make_identity(f);
  CHECK(id.county_secret.size() == 32);
  auto again = create_server_identity(*f.store, "522632", "榕江县");
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == ErrorCode::already_exists);
  auto loaded = load_server_identity(*f.store);
  REQUIRE(loaded);
  CHECK(loaded->county == "522632");
  CHECK(loaded->county_name == "榕江县");
  CHECK(loaded->county_secret == id.county_secret);
  CHECK(loaded->sign.pub == id.sign.pub);
  CHECK(loaded->box.priv == id.box.priv);
  // Survives reopening.
  f.close();
  f.open();
  CHECK(load_server_identity(*f.store)->sign.priv == id.sign.priv);
}

TEST_CASE("A store with a county but no keys is told to run init", "[sync][auth]") {
  ServerFixture f;
  f.store->begin();
  f.store->put_meta_value("county", "522632");
  f.store->put_meta_value("county_name", "榕江县");
  f.store->put_meta_value("county_secret", std::string(32, 'c'));
  f.store->commit(nullptr, nullptr);
  auto r = load_server_identity(*f.store);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ErrorCode::not_found);
  CHECK_THAT(r.error().message(Lang::en), Contains("sign_priv"));
  CHECK(create_server_identity(*f.store, "522632", "榕江县").error().code() == ErrorCode::already_exists);
}

TEST_CASE("Two devices enrolled by tokens sync signed requests and converge", "[sync][auth]") {
  ServerFixture f;
  auto id = make_identity(f);
  REQUIRE(f.server->set_config("period", "2026:2026-11-30"));
  SignedLoopback net(*f.server);
  tz::test::TempDir dir;
  std::vector<EnrolledDevice> devs(2);
  for (size_t i = 0; i < devs.size(); ++i) {
    auto& d = devs[i];
    d.dir = dir.path() / ("d" + std::to_string(i));
    d.store = tz::test::make_store(d.dir, std::string(32, 's'));
    d.scope = {kVillageA};
    auto token = f.server->create_token(d.scope, {"王芳"}, f.now + kDay);
    REQUIRE(token);
    std::string data_key(32, static_cast<char>('k' + i));
    auto start = ops::begin_enrol(*d.store, *token, data_key);
    REQUIRE(start);
    CHECK(start->token.server_sign_pub == id.sign.pub);
    auto reply = net.exchange(start->request_frame);
    REQUIRE(reply);
    auto grant = ops::finish_enrol(*start, *reply);
    if (!grant) FAIL(grant.error().message(Lang::en));
    CHECK(grant->county == "522632");
    CHECK(grant->county_secret == id.county_secret);
    CHECK(grant->scope == d.scope);
    CHECK(grant->collectors == std::vector<std::string>{"王芳"});
    REQUIRE(grant->configs.size() == 1);
    CHECK(grant->configs[0].key == "period");
    CHECK(grant->configs[0].value == "2026:2026-11-30");
    CHECK(grant->server_epoch == f.store->epoch());
    // The server holds the device's keys and its data key, which it can open.
    auto rec = f.store->device(d.store->info().device);
    REQUIRE(rec);
    CHECK(rec->sign_pub == start->keys.sign.pub);
    CHECK(rec->box_pub == start->keys.box.pub);
    CHECK(crypto::open_sealed(id.box.priv, rec->escrow, kEscrowContext) == std::optional<std::string>(data_key));
    d.start = std::move(*start);
    d.grant = std::move(*grant);
  }
  auto toks = f.server->tokens();
  REQUIRE(toks.size() == 2);
  for (auto& t : toks) CHECK(t.used_by.has_value());

  auto sync = [&](EnrolledDevice& d) {
    ops::DeviceSyncOptions o;
    o.signer = ops::RequestSigner{d.store->info().device, d.start.keys.sign.priv};
    ops::DeviceSync s(*d.store, net, [&] { return f.now; }, o);
    auto r = s.sync();
    if (!r) FAIL(r.error().message(Lang::en));
  };
  // A edits, both sync twice; B then edits the same household.
  f.now += 1000;
  {
    ops::Editor ed(*devs[0].store, ops::EditContext{"王芳", f.now});
    EntityId hh = devs[0].store->natural_keys().household(kVillageA, "0001");
    auto& e = ed.get_or_create(H, hh);
    ed.set(e, tz::test::field_id(H, "village_code"), kVillageA);
    ed.set(e, tz::test::field_id(H, "household_no"), "0001");
    REQUIRE(ed.commit());
  }
  for (int round = 0; round < 2; ++round)
    for (auto& d : devs) sync(d);
  for (auto& d : devs) CHECK(ops::device_scope_digest(*d.store, d.scope) == f.server->scope_digest(d.scope));
  CHECK_FALSE(f.server->scope_digest({kVillageA}).empty());
  // Pulls spent counters too: every request had its own, stored before it left.
  for (auto& d : devs) {
    auto rec = f.store->device(d.store->info().device);
    CHECK(rec->last_counter == d.store->info().sync.request_counter);
    CHECK(rec->last_counter >= 4);
  }
}

TEST_CASE("A device whose stored counter is behind the server's resumes above it", "[sync][auth]") {
  ServerFixture f;
  make_identity(f);
  SignedLoopback net(*f.server);
  tz::test::TempDir dir;
  auto store = tz::test::make_store(dir.path() / "d", std::string(32, 's'));
  auto token = f.server->create_token({kVillageA}, {}, f.now + kDay);
  auto start = ops::begin_enrol(*store, *token, "");
  REQUIRE(start);
  REQUIRE(ops::finish_enrol(*start, *net.exchange(start->request_frame)));
  // As if this store were restored from a copy older than its last requests.
  f.store->begin();
  auto rec = *f.store->device(store->info().device);
  CHECK(rec.escrow.empty());
  rec.last_counter = 50;
  f.store->put_device(rec);
  f.store->commit(nullptr, nullptr);
  ops::DeviceSyncOptions o;
  o.signer = ops::RequestSigner{store->info().device, start->keys.sign.priv};
  ops::DeviceSync s(*store, net, [&] { return f.now; }, o);
  auto r = s.sync();
  if (!r) FAIL(r.error().message(Lang::en));
  CHECK(store->info().sync.request_counter > 50);
  CHECK(f.store->device(store->info().device)->last_counter == store->info().sync.request_counter);
}

TEST_CASE("Enrolment refuses unknown expired and reused tokens and re-sends the grant to its device", "[sync][auth]") {
  ServerFixture f;
  auto id = make_identity(f);
  auto token = f.server->create_token({kVillageA}, {"王芳"}, f.now + kDay);
  REQUIRE(token);
  KeyedFake a{FakeDevice{tz::test::test_device(1)}};
  KeyedFake b{FakeDevice{tz::test::test_device(2)}};
  std::string before = snapshot(f);

  // Unknown: a token of the right form the server never made.
  auto t = *decode_token(*token);
  t.secret = crypto::random_bytes(16);
  auto unknown = error_of(f.server->handle_enrol(a.enrol_frame(encode_token(t))));
  CHECK(unknown.code == "token_unknown");
  CHECK_THAT(unknown.message_zh, Contains("登记令牌"));
  // A signature by another key than the one registered.
  {
    auto frame = a.enrol_frame(*token);
    auto req = *decode_enrol_request(frame);
    req.sign_pub = crypto::ed25519_generate().pub;
    CHECK(error_of(f.server->handle_enrol(encode(req))).code == "bad_signature");
  }
  // Malformed, and a frame of another version.
  CHECK(error_of(f.server->handle_enrol(seal_frame(MessageType::enrol_request, "garbage"))).code == "invalid_input");
  std::string v2 = a.enrol_frame(*token);
  v2[1] = 2;
  CHECK(error_of(f.server->handle_enrol(v2)).code == "schema_version");
  CHECK(snapshot(f) == before);

  // The first device binds the token; the same request again (a lost reply) gets the grant again.
  std::string frame = a.enrol_frame(*token);
  auto first = decode_enrol_reply(f.server->handle_enrol(frame));
  REQUIRE(first);
  auto second = decode_enrol_reply(f.server->handle_enrol(frame));
  REQUIRE(second);
  auto g1 = decode_grant(*crypto::open_sealed(a.box.priv, first->sealed_grant, kEnrolGrantContext));
  auto g2 = decode_grant(*crypto::open_sealed(a.box.priv, second->sealed_grant, kEnrolGrantContext));
  REQUIRE(g1);
  REQUIRE(g2);
  CHECK(g1->county_secret == id.county_secret);
  CHECK(g2->county_secret == id.county_secret);
  std::string after_a = snapshot(f);

  // Another device under the used token is refused, and so is the same device with other keys.
  auto used = error_of(f.server->handle_enrol(b.enrol_frame(*token)));
  CHECK(used.code == "token_used");
  CHECK_THAT(used.message_en, Contains("used by another device"));
  KeyedFake a2{FakeDevice{a.d.id}};
  CHECK(error_of(f.server->handle_enrol(a2.enrol_frame(*token))).code == "token_used");
  CHECK(snapshot(f) == after_a);
  CHECK(f.server->tokens().at(0).used_by == std::optional<DeviceId>(a.d.id));

  // Expired: the server's clock passed the expiry.
  auto late = f.server->create_token({kVillageA}, {}, f.now + 1000);
  REQUIRE(late);
  f.now += 2000;
  auto expired = error_of(f.server->handle_enrol(b.enrol_frame(*late)));
  CHECK(expired.code == "token_expired");
  CHECK_THAT(expired.message_zh, Contains("过期"));
  CHECK(snapshot(f) == after_a);
  CHECK_FALSE(f.server->create_token({kVillageA}, {}, f.now - 1));

  // A revoked device may not enrol again, even with a new token.
  REQUIRE(f.server->revoke_device(a.d.id));
  auto fresh = f.server->create_token({kVillageA}, {}, f.now + kDay);
  CHECK(error_of(f.server->handle_enrol(a2.enrol_frame(*fresh))).code == "device_revoked");
}

TEST_CASE("A device enrolled again with a new token keeps its changes and takes the new keys and scope", "[sync][auth]") {
  ServerFixture f;
  make_identity(f);
  auto k = enrolled_fake(f, 1);
  household(k.d, tz::test::test_entity(1), kVillageA);
  REQUIRE(static_cast<uint8_t>(f.server->handle_signed(k.signed_push(0))[0]) == static_cast<uint8_t>(MessageType::signed_reply));
  KeyedFake again{FakeDevice{k.d.id}};
  auto token = f.server->create_token({kVillageA, kVillageC}, {"李四"}, f.now + kDay);
  REQUIRE(decode_enrol_reply(f.server->handle_enrol(again.enrol_frame(*token))));
  auto rec = f.store->device(k.d.id);
  CHECK(rec->acked_seq == 2);
  CHECK(rec->sign_pub == again.sign.pub);
  CHECK(rec->scope == Scope{kVillageA, kVillageC});
  CHECK(rec->collectors == std::vector<std::string>{"李四"});
  // The old key no longer signs for it.
  k.d.add(H, tz::test::test_entity(1), "household_no", "0002");
  CHECK(error_of(f.server->handle_signed(k.signed_push(2))).code == "bad_signature");
}

TEST_CASE("Signed requests that are not authentic or well formed are refused with nothing applied", "[sync][auth]") {
  ServerFixture f;
  make_identity(f);
  auto k = enrolled_fake(f, 1);
  household(k.d, tz::test::test_entity(1), kVillageA);
  std::string good = k.signed_push(0);  // counter 1
  std::string before = snapshot(f);
  auto refused = [&](const std::string& frame, const std::string& code) {
    auto e = error_of(f.server->handle_signed(frame));
    CHECK(e.code == code);
    CHECK_FALSE(e.message_zh.empty());
    CHECK_FALSE(e.message_en.empty());
    CHECK(snapshot(f) == before);
    return e;
  };

  SECTION("unknown device") {
    KeyedFake stranger{FakeDevice{tz::test::test_device(9)}};
    household(stranger.d, tz::test::test_entity(2), kVillageA);
    refused(stranger.signed_push(0), "unknown_device");
  }
  SECTION("a device registered without keys") {
    KeyedFake keyless{FakeDevice{tz::test::test_device(8)}};
    REQUIRE(f.server->register_device(keyless.d.id, {kVillageA}));
    before = snapshot(f);
    household(keyless.d, tz::test::test_entity(2), kVillageA);
    auto e = refused(keyless.signed_push(0), "unknown_device");
    CHECK_THAT(e.message_en, Contains("no registered keys"));
  }
  SECTION("revoked device") {
    REQUIRE(f.server->revoke_device(k.d.id));
    before = snapshot(f);
    refused(good, "device_revoked");
  }
  SECTION("bad signature") {
    auto req = *decode_signed_request(good);
    req.signature = crypto::ed25519_sign(crypto::ed25519_generate().priv, request_signature_input(req.device, req.counter, req.body));
    refused(encode(req), "bad_signature");
  }
  SECTION("tampered body") {
    for (size_t at : {good.size() - 1, good.size() - 20, size_t{2 + 16 + 1 + 64 + 3}}) {
      std::string bad = good;
      bad[at] ^= 0x10;
      refused(bad, "bad_signature");
    }
  }
  SECTION("tampered counter") {
    std::string bad = good;
    bad[2 + 16] = 7;  // the counter varint right after the device id
    refused(bad, "bad_signature");
  }
  SECTION("replayed request") {
    auto r = decode_push_reply_or_error(f.server->handle_signed(good));
    REQUIRE(r);
    CHECK(r->acked_seq == 2);
    before = snapshot(f);
    auto e = refused(good, "stale_counter");
    CHECK(e.last_counter == 1);
    CHECK_THAT(e.message_en, Contains("replayed or reordered"));
    // A pull under a spent counter is refused too, and one above it is served.
    k.d.counter = 0;
    refused(k.signed_pull(0, f.store->epoch()), "stale_counter");
    k.d.counter = 1;
    auto page = decode_pull_page_or_error(f.server->handle_signed(k.signed_pull(0, f.store->epoch())));
    REQUIRE(page);
    CHECK(f.store->device(k.d.id)->last_counter == 2);
  }
  SECTION("inner counter differs from the signed one") {
    PushRequest p = k.d.push(0);
    auto e = refused(encode(sign_request(k.d.id, p.request_counter + 5, encode(p), k.sign.priv)), "invalid_input");
    CHECK_THAT(e.message_en, Contains("request counter differs"));
  }
  SECTION("inner request of another device") {
    KeyedFake other{FakeDevice{tz::test::test_device(3)}};
    household(other.d, tz::test::test_entity(2), kVillageA);
    PushRequest p = other.d.push(0);
    refused(encode(sign_request(k.d.id, p.request_counter, encode(p), k.sign.priv)), "invalid_input");
  }
  SECTION("unknown schema version outside and inside") {
    std::string v = good;
    v[1] = 9;
    auto e = refused(v, "schema_version");
    CHECK_THAT(e.message_zh, Contains("同步协议版本 9"));
    PushRequest p = k.d.push(0);
    std::string inner = encode(p);
    inner[1] = 2;
    refused(encode(sign_request(k.d.id, p.request_counter, inner, k.sign.priv)), "schema_version");
  }
  SECTION("malformed payload") {
    refused(seal_frame(MessageType::signed_request, "not a request"), "invalid_input");
    refused(std::string("\x06"), "invalid_input");
    refused("", "invalid_input");
    // A signed inner body that does not decode.
    refused(encode(sign_request(k.d.id, 1, seal_frame(MessageType::push_request, "junk"), k.sign.priv)), "invalid_input");
    refused(encode(sign_request(k.d.id, 1, encode(ErrorReply{"x", "y", "z"}), k.sign.priv)), "invalid_input");
  }
  SECTION("container length larger than the body") {
    ByteWriter w;
    w.raw(k.d.id.view());
    w.varint(1);
    w.raw(std::string(64, 's'));
    w.varint(uint64_t{1} << 33);
    w.raw("tiny");
    auto e = refused(seal_frame(MessageType::signed_request, w.data()), "invalid_input");
    CHECK_THAT(e.message_en, Contains("exceeds the bytes left"));
  }
  SECTION("every truncation") {
    for (size_t n = 0; n < good.size(); ++n) {
      auto e = error_of(f.server->handle_signed(std::string_view(good).substr(0, n)));
      CHECK((e.code == "invalid_input" || e.code == "bad_signature"));
    }
    CHECK(snapshot(f) == before);
  }
  // After any refusal the genuine request still goes through (unless the device was revoked).
  if (!f.store->device(k.d.id)->revoked && f.store->device(k.d.id)->last_counter == 0) {
    auto r = decode_push_reply_or_error(f.server->handle_signed(good));
    REQUIRE(r);
    CHECK(r->acked_seq == 2);
  }
}

TEST_CASE("A retired device is applied up to its sequence and quarantined after over signed pushes", "[sync][auth]") {
  ServerFixture f;
  make_identity(f);
  auto k = enrolled_fake(f, 1);
  household(k.d, tz::test::test_entity(1), kVillageA);  // seq 1, 2
  REQUIRE(decode_push_reply_or_error(f.server->handle_signed(k.signed_push(0))));
  CHECK(f.server->retire_device(k.d.id, 1).error().code() == ErrorCode::invalid_input);
  REQUIRE(f.server->retire_device(k.d.id, 3));
  k.d.add(P, tz::test::test_entity(2), "household_id", tz::test::test_entity(1).hex());  // 3: applied
  k.d.add(P, tz::test::test_entity(2), "name", "张三");                                  // 4: held
  k.d.add(P, tz::test::test_entity(2), "name", "张叁");                                  // 5: held
  auto r = decode_push_reply_or_error(f.server->handle_signed(k.signed_push(2)));
  REQUIRE(r);
  REQUIRE(r->outcomes.size() == 3);
  CHECK(r->outcomes[0].kind == ChangeOutcome::Kind::applied);
  CHECK(r->outcomes[1].kind == ChangeOutcome::Kind::quarantined);
  CHECK(r->outcomes[2].kind == ChangeOutcome::Kind::quarantined);
  CHECK_THAT(r->outcomes[1].quarantine_reason, Contains("retired"));
  CHECK(r->acked_seq == 5);
  CHECK(f.server->quarantine().size() == 2);
  // Retiring with no sequence keeps what the server holds: later changes are held.
  REQUIRE(f.server->retire_device(k.d.id));
  CHECK(f.store->device(k.d.id)->retired_after == 3);
}

TEST_CASE("A store used before enrolment takes the county's ids with its roster jobs in the county's period year", "[sync][enrol]") {
  ServerFixture f;
  auto id = make_identity(f);
  // The county's period is 2027; the device was set up for 2026 (test_config) with its own secret.
  REQUIRE(f.server->set_config("period", "2027:2027-11-30"));
  auto token = f.server->create_token({kVillageA}, {"王芳"}, tz::test::kNowMs + 7 * kDay);
  REQUIRE(token);
  tz::test::TempDir d;
  auto s = tz::test::make_store(d.path(), std::string(32, 'd'));
  const std::string roster =
      "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态,务工地域,务工单位,务工开始年月,务工月数,月收入\n"
      "522632101001,0001,王小明," + tz::test::idc("52263219800101001") +
      ",户主,13812345678,普通劳动力,已就业,省外,广东某电子厂,2026-02,8,4500\n";
  REQUIRE(ops::import_roster(*s, roster, tz::test::import_env()).take().written);
  REQUIRE(s->info().config.period.year == 2026);

  auto out = ops::enrol_store(*s, *token, "https://county.example", [&](std::string_view frame) -> Result<std::string> {
    return f.server->handle_enrol(frame);
  });
  if (!out) FAIL(out.error().message(Lang::en));
  CHECK(out->rekeyed >= 3);  // household, person, roster job
  CHECK(s->info().config.period.year == 2027);
  crypto::NaturalKeys county(id.county_secret);
  EntityId person = county.person(tz::test::idc("52263219800101001"));
  REQUIRE(s->get(person));
  // The job is keyed for the county's year, as every other device of the county keys it.
  CHECK(s->get(county.roster_job(person, 2027)));
  CHECK_FALSE(s->get(county.roster_job(person, 2026)));
  REQUIRE(s->identity());
  CHECK(s->identity()->scope == std::vector<std::string>{kVillageA});
}
