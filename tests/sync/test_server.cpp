// The server side of sync against raw protocol messages (SPEC §5 Push, Pull, Epochs, Scope,
// quarantine, clock guard): what it applies, acknowledges, refuses and sends, and that a refused or
// undecodable request leaves the store as it was.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "scoped_env.hpp"
#include "server_fixture.hpp"

using namespace tz;
using namespace tz::sync;
using tz::test::FakeDevice;
using tz::test::kVillageA;
using tz::test::kVillageB;
using tz::test::kVillageC;
using tz::test::ServerFixture;
using tz::test::only;
using tz::test::pull_all;

namespace {

const EntityType H = EntityType::household;
const EntityType P = EntityType::person;

std::vector<ChangeOutcome::Kind> kinds(const PushReply& r) {
  std::vector<ChangeOutcome::Kind> out;
  for (auto& o : r.outcomes) out.push_back(o.kind);
  return out;
}

// A household in a village with one person, as a device would create them.
void household_with_person(FakeDevice& d, const EntityId& hh, const EntityId& person, const std::string& village,
                           const std::string& name) {
  d.add(H, hh, "village_code", village);
  d.add(H, hh, "household_no", hh.hex());  // one number per household: the same would be one household (SPEC §8)
  d.add(P, person, "household_id", hh.hex());
  d.add(P, person, "name", name);
}

// Runs `run` with TZ_THREADS=1 and then 2 (decisions 135 and 138: work beside the apply): what it
// returns, a push's outcome kinds and digests, must be the same.
template <typename Run>
void same_on_one_thread_and_two(Run run) {
  std::vector<std::pair<std::vector<ChangeOutcome::Kind>, std::string>> seen;
  tz::test::on_one_thread_and_two([&](const char*) { seen.push_back(run()); });
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].first == seen[1].first);
  CHECK(seen[0].second == seen[1].second);
}

}  // namespace

TEST_CASE("A push is applied in sequence order and acknowledged and a retry is a duplicate", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  household_with_person(a, tz::test::test_entity(1), tz::test::test_entity(2), kVillageA, "张三");
  auto req = a.push(0);
  auto r = f.server->push(req);
  CHECK(r.refusal == PushReply::Refusal::none);
  CHECK(r.acked_seq == 4);
  CHECK(kinds(r) == std::vector<ChangeOutcome::Kind>(4, ChangeOutcome::Kind::applied));
  std::string digest = f.server->scope_digest({kVillageA});
  CHECK_FALSE(digest.empty());
  // The same changes again (a lost acknowledgement): duplicates, nothing changes.
  auto again = a.push(0);
  auto r2 = f.server->push(again);
  CHECK(r2.acked_seq == 4);
  CHECK(kinds(r2) == std::vector<ChangeOutcome::Kind>(4, ChangeOutcome::Kind::duplicate));
  CHECK(f.server->scope_digest({kVillageA}) == digest);
}

TEST_CASE("Changes after a gap are not applied and the reply gives the sequence to resend from", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  household_with_person(a, tz::test::test_entity(1), tz::test::test_entity(2), kVillageA, "张三");
  auto req = a.push(0);
  req.changes.erase(req.changes.begin(), req.changes.begin() + 2);
  req.first_seq = 3;
  auto r = f.server->push(req);
  CHECK(r.refusal == PushReply::Refusal::none);
  CHECK(r.acked_seq == 0);
  CHECK(r.outcomes.empty());
  CHECK(f.server->scope_digest({"522632"}).empty());
}

TEST_CASE("A replayed request counter is refused with the last one seen", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  a.add(H, tz::test::test_entity(1), "village_code", kVillageA);
  auto req = a.push(0);
  REQUIRE(f.server->push(req).refusal == PushReply::Refusal::none);
  auto replay = f.server->push(req);
  CHECK(replay.refusal == PushReply::Refusal::stale_counter);
  CHECK(replay.last_counter_seen == req.request_counter);
}

TEST_CASE("Unknown and revoked devices are refused and nothing is applied", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  a.add(H, tz::test::test_entity(1), "village_code", kVillageA);
  CHECK(f.server->push(a.push(0)).refusal == PushReply::Refusal::unknown_device);
  PullRequest pr;
  pr.device = a.id;
  CHECK(f.server->pull(pr).error().code() == ErrorCode::unknown_device);
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  REQUIRE(f.server->revoke_device(a.id));
  CHECK(f.server->push(a.push(0)).refusal == PushReply::Refusal::revoked);
  CHECK(f.server->pull(pr).error().code() == ErrorCode::device_revoked);
  CHECK(f.server->scope_digest({"522632"}).empty());
}

TEST_CASE("The same sequence with other content is a rolled-back store and is refused whole", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  household_with_person(a, tz::test::test_entity(1), tz::test::test_entity(2), kVillageA, "张三");
  REQUIRE(f.server->push(a.push(0)).acked_seq == 4);
  std::string digest = f.server->scope_digest({kVillageA});
  // The device restored a copy holding only seq 1-2, then made other changes numbered 3, 4, 5.
  FakeDevice copy = a;
  copy.log.resize(2);
  copy.next_seq = 3;
  copy.add(P, tz::test::test_entity(3), "household_id", tz::test::test_entity(1).hex());
  copy.add(P, tz::test::test_entity(3), "name", "李四");
  copy.add(P, tz::test::test_entity(3), "phone", "13800000000");
  // Re-stamping does not count as a difference: only entity, field, value and base.
  auto r = f.server->push(copy.push(0));
  CHECK(r.refusal == PushReply::Refusal::rolled_back);
  CHECK(r.acked_seq == 2);          // seq 1-2 match what the server holds
  CHECK(r.highest_seq_held == 4);
  CHECK(r.outcomes.empty());
  CHECK(f.server->scope_digest({kVillageA}) == digest);  // nothing of the request applied
}

TEST_CASE("A timestamp far ahead is re-stamped and a retry learns the same stamp", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  FakeDevice b{tz::test::test_device(2)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  REQUIRE(f.server->register_device(b.id, {kVillageA}));
  a.clock_ms = f.now + 3 * 3600 * 1000;  // three hours ahead
  a.add(H, tz::test::test_entity(1), "village_code", kVillageA);
  auto r = f.server->push(a.push(0));
  REQUIRE(r.outcomes.size() == 1);
  REQUIRE(r.outcomes[0].restamped);
  Hlc stamp = *r.outcomes[0].restamped;
  CHECK(stamp.ms <= f.now);
  auto retry = f.server->push(a.push(0));
  REQUIRE(retry.outcomes.size() == 1);
  CHECK(retry.outcomes[0].kind == ChangeOutcome::Kind::duplicate);
  CHECK(retry.outcomes[0].restamped == stamp);
  // Others get the new stamp; the sender gets its own change back as an id with the decision.
  auto others = only<VersionRecord>(pull_all(*f.server, b.id, 1));
  REQUIRE(others.size() == 1);
  CHECK(others[0].change.ts == stamp);
  CHECK(others[0].change.device_ms == a.clock_ms);  // the device time stays for attribution
  auto own = only<OwnVersionRecord>(pull_all(*f.server, a.id, 1));
  REQUIRE(own.size() == 1);
  REQUIRE(own[0].decisions.size() == 1);
  CHECK(own[0].decisions[0].ts == stamp);
  // The wrong clock is a notice to the device.
  auto notices = only<NoticeRecord>(pull_all(*f.server, a.id, 0));
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].kind == NoticeRecord::Kind::clock);
  auto dev = f.store->device(a.id);
  CHECK(dev->clock_offset_ms == 3 * 3600 * 1000 + 1);
}

TEST_CASE("An out-of-scope change is quarantined without blocking later ones and is applied on release", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  FakeDevice b{tz::test::test_device(2)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  REQUIRE(f.server->register_device(b.id, {kVillageC}));
  household_with_person(b, tz::test::test_entity(1), tz::test::test_entity(2), kVillageC, "张三");
  REQUIRE(f.server->push(b.push(0)).acked_seq == 4);
  // a edits b's person (outside a's scope), then its own household.
  a.add(P, tz::test::test_entity(2), "name", "张叁");
  a.add(H, tz::test::test_entity(5), "village_code", kVillageA);
  auto r = f.server->push(a.push(0));
  CHECK(r.acked_seq == 2);
  CHECK(kinds(r) == std::vector<ChangeOutcome::Kind>{ChangeOutcome::Kind::quarantined, ChangeOutcome::Kind::applied});
  CHECK_THAT(r.outcomes[0].quarantine_reason, Catch::Contains("范围以外"));
  auto held = f.server->quarantine();
  REQUIRE(held.size() == 1);
  CHECK(held[0].change.version == VersionId{a.id, Seq{1}});
  // The sender is told: a decision, a notice, and the entity's state (outside its scope: leave).
  auto recs = pull_all(*f.server, a.id, 0, 1000);
  auto decisions = only<DecisionRecord>(recs);
  REQUIRE(decisions.size() == 1);
  CHECK(decisions[0].decision.kind == Decision::Kind::quarantined);
  CHECK(only<NoticeRecord>(recs).size() == 1);
  CHECK(only<ScopeLeaveRecord>(recs).size() == 1);
  // b does not see the held value.
  std::string before = f.server->scope_digest({kVillageC});
  CHECK(before.find("张叁") == std::string::npos);
  uint64_t cursor = f.store->last_seq();
  REQUIRE(f.server->release(VersionId{a.id, Seq{1}}));
  CHECK(f.server->quarantine().empty());
  std::string after = f.server->scope_digest({kVillageC});
  CHECK(after.find("张叁") != std::string::npos);  // a conflict (concurrent with nothing: the base was empty)
  auto to_b = only<VersionRecord>(pull_all(*f.server, b.id, cursor));
  REQUIRE(to_b.size() == 1);
  CHECK(to_b[0].change.value == "张叁");
  auto to_a = pull_all(*f.server, a.id, cursor);
  REQUIRE(only<DecisionRecord>(to_a).size() == 1);
  CHECK(only<DecisionRecord>(to_a)[0].decision.kind == Decision::Kind::released);
  // Releasing twice is refused.
  CHECK(f.server->release(VersionId{a.id, Seq{1}}).error().code() == ErrorCode::not_found);
}

TEST_CASE("A person pushed with a new household outside the scope is held with it and one in an unknown household too", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  // Household and person created together in a village outside a's scope: all four held.
  household_with_person(a, tz::test::test_entity(1), tz::test::test_entity(2), kVillageC, "张三");
  // A person placed in a household the server has never received: held as well.
  a.add(P, tz::test::test_entity(3), "household_id", tz::test::test_entity(9).hex());
  a.add(P, tz::test::test_entity(3), "name", "李四");
  // In scope, in the same batch: applied.
  household_with_person(a, tz::test::test_entity(4), tz::test::test_entity(5), kVillageA, "王五");
  auto r = f.server->push(a.push(0));
  CHECK(r.acked_seq == 10);
  using K = ChangeOutcome::Kind;
  CHECK(kinds(r) == std::vector<K>{K::quarantined, K::quarantined, K::quarantined, K::quarantined, K::quarantined,
                                   K::quarantined, K::applied, K::applied, K::applied, K::applied});
  CHECK_THAT(r.outcomes[2].quarantine_reason, Catch::Contains("范围以外"));
  CHECK_THAT(r.outcomes[4].quarantine_reason, Catch::Contains("尚未被县服务器接收"));
  CHECK_FALSE(f.store->entity(tz::test::test_entity(2)));
  CHECK_FALSE(f.store->entity(tz::test::test_entity(3)));
  CHECK(f.store->entity(tz::test::test_entity(5)));
  CHECK(f.server->scope_digest({kVillageC}).find("张三") == std::string::npos);
}

TEST_CASE("A rejected change stays held and marked rejected and the sender is told", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  a.add(H, tz::test::test_entity(1), "village_code", kVillageA);
  a.add(P, tz::test::test_entity(2), "household_id", tz::test::test_entity(1).hex());
  a.add(P, tz::test::test_entity(2), "id_number", "52263219900101001X");  // bad check character
  auto r = f.server->push(a.push(0));
  REQUIRE(r.outcomes.size() == 3);
  CHECK(r.outcomes[2].kind == ChangeOutcome::Kind::quarantined);
  CHECK_THAT(r.outcomes[2].quarantine_reason, Catch::Contains("身份证号"));
  REQUIRE(f.server->reject(VersionId{a.id, Seq{3}}, "号码有误，请核实"));
  auto c = f.store->change(VersionId{a.id, Seq{3}});
  REQUIRE(c);
  CHECK(c->status == StoredChange::Status::rejected);
  auto notices = only<NoticeRecord>(pull_all(*f.server, a.id));
  REQUIRE(notices.size() == 2);
  CHECK(notices[1].kind == NoticeRecord::Kind::rejected);
  CHECK_THAT(notices[1].reason_zh, Catch::Contains("号码有误"));
}

TEST_CASE("A household moving village leaves one scope with its people and enters another with full state", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  FakeDevice b{tz::test::test_device(2)};
  FakeDevice t{tz::test::test_device(3)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  REQUIRE(f.server->register_device(b.id, {kVillageB}));
  REQUIRE(f.server->register_device(t.id, {tz::test::kTownship}));
  auto hh = tz::test::test_entity(1), person = tz::test::test_entity(2);
  household_with_person(a, hh, person, kVillageA, "张三");
  REQUIRE(f.server->push(a.push(0)).acked_seq == 4);
  uint64_t cursor = f.store->last_seq();
  CHECK(f.server->scope_digest({kVillageB}).empty());
  auto base = f.store->entity(hh)->state.fields.at(test::field_id(H, "village_code")).live[0].id;
  a.add(H, hh, "village_code", kVillageB, {base});
  REQUIRE(f.server->push(a.push(4)).acked_seq == 5);
  auto to_a = pull_all(*f.server, a.id, cursor);
  auto leaves = only<ScopeLeaveRecord>(to_a);
  CHECK(leaves.size() == 2);  // the household and its person
  auto to_b = pull_all(*f.server, b.id, cursor);
  auto enters = only<ScopeEnterRecord>(to_b);
  REQUIRE(enters.size() == 2);
  for (auto& e : enters) CHECK(digest(e.state) == digest(f.store->entity(e.state.id)->state));
  // The township holds both villages: nothing enters or leaves.
  auto to_t = pull_all(*f.server, t.id, cursor);
  CHECK(only<ScopeEnterRecord>(to_t).empty());
  CHECK(only<ScopeLeaveRecord>(to_t).empty());
  CHECK(f.server->scope_digest({kVillageA}).empty());
  CHECK_FALSE(f.server->scope_digest({kVillageB}).empty());
}

TEST_CASE("A household whose village is in conflict is in both villages' scopes", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  FakeDevice t{tz::test::test_device(3)};
  REQUIRE(f.server->register_device(a.id, {tz::test::kTownship}));
  REQUIRE(f.server->register_device(t.id, {tz::test::kTownship}));
  auto hh = tz::test::test_entity(1), person = tz::test::test_entity(2);
  household_with_person(t, hh, person, kVillageA, "张三");
  REQUIRE(f.server->push(t.push(0)).acked_seq == 4);
  auto base = f.store->entity(hh)->state.fields.at(test::field_id(H, "village_code")).live[0].id;
  // Two concurrent edits of the village from the same base.
  t.add(H, hh, "village_code", kVillageB, {base});
  REQUIRE(f.server->push(t.push(4)).acked_seq == 5);
  a.add(H, hh, "village_code", kVillageA, {base});
  auto r = f.server->push(a.push(0));
  CHECK(kinds(r) == std::vector<ChangeOutcome::Kind>{ChangeOutcome::Kind::conflict});
  CHECK(f.store->entity(person)->villages == std::vector<std::string>{kVillageA, kVillageB});
  CHECK(f.server->scope_digest({kVillageA}) == f.server->scope_digest({kVillageB}));
}

TEST_CASE("A keyed create of a person registered only in another scope is quarantined", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  FakeDevice c{tz::test::test_device(2)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  REQUIRE(f.server->register_device(c.id, {kVillageC}));
  auto person = tz::test::test_entity(9);  // the same keyed id on both devices
  household_with_person(c, tz::test::test_entity(1), person, kVillageC, "张三");
  REQUIRE(f.server->push(c.push(0)).acked_seq == 4);
  household_with_person(a, tz::test::test_entity(2), person, kVillageA, "张三");
  auto r = f.server->push(a.push(0));
  CHECK(kinds(r) == std::vector<ChangeOutcome::Kind>{ChangeOutcome::Kind::applied, ChangeOutcome::Kind::applied,
                                                    ChangeOutcome::Kind::quarantined, ChangeOutcome::Kind::quarantined});
  CHECK(f.server->quarantine().size() == 2);
  CHECK(f.server->scope_digest({kVillageA}).find(person.hex()) == std::string::npos);
}

TEST_CASE("A retired device's changes after its sequence are quarantined" , "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  a.add(H, tz::test::test_entity(1), "village_code", kVillageA);
  REQUIRE(f.server->push(a.push(0)).acked_seq == 1);
  REQUIRE(f.server->retire_device(a.id));
  a.add(H, tz::test::test_entity(1), "household_no", "0002");
  auto r = f.server->push(a.push(1));
  CHECK(kinds(r) == std::vector<ChangeOutcome::Kind>{ChangeOutcome::Kind::quarantined});
  CHECK_THAT(r.outcomes[0].quarantine_reason, Catch::Contains("停用"));
}

TEST_CASE("A widened scope brings full state and a narrowed one removal notices", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  FakeDevice b{tz::test::test_device(2)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  REQUIRE(f.server->register_device(b.id, {kVillageB}));
  household_with_person(b, tz::test::test_entity(1), tz::test::test_entity(2), kVillageB, "张三");
  REQUIRE(f.server->push(b.push(0)).acked_seq == 4);
  uint64_t cursor = f.store->last_seq();
  REQUIRE(f.server->set_scope(a.id, {kVillageA, kVillageB}));
  auto enters = only<ScopeEnterRecord>(pull_all(*f.server, a.id, cursor));
  CHECK(enters.size() == 2);
  // One record per page when asked: a county-wide widening pages like any other stream.
  CHECK(only<ScopeEnterRecord>(pull_all(*f.server, a.id, cursor, 1)).size() == 2);
  PullRequest one;
  one.device = a.id;
  one.cursor = cursor;
  one.max_records = 1;
  one.server_epoch_seen = f.store->epoch();
  auto page = f.server->pull(one);
  REQUIRE(page);
  CHECK(page->records.size() == 1);
  CHECK(page->more);
  cursor = f.store->last_seq();
  REQUIRE(f.server->set_scope(a.id, {kVillageA}));
  CHECK(only<ScopeLeaveRecord>(pull_all(*f.server, a.id, cursor)).size() == 2);
}

TEST_CASE("Pull pages are bounded and carry every record once in order" , "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  FakeDevice b{tz::test::test_device(2)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  REQUIRE(f.server->register_device(b.id, {kVillageA}));
  for (uint8_t i = 0; i < 20; ++i)
    household_with_person(a, tz::test::test_entity(static_cast<uint8_t>(2 * i + 1)),
                          tz::test::test_entity(static_cast<uint8_t>(2 * i + 2)), kVillageA, "人" + std::to_string(i));
  REQUIRE(f.server->push(a.push(0)).acked_seq == 80);
  auto small = pull_all(*f.server, b.id, 0, 7);
  auto big = pull_all(*f.server, b.id, 0, 1000);
  CHECK(small.size() == 80);
  CHECK(big.size() == 80);
  uint64_t last = 0;
  for (auto& r : small) {
    CHECK(server_seq(r) > last);
    last = server_seq(r);
  }
  // From cursor 0 the device's own changes come with values; afterwards as ids.
  CHECK(only<VersionRecord>(pull_all(*f.server, a.id, 0, 1000, true)).size() == 80);
  CHECK(only<OwnVersionRecord>(pull_all(*f.server, a.id, 1, 1000, false)).size() == 79);
  // A cursor of another epoch means nothing: everything again, with values.
  CHECK(only<VersionRecord>(pull_all(*f.server, a.id, 50, 1000, false, "old-epoch")).size() == 80);
}

TEST_CASE("Undecodable bytes get an error reply and change nothing", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  a.add(H, tz::test::test_entity(1), "village_code", kVillageA);
  std::string good = encode(a.push(0));
  for (std::string bad : {std::string(), std::string("\x01\x01garbage"), good.substr(0, good.size() / 2),
                          std::string("\x07\x01", 2)}) {
    auto reply = decode_push_reply_or_error(f.server->handle(bad));
    REQUIRE_FALSE(reply);
    CHECK(reply.error().code() == ErrorCode::sync_refused);
  }
  CHECK(f.server->scope_digest({"522632"}).empty());
  CHECK(f.store->device(a.id)->acked_seq == 0);
  auto ok = decode_push_reply_or_error(f.server->handle(good));
  REQUIRE(ok);
  CHECK(ok->acked_seq == 1);
}

TEST_CASE("Configuration reaches every device with a version", "[sync][server]") {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  REQUIRE(f.server->set_config("period", "2026:2026-11-30"));
  REQUIRE(f.server->set_config("period", "2026:2026-11-30"));  // unchanged: no new version
  REQUIRE(f.server->set_config("period", "2026:2026-12-31"));
  auto configs = only<ConfigRecord>(pull_all(*f.server, a.id));
  REQUIRE(configs.size() == 2);
  CHECK(configs[1].version == 2);
  CHECK(configs[1].value == "2026:2026-12-31");
}

TEST_CASE("Jobs pushed after their persons are placed in the persons' villages and a device of another village gets none", "[sync][server]") {
  // The persons are parents the second push does not change: it reads only their villages (decision
  // 140). One of them is moved in that push too, and its job follows it.
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)}, b{tz::test::test_device(2)};
  REQUIRE(f.server->register_device(a.id, {kVillageA, kVillageB}));
  REQUIRE(f.server->register_device(b.id, {kVillageB}));
  const EntityId h1 = tz::test::test_entity(1), p1 = tz::test::test_entity(2), h2 = tz::test::test_entity(3),
                 p2 = tz::test::test_entity(4), j1 = tz::test::test_entity(5), j2 = tz::test::test_entity(6),
                 h3 = tz::test::test_entity(7);
  household_with_person(a, h1, p1, kVillageA, "张三");
  household_with_person(a, h2, p2, kVillageA, "李四");
  const VersionId p2_placed = a.log[a.log.size() - 2].version;  // its household_id (its name follows)
  a.add(H, h3, "village_code", kVillageB);
  a.add(H, h3, "household_no", h3.hex());
  REQUIRE(f.server->push(a.push(0)).refusal == PushReply::Refusal::none);
  const uint64_t p1_seq = f.store->entity(p1)->last_seq;
  a.add(EntityType::job, j1, "person_id", p1.hex());
  a.add(EntityType::job, j1, "employer", "榕江县某公司");
  a.add(P, p2, "household_id", h3.hex(), {p2_placed});  // p2 moves to village B
  a.add(EntityType::job, j2, "person_id", p2.hex());
  a.add(EntityType::job, j2, "employer", "凯里市某厂");
  auto r = f.server->push(a.push(10));
  REQUIRE(r.refusal == PushReply::Refusal::none);
  CHECK(kinds(r) == std::vector<ChangeOutcome::Kind>(5, ChangeOutcome::Kind::applied));
  CHECK(f.store->entity(j1)->villages == std::vector<std::string>{kVillageA});
  CHECK(f.store->entity(j2)->villages == std::vector<std::string>{kVillageB});
  CHECK(f.store->entity(p1)->last_seq == p1_seq);  // p1 itself untouched
  std::set<EntityId> seen_by_b;
  for (auto& v : only<VersionRecord>(pull_all(*f.server, b.id, 0))) seen_by_b.insert(v.change.entity);
  CHECK(seen_by_b.count(j2) == 1);
  CHECK(seen_by_b.count(j1) == 0);
  CHECK(seen_by_b.count(p1) == 0);
}

TEST_CASE("A large push checks its changes ahead of their apply with the same outcomes on one thread or two", "[sync][server]") {
  // From 256 new changes each change's own checks run on another thread (decision 135): a bad value,
  // an unknown field and a retired-device bound still quarantine exactly the changes they concern.
  same_on_one_thread_and_two([] {
    ServerFixture f;
    FakeDevice a{tz::test::test_device(1)};
    REQUIRE(f.server->register_device(a.id, {kVillageA}));
    for (unsigned h = 1; h <= 100; ++h) {
      EntityId hh, p;
      hh.bytes[0] = p.bytes[0] = 0x7b;
      hh.bytes[1] = p.bytes[1] = static_cast<uint8_t>(h);
      p.bytes[2] = 1;
      household_with_person(a, hh, p, kVillageA, "张" + std::to_string(h));
      if (h == 40) a.add(P, p, "phone", "12");  // not a phone number
      if (h == 70) a.add(P, p, "name", "李四").field = 999;  // no such field
    }
    auto r = f.server->push(a.push(0));
    REQUIRE(r.refusal == PushReply::Refusal::none);
    REQUIRE(r.outcomes.size() == 402);
    CHECK(r.acked_seq == 402);
    std::vector<uint64_t> held;
    for (auto& o : r.outcomes)
      if (o.kind == ChangeOutcome::Kind::quarantined) held.push_back(o.seq);
    CHECK(held == std::vector<uint64_t>{161, 282});  // the phone after household 40's 4 changes, the field after 70's
    CHECK_FALSE(r.outcomes[160].quarantine_reason.empty());
    CHECK_THAT(r.outcomes[281].quarantine_reason, Catch::Matchers::Contains("999"));
    return std::pair(kinds(r), f.server->scope_digest({kVillageA}));
  });
}

TEST_CASE("A large push with persons before their households and moves and edits again ends the same on one thread or two", "[sync][server]") {
  // A push's checks run ahead, and its log rows, blocks and the entities it has moved on from are
  // written beside the apply (decisions 135, 138 and 145). Persons named before their household
  // (changed again after being handed to the writer), households moved to another village (their
  // persons follow), entities edited again later in the push, and a conflict must come out as with
  // everything in turn, with their match keys.
  auto id_of = [](uint8_t kind, unsigned h) {
    EntityId e;
    e.bytes[0] = 0x7c;
    e.bytes[1] = static_cast<uint8_t>(h >> 8);
    e.bytes[2] = static_cast<uint8_t>(h & 0xff);
    e.bytes[3] = kind;
    return e;
  };
  same_on_one_thread_and_two([&] {
    ServerFixture f;
    FakeDevice a{tz::test::test_device(1)}, b{tz::test::test_device(2)};
    REQUIRE(f.server->register_device(a.id, {kVillageA, kVillageB}));
    REQUIRE(f.server->register_device(b.id, {kVillageA, kVillageB}));
    std::map<unsigned, VersionId> named, placed;  // each person's name version, each household's village
    for (unsigned h = 1; h <= 300; ++h) {
      household_with_person(a, id_of(0, h), id_of(1, h), kVillageA, "张" + std::to_string(h));
      named[h] = a.log.back().version;
      placed[h] = a.log[a.log.size() - 4].version;
    }
    REQUIRE(f.server->push(a.push(0)).acked_seq == 1200);
    const uint64_t first_done = a.next_seq - 1;
    // Device b renames person 5 first: a's rename of it below, on the old base, is in conflict.
    b.add(P, id_of(1, 5), "name", "赵五", {named[5]});
    REQUIRE(f.server->push(b.push(0)).acked_seq == 1);
    for (unsigned h = 301; h <= 1200; ++h) {  // the person before its household
      a.add(P, id_of(1, h), "household_id", id_of(0, h).hex());
      a.add(H, id_of(0, h), "village_code", kVillageA);
      a.add(H, id_of(0, h), "household_no", id_of(0, h).hex());
      a.add(P, id_of(1, h), "name", "李" + std::to_string(h));
      named[h] = a.log.back().version;
    }
    for (unsigned h = 1; h <= 50; ++h) a.add(H, id_of(0, h), "village_code", kVillageB, {placed[h]});  // moved: persons follow
    for (unsigned h = 301; h <= 400; ++h) a.add(P, id_of(1, h), "name", "王" + std::to_string(h), {named[h]});
    a.add(P, id_of(1, 5), "name", "钱五", {named[5]});
    auto r = f.server->push(a.push(first_done));
    REQUIRE(r.refusal == PushReply::Refusal::none);
    REQUIRE(r.outcomes.size() == 3751);
    CHECK(r.acked_seq == a.next_seq - 1);
    CHECK(r.outcomes.back().kind == ChangeOutcome::Kind::conflict);
    for (size_t k = 0; k + 1 < r.outcomes.size(); ++k) CHECK(r.outcomes[k].kind == ChangeOutcome::Kind::applied);
    const FieldId name = tz::test::field_id(P, "name");
    auto moved = f.store->entity(id_of(1, 20));
    REQUIRE(moved);
    CHECK(moved->villages == std::vector<std::string>{kVillageB});
    auto stayed = f.store->entity(id_of(1, 60));
    REQUIRE(stayed);
    CHECK(stayed->villages == std::vector<std::string>{kVillageA});
    auto late = f.store->entity(id_of(1, 1100));
    REQUIRE(late);
    CHECK(late->villages == std::vector<std::string>{kVillageA});
    CHECK(late->parents == std::vector<EntityId>{id_of(0, 1100)});
    auto renamed = f.store->entity(id_of(1, 350));
    REQUIRE(renamed);
    REQUIRE(renamed->state.fields.at(name).live.size() == 1);
    CHECK(renamed->state.fields.at(name).live.at(0).value == "王350");
    CHECK(f.store->entity(id_of(1, 5))->state.fields.at(name).live.size() == 2);
    CHECK(f.store->children(id_of(0, 1200)) == std::vector<EntityId>{id_of(1, 1200)});
    // Match keys: a household made by the push and one it moved.
    CHECK(f.store->match_key(id_of(0, 1100)) == "h:" + kVillageA + "/" + id_of(0, 1100).hex());
    CHECK(f.store->match_key(id_of(0, 10)) == "h:" + kVillageB + "/" + id_of(0, 10).hex());
    CHECK(f.store->entities_with_match_key("h:" + kVillageA + "/" + id_of(0, 777).hex()) == std::vector<EntityId>{id_of(0, 777)});
    return std::pair(kinds(r), f.server->scope_digest({kVillageA}) + "/" + f.server->scope_digest({kVillageB}));
  });
}
