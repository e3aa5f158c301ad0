// Merging duplicates on the server (SPEC §8, issue 7): versions move to the survivor with their ids,
// disagreeing fields become conflicts, children are placed under the survivor, later changes to the
// merged-away entity land on the survivor (a deletion is held for review), merges travel in the pull
// stream, and unmerge gives both back with nothing lost.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "server_fixture.hpp"
#include "tz/sync/audit.hpp"

using namespace tz;
using namespace tz::sync;
using tz::test::FakeDevice;
using tz::test::kVillageA;
using tz::test::kVillageB;
using tz::test::ServerFixture;
using tz::test::only;
using tz::test::pull_all;

namespace {

const EntityType H = EntityType::household;
const EntityType P = EntityType::person;
const EntityType J = EntityType::job;

FieldId fid(EntityType t, const char* name) { return tz::test::field_id(t, name); }

std::vector<VersionId> live_ids(const EntityState& s, FieldId f) {
  std::vector<VersionId> out;
  if (auto it = s.fields.find(f); it != s.fields.end())
    for (auto& v : it->second.live) out.push_back(v.id);
  return out;
}
std::set<std::string> live_values(const EntityState& s, FieldId f) {
  std::set<std::string> out;
  if (auto it = s.fields.find(f); it != s.fields.end())
    for (auto& v : it->second.live) out.insert(v.value);
  return out;
}

std::vector<std::string> audit_kinds(const ServerStore& store) {
  std::vector<std::string> out;
  for (auto& e : store.audit_entries()) out.push_back(e.kind);
  return out;
}

// One household in village A with two persons entered twice (different entities), one job of the
// second; a device of village A (a) and one of village B (b).
struct Twice {
  ServerFixture f;
  FakeDevice a{tz::test::test_device(1)};
  FakeDevice b{tz::test::test_device(2)};
  EntityId hh = tz::test::test_entity(1), keep = tz::test::test_entity(2), away = tz::test::test_entity(3),
           job = tz::test::test_entity(4);
  VersionId keep_name, keep_phone, away_name, away_phone, job_person;
  Twice() {
    REQUIRE(f.server->register_device(a.id, {kVillageA}));
    REQUIRE(f.server->register_device(b.id, {kVillageB}));
    a.add(H, hh, "village_code", kVillageA);
    a.add(H, hh, "household_no", "0001");
    a.add(P, keep, "household_id", hh.hex());
    keep_name = a.add(P, keep, "name", "张三").version;
    keep_phone = a.add(P, keep, "phone", "13800000001").version;
    a.add(P, away, "household_id", hh.hex());
    away_name = a.add(P, away, "name", "张三").version;
    away_phone = a.add(P, away, "phone", "13800000002").version;
    job_person = a.add(J, job, "person_id", away.hex()).version;
    a.add(J, job, "employer", "榕江县某公司");
    auto r = f.server->push(a.push(0));
    REQUIRE(r.refusal == PushReply::Refusal::none);
    REQUIRE(r.acked_seq == a.log.size());
  }
  EntityState state(const EntityId& id) {
    auto e = f.store->entity(id);
    REQUIRE(e);
    return e->state;
  }
};

}  // namespace

TEST_CASE("A merge moves the versions of the merged-away person to the survivor with their ids", "[sync][merge]") {
  Twice t;
  auto m = t.f.server->merge(t.keep, t.away);
  REQUIRE(m);
  CHECK(m->versions == 3);  // household_id, name, phone
  CHECK(m->children == 1);
  CHECK(m->conflicts == 1);  // the phones disagree
  auto s = t.state(t.keep);
  // The same name twice is one value kept as two versions; the phones are a conflict.
  CHECK(live_ids(s, fid(P, "name")) == std::vector<VersionId>{t.keep_name, t.away_name});
  CHECK(live_values(s, fid(P, "name")) == std::set<std::string>{"张三"});
  CHECK(live_ids(s, fid(P, "phone")) == std::vector<VersionId>{t.keep_phone, t.away_phone});
  CHECK(in_conflict(s.fields.at(fid(P, "phone"))));
  // The merged-away one is an empty tombstone in no village, linked to the survivor.
  auto gone = t.f.store->entity(t.away);
  REQUIRE(gone);
  CHECK(gone->state.fields.empty());
  CHECK(gone->villages.empty());
  CHECK(t.f.server->merged_into(t.away) == t.keep);
  CHECK(t.f.server->merges() == std::vector<std::pair<EntityId, EntityId>>{{t.away, t.keep}});
  // The audit chain records it, and still verifies.
  CHECK(audit_kinds(*t.f.store).back() == "merge");
  CHECK(verify_audit_chain(*t.f.store).ok);
  // The survivor's village is unchanged and the digest of village A holds no tombstone state, only
  // the link after the survivor (decision 222).
  const std::string digest = t.f.server->scope_digest({kVillageA});
  CHECK(digest.find(t.away.hex() + "\n") == digest.find("merged " + t.away.hex() + "\n") + 7);
  CHECK(digest.find(t.keep.hex() + "\n") < digest.find("merged " + t.away.hex()));
  CHECK(t.f.server->scope_digest({kVillageB}).find(t.away.hex()) == std::string::npos);
}

TEST_CASE("The children of a merged-away person are placed under the survivor by a server change", "[sync][merge]") {
  Twice t;
  REQUIRE(t.f.server->merge(t.keep, t.away));
  auto job = t.f.store->entity(t.job);
  REQUIRE(job);
  auto& placed = job->state.fields.at(fid(J, "person_id")).live;
  REQUIRE(placed.size() == 1);
  CHECK(placed[0].value == t.keep.hex());
  CHECK(placed[0].id.device == merge_device_id());
  CHECK(job->parents == std::vector<EntityId>{t.keep});
  CHECK(job->villages == std::vector<std::string>{kVillageA});
  // The version it replaced is superseded, not lost.
  auto& sup = job->state.fields.at(fid(J, "person_id")).superseded;
  CHECK(std::binary_search(sup.begin(), sup.end(), t.job_person));
  // Devices of the village get it as a change of the job.
  bool seen = false;
  for (auto& v : only<VersionRecord>(pull_all(*t.f.server, t.a.id)))
    seen |= v.change.entity == t.job && v.change.value == t.keep.hex();
  CHECK(seen);
}

TEST_CASE("Devices of the village get a merge record and the survivor's whole state", "[sync][merge]") {
  Twice t;
  uint64_t cursor = t.f.store->last_seq();
  REQUIRE(t.f.server->merge(t.keep, t.away));
  auto recs = pull_all(*t.f.server, t.a.id, cursor);
  auto merges = only<MergeRecord>(recs);
  REQUIRE(merges.size() == 1);
  CHECK(merges[0].merged_away == t.away);
  CHECK(merges[0].survivor == t.keep);
  CHECK(merges[0].type == P);
  bool survivor_state = false;
  for (auto& e : only<ScopeEnterRecord>(recs))
    if (e.state.id == t.keep) survivor_state = live_ids(e.state, fid(P, "phone")).size() == 2;
  CHECK(survivor_state);
  // A device of another village hears nothing of it.
  CHECK(only<MergeRecord>(pull_all(*t.f.server, t.b.id, cursor)).empty());
}

TEST_CASE("A later change to the merged-away person lands on the survivor even outside the sender's scope", "[sync][merge]") {
  Twice t;
  REQUIRE(t.f.server->merge(t.keep, t.away));
  uint64_t cursor = t.f.store->last_seq();
  // b (village B) edits the merged-away person it had before the merge (say, from a bundle).
  auto edit = t.b.add(P, t.away, "name", "张叁", {t.away_name});
  auto r = t.f.server->push(t.b.push(0));
  REQUIRE(r.outcomes.size() == 1);
  // Its base names only the merged-away person's version: the survivor's own stays, a conflict.
  CHECK(r.outcomes[0].kind == ChangeOutcome::Kind::conflict);
  auto s = t.state(t.keep);
  CHECK(live_values(s, fid(P, "name")) == std::set<std::string>{"张三", "张叁"});  // keep's own version is still live
  CHECK(live_ids(s, fid(P, "name")) == std::vector<VersionId>{t.keep_name, edit.version});
  // The change is kept as sent (a retry is a duplicate); the sender is told.
  auto held = t.f.store->change(edit.version);
  REQUIRE(held);
  CHECK(held->change.entity == t.away);
  auto again = t.b.push(0);
  auto r2 = t.f.server->push(again);
  REQUIRE(r2.outcomes.size() == 1);
  CHECK(r2.outcomes[0].kind == ChangeOutcome::Kind::duplicate);
  auto notices = only<NoticeRecord>(pull_all(*t.f.server, t.b.id, cursor));
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].kind == NoticeRecord::Kind::redirected);
  CHECK(notices[0].entity == t.away);
  // Devices of village A get it as a change of the survivor.
  auto versions = only<VersionRecord>(pull_all(*t.f.server, t.a.id, cursor));
  REQUIRE(versions.size() == 1);
  CHECK(versions[0].change.entity == t.keep);
  CHECK(versions[0].change.version == edit.version);
}

TEST_CASE("A deletion of the merged-away person is held for review", "[sync][merge]") {
  Twice t;
  REQUIRE(t.f.server->merge(t.keep, t.away));
  t.a.add(P, t.away, nullptr, "重复登记", {t.away_name, t.away_phone});
  auto r = t.f.server->push(t.a.push(t.a.log.size() - 1));
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].kind == ChangeOutcome::Kind::quarantined);
  CHECK(t.f.server->quarantine().size() == 1);
  CHECK_FALSE(is_deleted(t.state(t.keep)));
  CHECK(t.state(t.keep).fields.count(kDeletedField) == 0);
}

TEST_CASE("Unmerge gives both persons back with nothing lost", "[sync][merge]") {
  Twice t;
  REQUIRE(t.f.server->merge(t.keep, t.away));
  // After the merge: an edit addressed to the merged-away one, and one to the survivor.
  auto redirected = t.b.add(P, t.away, "phone", "13900000002", {t.away_phone});
  REQUIRE(t.f.server->push(t.b.push(0)).outcomes.at(0).kind != ChangeOutcome::Kind::quarantined);
  auto own = t.a.add(P, t.keep, "name", "张三丰", {t.keep_name, t.away_name});
  REQUIRE(t.f.server->push(t.a.push(t.a.log.size() - 1)).outcomes.at(0).kind == ChangeOutcome::Kind::applied);
  uint64_t cursor = t.f.store->last_seq();

  auto u = t.f.server->unmerge(t.away);
  REQUIRE(u);
  CHECK(u->survivor == t.keep);
  CHECK(u->children == 1);
  CHECK_FALSE(t.f.server->merged_into(t.away));
  CHECK(t.f.server->merges().empty());
  auto keep = t.state(t.keep), away = t.state(t.away);
  // The survivor keeps its own versions and what was addressed to it.
  CHECK(live_ids(keep, fid(P, "name")) == std::vector<VersionId>{own.version});
  CHECK(live_ids(keep, fid(P, "phone")) == std::vector<VersionId>{t.keep_phone});
  // The merged-away one has its versions back, with the change addressed to it since.
  CHECK(live_ids(away, fid(P, "name")) == std::vector<VersionId>{t.away_name});
  CHECK(live_ids(away, fid(P, "phone")) == std::vector<VersionId>{redirected.version});
  CHECK(live_values(away, fid(P, "household_id")) == std::set<std::string>{t.hh.hex()});
  auto rec = t.f.store->entity(t.away);
  CHECK(rec->villages == std::vector<std::string>{kVillageA});
  // Its job is back under it.
  auto job = t.f.store->entity(t.job);
  CHECK(live_values(job->state, fid(J, "person_id")) == std::set<std::string>{t.away.hex()});
  CHECK(job->parents == std::vector<EntityId>{t.away});
  // No lost writes: every change the server applied is live somewhere or named in a later base.
  std::set<VersionId> live_or_superseded;
  t.f.store->scan_entities([&](const EntityRecord& e) {
    for (auto& [field, fs] : e.state.fields) {
      for (auto& v : fs.live) live_or_superseded.insert(v.id);
      live_or_superseded.insert(fs.superseded.begin(), fs.superseded.end());
    }
  });
  for (auto* d : {&t.a, &t.b})
    for (auto& c : d->log) {
      INFO(c.version.str());
      CHECK(live_or_superseded.count(c.version) == 1);
    }
  // Devices of the village get both whole states; the audit chain records the unmerge.
  std::set<EntityId> entered;
  for (auto& e : only<ScopeEnterRecord>(pull_all(*t.f.server, t.a.id, cursor))) entered.insert(e.state.id);
  CHECK(entered.count(t.keep) == 1);
  CHECK(entered.count(t.away) == 1);
  CHECK(audit_kinds(*t.f.store).back() == "unmerge");
  CHECK(verify_audit_chain(*t.f.store).ok);
  // Merged again, the same way.
  REQUIRE(t.f.server->merge(t.keep, t.away));
  CHECK(t.f.server->merged_into(t.away) == t.keep);
}

TEST_CASE("Merges that cannot be done are refused with nothing changed", "[sync][merge]") {
  Twice t;
  uint64_t seq = t.f.store->last_seq();
  CHECK_FALSE(t.f.server->merge(t.keep, t.keep));
  CHECK_FALSE(t.f.server->merge(t.keep, t.hh));                       // a person and a household
  CHECK_FALSE(t.f.server->merge(t.keep, tz::test::test_entity(99)));  // unknown
  CHECK_FALSE(t.f.server->unmerge(t.away));                           // not merged
  CHECK(t.f.store->last_seq() == seq);
  REQUIRE(t.f.server->merge(t.keep, t.away));
  CHECK_FALSE(t.f.server->merge(t.keep, t.away));  // merged away already
  CHECK_FALSE(t.f.server->merge(t.away, t.keep));  // into a merged-away one
  CHECK(t.f.server->merges().size() == 1);
}

// --- merging on apply and verify's exact merges (SPEC §8, decision 221) ---

namespace {

sync::ServerOptions merging_on_apply(bool on) {
  sync::ServerOptions o;
  o.merge_on_apply = on;
  return o;
}

// A person born 1965-03-04 before 2000: the 15-digit form and its 18-digit form are one ID.
const std::string kId15 = "522632650304123";
const std::string kId18 = tz::test::idc("52263219650304123");

}  // namespace

TEST_CASE("An ID corrected on a push to another person's (15 vs 18 digits) merges them on apply", "[sync][merge]") {
  ServerFixture f(merging_on_apply(true));
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  const EntityId hh = tz::test::test_entity(1), keep = tz::test::test_entity(2), away = tz::test::test_entity(3);
  a.add(H, hh, "village_code", kVillageA);
  a.add(H, hh, "household_no", "0001");
  a.add(P, keep, "household_id", hh.hex());
  auto keep_id = a.add(P, keep, "id_number", kId18).version;
  a.add(P, away, "household_id", hh.hex());
  auto away_name = a.add(P, away, "name", "张伟").version;
  REQUIRE(f.server->push(a.push(0)).refusal == PushReply::Refusal::none);
  CHECK(f.server->merges().empty());  // no ID on the second: nothing to match
  uint64_t cursor = f.store->last_seq();
  // The collector types the ID on the second person in its 15-digit form.
  auto typed = a.add(P, away, "id_number", kId15).version;
  auto r = f.server->push(a.push(a.log.size() - 1));
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].kind == ChangeOutcome::Kind::applied);
  // Merged in the same transaction: the smaller id survives with both persons' versions.
  CHECK(f.server->merged_into(away) == keep);
  auto s = f.store->entity(keep)->state;
  CHECK(live_ids(s, fid(P, "id_number")) == std::vector<VersionId>{keep_id, typed});
  CHECK(live_ids(s, fid(P, "name")) == std::vector<VersionId>{away_name});
  CHECK(f.store->entity(away)->state.fields.empty());
  auto kinds = audit_kinds(*f.store);
  CHECK(std::count(kinds.begin(), kinds.end(), "merge") == 1);  // beside the push's batch entry
  CHECK(verify_audit_chain(*f.store).ok);
  // The device is told: a merge record and a notice naming the merged-away person.
  auto recs = pull_all(*f.server, a.id, cursor);
  REQUIRE(only<MergeRecord>(recs).size() == 1);
  auto notices = only<NoticeRecord>(recs);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].kind == NoticeRecord::Kind::redirected);
  CHECK(notices[0].entity == away);
  // A later edit addressed to the merged-away person lands on the survivor.
  auto later = a.add(P, away, "phone", "13800000009").version;
  REQUIRE(f.server->push(a.push(a.log.size() - 1)).outcomes.at(0).kind == ChangeOutcome::Kind::applied);
  CHECK(live_ids(f.store->entity(keep)->state, fid(P, "phone")) == std::vector<VersionId>{later});
  // Unmerged by a reviewer, the pair is not merged again when the ID is typed again.
  REQUIRE(f.server->unmerge(away));
  a.add(P, away, "id_number", kId18, {typed});
  REQUIRE(f.server->push(a.push(a.log.size() - 1)).outcomes.at(0).kind == ChangeOutcome::Kind::applied);
  CHECK_FALSE(f.server->merged_into(away));
}

TEST_CASE("Without merging on apply the match is kept and verify's exact merge finds it", "[sync][merge]") {
  ServerFixture f(merging_on_apply(false));
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  const EntityId h1 = tz::test::test_entity(1), h2 = tz::test::test_entity(2), p1 = tz::test::test_entity(3),
                 p2 = tz::test::test_entity(4);
  a.add(H, h1, "village_code", kVillageA);
  a.add(H, h1, "household_no", "0001");
  a.add(H, h2, "village_code", kVillageA);
  a.add(H, h2, "household_no", "0002");
  a.add(P, p1, "household_id", h2.hex());
  a.add(P, p1, "id_number", kId18);
  a.add(P, p2, "household_id", h2.hex());
  a.add(P, p2, "id_number", kId15);
  REQUIRE(f.server->push(a.push(0)).refusal == PushReply::Refusal::none);
  // The 户编号 of the second household corrected to the first's: the same 村代码 + 户编号.
  a.add(H, h2, "household_no", "0001", {a.log[3].version});
  REQUIRE(f.server->push(a.push(a.log.size() - 1)).outcomes.at(0).kind == ChangeOutcome::Kind::applied);
  CHECK(f.server->merges().empty());
  CHECK(f.store->match_key(h2) == "h:" + std::string(kVillageA) + "/0001");
  CHECK(f.store->match_key(p2) == "p:" + kId18);
  auto merged = f.server->merge_exact();
  REQUIRE(merged);
  REQUIRE(merged->size() == 2);
  CHECK(f.server->merged_into(h2) == h1);
  CHECK(f.server->merged_into(p2) == p1);
  // The persons of the merged-away household are placed under the survivor.
  CHECK(live_values(f.store->entity(p1)->state, fid(P, "household_id")) == std::set<std::string>{h1.hex()});
  // Nothing left to merge; the tombstones have no key.
  CHECK(f.server->merge_exact()->empty());
  CHECK_FALSE(f.store->match_key(h2));
}

TEST_CASE("A household whose 户编号 is corrected to another's of its village is merged on apply", "[sync][merge]") {
  ServerFixture f;  // merging on apply is the default
  FakeDevice a{tz::test::test_device(1)};
  REQUIRE(f.server->register_device(a.id, {kVillageA}));
  const EntityId h1 = tz::test::test_entity(1), h2 = tz::test::test_entity(2), p = tz::test::test_entity(3);
  a.add(H, h1, "village_code", kVillageA);
  a.add(H, h1, "household_no", "0001");
  a.add(H, h2, "village_code", kVillageA);
  auto no = a.add(H, h2, "household_no", "0002").version;
  a.add(P, p, "household_id", h2.hex());
  REQUIRE(f.server->push(a.push(0)).refusal == PushReply::Refusal::none);
  CHECK(f.server->merges().empty());
  a.add(H, h2, "household_no", "0001", {no});
  REQUIRE(f.server->push(a.push(a.log.size() - 1)).outcomes.at(0).kind == ChangeOutcome::Kind::applied);
  CHECK(f.server->merged_into(h2) == h1);
  // Its person is placed under the survivor; a household number in conflict would not have matched.
  CHECK(live_values(f.store->entity(p)->state, fid(P, "household_id")) == std::set<std::string>{h1.hex()});
  CHECK(f.store->entity(p)->villages == std::vector<std::string>{kVillageA});
}
