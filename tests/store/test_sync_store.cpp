// What the device store keeps for sync: merge bookkeeping beside each entity (format 2, and the
// upgrade of a format 1 store), the sync state, own statuses, notices and configuration written with a
// batch or not at all, restored changes filling a gap in the log, and renumbering of the log.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "store_fixture.hpp"
#include "tz/crypto/natural_keys.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

FieldId field(EntityType t, const char* name) { return tz::test::resources().schema.entity(t).require(name).id; }

std::unique_ptr<DeviceStore> reopen(std::unique_ptr<DeviceStore>& s, const TempDir& dir) {
  s.reset();
  return open_device_store(dir.path(), "correct horse", tz::test::resources().schema).take();
}

void exec_sql(const std::filesystem::path& dir, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((dir / "store.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// The number of rows a query returns.
int count_rows(const std::filesystem::path& dir, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((dir / "store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) ++n;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

FieldChange change(const DeviceId& device, uint64_t seq, const EntityId& entity, FieldId f, std::string value,
                   std::vector<VersionId> base = {}) {
  FieldChange c;
  c.type = EntityType::household;
  c.entity = entity;
  c.field = f;
  c.value = std::move(value);
  c.version = VersionId{device, Seq{seq}};
  c.ts = Hlc{tz::test::kNowMs + static_cast<int64_t>(seq), 0};
  c.collector = "李强";
  c.device_ms = tz::test::kNowMs;
  c.base = std::move(base);
  return c;
}

std::vector<VersionId> live_ids(const EntityState& s, FieldId f) {
  std::vector<VersionId> out;
  if (auto it = s.fields.find(f); it != s.fields.end())
    for (auto& v : it->second.live) out.push_back(v.id);
  return out;
}

std::vector<VersionId> superseded(const EntityState& s, FieldId f) {
  auto it = s.fields.find(f);
  return it == s.fields.end() ? std::vector<VersionId>{} : it->second.superseded;
}

// Equal live versions (ids, values), superseded ids and deletion bases.
void check_same_state(const EntityState& a, const EntityState& b) {
  CHECK(digest(a) == digest(b));
  REQUIRE(a.fields.size() == b.fields.size());
  for (auto& [f, fs] : a.fields) {
    INFO("field " << f);
    CHECK(live_ids(a, f) == live_ids(b, f));
    CHECK(fs.superseded == superseded(b, f));
  }
  CHECK(a.deletion_bases == b.deletion_bases);
}

// Every file of the store folder (the database and its WAL).
std::string raw_files(const TempDir& dir) {
  std::string bytes;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.is_regular_file()) bytes += tz::test::read_file(e.path());
  return bytes;
}

std::vector<uint64_t> seqs(const std::vector<FieldChange>& changes) {
  std::vector<uint64_t> out;
  for (auto& c : changes) out.push_back(c.version.seq.value);
  return out;
}

}  // namespace

TEST_CASE("merge extras and deletion versions round trip through write - get_row - get_rows and scan", "[store][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  const DeviceId other = crypto::random_device_id();
  const FieldId no = field(EntityType::household, "household_no"), head = field(EntityType::household, "head_name");
  EntityId hh = crypto::random_entity_id(), plain = crypto::random_entity_id();

  // Another device's history: two edits of the number, a name, then a deletion that saw it all.
  EntityState st;
  st.type = EntityType::household;
  st.id = hh;
  merge_apply(st, change(other, 1, hh, no, "0001"));
  merge_apply(st, change(other, 2, hh, no, "0002", {VersionId{other, Seq{1}}}));
  merge_apply(st, change(other, 3, hh, head, "张三"));
  merge_apply(st, change(other, 4, hh, kDeletedField, "迁出 张三", deletion_base(st)));
  REQUIRE(is_deleted(st));
  EntityState untouched;
  untouched.type = EntityType::household;
  untouched.id = plain;
  merge_apply(untouched, change(other, 5, plain, no, "0009"));

  WriteBatch b;
  for (auto* state : {&st, &untouched}) {
    EntityRow row;
    from_state(*state, row.entity, row.merge);
    row.village = "522632101001";
    b.entities.push_back(std::move(row));
  }
  CHECK(b.entities[1].merge.empty());
  REQUIRE(s->write(b).ok());

  auto check_all = [&](const DeviceStore& store) {
    auto row = store.get_row(hh);
    REQUIRE(row);
    check_same_state(to_state(row->entity, row->merge), st);
    CHECK(row->entity.fields.count(kDeletedField) == 1);
    auto rows = store.get_rows({plain, hh});
    REQUIRE(rows[0]);
    REQUIRE(rows[1]);
    check_same_state(to_state(rows[0]->entity, rows[0]->merge), untouched);
    check_same_state(to_state(rows[1]->entity, rows[1]->merge), st);
    int seen = 0;
    store.scan(EntityType::household, [&](EntityRow&& r) {
      ++seen;
      check_same_state(to_state(r.entity, r.merge), r.entity.id == hh ? st : untouched);
    });
    CHECK(seen == 2);
  };
  check_all(*s);
  s = reopen(s, dir);
  check_all(*s);
  // Nothing is stored beside an entity without extras; the deletion reason is sealed.
  CHECK(count_rows(dir.path(), "SELECT id FROM entities WHERE merge IS NULL") == 1);
  CHECK(raw_files(dir).find("迁出 张三") == std::string::npos);
  auto locked = open_device_store_locked(dir.path(), tz::test::resources().schema).take();
  auto row = locked->get_row(hh);
  REQUIRE(row);
  CHECK(row->entity.fields.count(kDeletedField) == 0);
  CHECK(row->merge.superseded.at(no) == std::vector<VersionId>{VersionId{other, Seq{1}}});
}

TEST_CASE("a format 1 store opens and is upgraded - an unknown format is refused", "[store][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  EntityId person = s->natural_keys().person("522632198001010010");
  {
    WriteBatch b;
    FieldChange c = change(s->info().device, 1, person, field(EntityType::person, "name"), "王小明");
    c.type = EntityType::person;
    Entity e;
    e.type = EntityType::person;
    e.id = person;
    apply_change(e, c);
    b.changes.push_back(c);
    b.entities.push_back(EntityRow{e, "522632101001", std::nullopt, 0});
    b.lookups.push_back(LookupRow{LookupKind::id_number, "522632198001010010", person});
    REQUIRE(s->write(b).ok());
  }
  s.reset();
  // The format 1 layout: no merge column, no sync tables, no index of lookups by entity.
  exec_sql(dir.path(),
           "DROP TABLE own_status; DROP TABLE notices; DROP TABLE sync_config; DROP INDEX lookup_entity;"
           "ALTER TABLE entities DROP COLUMN merge; UPDATE meta SET value = '1' WHERE key = 'format';");
  {
    auto locked = open_device_store_locked(dir.path(), tz::test::resources().schema);
    REQUIRE(locked.ok());
    CHECK((*locked)->entity_count(EntityType::person) == 1);
  }
  CHECK(count_rows(dir.path(), "SELECT 1 FROM meta WHERE key = 'format' AND CAST(value AS TEXT) = '2'") == 1);
  auto opened = open_device_store(dir.path(), "correct horse", tz::test::resources().schema);
  REQUIRE(opened.ok());
  s = std::move(*opened);
  CHECK(s->get(person)->value_or(field(EntityType::person, "name")) == "王小明");
  CHECK(s->lookup(LookupKind::id_number, "522632198001010010") == std::vector<EntityId>{person});
  CHECK(s->changes_after(0).size() == 1);
  WriteBatch b;
  b.own_status.emplace_back(1, OwnStatus::quarantined);
  b.removed.push_back(person);
  REQUIRE(s->write(b).ok());
  CHECK(s->own_statuses().size() == 1);
  CHECK(s->lookup(LookupKind::id_number, "522632198001010010").empty());
  s.reset();

  exec_sql(dir.path(), "UPDATE meta SET value = '3' WHERE key = 'format';");
  auto future = open_device_store(dir.path(), "correct horse", tz::test::resources().schema);
  REQUIRE_FALSE(future.ok());
  CHECK(future.error().code() == ErrorCode::store_corrupt);
}

TEST_CASE("sync state - notices - configs - own statuses and the acknowledgement persist across reopen", "[store][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  CHECK(s->info().sync.server_epoch.empty());
  CHECK(s->info().sync.cursor == 0);
  CHECK(s->info().sync.own_values);
  CHECK(s->info().sync.request_counter == 0);
  CHECK_FALSE(s->info().sync.full_pull_needed);
  const DeviceId other = crypto::random_device_id();
  const EntityId e = crypto::random_entity_id();

  StoredNotice n{7, 2, EntityType::person, e, 3, VersionId{other, Seq{9}}, "身份证号 522632198001010010 已被占用", "ID taken"};
  WriteBatch b;
  b.sync = SyncState{"epoch-1", 42, false, 17, true};
  b.acked_seq = 5;
  b.own_status = {{3, OwnStatus::quarantined}, {4, OwnStatus::rejected}};
  b.notices = {n};
  b.configs = {{"period", {2, "2026:2026-11-30"}}, {"thresholds", {1, "{}"}}};
  REQUIRE(s->write(b).ok());

  WriteBatch later;
  later.own_status = {{3, OwnStatus::normal}};
  StoredNotice again = n;
  again.reason_en = "changed";  // the same notice again: ignored
  later.notices = {again, StoredNotice{8, 1, EntityType::household, e, 0, VersionId{other, Seq{10}}, "", ""}};
  later.configs = {{"period", {1, "old"}}, {"thresholds", {3, "{\"x\":1}"}}};
  REQUIRE(s->write(later).ok());

  for (int pass = 0; pass < 2; ++pass) {
    INFO("pass " << pass);
    CHECK(s->info().sync.server_epoch == "epoch-1");
    CHECK(s->info().sync.cursor == 42);
    CHECK_FALSE(s->info().sync.own_values);
    CHECK(s->info().sync.request_counter == 17);
    CHECK(s->info().sync.full_pull_needed);
    CHECK(s->info().acked_seq == 5);
    CHECK(s->own_statuses() == std::vector<std::pair<uint64_t, OwnStatus>>{{4, OwnStatus::rejected}});
    auto notices = s->notices();
    REQUIRE(notices.size() == 2);
    CHECK(notices[0].server_seq == 7);
    CHECK(notices[0].kind == 2);
    CHECK(notices[0].type == EntityType::person);
    CHECK(notices[0].entity == e);
    CHECK(notices[0].field == 3);
    CHECK(notices[0].version == VersionId{other, Seq{9}});
    CHECK(notices[0].reason_zh == n.reason_zh);
    CHECK(notices[0].reason_en == "ID taken");
    CHECK(notices[1].server_seq == 8);
    CHECK(s->sync_config("period") == std::pair<uint64_t, std::string>{2, "2026:2026-11-30"});
    CHECK(s->sync_config("thresholds") == std::pair<uint64_t, std::string>{3, "{\"x\":1}"});
    CHECK_FALSE(s->sync_config("schema"));
    s = reopen(s, dir);
  }
  // Notice reasons are sealed.
  CHECK(raw_files(dir).find("522632198001010010") == std::string::npos);
}

TEST_CASE("sync bookkeeping is rolled back with a failed or rolled-back write", "[store][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  auto bookkeeping = [](WriteBatch& b) {
    b.sync = SyncState{"epoch-1", 42, false, 17, true};
    b.acked_seq = 5;
    b.own_status = {{3, OwnStatus::quarantined}};
    b.notices = {StoredNotice{7, 2, EntityType::person, crypto::random_entity_id(), 3, {}, "理由", "reason"}};
    b.configs = {{"period", {2, "2026"}}};
    b.removed = {crypto::random_entity_id()};
  };
  auto check_nothing = [&](const DeviceStore& store) {
    CHECK(store.info().sync.server_epoch.empty());
    CHECK(store.info().sync.cursor == 0);
    CHECK(store.info().acked_seq == 0);
    CHECK(store.own_statuses().empty());
    CHECK(store.notices().empty());
    CHECK_FALSE(store.sync_config("period"));
    CHECK(store.info().next_seq == 1);
  };

  SECTION("rolled back") {
    REQUIRE(s->begin_write().ok());
    WriteBatch b;
    bookkeeping(b);
    REQUIRE(s->write(b).ok());
    s->rollback_write();
  }
  SECTION("failed") {
    WriteBatch b;
    bookkeeping(b);
    FieldChange c = change(s->info().device, 2, crypto::random_entity_id(), 1, "x");  // next is 1
    b.changes.push_back(c);
    CHECK_FALSE(s->write(b).ok());
  }
  SECTION("a restored change the log holds") {
    WriteBatch first;
    first.changes.push_back(change(s->info().device, 1, crypto::random_entity_id(), 1, "x"));
    REQUIRE(s->write(first).ok());
    WriteBatch b;
    bookkeeping(b);
    b.restored_changes.push_back(change(s->info().device, 1, crypto::random_entity_id(), 1, "y"));
    CHECK_FALSE(s->write(b).ok());
    CHECK(s->info().next_seq == 2);
    CHECK(s->changes_after(0).at(0).value == "x");
    s = reopen(s, dir);
    CHECK(s->info().sync.server_epoch.empty());
    CHECK(s->own_statuses().empty());
    CHECK(s->notices().empty());
    return;
  }
  check_nothing(*s);
  s = reopen(s, dir);
  check_nothing(*s);
}

TEST_CASE("restored changes fill a gap in the log and are read back in order", "[store][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  const DeviceId me = s->info().device;
  const EntityId hh = crypto::random_entity_id();
  const FieldId no = field(EntityType::household, "household_no");
  {
    WriteBatch b;
    for (uint64_t q = 1; q <= 5; ++q) b.changes.push_back(change(me, q, hh, no, "v" + std::to_string(q)));
    REQUIRE(s->write(b).ok());
  }
  REQUIRE(s->renumber_changes(2, 10).ok());  // the log: 1 2 10 11 12, a gap from 3 to 9
  CHECK(seqs(s->changes_after(0)) == std::vector<uint64_t>{1, 2, 10, 11, 12});
  CHECK(s->info().next_seq == 13);

  WriteBatch restore;
  for (uint64_t q : {8, 3, 4, 5, 6, 7}) restore.restored_changes.push_back(change(me, q, hh, no, "r" + std::to_string(q)));
  REQUIRE(s->write(restore).ok());
  CHECK(s->info().next_seq == 13);
  auto all = s->changes_after(0);
  CHECK(seqs(all) == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12});
  CHECK(all[2].value == "r3");
  CHECK(all[7].value == "r8");
  CHECK(seqs(s->changes_range(2, 4)) == std::vector<uint64_t>{3, 4, 5, 6});
  CHECK(seqs(s->changes_range(7, 3)) == std::vector<uint64_t>{8, 10, 11});
  CHECK(seqs(s->changes_after(8)) == std::vector<uint64_t>{10, 11, 12});

  std::string before = tz::test::store_digest(*s);
  for (std::vector<uint64_t> bad : {std::vector<uint64_t>{9, 5}, {13}, {9, 9}, {0}}) {
    INFO("restoring " << bad.size() << " from " << bad[0]);
    WriteBatch b;
    for (uint64_t q : bad) b.restored_changes.push_back(change(me, q, hh, no, "again"));
    b.acked_seq = 12;
    CHECK_FALSE(s->write(b).ok());
    CHECK(tz::test::store_digest(*s) == before);
    CHECK(s->info().acked_seq == 0);
  }
  WriteBatch other_device;
  other_device.restored_changes.push_back(change(crypto::random_device_id(), 9, hh, no, "theirs"));
  CHECK_FALSE(s->write(other_device).ok());

  WriteBatch last;
  last.restored_changes.push_back(change(me, 9, hh, no, "r9"));
  REQUIRE(s->write(last).ok());
  s = reopen(s, dir);
  CHECK(seqs(s->changes_after(0)) == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(s->info().next_seq == 13);
}

TEST_CASE("renumber_changes rewrites log seqs - bases - entity version ids - statuses and next_seq", "[store][sync]") {
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  const DeviceId me = s->info().device, other = crypto::random_device_id();
  const EntityId hh = crypto::random_entity_id();
  const FieldId no = field(EntityType::household, "household_no"), head = field(EntityType::household, "head_name");
  auto v = [&](uint64_t q) { return VersionId{me, Seq{q}}; };

  // 1: number, 2: head, 3: number replacing 1, then a deletion (4) that saw 2 and 3, then a number (5)
  // replacing 3 that the deletion did not see; another device's version of the head rides along.
  std::vector<FieldChange> cs;
  cs.push_back(change(me, 1, hh, no, "0001"));
  cs.push_back(change(me, 2, hh, head, "张三"));
  cs.push_back(change(me, 3, hh, no, "0002", {v(1)}));
  EntityState st;
  st.type = EntityType::household;
  st.id = hh;
  for (auto& c : cs) merge_apply(st, c);
  merge_apply(st, change(other, 3, hh, head, "李四"));
  cs.push_back(change(me, 4, hh, kDeletedField, "迁出", {v(2), v(3)}));
  cs.push_back(change(me, 5, hh, no, "0003", {v(3)}));
  merge_apply(st, cs[3]);
  merge_apply(st, cs[4]);
  {
    WriteBatch b;
    b.changes = cs;
    EntityRow row;
    from_state(st, row.entity, row.merge);
    b.entities.push_back(std::move(row));
    b.own_status = {{1, OwnStatus::rejected}, {4, OwnStatus::quarantined}};
    REQUIRE(s->write(b).ok());
  }
  auto refused = s->renumber_changes(3, 3);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == ErrorCode::invalid_input);

  REQUIRE(s->renumber_changes(2, 100).ok());  // 3 4 5 -> 100 101 102
  for (int pass = 0; pass < 2; ++pass) {
    INFO("pass " << pass);
    CHECK(s->info().next_seq == 103);
    auto log = s->changes_after(0);
    REQUIRE(seqs(log) == std::vector<uint64_t>{1, 2, 100, 101, 102});
    CHECK(log[2].value == "0002");
    CHECK(log[2].base == std::vector<VersionId>{v(1)});
    CHECK(log[3].value == "迁出");
    CHECK(log[3].base == std::vector<VersionId>{v(2), v(100)});
    CHECK(log[4].base == std::vector<VersionId>{v(100)});
    auto row = s->get_row(hh);
    REQUIRE(row);
    EntityState now = to_state(row->entity, row->merge);
    CHECK(live_ids(now, no) == std::vector<VersionId>{v(102)});
    CHECK(superseded(now, no) == std::vector<VersionId>{v(1), v(100)});
    CHECK(live_ids(now, kDeletedField) == std::vector<VersionId>{v(101)});
    CHECK(live_ids(now, head).size() == 2);  // mine (2) and the other device's (3), untouched
    CHECK(now.deletion_bases.size() == 1);
    CHECK(now.deletion_bases.at(v(101)) == std::vector<VersionId>{v(2), v(100)});
    for (uint64_t gone : {3, 4, 5})
      for (auto& [f, fs] : now.fields) {
        for (auto& x : fs.live) CHECK(x.id != v(gone));
        for (auto& x : fs.superseded) CHECK(x != v(gone));
      }
    CHECK(s->own_statuses() == std::vector<std::pair<uint64_t, OwnStatus>>{{1, OwnStatus::rejected}, {101, OwnStatus::quarantined}});
    s = reopen(s, dir);
  }
  // The renumbered state is still the same state under new names: deleted with the number unseen.
  CHECK(deletion_in_conflict(to_state(s->get_row(hh)->entity, s->get_row(hh)->merge)));
}
