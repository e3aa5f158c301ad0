// The device store: create/open/lock, the change log with gap-free sequence numbers, entities with
// personal fields encrypted, lookups, and all-or-nothing writes.
#include <catch2/catch.hpp>

#include "store_fixture.hpp"
#include "tz/ops/editor.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

FieldId field(EntityType t, const char* name) { return tz::test::resources().schema.entity(t).require(name).id; }

}  // namespace

TEST_CASE("a store is created - reopened with its passphrase and refuses a wrong one", "[store]") {
  TempDir dir;
  DeviceId device;
  {
    auto s = tz::test::make_store(dir.path());
    device = s->info().device;
    CHECK_FALSE(device.is_zero());
    CHECK(s->info().next_seq == 1);
    CHECK(s->info().config.county == "522632");
    CHECK(s->info().config.collectors == std::vector<std::string>{"王芳", "李强"});
    CHECK(s->info().config.period.year == 2026);
    CHECK(s->unlocked());
  }
  auto again = open_device_store(dir.path(), "correct horse", tz::test::resources().schema);
  REQUIRE(again.ok());
  CHECK((*again)->info().device == device);

  auto wrong = open_device_store(dir.path(), "wrong horse", tz::test::resources().schema);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code() == ErrorCode::wrong_passphrase);

  auto twice = create_device_store(dir.path(), "x", tz::test::resources().schema, tz::test::test_config(),
                                   tz::test::cheap_kdf());
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code() == ErrorCode::already_exists);

  TempDir empty;
  auto missing = open_device_store(empty.path(), "correct horse", tz::test::resources().schema);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == ErrorCode::store_missing);
}

TEST_CASE("edits are recorded as field changes with gap-free sequence numbers and bases", "[store]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  const auto& keys = s->natural_keys();
  EntityId hh = keys.household("522632101001", "0001");
  {
    ops::Editor ed(*s, {"王芳", tz::test::kNowMs});
    Entity& h = ed.get_or_create(EntityType::household, hh);
    CHECK(ed.set(h, field(EntityType::household, "village_code"), "522632101001"));
    CHECK(ed.set(h, field(EntityType::household, "household_no"), "0001"));
    CHECK_FALSE(ed.set(h, field(EntityType::household, "household_no"), "0001"));  // unchanged: no version
    REQUIRE(ed.commit().ok());
  }
  CHECK(s->info().next_seq == 3);
  CHECK(s->pending_change_count() == 2);
  {
    ops::Editor ed(*s, {"李强", tz::test::kNowMs + 1000});
    Entity* h = ed.find(hh);
    REQUIRE(h);
    CHECK(ed.set(*h, field(EntityType::household, "household_no"), "0001A"));
    REQUIRE(ed.commit().ok());
  }
  auto changes = s->changes_after(0);
  REQUIRE(changes.size() == 3);
  for (size_t i = 0; i < changes.size(); ++i) {
    CHECK(changes[i].version.seq.value == i + 1);
    CHECK(changes[i].version.device == s->info().device);
    CHECK(changes[i].entity == hh);
  }
  CHECK(changes[0].base.empty());  // a new entity has an empty base
  REQUIRE(changes[2].base.size() == 1);
  CHECK(changes[2].base[0] == changes[1].version);  // the edit names the version it replaced
  CHECK(changes[2].collector == "李强");
  CHECK(changes[2].device_ms == tz::test::kNowMs + 1000);
  CHECK(changes[2].ts > changes[1].ts);
  CHECK(s->changes_after(2).size() == 1);

  auto e = s->get(hh);
  REQUIRE(e);
  CHECK(e->value_or(field(EntityType::household, "household_no")) == "0001A");
  CHECK(e->fields.at(field(EntityType::household, "household_no")).live.size() == 1);

  // A reopened store continues the sequence and keeps the clock.
  auto hlc = s->clock();
  s.reset();
  auto reopened = open_device_store(dir.path(), "correct horse", tz::test::resources().schema).take();
  CHECK(reopened->info().next_seq == 4);
  CHECK(reopened->clock() == hlc);
}

TEST_CASE("a write with a sequence gap is refused and nothing is written", "[store]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  std::string before = tz::test::store_digest(*s);
  WriteBatch b;
  FieldChange c;
  c.type = EntityType::household;
  c.entity = crypto::random_entity_id();
  c.field = field(EntityType::household, "household_no");
  c.value = "9";
  c.version = VersionId{s->info().device, Seq{5}};  // next is 1
  b.changes.push_back(c);
  Entity e;
  e.type = EntityType::household;
  e.id = c.entity;
  apply_change(e, c);
  b.entities.push_back(EntityRow{e, "522632101001", std::nullopt, 0});
  auto st = s->write(b);
  CHECK_FALSE(st.ok());
  CHECK(tz::test::store_digest(*s) == before);
}

TEST_CASE("a locked store shows configuration and non-personal fields only", "[store]") {
  TempDir dir;
  EntityId person;
  {
    auto s = tz::test::make_store(dir.path());
    person = s->natural_keys().person("522632198001010010");
    ops::Editor ed(*s, {"王芳", tz::test::kNowMs});
    Entity& p = ed.get_or_create(EntityType::person, person);
    ed.set(p, field(EntityType::person, "name"), "王小明");
    ed.set(p, field(EntityType::person, "labour_ability"), "01");
    ed.add_lookup(LookupKind::id_number, "522632198001010010", person);
    REQUIRE(ed.commit().ok());
    CHECK(s->lookup(LookupKind::id_number, "522632198001010010") == std::vector<EntityId>{person});
    CHECK(s->lookup(LookupKind::id_number, "522632198001010011").empty());
  }
  auto locked = open_device_store_locked(dir.path(), tz::test::resources().schema).take();
  CHECK_FALSE(locked->unlocked());
  CHECK(locked->info().config.county == "522632");
  CHECK(locked->pending_change_count() == 2);
  CHECK(locked->entity_count(EntityType::person) == 1);
  auto p = locked->get(person);
  REQUIRE(p);
  CHECK(p->value_or(field(EntityType::person, "labour_ability")) == "01");
  CHECK(p->value(field(EntityType::person, "name")) == nullptr);  // personal: needs the passphrase
  CHECK(locked->lookup(LookupKind::id_number, "522632198001010010").empty());
  CHECK_THROWS_AS(locked->changes_after(0), Failure);
}
