// The sync merge (SPEC §5): each rule on hand-made changes, then seeded random histories from several
// devices applied in many orders with duplicates, checked against an oracle that computes the live
// sets from the whole set of changes at once, and the last-writer-wins seam shown to lose writes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tz/model/hlc.hpp"
#include "tz/model/merge.hpp"

using tz::DeviceId;
using tz::EntityState;
using tz::EntityType;
using tz::FieldChange;
using tz::FieldId;
using tz::Hlc;
using tz::kDeletedField;
using tz::MergeMode;
using tz::MergeOutcome;
using tz::VersionId;

namespace {

DeviceId device(uint8_t n) {
  DeviceId d;
  d.bytes[0] = n;  // the first byte decides the order, so device(2) > device(1)
  return d;
}

VersionId vid(uint8_t dev, uint64_t seq) { return VersionId{device(dev), tz::Seq{seq}}; }

tz::EntityId entity_id() {
  tz::EntityId id;
  id.bytes[0] = 0xab;
  id.bytes[15] = 0x01;
  return id;
}

EntityState fresh() {
  EntityState e;
  e.type = EntityType::person;
  e.id = entity_id();
  return e;
}

FieldChange change(FieldId field, std::string value, VersionId v, Hlc ts, std::vector<VersionId> base,
                   std::string collector = "王芳") {
  FieldChange c;
  c.type = EntityType::person;
  c.entity = entity_id();
  c.field = field;
  c.value = std::move(value);
  c.version = v;
  c.ts = ts;
  c.collector = std::move(collector);
  c.device_ms = ts.ms;
  c.base = std::move(base);
  c.schema_version = 1;
  return c;
}

std::vector<VersionId> live_ids(const EntityState& e, FieldId f) {
  auto it = e.fields.find(f);
  return it == e.fields.end() ? std::vector<VersionId>{} : tz::resolution_base(it->second);
}

std::vector<std::string> live_values(const EntityState& e, FieldId f) {
  std::vector<std::string> out;
  auto it = e.fields.find(f);
  if (it != e.fields.end())
    for (auto& v : tz::values(it->second)) out.push_back(v.value);
  return out;
}

const tz::FieldState& field(const EntityState& e, FieldId f) { return e.fields.at(f); }

}  // namespace

TEST_CASE("merge: a first edit is the one live version and the winner", "[merge]") {
  auto e = fresh();
  CHECK(tz::merge_apply(e, change(3, "张三", vid(1, 1), {1000, 0}, {})) == MergeOutcome::added);
  REQUIRE(field(e, 3).live.size() == 1);
  CHECK(tz::provisional_winner(field(e, 3))->value == "张三");
  CHECK(field(e, 3).live[0].collector == "王芳");
  CHECK(field(e, 3).live[0].device_ms == 1000);
  CHECK_FALSE(tz::in_conflict(field(e, 3)));
  CHECK(tz::conflicts(e).empty());
  CHECK_FALSE(tz::is_deleted(e));
  CHECK(tz::provisional_winner(tz::FieldState{}) == nullptr);
  CHECK(tz::edit_base(tz::FieldState{}).empty());
}

TEST_CASE("merge: an edit replaces exactly the versions its base names", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "张三", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(e, change(4, "13800000000", vid(1, 2), {1001, 0}, {}));
  tz::merge_apply(e, change(3, "张叁", vid(1, 3), {1002, 0}, {vid(1, 1)}));
  CHECK(live_ids(e, 3) == std::vector<VersionId>{vid(1, 3)});
  CHECK(live_values(e, 3) == std::vector<std::string>{"张叁"});
  CHECK(live_ids(e, 4) == std::vector<VersionId>{vid(1, 2)});  // another field is untouched
  CHECK(field(e, 3).superseded == std::vector<VersionId>{vid(1, 1)});
}

TEST_CASE("merge: applying the same change twice changes nothing", "[merge]") {
  auto e = fresh();
  auto a = change(3, "张三", vid(1, 1), {1000, 0}, {});
  auto b = change(3, "张叁", vid(2, 1), {1005, 0}, {vid(1, 1)});
  CHECK(tz::merge_apply(e, a, MergeMode::correct, 50) == MergeOutcome::added);
  CHECK(tz::merge_apply(e, a, MergeMode::correct, 40) == MergeOutcome::duplicate);
  CHECK(field(e, 3).live.size() == 1);
  CHECK(field(e, 3).live[0].server_ms == 40);  // the earliest receipt, whichever copy came first
  auto before = tz::digest(e);
  CHECK(tz::merge_apply(e, b) == MergeOutcome::added);
  // A resend of a version that has since been replaced must not bring it back.
  CHECK(tz::merge_apply(e, a) == MergeOutcome::superseded);
  CHECK(tz::merge_apply(e, b) == MergeOutcome::duplicate);
  CHECK(live_ids(e, 3) == std::vector<VersionId>{vid(2, 1)});
  CHECK(tz::digest(e) != before);
}

TEST_CASE("merge: concurrent edits of one field are a conflict with both values", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "张三", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(e, change(3, "张叁", vid(2, 1), {2000, 0}, {vid(1, 1)}, "李四"));
  tz::merge_apply(e, change(3, "章三", vid(3, 1), {1500, 0}, {vid(1, 1)}, "赵五"));
  const auto& f = field(e, 3);
  CHECK(tz::in_conflict(f));
  CHECK(tz::provisional_winner(f)->id == vid(2, 1));  // the highest timestamp
  auto vs = tz::values(f);
  REQUIRE(vs.size() == 2);
  CHECK(vs[0].value == "张叁");  // the winner's value first
  CHECK(vs[0].versions[0].collector == "李四");
  CHECK(vs[1].value == "章三");
  CHECK(vs[1].versions[0].collector == "赵五");
  CHECK(vs[1].versions[0].device_ms == 1500);
  auto cs = tz::conflicts(e);
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].field == 3);
  CHECK(cs[0].values.size() == 2);
  CHECK(cs[0].unseen.empty());

  SECTION("equal timestamps fall to the higher device id") {
    auto g = fresh();
    tz::merge_apply(g, change(3, "甲", vid(2, 1), {3000, 1}, {}));
    tz::merge_apply(g, change(3, "乙", vid(1, 7), {3000, 1}, {}));
    CHECK(tz::provisional_winner(field(g, 3))->value == "甲");
    tz::merge_apply(g, change(3, "丙", vid(1, 8), {3000, 2}, {}));
    CHECK(tz::provisional_winner(field(g, 3))->value == "丙");  // the counter is part of the timestamp
  }
}

TEST_CASE("merge: equal concurrent values are one value with two versions and no conflict", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "张三", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(e, change(3, "张叁", vid(2, 1), {2000, 0}, {vid(1, 1)}, "李四"));
  tz::merge_apply(e, change(3, "张叁", vid(3, 1), {2100, 0}, {vid(1, 1)}, "赵五"));
  const auto& f = field(e, 3);
  CHECK_FALSE(tz::in_conflict(f));
  CHECK(f.live.size() == 2);
  auto vs = tz::values(f);
  REQUIRE(vs.size() == 1);
  REQUIRE(vs[0].versions.size() == 2);
  CHECK(vs[0].versions[0].collector == "李四");
  CHECK(vs[0].versions[1].collector == "赵五");
  CHECK(tz::conflicts(e).empty());
  // An edit of the value shown replaces both versions.
  CHECK(tz::edit_base(f) == std::vector<VersionId>{vid(2, 1), vid(3, 1)});
  tz::merge_apply(e, change(3, "张三丰", vid(1, 2), {3000, 0}, tz::edit_base(f)));
  CHECK(live_ids(e, 3) == std::vector<VersionId>{vid(1, 2)});
}

TEST_CASE("merge: an edit that saw one side of a conflict replaces only that side", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "甲", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(e, change(3, "乙", vid(2, 1), {2000, 0}, {}));
  REQUIRE(tz::in_conflict(field(e, 3)));
  auto base = tz::edit_base(field(e, 3));
  CHECK(base == std::vector<VersionId>{vid(2, 1)});  // the shown value only
  tz::merge_apply(e, change(3, "丙", vid(3, 1), {3000, 0}, base));
  CHECK(live_ids(e, 3) == std::vector<VersionId>{vid(1, 1), vid(3, 1)});
  CHECK(tz::in_conflict(field(e, 3)));
  CHECK(tz::conflicts(e).size() == 1);
}

TEST_CASE("merge: a resolution naming every live version leaves one value", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "甲", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(e, change(3, "乙", vid(2, 1), {2000, 0}, {}));
  tz::merge_apply(e, change(3, "乙", vid(3, 1), {2500, 0}, {}));
  auto base = tz::resolution_base(field(e, 3));
  CHECK(base == std::vector<VersionId>{vid(1, 1), vid(2, 1), vid(3, 1)});
  // The reviewer picks the value that was not shown.
  tz::merge_apply(e, change(3, "甲", vid(4, 1), {4000, 0}, base, "审核员"));
  CHECK(live_ids(e, 3) == std::vector<VersionId>{vid(4, 1)});
  CHECK(live_values(e, 3) == std::vector<std::string>{"甲"});
  CHECK(tz::conflicts(e).empty());
}

TEST_CASE("merge: two concurrent resolutions are themselves a conflict", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "甲", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(e, change(3, "乙", vid(2, 1), {2000, 0}, {}));
  auto base = tz::resolution_base(field(e, 3));
  tz::merge_apply(e, change(3, "甲", vid(3, 1), {3000, 0}, base));
  tz::merge_apply(e, change(3, "乙", vid(4, 1), {3001, 0}, base));
  CHECK(live_ids(e, 3) == std::vector<VersionId>{vid(3, 1), vid(4, 1)});
  CHECK(tz::in_conflict(field(e, 3)));
  CHECK(tz::provisional_winner(field(e, 3))->value == "乙");
  // Two resolutions that agree are one value, not a conflict.
  auto g = fresh();
  tz::merge_apply(g, change(3, "甲", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(g, change(3, "乙", vid(2, 1), {2000, 0}, {}));
  tz::merge_apply(g, change(3, "甲", vid(3, 1), {3000, 0}, base));
  tz::merge_apply(g, change(3, "甲", vid(4, 1), {3001, 0}, base));
  CHECK_FALSE(tz::in_conflict(field(g, 3)));
  CHECK(field(g, 3).live.size() == 2);
}

TEST_CASE("merge: a change arriving before a version its base names keeps that version out", "[merge]") {
  auto a = change(3, "甲", vid(1, 1), {1000, 0}, {});
  auto b = change(3, "乙", vid(2, 1), {2000, 0}, {vid(1, 1)});
  auto c = change(3, "丙", vid(3, 1), {3000, 0}, {vid(2, 1)});
  auto in_order = fresh();
  for (auto* x : {&a, &b, &c}) tz::merge_apply(in_order, *x);
  auto late = fresh();
  CHECK(tz::merge_apply(late, b) == MergeOutcome::added);
  CHECK(tz::merge_apply(late, a) == MergeOutcome::superseded);
  CHECK(live_ids(late, 3) == std::vector<VersionId>{vid(2, 1)});
  CHECK(tz::merge_apply(late, c) == MergeOutcome::added);
  CHECK(tz::digest(late) == tz::digest(in_order));

  SECTION("a superseded change still removes what its own base names") {
    auto chain = fresh();
    CHECK(tz::merge_apply(chain, c) == MergeOutcome::added);
    CHECK(tz::merge_apply(chain, b) == MergeOutcome::superseded);
    CHECK(tz::merge_apply(chain, a) == MergeOutcome::superseded);  // named only by b
    CHECK(live_ids(chain, 3) == std::vector<VersionId>{vid(3, 1)});
    CHECK(tz::digest(chain) == tz::digest(in_order));
  }
}

TEST_CASE("merge: a deletion whose base names every live version deletes the entity", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "张三", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(e, change(4, "13800000000", vid(1, 2), {1001, 0}, {}));
  auto base = tz::deletion_base(e);
  CHECK(base == std::vector<VersionId>{vid(1, 1), vid(1, 2)});
  tz::merge_apply(e, change(kDeletedField, "重复录入", vid(2, 1), {2000, 0}, base));
  CHECK(tz::is_deleted(e));
  CHECK_FALSE(tz::deletion_in_conflict(e));
  CHECK(tz::conflicts(e).empty());
  // Unlike other bases it removes nothing: the values stay for review and for a restore.
  CHECK(live_ids(e, 3) == std::vector<VersionId>{vid(1, 1)});
  CHECK(live_ids(e, 4) == std::vector<VersionId>{vid(1, 2)});
  CHECK(field(e, 3).superseded.empty());
  CHECK(tz::digest(e).find("deleted\n") != std::string::npos);
  CHECK(tz::to_entity(e).fields.count(kDeletedField) == 0);
  CHECK(tz::to_entity(e).value_or(3) == "张三");
}

TEST_CASE("merge: a deletion that missed a later version is listed as a conflict", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "张三", vid(1, 1), {1000, 0}, {}));
  auto seen = tz::deletion_base(e);
  tz::merge_apply(e, change(4, "13800000000", vid(1, 2), {1500, 0}, {}));  // the deleter never saw it
  tz::merge_apply(e, change(kDeletedField, "迁出", vid(2, 1), {2000, 0}, seen));
  CHECK_FALSE(tz::is_deleted(e));
  CHECK(tz::deletion_in_conflict(e));
  CHECK(tz::unseen_by_deletion(e) == std::vector<VersionId>{vid(1, 2)});
  auto cs = tz::conflicts(e);
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].field == kDeletedField);
  REQUIRE(cs[0].values.size() == 1);
  CHECK(cs[0].values[0].value == "迁出");
  CHECK(cs[0].unseen == std::vector<VersionId>{vid(1, 2)});
  CHECK(tz::digest(e).find("deletion-conflict\n") != std::string::npos);

  SECTION("an edit made after the deletion also reopens it") {
    auto g = fresh();
    tz::merge_apply(g, change(3, "张三", vid(1, 1), {1000, 0}, {}));
    tz::merge_apply(g, change(kDeletedField, "迁出", vid(2, 1), {2000, 0}, tz::deletion_base(g)));
    REQUIRE(tz::is_deleted(g));
    tz::merge_apply(g, change(3, "张叁", vid(3, 1), {3000, 0}, tz::edit_base(field(g, 3))));
    CHECK(tz::deletion_in_conflict(g));
    CHECK(live_values(g, 3) == std::vector<std::string>{"张叁"});
  }
  SECTION("a second deletion that saw everything closes it") {
    tz::merge_apply(e, change(kDeletedField, "迁出", vid(3, 1), {3000, 0}, tz::deletion_base(e)));
    CHECK(tz::is_deleted(e));
    CHECK(live_ids(e, kDeletedField) == std::vector<VersionId>{vid(3, 1)});
    CHECK(e.deletion_bases.size() == 1);  // the replaced deletion's base is dropped with it
  }
  SECTION("concurrent deleters who between them saw every live version delete it") {
    tz::merge_apply(e, change(kDeletedField, "迁出", vid(3, 1), {1600, 0}, {vid(1, 2)}));
    CHECK(tz::is_deleted(e));
    CHECK(field(e, kDeletedField).live.size() == 2);
  }
}

TEST_CASE("merge: a restore naming the deletion undoes it", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "张三", vid(1, 1), {1000, 0}, {}));
  tz::merge_apply(e, change(kDeletedField, "死亡", vid(2, 1), {2000, 0}, tz::deletion_base(e)));
  REQUIRE(tz::is_deleted(e));
  tz::merge_apply(e, change(kDeletedField, "", vid(3, 1), {3000, 0}, tz::edit_base(field(e, kDeletedField))));
  CHECK_FALSE(tz::is_deleted(e));
  CHECK_FALSE(tz::deletion_in_conflict(e));
  CHECK(tz::conflicts(e).empty());
  CHECK(e.deletion_bases.empty());
}

TEST_CASE("merge: a reused version id with another value changes nothing", "[merge]") {
  auto e = fresh();
  tz::merge_apply(e, change(3, "甲", vid(1, 1), {1000, 0}, {}));
  auto before = tz::digest(e);
  CHECK(tz::merge_apply(e, change(3, "乙", vid(1, 1), {1000, 0}, {})) == MergeOutcome::id_reused);
  CHECK(tz::digest(e) == before);
}

TEST_CASE("merge: a change for another entity is refused", "[merge]") {
  auto e = fresh();
  auto c = change(3, "甲", vid(1, 1), {1000, 0}, {});
  c.entity.bytes[3] = 9;
  CHECK_THROWS_AS(tz::merge_apply(e, c), std::invalid_argument);
  c = change(3, "甲", vid(1, 1), {1000, 0}, {});
  c.type = EntityType::household;
  CHECK_THROWS_AS(tz::merge_apply(e, c), std::invalid_argument);
  CHECK(e.fields.empty());
}

TEST_CASE("merge: the digest is canonical and leaves out the receipt time", "[merge]") {
  auto a = change(3, "甲 乙\n", vid(1, 1), {1000, 0}, {});
  auto b = change(4, "丙", vid(2, 1), {1000, 0}, {});
  auto x = fresh();
  tz::merge_apply(x, a, MergeMode::correct, 7);
  tz::merge_apply(x, b);
  auto y = fresh();
  tz::merge_apply(y, b, MergeMode::correct, 9);
  tz::merge_apply(y, a);
  CHECK(tz::digest(x) == tz::digest(y));
  auto z = fresh();
  tz::merge_apply(z, change(3, "甲 乙\n", vid(1, 1), {1000, 1}, {}));
  tz::merge_apply(z, b);
  CHECK(tz::digest(z) != tz::digest(x));  // the timestamp is in it
  auto w = fresh();
  tz::merge_apply(w, change(3, "甲 乙\n", vid(1, 1), {1000, 0}, {}, "李四"));
  tz::merge_apply(w, b);
  CHECK(tz::digest(w) != tz::digest(x));  // so is the attribution
}

TEST_CASE("merge: last-writer-wins test mode loses a concurrent value that the merge keeps", "[merge]") {
  auto a = change(3, "甲", vid(1, 1), {1000, 0}, {});
  auto b = change(3, "乙", vid(2, 1), {2000, 0}, {vid(1, 1)});
  auto c = change(3, "丙", vid(3, 1), {1500, 0}, {vid(1, 1)});
  auto good = fresh();
  auto lww = fresh();
  for (auto* x : {&a, &c, &b}) {
    tz::merge_apply(good, *x);
    tz::merge_apply(lww, *x, MergeMode::last_writer_wins_for_tests);
  }
  CHECK(live_values(good, 3) == std::vector<std::string>{"乙", "丙"});
  CHECK(live_values(lww, 3) == std::vector<std::string>{"乙"});
  CHECK(tz::conflicts(lww).empty());
  CHECK(tz::merge_apply(lww, a, MergeMode::last_writer_wins_for_tests) == MergeOutcome::superseded);
}

// ---- seeded random histories ------------------------------------------------------------------

namespace {

constexpr FieldId kFields[] = {1, 2, 3};
const char* const kValues[] = {"甲", "乙", "丙"};  // few values, so equal concurrent values happen

// A device edits from what it has seen: its own replica, built with the merge under test. The
// oracle below does not use the merge, so a wrong replica can only make histories odder, not hide
// a bug.
struct SimDevice {
  uint8_t n = 0;
  EntityState seen = fresh();
  tz::HybridClock clock;
  uint64_t next_seq = 1;
  int64_t skew_ms = 0;
  std::set<size_t> known;  // indices into the history
};

struct HistoryStats {
  size_t conflicts = 0, equal_versions = 0, deleted = 0, deletion_conflicts = 0, late_superseded = 0;
};

std::vector<FieldChange> random_history(std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<SimDevice> devices(3 + pick(3));
  for (size_t i = 0; i < devices.size(); ++i) {
    devices[i].n = static_cast<uint8_t>(i + 1);
    devices[i].skew_ms = static_cast<int64_t>(pick(11)) - 5;
  }
  std::vector<FieldChange> history;
  int64_t now = 1'000'000;
  // Receives what others made, in any order: everything (a full sync) or a random part.
  auto receive = [&](SimDevice& d, bool everything) {
    std::vector<size_t> news;
    for (size_t i = 0; i < history.size(); ++i)
      if (!d.known.count(i) && (everything || pick(2))) news.push_back(i);
    std::shuffle(news.begin(), news.end(), rng);
    for (size_t i : news) {
      tz::merge_apply(d.seen, history[i]);
      d.clock.observe(history[i].ts);
      d.known.insert(i);
    }
  };
  enum class Kind { edit, resolution, deletion, restore };
  auto make = [&](SimDevice& d, Kind kind) {
    FieldChange c;
    c.type = EntityType::person;
    c.entity = entity_id();
    c.version = VersionId{device(d.n), tz::Seq{d.next_seq++}};
    c.ts = d.clock.tick(now + d.skew_ms);
    c.collector = "采集员" + std::to_string(d.n);
    c.device_ms = now + d.skew_ms;
    if (kind == Kind::restore && !d.seen.fields.count(kDeletedField)) kind = Kind::edit;
    if (kind == Kind::deletion) {
      c.field = kDeletedField;
      c.value = pick(2) ? "迁出" : "重复录入";
      c.base = tz::deletion_base(d.seen);
    } else if (kind == Kind::restore) {
      c.field = kDeletedField;
      c.value = "";
      c.base = tz::resolution_base(d.seen.fields.at(kDeletedField));
    } else {
      c.field = kFields[pick(3)];
      c.value = kValues[pick(3)];
      auto it = d.seen.fields.find(c.field);
      if (it != d.seen.fields.end())
        c.base = kind == Kind::resolution ? tz::resolution_base(it->second) : tz::edit_base(it->second);
    }
    tz::merge_apply(d.seen, c);
    d.known.insert(history.size());
    history.push_back(std::move(c));
  };
  size_t steps = 15 + pick(35);
  for (size_t step = 0; step < steps; ++step) {
    now += static_cast<int64_t>(pick(4));
    SimDevice& d = devices[pick(devices.size())];
    if (pick(10) < 3) {
      receive(d, pick(3) == 0);
      continue;
    }
    size_t k = pick(20);
    make(d, k == 0 ? Kind::deletion : k == 1 ? Kind::restore : k < 5 ? Kind::resolution : Kind::edit);
  }
  // Often a history ends with someone who has seen everything deleting, so is_deleted is reached
  // (a deletion in the middle is usually reopened by a later edit it did not see).
  if (pick(3) == 0) {
    SimDevice& d = devices[pick(devices.size())];
    receive(d, true);
    make(d, Kind::deletion);
  }
  return history;
}

// The oracle: from the whole set of changes at once, without the merge. A field's live versions
// are its changes no change of the same field names in its base (a deletion's base names other
// fields' versions but removes nothing there).
struct Oracle {
  std::map<FieldId, std::set<VersionId>> live;
  bool deleted = false;
  bool deletion_conflict = false;
  std::set<FieldId> conflicted;

  explicit Oracle(const std::vector<FieldChange>& changes) {
    std::map<FieldId, std::set<VersionId>> named;
    for (auto& c : changes) named[c.field].insert(c.base.begin(), c.base.end());
    std::map<VersionId, const FieldChange*> by_id;
    for (auto& c : changes) by_id[c.version] = &c;
    for (auto& [id, c] : by_id)
      if (!named[c->field].count(id)) live[c->field].insert(id);
    for (auto& [f, ids] : live) {
      std::set<std::string> vals;
      for (auto& id : ids) vals.insert(by_id[id]->value);
      if (vals.size() > 1) conflicted.insert(f);
    }
    std::set<VersionId> seen_by_deleters;
    bool any_deletion = false;
    for (auto& id : live[kDeletedField]) {
      if (by_id[id]->value.empty()) continue;
      any_deletion = true;
      seen_by_deleters.insert(by_id[id]->base.begin(), by_id[id]->base.end());
    }
    bool all_seen = true;
    for (auto& [f, ids] : live)
      if (f != kDeletedField)
        for (auto& id : ids) all_seen = all_seen && seen_by_deleters.count(id);
    deleted = any_deletion && all_seen;
    deletion_conflict = any_deletion && !all_seen;
  }
};

// No lost writes (SPEC §5 invariant 1, the merge's part): every change is live or named in the base
// of another change of its field.
bool no_lost_writes(const EntityState& e, const std::vector<FieldChange>& changes) {
  for (auto& c : changes) {
    bool named = false;
    for (auto& o : changes)
      if (o.field == c.field && std::find(o.base.begin(), o.base.end(), c.version) != o.base.end()) named = true;
    auto it = e.fields.find(c.field);
    bool live = it != e.fields.end() &&
                std::any_of(it->second.live.begin(), it->second.live.end(), [&](const tz::Version& v) {
                  return v.id == c.version && v.value == c.value;
                });
    if (!named && !live) return false;
  }
  return true;
}

EntityState apply_all(const std::vector<FieldChange>& changes, MergeMode mode, HistoryStats* stats = nullptr) {
  auto e = fresh();
  for (auto& c : changes)
    if (tz::merge_apply(e, c, mode) == MergeOutcome::superseded && stats) ++stats->late_superseded;
  return e;
}

std::vector<std::vector<VersionId>> superseded_sets(const EntityState& e) {
  std::vector<std::vector<VersionId>> out;
  for (auto& [f, s] : e.fields) out.push_back(s.superseded);
  return out;
}

}  // namespace

TEST_CASE("merge: seeded random histories converge in every order with duplicates", "[merge]") {
  const uint64_t seed = 20261122;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  HistoryStats stats;
  for (int h = 0; h < 150; ++h) {
    INFO("history " << h);
    auto history = random_history(rng);
    auto reference = apply_all(history, MergeMode::correct);
    Oracle oracle(history);

    for (auto& [f, ids] : oracle.live) {
      std::vector<VersionId> want(ids.begin(), ids.end());
      CHECK(live_ids(reference, f) == want);
      if (f != kDeletedField && reference.fields.count(f)) {
        auto vs = tz::values(reference.fields.at(f));
        if (vs.size() == 1 && vs[0].versions.size() > 1) ++stats.equal_versions;
      }
    }
    for (auto& [f, s] : reference.fields) CHECK(tz::in_conflict(s) == (oracle.conflicted.count(f) == 1));
    CHECK(tz::is_deleted(reference) == oracle.deleted);
    CHECK(tz::deletion_in_conflict(reference) == oracle.deletion_conflict);
    CHECK(no_lost_writes(reference, history));
    stats.conflicts += oracle.conflicted.size();
    stats.deleted += oracle.deleted;
    stats.deletion_conflicts += oracle.deletion_conflict;

    const auto want_digest = tz::digest(reference);
    const auto want_superseded = superseded_sets(reference);
    for (int p = 0; p < 12; ++p) {
      auto order = history;
      size_t dups = rng() % (history.size() / 2 + 1);
      for (size_t i = 0; i < dups; ++i) order.push_back(history[rng() % history.size()]);
      std::shuffle(order.begin(), order.end(), rng);
      auto got = apply_all(order, MergeMode::correct, &stats);
      REQUIRE(tz::digest(got) == want_digest);
      CHECK(superseded_sets(got) == want_superseded);
    }
  }
  // The generator must reach every rule, or the property proves little.
  CHECK(stats.conflicts > 0);
  CHECK(stats.equal_versions > 0);
  CHECK(stats.deleted > 0);
  CHECK(stats.deletion_conflicts > 0);
  CHECK(stats.late_superseded > 0);
}

TEST_CASE("merge: the no-lost-writes oracle catches last-writer-wins on random histories", "[merge]") {
  const uint64_t seed = 7700117;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  size_t lww_lost = 0, lww_diverged_from_merge = 0;
  for (int h = 0; h < 60; ++h) {
    auto history = random_history(rng);
    auto good = apply_all(history, MergeMode::correct);
    auto bad = apply_all(history, MergeMode::last_writer_wins_for_tests);
    CHECK(no_lost_writes(good, history));
    lww_lost += !no_lost_writes(bad, history);
    lww_diverged_from_merge += tz::digest(bad) != tz::digest(good);
  }
  CHECK(lww_lost > 0);
  CHECK(lww_diverged_from_merge > 0);
}
