// The sync oracle on hand-made histories: it must be able to FAIL. A lost write, a divergent server,
// a missing attribution and a dropped quarantine are reported; correct histories are not; the
// deletion rules of SPEC §5 come out as written; the transport observer records exactly what the
// server's reply says it accepted, with re-stamps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "oracle.hpp"
#include "temp_dir.hpp"
#include "tz/model/schema.hpp"
#include "tz/sync/protocol.hpp"

using tz::EntityId;
using tz::EntityState;
using tz::EntityType;
using tz::FieldChange;
using tz::FieldId;
using tz::Hlc;
using tz::kDeletedField;
using tz::VersionId;
using tz::sim::Oracle;
using tz::sim::ServerView;
using tz::sim::Violation;
using Kind = tz::sync::ChangeOutcome::Kind;

namespace {

tz::DeviceId dev(uint8_t n) {
  tz::DeviceId d;
  d.bytes[0] = n;
  return d;
}
VersionId vid(uint8_t d, uint64_t seq) { return VersionId{dev(d), tz::Seq{seq}}; }
EntityId ent(uint8_t n) {
  EntityId e;
  e.bytes[0] = 0xe0;
  e.bytes[15] = n;
  return e;
}

FieldChange chg(EntityId e, FieldId f, std::string value, VersionId v, std::vector<VersionId> base = {},
                int64_t ms = 1000) {
  FieldChange c;
  c.type = EntityType::person;
  c.entity = e;
  c.field = f;
  c.value = std::move(value);
  c.version = v;
  c.ts = Hlc{ms + static_cast<int64_t>(v.seq.value), 0};
  c.collector = "王芳";
  c.device_ms = ms;
  c.base = std::move(base);
  return c;
}

// The server a correct merge would hold for these applied changes, built by hand field by field.
tz::Version ver(const FieldChange& c, int64_t server_ms = 5000) {
  return tz::Version{c.version, c.value, c.ts, c.collector, c.device_ms, server_ms};
}

void put(ServerView& s, const FieldChange& c, std::vector<const FieldChange*> live) {
  auto& st = s.entities[c.entity];
  st.type = c.type;
  st.id = c.entity;
  auto& f = st.fields[c.field];
  f.live.clear();
  for (auto* l : live) f.live.push_back(ver(*l));
  std::sort(f.live.begin(), f.live.end(), [](auto& a, auto& b) { return a.id < b.id; });
}

bool has(const std::vector<Violation>& vs, int invariant) {
  for (auto& v : vs)
    if (v.invariant == invariant) return true;
  return false;
}

std::string all(const std::vector<Violation>& vs) {
  std::string out;
  for (auto& v : vs) out += tz::sim::to_string(v) + "\n";
  return out;
}

}  // namespace

TEST_CASE("oracle: a correct history with an edit chain and an open conflict has no violation", "[oracle]") {
  Oracle o;
  auto a = chg(ent(1), 2, "张三", vid(1, 1));
  auto b = chg(ent(1), 2, "张叁", vid(1, 2), {vid(1, 1)});
  auto c = chg(ent(1), 2, "张山", vid(2, 1), {vid(1, 1)});  // concurrent with b: a conflict
  auto d = chg(ent(1), 3, "x", vid(2, 2));
  for (auto* x : {&a, &b, &c, &d}) o.accept(*x, Kind::applied);
  ServerView s;
  put(s, b, {&b, &c});
  put(s, d, {&d});
  INFO(all(o.check_no_lost_writes(s)) << all(o.check_server_state(s)));
  CHECK(o.check_no_lost_writes(s).empty());
  CHECK(o.check_server_state(s).empty());
  CHECK(o.check_attribution(s).empty());
  auto exp = o.expected();
  REQUIRE(exp.count(ent(1)));
  CHECK(exp[ent(1)].live[2].size() == 2);
  CHECK_FALSE(exp[ent(1)].deleted);
}

TEST_CASE("oracle: a lost write is reported under invariant 1 and the divergence under invariant 2", "[oracle]") {
  Oracle o;
  auto a = chg(ent(1), 2, "张三", vid(1, 1));
  auto b = chg(ent(1), 2, "李四", vid(2, 1));  // concurrent creates of one keyed person
  o.accept(a, Kind::applied);
  o.accept(b, Kind::conflict);
  ServerView lww;  // what last-writer-wins keeps
  put(lww, b, {&b});
  auto lost = o.check_no_lost_writes(lww);
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].invariant == 1);
  CHECK(lost[0].what.find("lost write") != std::string::npos);
  CHECK(has(o.check_server_state(lww), 2));

  ServerView right;
  put(right, b, {&a, &b});
  CHECK(o.check_no_lost_writes(right).empty());
  CHECK(o.check_server_state(right).empty());
}

TEST_CASE("oracle: equal values on two devices stay two versions" , "[oracle]") {
  Oracle o;
  auto a = chg(ent(1), 2, "同", vid(1, 1));
  auto b = chg(ent(1), 2, "同", vid(2, 1));
  o.accept(a, Kind::applied);
  o.accept(b, Kind::applied);
  ServerView one;
  put(one, a, {&a});
  CHECK(has(o.check_no_lost_writes(one), 1));
  ServerView both;
  put(both, a, {&a, &b});
  CHECK(o.check_no_lost_writes(both).empty());
  CHECK(o.check_server_state(both).empty());
}

TEST_CASE("oracle: a server value the history does not explain is a divergence", "[oracle]") {
  Oracle o;
  auto a = chg(ent(1), 2, "张三", vid(1, 1));
  o.accept(a, Kind::applied);
  ServerView s;
  auto wrong = a;
  wrong.value = "别的";
  put(s, wrong, {&wrong});
  CHECK(has(o.check_server_state(s), 2));
  auto later = a;
  later.ts.ms += 1;  // a timestamp that is not the one in force
  ServerView t;
  put(t, later, {&later});
  CHECK(has(o.check_server_state(t), 2));
  ServerView extra;  // an entity nobody pushed
  put(extra, a, {&a});
  auto ghost = chg(ent(9), 1, "x", vid(3, 1));
  put(extra, ghost, {&ghost});
  CHECK(has(o.check_server_state(extra), 2));
}

TEST_CASE("oracle: a change that arrives after the edit replacing it stays out" , "[oracle]") {
  Oracle o;
  auto a = chg(ent(1), 2, "旧", vid(1, 1));
  auto b = chg(ent(1), 2, "新", vid(2, 1), {vid(1, 1)});
  o.accept(b, Kind::applied);
  o.accept(a, Kind::applied);  // arrives later, already superseded
  auto exp = o.expected();
  CHECK(exp[ent(1)].live[2].size() == 1);
  ServerView s;
  put(s, b, {&b});
  CHECK(o.check_no_lost_writes(s).empty());
  CHECK(o.check_server_state(s).empty());
}

TEST_CASE("oracle: deletion follows SPEC: seen-everything deletes and an unseen edit keeps the entity", "[oracle]") {
  auto name = chg(ent(1), 2, "张三", vid(1, 1));
  auto phone = chg(ent(1), 6, "13800000000", vid(1, 2));
  auto del = chg(ent(1), kDeletedField, "迁出", vid(2, 1), {vid(1, 1), vid(1, 2)});

  SECTION("a deletion naming every live version deletes and removes nothing") {
    Oracle o;
    for (auto* c : {&name, &phone, &del}) o.accept(*c, Kind::applied);
    auto e = o.expected()[ent(1)];
    CHECK(e.deleted);
    CHECK(e.live[2].size() == 1);  // the values stay: a restore gets them back
    CHECK(e.live[6].size() == 1);
    REQUIRE(e.deletion_bases.count(vid(2, 1)));
    CHECK(e.deletion_bases[vid(2, 1)].size() == 2);
  }
  SECTION("an edit the deleter did not see keeps the entity (deletion in conflict)") {
    Oracle o;
    auto edit = chg(ent(1), 2, "张叁", vid(3, 1), {vid(1, 1)});
    for (auto* c : {&name, &phone, &del, &edit}) o.accept(*c, Kind::applied);
    auto e = o.expected()[ent(1)];
    CHECK_FALSE(e.deleted);
    CHECK(e.live[kDeletedField].size() == 1);
  }
  SECTION("a restore naming the deletion undoes it") {
    Oracle o;
    auto restore = chg(ent(1), kDeletedField, "", vid(1, 3), {vid(1, 1), vid(1, 2), vid(2, 1)});
    for (auto* c : {&name, &phone, &del, &restore}) o.accept(*c, Kind::applied);
    auto e = o.expected()[ent(1)];
    CHECK_FALSE(e.deleted);
    CHECK(e.deletion_bases.empty());
    CHECK(e.live[kDeletedField].size() == 1);
  }
  SECTION("concurrent deleters who between them saw everything delete it") {
    Oracle o;
    auto d1 = chg(ent(1), kDeletedField, "死亡", vid(2, 1), {vid(1, 1)});
    auto d2 = chg(ent(1), kDeletedField, "迁出", vid(3, 1), {vid(1, 2)});
    for (auto* c : {&name, &phone, &d1, &d2}) o.accept(*c, Kind::applied);
    auto e = o.expected()[ent(1)];
    CHECK(e.deleted);
    CHECK(e.deletion_bases.size() == 2);
  }
  SECTION("a restore's base does not count towards deletion") {
    Oracle o;
    auto d1 = chg(ent(1), kDeletedField, "死亡", vid(2, 1), {vid(1, 1)});
    auto r = chg(ent(1), kDeletedField, "", vid(3, 1), {vid(1, 2)});
    for (auto* c : {&name, &phone, &d1, &r}) o.accept(*c, Kind::applied);
    auto e = o.expected()[ent(1)];
    CHECK_FALSE(e.deleted);
    CHECK(e.deletion_bases.size() == 1);
  }
  SECTION("the server's deletion bases are compared") {
    Oracle o;
    for (auto* c : {&name, &phone, &del}) o.accept(*c, Kind::applied);
    ServerView s;
    put(s, name, {&name});
    put(s, phone, {&phone});
    put(s, del, {&del});
    CHECK(has(o.check_server_state(s), 2));  // the server forgot the deletion's base
    s.entities[ent(1)].deletion_bases[vid(2, 1)] = {vid(1, 1), vid(1, 2)};
    CHECK(o.check_server_state(s).empty());
  }
}

TEST_CASE("oracle: quarantine must be held by the server until released or rejected", "[oracle]") {
  Oracle o;
  auto a = chg(ent(1), 2, "张三", vid(1, 1));
  auto q = chg(ent(1), 3, "bad", vid(1, 2));
  o.accept(a, Kind::applied);
  o.accept(q, Kind::quarantined);
  ServerView s;
  put(s, a, {&a});
  CHECK(has(o.check_no_lost_writes(s), 1));  // dropped from the quarantine
  s.quarantined.insert(vid(1, 2));
  CHECK(o.check_no_lost_writes(s).empty());
  CHECK(o.check_server_state(s).empty());  // a quarantined change is not live

  SECTION("released: live") {
    o.released(vid(1, 2));
    s.quarantined.clear();
    CHECK(has(o.check_no_lost_writes(s), 1));
    put(s, q, {&q});
    CHECK(o.check_no_lost_writes(s).empty());
    CHECK(o.check_server_state(s).empty());
  }
  SECTION("rejected: neither live nor held") {
    o.rejected(vid(1, 2));
    s.quarantined.clear();
    CHECK(o.check_no_lost_writes(s).empty());
    CHECK(o.check_server_state(s).empty());
  }
  SECTION("the server quarantining something never reported is noticed") {
    s.quarantined.insert(vid(7, 7));
    CHECK(has(o.check_no_lost_writes(s), 1));
  }
}

TEST_CASE("oracle: attribution needs device collector device time and receipt time", "[oracle]") {
  Oracle o;
  auto a = chg(ent(1), 2, "张三", vid(1, 1));
  o.accept(a, Kind::applied);
  ServerView s;
  put(s, a, {&a});
  CHECK(o.check_attribution(s).empty());
  s.entities[ent(1)].fields[2].live[0].server_ms = 0;
  auto v = o.check_attribution(s);
  REQUIRE(v.size() == 1);
  CHECK(v[0].invariant == 4);
  CHECK(v[0].what.find("server_ms") != std::string::npos);
}

TEST_CASE("oracle: the transport observer records outcomes and re-stamps from the reply", "[oracle]") {
  Oracle o;
  tz::sync::PushRequest req;
  req.device = dev(1);
  req.device_epoch = "e";
  req.request_counter = 1;
  req.first_seq = 1;
  req.changes = {chg(ent(1), 2, "张三", vid(1, 1)), chg(ent(1), 3, "bad", vid(1, 2)), chg(ent(1), 4, "x", vid(1, 3))};
  tz::sync::PushReply rep;
  rep.server_epoch = "s";
  rep.acked_seq = 3;
  rep.outcomes = {{1, Kind::applied, "", Hlc{777, 0}}, {2, Kind::quarantined, "bad value", std::nullopt},
                  {3, Kind::conflict, "", std::nullopt}};
  auto rq = tz::sync::encode(req);
  auto rp = tz::sync::encode(rep);

  SECTION("a clean exchange") {
    o.observe_exchange(rq, rp);
    CHECK(o.observed().empty());
    REQUIRE(o.entries().size() == 3);
    CHECK(o.entries().at(vid(1, 1)).change.ts == Hlc{777, 0});
    CHECK(o.entries().at(vid(1, 1)).restamped);
    CHECK(o.entries().at(vid(1, 2)).status == Oracle::Status::quarantined);
    CHECK(o.entries().at(vid(1, 3)).status == Oracle::Status::applied);
    // Sent twice: the second reply says duplicate, which is right.
    auto dup = rep;
    for (auto& x : dup.outcomes) x = {x.seq, Kind::duplicate, "", std::nullopt};
    o.observe_exchange(rq, tz::sync::encode(dup));
    CHECK(o.observed().empty());
    CHECK(o.entries().at(vid(1, 1)).change.ts == Hlc{777, 0});
    // Applied a second time instead of duplicate: noticed.
    o.observe_exchange(rq, rp);
    CHECK(has(o.observed(), 3));
  }
  SECTION("cut bytes, a refusal and an error record nothing") {
    o.observe_exchange(rq.substr(0, rq.size() / 2), rp);
    o.observe_exchange(rq, rp.substr(0, rp.size() - 3));
    auto refused = rep;
    refused.refusal = tz::sync::PushReply::Refusal::stale_counter;
    o.observe_exchange(rq, tz::sync::encode(refused));
    tz::sync::PullRequest pull;
    pull.device = dev(1);
    o.observe_exchange(tz::sync::encode(pull), rp);
    CHECK(o.entries().empty());
    CHECK(o.observed().empty());
  }
  SECTION("a re-sent seq with other content reported as applied is a protocol violation") {
    o.observe_exchange(rq, rp);
    auto other = req;
    other.changes[0].value = "李四";
    other.request_counter = 2;
    o.observe_exchange(tz::sync::encode(other), rp);
    CHECK(has(o.observed(), 0));
  }
  SECTION("an outcome for a seq the request did not hold is a protocol violation") {
    auto bad = rep;
    bad.outcomes.push_back({9, Kind::applied, "", std::nullopt});
    o.observe_exchange(rq, tz::sync::encode(bad));
    CHECK(has(o.observed(), 0));
  }
}

TEST_CASE("oracle: a device must hold every entity of its scope with the expected versions", "[oracle]") {
  static const tz::Schema schema = tz::Schema::parse(tz::test::schema_files()).take();
  Oracle o(&schema);
  const FieldId f_village = schema.entity(EntityType::household).require("village_code").id;
  const FieldId f_hh = schema.entity(EntityType::person).require("household_id").id;
  const FieldId f_name = schema.entity(EntityType::person).require("name").id;
  auto hh = chg(ent(1), f_village, "522632100207", vid(1, 1));
  hh.type = EntityType::household;
  auto p_hh = chg(ent(2), f_hh, ent(1).hex(), vid(1, 2));
  auto p_name = chg(ent(2), f_name, "张三", vid(1, 3));
  auto other = chg(ent(3), f_village, "522632101001", vid(1, 4));  // another township
  other.type = EntityType::household;
  for (auto* c : {&hh, &p_hh, &p_name, &other}) o.accept(*c, Kind::applied);

  auto exp = o.expected();
  CHECK(o.villages_of(exp, ent(2)) == std::set<std::string>{"522632100207"});

  std::map<EntityId, tz::Entity> held;
  auto add = [&](const FieldChange& c) {
    auto& e = held[c.entity];
    e.type = c.type;
    e.id = c.entity;
    e.fields[c.field].live.push_back(ver(c, 0));
  };
  add(hh);
  add(p_hh);
  const std::vector<std::string> scope{"522632100"};
  auto v = o.check_device("d1", held, scope);
  CHECK(has(v, 2));  // the person's name is missing
  add(p_name);
  CHECK(o.check_device("d1", held, scope).empty());  // the other township's household is not needed
  CHECK(has(o.check_device("d1", held, {"522632"}), 2));
}
