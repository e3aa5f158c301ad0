// The editor's side of sync: local edits keep what their bases superseded, put_state replaces an
// entity's whole state with its derived columns and lookups, remove drops an entity, and sync
// bookkeeping staged in the editor's batch is written with it or not at all.
#include <catch2/catch.hpp>

#include "store_fixture.hpp"
#include "tz/crypto/natural_keys.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/records.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

FieldId field(EntityType t, const char* name) { return tz::test::resources().schema.entity(t).require(name).id; }

const std::string kVillage = "522632101001", kOtherVillage = "522632101002";
const std::string kId = tz::test::idc("52263219800101001"), kNewId = tz::test::idc("52263219850202002");

ops::Editor editor(DeviceStore& s, int64_t offset_ms = 0) { return ops::Editor(s, {"王芳", tz::test::kNowMs + offset_ms}); }

// A household in kVillage with one person (name, ID, phone) and a job, made by edits.
struct Family {
  EntityId hh, person, job;
};

Family make_family(DeviceStore& s) {
  Family f{s.natural_keys().household(kVillage, "0001"), s.natural_keys().person(kId), crypto::random_entity_id()};
  ops::Editor ed = editor(s);
  Entity& h = ed.get_or_create(EntityType::household, f.hh);
  ed.set(h, field(EntityType::household, "village_code"), kVillage);
  ed.set(h, field(EntityType::household, "household_no"), "0001");
  Entity& p = ed.get_or_create(EntityType::person, f.person);
  ed.set(p, field(EntityType::person, "household_id"), f.hh.hex());
  ed.set(p, field(EntityType::person, "name"), "王小明");
  ed.set(p, field(EntityType::person, "id_number"), kId);
  ed.set(p, field(EntityType::person, "phone"), "13800138000");
  ed.add_lookup(LookupKind::id_number, kId, f.person);
  ed.add_lookup(LookupKind::phone, "13800138000", f.person);
  Entity& j = ed.get_or_create(EntityType::job, f.job);
  ed.set(j, field(EntityType::job, "person_id"), f.person.hex());
  ed.set(j, field(EntityType::job, "start_month"), "2026-03");
  REQUIRE(ed.commit().ok());
  return f;
}

// A change by another device to a field of an entity, replacing what its state shows.
FieldChange foreign_change(const EntityState& st, FieldId f, std::string value, uint64_t seq) {
  static const DeviceId other = crypto::random_device_id();
  FieldChange c;
  c.type = st.type;
  c.entity = st.id;
  c.field = f;
  c.value = std::move(value);
  c.version = VersionId{other, Seq{seq}};
  c.ts = Hlc{tz::test::kNowMs + 60000, 0};
  c.collector = "李强";
  c.device_ms = tz::test::kNowMs + 60000;
  if (auto it = st.fields.find(f); it != st.fields.end()) c.base = edit_base(it->second);
  return c;
}

}  // namespace

TEST_CASE("local edits record superseded ids so an old version pulled again stays out", "[ops][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  const EntityId hh = s->natural_keys().household(kVillage, "0001");
  const FieldId no = field(EntityType::household, "household_no");
  for (const char* value : {"0001", "0002", "0003"}) {
    ops::Editor ed = editor(*s);
    ed.set(ed.get_or_create(EntityType::household, hh), no, value);
    REQUIRE(ed.commit().ok());
  }
  auto log = s->changes_after(0);
  REQUIRE(log.size() == 3);
  auto row = s->get_row(hh);
  REQUIRE(row);
  CHECK(row->merge.superseded.at(no) == std::vector<VersionId>{log[0].version, log[1].version});

  ops::Editor ed = editor(*s);
  auto st = ed.state(hh);
  REQUIRE(st);
  for (size_t i = 0; i < 2; ++i) CHECK(merge_apply(*st, log[i]) == MergeOutcome::superseded);
  CHECK(merge_apply(*st, log[2]) == MergeOutcome::duplicate);
  REQUIRE(st->fields.at(no).live.size() == 1);
  CHECK(st->fields.at(no).live[0].value == "0003");
  CHECK_FALSE(ed.state(crypto::random_entity_id()));
}

TEST_CASE("put_state of a person gives village - parent - flags and lookups as an edit would", "[ops][sync]") {
  TempDir dir, edited_dir;
  const std::string secret(32, 's');
  auto s = tz::test::make_store(dir.path(), secret);
  Family f = make_family(*s);
  // The same family made by edits in a second store: put_state must give the person the same row.
  auto edited = tz::test::make_store(edited_dir.path(), secret);
  make_family(*edited);

  EntityState person;
  {
    ops::Editor ed = editor(*s);
    person = *ed.state(f.person);
    ed.remove(f.person);
    REQUIRE(ed.commit().ok());
  }
  REQUIRE_FALSE(s->get_row(f.person));
  CHECK(s->lookup(LookupKind::id_number, kId).empty());
  {
    ops::Editor ed = editor(*s);
    ed.put_state(person);
    REQUIRE(ed.commit().ok());
  }
  auto row = s->get_row(f.person);
  auto expected = edited->get_row(f.person);
  REQUIRE(row);
  REQUIRE(expected);
  CHECK(row->village == kVillage);
  CHECK(row->parent == f.hh);
  CHECK((row->flags & kFlagIdentityOk) != 0);
  CHECK(row->flags == expected->flags);
  CHECK(ops::person_by_id_number(*s, kId) == f.person);
  CHECK(s->lookup(LookupKind::phone, "13800138000") == std::vector<EntityId>{f.person});

  // A new ID from elsewhere: the old lookup goes, the new one comes; no change is recorded.
  uint64_t next = s->info().next_seq;
  merge_apply(person, foreign_change(person, field(EntityType::person, "id_number"), kNewId, 1));
  {
    ops::Editor ed = editor(*s);
    ed.put_state(person);
    REQUIRE(ed.commit().ok());
  }
  CHECK(s->info().next_seq == next);
  CHECK(s->lookup(LookupKind::id_number, kId).empty());
  CHECK(ops::person_by_id_number(*s, kNewId) == f.person);
  CHECK(s->lookup(LookupKind::phone, "13800138000") == std::vector<EntityId>{f.person});
  ops::Editor ed = editor(*s);
  auto back = ed.state(f.person);
  REQUIRE(back);
  CHECK(digest(*back) == digest(person));
  CHECK(back->fields.at(field(EntityType::person, "id_number")).superseded ==
        person.fields.at(field(EntityType::person, "id_number")).superseded);
}

TEST_CASE("a household put with a new village moves its person and the person's job", "[ops][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  Family f = make_family(*s);
  CHECK(s->get_row(f.job)->village == kVillage);
  {
    ops::Editor ed = editor(*s);
    EntityState hh = *ed.state(f.hh);
    merge_apply(hh, foreign_change(hh, field(EntityType::household, "village_code"), kOtherVillage, 1));
    ed.put_state(hh);
    REQUIRE(ed.commit().ok());
  }
  CHECK(s->get_row(f.hh)->village == kOtherVillage);
  CHECK(s->get_row(f.person)->village == kOtherVillage);
  CHECK(s->get_row(f.job)->village == kOtherVillage);
  CHECK((s->get_row(f.person)->flags & kFlagIdentityOk) != 0);
}

TEST_CASE("put_state with no live version removes - remove drops the row and its lookups", "[ops][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  Family f = make_family(*s);
  uint64_t changes = s->changes_after(0).size();
  REQUIRE(ops::person_by_id_number(*s, kId) == f.person);

  SECTION("an empty state") {
    ops::Editor ed = editor(*s);
    EntityState empty = *ed.state(f.person);
    for (auto& [field_id, fs] : empty.fields) fs.live.clear();  // every version superseded
    ed.put_state(empty);
    CHECK_FALSE(ed.state(f.person));
    REQUIRE(ed.commit().ok());
  }
  SECTION("remove") {
    ops::Editor ed = editor(*s);
    ed.remove(f.person);
    CHECK_FALSE(ed.find(f.person));
    REQUIRE(ed.commit().ok());
  }
  CHECK_FALSE(s->get_row(f.person));
  CHECK(s->lookup(LookupKind::id_number, kId).empty());
  CHECK(s->lookup(LookupKind::phone, "13800138000").empty());
  CHECK(s->changes_after(0).size() == changes);  // its changes stay in the log
  CHECK(s->get_row(f.hh));
}

TEST_CASE("sync bookkeeping staged in the editor is written with its states or not at all", "[ops][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  Family f = make_family(*s);
  EntityState hh;
  {
    ops::Editor ed = editor(*s);
    hh = *ed.state(f.hh);
    merge_apply(hh, foreign_change(hh, field(EntityType::household, "household_no"), "0009", 1));
    ed.put_state(hh);
    ed.batch().sync = SyncState{"epoch-1", 10, true, 3, false};
    ed.batch().acked_seq = 2;
    // Destroyed without commit: nothing is written.
  }
  CHECK(s->info().sync.cursor == 0);
  CHECK(s->info().acked_seq == 0);
  CHECK(s->get(f.hh)->value_or(field(EntityType::household, "household_no")) == "0001");
  {
    ops::Editor ed = editor(*s);
    ed.put_state(hh);
    ed.batch().sync = SyncState{"epoch-1", 10, true, 3, false};
    REQUIRE(ed.commit().ok());
  }
  CHECK(s->info().sync.cursor == 10);
  CHECK(s->get(f.hh)->value_or(field(EntityType::household, "household_no")) == "0009");
  {
    ops::Editor ed = editor(*s);  // bookkeeping alone
    ed.batch().acked_seq = 4;
    REQUIRE(ed.commit().ok());
  }
  CHECK(s->info().acked_seq == 4);
}
