// The SQLite server store's storage of changes and entities (decision 66): applied changes written
// in blocks, other writes as rows that take precedence, a rolled-back transaction leaving nothing,
// and a format-1 store converted on open with its entities and links intact.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <sstream>

#include "scoped_env.hpp"
#include "temp_dir.hpp"
#include "tz/sync/server_store.hpp"

using namespace tz;
using namespace tz::sync;

namespace {

DeviceId dev(uint8_t n) {
  DeviceId d;
  for (size_t i = 0; i < 16; ++i) d.bytes[i] = static_cast<uint8_t>(n * 13 + i);
  return d;
}
EntityId ent(uint8_t n) {
  EntityId e;
  for (size_t i = 0; i < 16; ++i) e.bytes[i] = static_cast<uint8_t>(n * 29 + 3 * i);
  return e;
}

StoredChange stored(uint8_t device, uint64_t seq, std::string value,
                    StoredChange::Status status = StoredChange::Status::applied) {
  StoredChange sc;
  sc.change.type = EntityType::person;
  sc.change.entity = ent(static_cast<uint8_t>(seq % 7));
  sc.change.field = static_cast<FieldId>(2 + seq % 5);
  sc.change.value = std::move(value);
  sc.change.version = VersionId{dev(device), Seq{seq}};
  sc.change.ts = Hlc{1000 + static_cast<int64_t>(seq), 0};
  sc.change.collector = "c";
  sc.device_ts = sc.change.ts;
  sc.server_ms = 5;
  sc.status = status;
  sc.server_seq = status == StoredChange::Status::applied ? seq : 0;
  return sc;
}

std::string value_of(const ServerStore& s, uint8_t device, uint64_t seq) {
  auto c = s.change(VersionId{dev(device), Seq{seq}});
  return c ? c->change.value + (c->status == StoredChange::Status::applied ? "" : "!") : "-";
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  REQUIRE(rc == SQLITE_OK);
}

// Back to the format-3 layout of links and match keys: both keyed by entity ids (before decision 149).
void links_to_format3(sqlite3* db) {
  exec(db,
       "BEGIN; ALTER TABLE links RENAME TO l4;"
       "CREATE TABLE links(parent BLOB NOT NULL, child BLOB NOT NULL, PRIMARY KEY(parent, child)) WITHOUT ROWID;"
       "INSERT INTO links SELECT p.id, c.id FROM l4 JOIN entities p ON p.n = l4.parent JOIN entities c ON c.n = l4.child;"
       "INSERT INTO links SELECT w.parent, c.id FROM links_waiting w JOIN entities c ON c.n = w.child;"
       "DROP TABLE l4; DROP TABLE links_waiting;"
       "ALTER TABLE match_keys RENAME TO m4; DROP INDEX match_keys_key;"
       "CREATE TABLE match_keys(entity BLOB PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID;"
       "CREATE INDEX match_keys_key ON match_keys(key);"
       "INSERT INTO match_keys SELECT e.id, m4.key FROM m4 JOIN entities e ON e.n = m4.n; DROP TABLE m4;"
       "UPDATE meta SET value = '3' WHERE key = 'format'; COMMIT;");
}

}  // namespace

TEST_CASE("Applied changes stored in blocks read back like rows and other writes take precedence", "[sync][store]") {
  tz::test::TempDir dir;
  {
    auto s = open_sqlite_server_store(dir.path() / "server").take();
    s->begin();
    // 600 consecutive changes of device 1 (three blocks), with device 2's between them and a
    // quarantined change of device 1 in the middle.
    for (uint64_t seq = 1; seq <= 600; ++seq) {
      if (seq == 300) s->put_change(stored(1, seq, "held", StoredChange::Status::quarantined));
      else s->put_change(stored(1, seq, "v" + std::to_string(seq)));
      if (seq % 100 == 0) s->put_change(stored(2, seq / 100, "w" + std::to_string(seq / 100)));
    }
    // Read inside the transaction: from the gathered run and from written blocks.
    CHECK(value_of(*s, 1, 1) == "v1");
    CHECK(value_of(*s, 1, 599) == "v599");
    CHECK(value_of(*s, 1, 300) == "held!");
    CHECK(value_of(*s, 2, 3) == "w3");
    CHECK(value_of(*s, 1, 601) == "-");
    s->commit(nullptr, nullptr);
    // A later status change of a change held in a block is a row that takes precedence.
    s->begin();
    auto released = stored(1, 250, "v250");
    released.status = StoredChange::Status::rejected;
    released.reason = "no";
    s->put_change(released);
    s->commit(nullptr, nullptr);
    // A rolled-back transaction leaves nothing, gathered or written.
    s->begin();
    for (uint64_t seq = 601; seq <= 900; ++seq) s->put_change(stored(1, seq, "lost"));
    CHECK(value_of(*s, 1, 650) == "lost");
    s->rollback();
    CHECK(value_of(*s, 1, 650) == "-");
    CHECK(value_of(*s, 1, 890) == "-");
  }
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  for (uint64_t seq : {1, 2, 255, 256, 257, 299, 301, 512, 513, 600}) {
    INFO(seq);
    CHECK(value_of(*s, 1, seq) == "v" + std::to_string(seq));
  }
  CHECK(value_of(*s, 1, 300) == "held!");
  CHECK(value_of(*s, 1, 250) == "v250!");
  CHECK(value_of(*s, 1, 601) == "-");
  for (uint64_t seq = 1; seq <= 6; ++seq) CHECK(value_of(*s, 2, seq) == "w" + std::to_string(seq));
  auto full = s->change(VersionId{dev(1), Seq{42}});
  REQUIRE(full);
  CHECK(full->change.entity == ent(0));
  CHECK(full->change.field == 4);
  CHECK(full->server_seq == 42);
  REQUIRE(s->quarantined().size() == 1);
  CHECK(s->quarantined()[0].change.version.seq.value == 300);
  // New changes continue after everything held, in blocks again.
  s->begin();
  for (uint64_t seq = 601; seq <= 610; ++seq) s->put_change(stored(1, seq, "n" + std::to_string(seq)));
  s->commit(nullptr, nullptr);
  CHECK(value_of(*s, 1, 605) == "n605");
}

TEST_CASE("Block rows are cut to fill their pages and every change reads back", "[sync][store]") {
  // Decision 150: a block row of a few KB took a leaf cell and an overflow page a third empty; rows
  // are now cut where their bytes fill the overflow page.
  tz::test::TempDir dir;
  const uint64_t n = 6000;
  auto value = [](uint64_t seq) {
    // Values of 1 to 60 bytes, and a long one now and then (a note of 3 KB).
    return seq % 997 == 0 ? std::string(3000, 'x') : std::string(1 + (seq * 7919) % 60, static_cast<char>('a' + seq % 26));
  };
  {
    auto s = open_sqlite_server_store(dir.path() / "server").take();
    s->begin();
    for (uint64_t seq = 1; seq <= n; ++seq) s->put_change(stored(1, seq, value(seq)));
    s->commit(nullptr, nullptr);
  }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
    auto ints = [&](const char* sql) {
      std::vector<int64_t> out;
      sqlite3_stmt* st = nullptr;
      REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
      while (sqlite3_step(st) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count(st); ++c) out.push_back(sqlite3_column_int64(st, c));
      sqlite3_finalize(st);
      return out;
    };
    // The rows cover every sequence once, in order.
    auto ranges = ints("SELECT first_seq, last_seq FROM change_blocks ORDER BY first_seq");
    REQUIRE(ranges.size() >= 2);
    CHECK(ranges.front() == 1);
    CHECK(ranges.back() == static_cast<int64_t>(n));
    for (size_t i = 2; i < ranges.size(); i += 2) CHECK(ranges[i] == ranges[i - 1] + 1);
    // Overflow pages are full but for the last row of each run handed to the writer (two here).
    auto pages = ints("SELECT count(*), coalesce(sum(unused), 0) FROM dbstat WHERE name = 'change_blocks' AND pagetype = 'overflow'");
    REQUIRE(pages.size() == 2);
    INFO("overflow pages " << pages[0] << ", unused bytes " << pages[1]);
    CHECK(pages[0] >= 10);
    CHECK(pages[1] <= 2 * 8192);
    sqlite3_close(db);
  }
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  for (uint64_t seq = 1; seq <= n; ++seq) {
    auto c = s->change(VersionId{dev(1), Seq{seq}});
    REQUIRE(c);
    REQUIRE(c->change.value == value(seq));
    REQUIRE(c->server_seq == seq);
  }
  CHECK(value_of(*s, 1, n + 1) == "-");
}

namespace {
// Every part of a state, for comparing two (EntityState has no ==).
std::string describe(const EntityState& st) {
  std::ostringstream o;
  o << int(st.type) << " " << st.id.hex() << "\n";
  for (auto& [f, fs] : st.fields) {
    o << "field " << f << "\n";
    for (auto& v : fs.live)
      o << "  " << v.id.str() << " '" << v.value << "' " << v.ts.ms << "." << v.ts.counter << " " << v.collector << " "
        << v.device_ms << " " << v.server_ms << "\n";
    for (auto& v : fs.superseded) o << "  superseded " << v.str() << "\n";
  }
  for (auto& [d, base] : st.deletion_bases) {
    o << "deletion " << d.str();
    for (auto& v : base) o << " " << v.str();
    o << "\n";
  }
  return o.str();
}
}  // namespace

TEST_CASE("An entity state keeps every part of its versions: sequences in any order and receipt times apart", "[sync][store]") {
  // Decision 150 (state format 3) writes sequences and receipt times as differences: sequences that
  // go down, far apart or from another device, receipt times absent or other than the first.
  tz::test::TempDir dir;
  EntityRecord rec;
  rec.state.type = EntityType::person;
  rec.state.id = ent(9);
  auto version = [](uint8_t device, uint64_t seq, std::string value, int64_t ms, uint32_t counter, std::string collector,
                    int64_t device_ms, int64_t server_ms) {
    Version v;
    v.id = VersionId{dev(device), Seq{seq}};
    v.value = std::move(value);
    v.ts = Hlc{ms, counter};
    v.collector = std::move(collector);
    v.device_ms = device_ms;
    v.server_ms = server_ms;
    return v;
  };
  rec.state.fields[2].live.push_back(version(1, 900, "张三", 1'793'462'400'000, 0, "甲", 1'793'462'400'000, 1'793'466'000'000));
  rec.state.fields[3].live.push_back(version(1, 5, "", 1'793'462'400'000, 3, "甲", 1'793'462'399'000, 0));
  rec.state.fields[3].live.push_back(version(2, uint64_t{1} << 40, "两个", 1'700'000'000'000, 7, "乙", 1'700'000'000'500, 1'793'466'999'999));
  rec.state.fields[3].superseded = {VersionId{dev(1), Seq{4}}, VersionId{dev(2), Seq{1}}};
  rec.state.fields[7].live.push_back(version(2, 1, "早", -5, 0, "乙", 9'000'000'000'000, 1));
  rec.state.fields[kDeletedField].live.push_back(version(1, 901, "重复", 1'793'462'500'000, 0, "甲", 1'793'462'500'000, 1'793'466'000'000));
  rec.state.deletion_bases[VersionId{dev(1), Seq{901}}] = {VersionId{dev(1), Seq{900}}};
  rec.villages = {"522632001001"};
  {
    auto s = open_sqlite_server_store(dir.path() / "server").take();
    s->begin();
    s->put_entity(rec);
    s->commit(nullptr, nullptr);
  }
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  auto back = s->entity(rec.state.id);
  REQUIRE(back);
  CHECK(describe(back->state) == describe(rec.state));
}

TEST_CASE("An entity state written in format 2 reads back and is written again in the new format", "[sync][store]") {
  // A household's state as a store wrote it before decision 150 (state format 2).
  const std::string hex =
      "020105bdcce344c717aac32589ab1d4e932801ad4ea93678f90fca79c9d19b463c6b75010562656e636880d083abb26805010100010c"
      "3532323633323030313031370000010080bab703000101000210353232363332303031303137303030310000010080bab70300010100"
      "0309e5ad99e58f91e587af0000010080bab70300010100040be4ba8ce7bb843338e58fb70000010080bab703000101000501300000010080"
      "bab7030000";
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  EntityId id;
  std::copy(bytes.begin() + 2, bytes.begin() + 18, id.bytes.begin());
  tz::test::TempDir dir;
  (void)open_sqlite_server_store(dir.path() / "server").take();
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO entities(id, type, last_seq, villages, parents, state) VALUES (?, 1, 5, '522632001017', x'', ?)",
                               -1, &st, nullptr) == SQLITE_OK);
    sqlite3_bind_blob(st, 1, id.bytes.data(), 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  auto rec = s->entity(id);
  REQUIRE(rec);
  CHECK(rec->state.type == EntityType::household);
  REQUIRE(rec->state.fields.size() == 5);
  const std::vector<std::string> values = {"522632001017", "5226320010170001", "孙发凯", "二组38号", "0"};
  for (FieldId f = 1; f <= 5; ++f) {
    INFO(f);
    auto it = rec->state.fields.find(f);
    REQUIRE(it != rec->state.fields.end());
    REQUIRE(it->second.live.size() == 1);
    const Version& v = it->second.live[0];
    CHECK(v.value == values[f - 1]);
    CHECK(v.id.seq.value == f);
    CHECK(v.id.device.hex() == "ad4ea93678f90fca79c9d19b463c6b75");
    CHECK(v.ts.ms == 1'793'462'400'000);
    CHECK(v.device_ms == 1'793'462'400'000);
    CHECK(v.server_ms == 1'793'466'000'000);
    CHECK(v.collector == "bench");
  }
  // Written again (format 3), it reads back the same.
  const std::string before = describe(rec->state);
  s->begin();
  s->put_entity(*rec);
  s->commit(nullptr, nullptr);
  auto again = open_sqlite_server_store(dir.path() / "server").take()->entity(id);
  REQUIRE(again);
  CHECK(describe(again->state) == before);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT hex(substr(state, 1, 1)), length(state) FROM entities", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "03");
  // Each version's receipt time in one byte instead of four, the state's first one (six bytes) once.
  CHECK(sqlite3_column_int(st, 1) == static_cast<int>(bytes.size()) - 5 * 3 + 6);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("A format-1 server store is converted on open with its entities and links", "[sync][store]") {
  tz::test::TempDir dir;
  EntityRecord hh, person;
  hh.state.type = EntityType::household;
  hh.state.id = ent(1);
  hh.villages = {"522632001001"};
  hh.last_seq = 3;
  person.state.type = EntityType::person;
  person.state.id = ent(2);
  person.villages = {"522632001001"};
  person.parents = {ent(1)};
  person.last_seq = 4;
  {
    auto s = open_sqlite_server_store(dir.path() / "server").take();
    s->begin();
    s->put_entity(hh);
    s->put_entity(person);
    s->commit(nullptr, nullptr);
  }
  {
    // Back to the format-1 layout: entities keyed by id, no change blocks.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
    links_to_format3(db);
    exec(db,
         "BEGIN; ALTER TABLE entities RENAME TO e2;"
         "CREATE TABLE entities(id BLOB PRIMARY KEY, type INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
         "  villages TEXT NOT NULL, parents BLOB NOT NULL, state BLOB NOT NULL) WITHOUT ROWID;"
         "INSERT INTO entities SELECT id, type, last_seq, villages, parents, state FROM e2; DROP TABLE e2;"
         "DROP TABLE change_blocks; UPDATE meta SET value = '1' WHERE key = 'format'; COMMIT;");
    sqlite3_close(db);
  }
  auto opened = open_sqlite_server_store(dir.path() / "server");
  if (!opened) FAIL(opened.error().message(Lang::en));
  auto s = std::move(*opened);
  auto p = s->entity(ent(2));
  REQUIRE(p);
  CHECK(p->parents == std::vector<EntityId>{ent(1)});
  CHECK(p->last_seq == 4);
  CHECK(p->villages == person.villages);
  CHECK(s->children(ent(1)) == std::vector<EntityId>{ent(2)});
  size_t n = 0;
  s->scan_entities([&](const EntityRecord&) { ++n; });
  CHECK(n == 2);
  // And it takes changes in blocks.
  s->begin();
  s->put_change(stored(1, 1, "x"));
  s->commit(nullptr, nullptr);
  CHECK(value_of(*s, 1, 1) == "x");
}

TEST_CASE("Runs of version rows are stored folded and read back one row per sequence", "[sync][store]") {
  tz::test::TempDir dir;
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  auto version = [](uint8_t entity, uint8_t device, uint64_t vseq, std::vector<std::string> villages) {
    LogRow r;
    r.kind = LogKind::version;
    r.type = EntityType::person;
    r.entity = ent(entity);
    r.version = VersionId{dev(device), Seq{vseq}};
    r.villages = std::move(villages);
    return r;
  };
  const std::vector<std::string> a{"522632001001"}, b{"522632001002"};
  s->begin();
  // Entity 1: vseq 1..300 (more than one run), then entity 2 (a new run), a conflict row between
  // two versions of entity 2, a gap in entity 2's vseqs, a change of villages, another device.
  std::vector<std::pair<uint8_t, uint64_t>> expect;  // (entity, vseq) per seq
  for (uint64_t v = 1; v <= 300; ++v) {
    CHECK(s->append(version(1, 1, v, a)) == v);
    expect.push_back({1, v});
  }
  s->append(version(2, 1, 301, a));
  expect.push_back({2, 301});
  LogRow conflict;
  conflict.kind = LogKind::conflict;
  conflict.entity = ent(2);
  conflict.villages = a;
  conflict.payload = "\x03";
  s->append(conflict);
  expect.push_back({0, 0});
  for (uint64_t v : std::initializer_list<uint64_t>{302, 304, 305, 306}) {
    s->append(version(2, v == 306 ? 2 : 1, v, v >= 305 ? b : a));
    expect.push_back({2, v});
  }
  s->commit(nullptr, nullptr);
  CHECK(s->last_seq() == expect.size());
  auto check_from = [&](uint64_t after, size_t limit) {
    auto rows = s->log_after(after, limit);
    REQUIRE(rows.size() == std::min(limit, expect.size() - after));
    for (size_t i = 0; i < rows.size(); ++i) {
      uint64_t seq = after + 1 + i;
      INFO("after " << after << " seq " << seq);
      CHECK(rows[i].seq == seq);
      auto [e, v] = expect[seq - 1];
      if (e == 0) {
        CHECK(rows[i].kind == LogKind::conflict);
        CHECK(rows[i].payload == "\x03");
        continue;
      }
      CHECK(rows[i].kind == LogKind::version);
      CHECK(rows[i].entity == ent(e));
      CHECK(rows[i].version.seq.value == v);
      CHECK(rows[i].version.device == dev(v == 306 ? 2 : 1));
      CHECK(rows[i].villages == (v >= 305 ? b : a));
    }
  };
  for (uint64_t after : std::initializer_list<uint64_t>{0, 1, 100, 255, 256, 257, 299, 300, 301, 303, 305, 306}) {
    check_from(after, 1);
    check_from(after, 7);
    check_from(after, 1000);
  }
  // Reopened, the store knows where its log ends.
  s.reset();
  auto again = open_sqlite_server_store(dir.path() / "server").take();
  CHECK(again->last_seq() == expect.size());
  CHECK(again->log_after(305, 10).size() == 1);
}

TEST_CASE("A block keeps every part of each change: entity and stamps and collector and receipt and schema and base", "[sync][store]") {
  tz::test::TempDir dir;
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  std::vector<StoredChange> all;
  for (uint64_t seq = 1; seq <= 40; ++seq) {
    StoredChange sc = stored(3, seq, seq % 9 == 0 ? "" : "值" + std::to_string(seq));
    sc.change.entity = ent(static_cast<uint8_t>(seq / 4));  // runs of one entity
    sc.change.type = seq % 8 < 4 ? EntityType::person : EntityType::job;
    sc.change.ts = Hlc{1700000000000 + static_cast<int64_t>(seq * 37) - (seq % 5 == 0 ? 90000 : 0), static_cast<uint32_t>(seq % 3)};
    sc.device_ts = seq % 6 == 0 ? Hlc{sc.change.ts.ms + 600000, 2} : sc.change.ts;  // re-stamped by the server
    sc.change.device_ms = sc.change.ts.ms - static_cast<int64_t>(seq % 4) * 1000;
    sc.change.collector = seq < 20 ? "张三" : (seq % 2 ? "李四" : "");
    sc.change.schema_version = seq < 30 ? 1 : 2;
    sc.server_ms = seq < 25 ? 1700000005000 : 1700000009000 + static_cast<int64_t>(seq);
    sc.server_seq = seq * 2 + (seq % 7);
    if (seq % 10 == 3) sc.change.base = {VersionId{dev(3), Seq{seq - 1}}, VersionId{dev(9), Seq{77}}};
    all.push_back(sc);
  }
  s->begin();
  for (auto& sc : all) s->put_change(sc);
  s->commit(nullptr, nullptr);
  auto same = [](const StoredChange& a, const StoredChange& b) {
    const auto &x = a.change, &y = b.change;
    return x.type == y.type && x.entity == y.entity && x.field == y.field && x.value == y.value && x.version == y.version &&
           x.ts == y.ts && x.collector == y.collector && x.device_ms == y.device_ms && x.base == y.base &&
           x.schema_version == y.schema_version && a.device_ts == b.device_ts && a.server_ms == b.server_ms &&
           a.status == b.status && a.reason == b.reason && a.server_seq == b.server_seq;
  };
  for (uint64_t seq : std::initializer_list<uint64_t>{40, 1, 17, 18, 30, 3, 6, 25}) {
    auto got = s->change(VersionId{dev(3), Seq{seq}});
    REQUIRE(got);
    INFO("seq " << seq);
    CHECK(same(*got, all[seq - 1]));
  }
  CHECK_FALSE(s->change(VersionId{dev(3), Seq{41}}));
}

TEST_CASE("A format-2 server store gains the run length of its log rows when opened", "[sync][store]") {
  tz::test::TempDir dir;
  {
    auto s = open_sqlite_server_store(dir.path() / "server").take();
    s->begin();
    for (uint64_t v = 1; v <= 3; ++v) {
      LogRow r;
      r.kind = LogKind::conflict;  // rows that never fold: one row each, as format 2 wrote them
      r.entity = ent(1);
      r.payload = std::string(1, static_cast<char>(v));
      s->append(std::move(r));
    }
    s->commit(nullptr, nullptr);
  }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
    links_to_format3(db);
    exec(db, "BEGIN; ALTER TABLE log DROP COLUMN n; UPDATE meta SET value = '2' WHERE key = 'format'; COMMIT;");
    sqlite3_close(db);
  }
  auto opened = open_sqlite_server_store(dir.path() / "server");
  if (!opened) FAIL(opened.error().message(Lang::en));
  auto s = std::move(*opened);
  CHECK(s->last_seq() == 3);
  auto rows = s->log_after(1, 10);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].seq == 2);
  CHECK(rows[1].payload == std::string(1, '\3'));
}

TEST_CASE("Links follow an entity's parents without an index by child (decision 85)", "[sync][store]") {
  tz::test::TempDir dir;
  EntityRecord person;
  person.state.type = EntityType::person;
  person.state.id = ent(2);
  person.parents = {ent(1)};
  {
    auto s = open_sqlite_server_store(dir.path() / "server").take();
    s->begin();
    s->put_entity(person);
    s->commit(nullptr, nullptr);
  }
  {
    // A store made before decision 85 had the index: it is dropped when opened.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
    exec(db, "CREATE INDEX links_child ON links(child);");
    sqlite3_close(db);
  }
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'links_child'", -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int(st, 0) == 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  // Moved to another parent in a transaction that did not read it (its links come from its row).
  person.parents = {ent(3)};
  s->begin();
  s->put_entity(person);
  s->commit(nullptr, nullptr);
  CHECK(s->children(ent(1)).empty());
  CHECK(s->children(ent(3)) == std::vector<EntityId>{ent(2)});
  // Two parents, then one of them kept, in one transaction after a read.
  s->begin();
  REQUIRE(s->entity(ent(2)));
  person.parents = {ent(3), ent(4)};
  s->put_entity(person);
  person.parents = {ent(4)};
  s->put_entity(person);
  s->commit(nullptr, nullptr);
  CHECK(s->children(ent(3)).empty());
  CHECK(s->children(ent(4)) == std::vector<EntityId>{ent(2)});
  CHECK(s->entity(ent(2))->parents == std::vector<EntityId>{ent(4)});
}

// Whatever a store keeps between transactions (decision 131 tried keeping the entities' row numbers)
// must follow another connection's writes and a rollback.
TEST_CASE("Entities written by another connection or rolled back read back as the store holds them", "[sync][store]") {
  tz::test::TempDir dir;
  auto record = [](uint8_t n, uint64_t last_seq) {
    EntityRecord r;
    r.state.type = EntityType::household;
    r.state.id = ent(n);
    r.last_seq = last_seq;
    r.villages = {"522632001001"};
    return r;
  };
  auto a = open_sqlite_server_store(dir.path() / "server").take();
  auto b = open_sqlite_server_store(dir.path() / "server").take();
  // b learns the rows there are (none but ent(1)).
  a->begin();
  a->put_entity(record(1, 1));
  a->commit(nullptr, nullptr);
  b->begin();
  REQUIRE(b->entity(ent(1)));
  CHECK_FALSE(b->entity(ent(2)));
  b->commit(nullptr, nullptr);
  // Another connection (an admin command beside serve) adds ent(2) and changes ent(1).
  a->begin();
  a->put_entity(record(2, 2));
  a->put_entity(record(1, 3));
  a->commit(nullptr, nullptr);
  b->begin();
  auto two = b->entity(ent(2));
  REQUIRE(two);
  CHECK(two->last_seq == 2);
  CHECK(b->entity(ent(1))->last_seq == 3);
  // A row b writes for an entity a inserted is that entity's row, not a second one.
  b->put_entity(record(2, 4));
  b->commit(nullptr, nullptr);
  a->begin();
  CHECK(a->entity(ent(2))->last_seq == 4);
  a->commit(nullptr, nullptr);
  // A rolled-back insert leaves no row behind, and the entity written again later is stored.
  b->begin();
  b->put_entity(record(5, 5));
  REQUIRE(b->entity(ent(5)));
  b->rollback();
  b->begin();
  CHECK_FALSE(b->entity(ent(5)));
  b->put_entity(record(5, 6));
  b->commit(nullptr, nullptr);
  b.reset();
  a->begin();
  auto five = a->entity(ent(5));
  REQUIRE(five);
  CHECK(five->last_seq == 6);
  a->commit(nullptr, nullptr);
  auto c = open_sqlite_server_store(dir.path() / "server").take();
  size_t rows = 0;
  c->scan_entities([&](const EntityRecord&) { ++rows; });
  CHECK(rows == 3);
}

TEST_CASE("entity_villages reads the villages entity() gives - none for an unknown entity - inside and after a transaction", "[sync][store]") {
  // A push reads the parents it only places others under by their villages (decision 140).
  tz::test::TempDir dir;
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  EntityRecord r;
  r.state.type = EntityType::person;
  r.state.id = ent(7);
  r.parents = {ent(6)};
  r.villages = {"522632001001", "522632001002"};
  s->begin();
  CHECK_FALSE(s->entity_villages(ent(7)));
  s->put_entity(r);
  CHECK(s->entity_villages(ent(7)) == r.villages);
  s->commit(nullptr, nullptr);
  CHECK(s->entity_villages(ent(7)) == s->entity(ent(7))->villages);
  r.villages = {"522632002001"};
  s->begin();
  s->put_entity(r);
  s->rollback();
  CHECK(s->entity_villages(ent(7)) == std::vector<std::string>{"522632001001", "522632001002"});
  CHECK_FALSE(s->entity_villages(ent(8)));
}

TEST_CASE("put_entities and put_entities_later store what put_entity does - beside the caller or not", "[sync][store]") {
  // 600 records: from 256 the states are encoded on another thread ahead of the writes (decision 135);
  // put_entities_later hands them to the store's writer in groups (decision 145).
  std::vector<EntityRecord> records(600);
  for (size_t n = 0; n < records.size(); ++n) {
    EntityRecord& r = records[n];
    r.state.type = n % 2 ? EntityType::person : EntityType::household;
    r.state.id.bytes[0] = static_cast<uint8_t>(n >> 8);
    r.state.id.bytes[1] = static_cast<uint8_t>(n & 0xff);
    r.state.id.bytes[15] = 0x33;
    FieldChange c;
    c.type = r.state.type;
    c.entity = r.state.id;
    c.field = 3;
    c.value = "值" + std::to_string(n);
    c.version = VersionId{dev(1), Seq{n + 1}};
    c.ts = Hlc{1000 + static_cast<int64_t>(n), 0};
    c.collector = "王芳";
    merge_apply(r.state, c);
    r.villages = {"522632001001"};
    if (n % 2) r.parents = {records[n - 1].state.id};
    r.last_seq = n + 1;
  }
  std::vector<const EntityRecord*> pointers;
  for (auto& r : records) pointers.push_back(&r);
  auto stored_rows = [](ServerStore& s) {
    std::vector<std::string> out;
    s.scan_entities([&](const EntityRecord& e) {
      const auto& live = e.state.fields.at(3).live;
      out.push_back(e.state.id.hex() + " " + std::to_string(e.last_seq) + " " + e.villages.at(0) + " " +
                    std::to_string(e.parents.size()) + " " + live.at(0).value + " " + live.at(0).collector + " " +
                    digest(e.state));
    });
    return out;
  };
  tz::test::TempDir dir;
  auto one_by_one = open_sqlite_server_store(dir.path() / "one").take();
  one_by_one->begin();
  for (auto& r : records) one_by_one->put_entity(r);
  one_by_one->commit(nullptr, nullptr);
  const auto expected = stored_rows(*one_by_one);
  REQUIRE(expected.size() == 600);
  tz::test::on_one_thread_and_two([&](const char* threads) {
    auto s = open_sqlite_server_store(dir.path() / (std::string("batch") + threads)).take();
    s->begin();
    s->put_entities(pointers);
    s->commit(nullptr, nullptr);
    CHECK(stored_rows(*s) == expected);
    CHECK(s->children(records[0].state.id) == std::vector<EntityId>{records[1].state.id});

    auto later = open_sqlite_server_store(dir.path() / (std::string("later") + threads)).take();
    later->begin();
    for (size_t from = 0; from < pointers.size(); from += 100)
      later->put_entities_later({pointers.begin() + static_cast<std::ptrdiff_t>(from),
                                 pointers.begin() + static_cast<std::ptrdiff_t>(from + 100)});
    // A read inside the transaction waits for the writes handed over.
    REQUIRE(later->entity(records[599].state.id));
    CHECK(later->entity(records[599].state.id)->last_seq == 600);
    CHECK(later->children(records[0].state.id) == std::vector<EntityId>{records[1].state.id});
    later->commit(nullptr, nullptr);
    CHECK(stored_rows(*later) == expected);

    // A rollback drops what was handed over; settle_writes() then has nothing to wait for.
    EntityRecord extra = records[0];
    extra.state.id.bytes[15] = 0x44;
    later->begin();
    later->put_entities_later({&extra});
    later->rollback();
    later->settle_writes();
    CHECK_FALSE(later->entity(extra.state.id));
    CHECK(stored_rows(*later) == expected);
  });
}

TEST_CASE("Log rows and blocks handed to the writer read back in order inside and after the transaction - on one thread or two", "[sync][store]") {
  // Within a transaction the log rows and change blocks are written by a writer thread (decision
  // 138): every read waits for the writes before it, and a rollback drops what was handed over.
  auto row = [](uint64_t n) {
    LogRow r;
    r.kind = n % 50 == 0 ? LogKind::conflict : LogKind::version;  // a conflict row ends a run
    r.type = EntityType::person;
    r.entity = ent(static_cast<uint8_t>(n / 100));
    r.version = VersionId{dev(1), Seq{n}};
    r.villages = {"522632001001"};
    if (r.kind == LogKind::conflict) r.payload = "\x01";
    return r;
  };
  std::vector<std::string> seen;
  tz::test::on_one_thread_and_two([&](const char*) {
    tz::test::TempDir dir;
    auto s = open_sqlite_server_store(dir.path() / "server").take();
    s->begin();
    for (uint64_t n = 1; n <= 1200; ++n) {
      s->append(row(n));
      s->put_change(stored(1, n, "v" + std::to_string(n)));
      if (n % 400 == 0) {  // reads in the middle see every write before them
        REQUIRE(s->log_after(n - 1, 10).size() == 1);
        CHECK(s->log_after(n - 1, 10)[0].entity == ent(static_cast<uint8_t>(n / 100)));
        CHECK(value_of(*s, 1, n - 300) == "v" + std::to_string(n - 300));
      }
    }
    s->commit(nullptr, nullptr);
    s->begin();
    for (uint64_t n = 1201; n <= 1700; ++n) {
      s->append(row(n));
      s->put_change(stored(1, n, "lost"));
    }
    s->rollback();
    CHECK(s->last_seq() == 1200);
    CHECK(value_of(*s, 1, 1300) == "-");
    std::string all;
    for (auto& r : s->log_after(0, 5000))
      all += std::to_string(r.seq) + ":" + std::to_string(static_cast<int>(r.kind)) + ":" +
             std::to_string(r.version.seq.value) + " ";
    for (uint64_t n : {1, 255, 256, 257, 1000, 1200}) CHECK(value_of(*s, 1, n) == "v" + std::to_string(n));
    s.reset();
    auto again = open_sqlite_server_store(dir.path() / "server").take();
    CHECK(again->last_seq() == 1200);
    CHECK(value_of(*again, 1, 1199) == "v1199");
    seen.push_back(all);
  });
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == seen[1]);
  CHECK(seen[0].find("1200:") != std::string::npos);
}

TEST_CASE("Entities the id filter says are new are written with their links - and found again past its first size", "[sync][store]") {
  // Decision 148: inside a write transaction entity() answers "none" for an id the filter of held
  // ids lacks, without a look-up; the filter starts with room for 65,536 ids and is made again larger.
  const size_t total = 70000;
  auto id_of = [](size_t n) {
    EntityId e;
    for (size_t i = 0; i < 16; ++i) e.bytes[i] = static_cast<uint8_t>((n * 2654435761u) >> (i % 4 * 8)) ^ static_cast<uint8_t>(i * 31);
    e.bytes[12] = static_cast<uint8_t>(n >> 16);
    e.bytes[13] = static_cast<uint8_t>(n >> 8);
    e.bytes[14] = static_cast<uint8_t>(n);
    return e;
  };
  std::vector<EntityRecord> records(total);
  for (size_t n = 0; n < total; ++n) {
    records[n].state.type = n % 4 ? EntityType::person : EntityType::household;
    records[n].state.id = id_of(n);
    records[n].villages = {"522632001001"};
    if (n % 4) records[n].parents = {id_of(n - n % 4)};
    records[n].last_seq = n + 1;
  }
  tz::test::TempDir dir;
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  auto other = open_sqlite_server_store(dir.path() / "server").take();
  s->begin();
  for (size_t from = 0; from < total; from += 10000) {
    std::vector<const EntityRecord*> batch;
    for (size_t n = from; n < from + 10000; ++n) {
      REQUIRE_FALSE(s->entity(records[n].state.id));
      batch.push_back(&records[n]);
    }
    s->put_entities_later(batch);
  }
  s->settle_writes();
  s->commit(nullptr, nullptr);
  auto sorted = [](std::vector<EntityId> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  CHECK(s->children(id_of(0)) == sorted({id_of(1), id_of(2), id_of(3)}));
  CHECK(s->children(id_of(total - 4)).size() == 3);
  // Every one is found by the next transaction, past the filter's first size.
  s->begin();
  size_t found = 0;
  for (size_t n = 0; n < total; n += 7) found += s->entity(records[n].state.id) && s->entity(records[n].state.id)->last_seq == n + 1;
  CHECK(found == (total + 6) / 7);
  CHECK_FALSE(s->entity(id_of(total)));
  // A person moved to another household loses the link to the first.
  EntityRecord moved = records[1];
  moved.parents = {id_of(4)};
  s->put_entity(moved);
  s->commit(nullptr, nullptr);
  CHECK(s->children(id_of(0)) == sorted({id_of(2), id_of(3)}));
  // An entity another connection adds after the filter was made is found, and written over, not
  // inserted again.
  EntityRecord late;
  late.state.type = EntityType::household;
  late.state.id = id_of(total + 1);
  late.villages = {"522632001002"};
  late.last_seq = 1;
  other->begin();
  other->put_entity(late);
  other->commit(nullptr, nullptr);
  s->begin();
  REQUIRE(s->entity(late.state.id));
  late.last_seq = 2;
  s->put_entity(late);
  s->commit(nullptr, nullptr);
  size_t rows = 0;
  s->scan_entities([&](const EntityRecord&) { ++rows; });
  CHECK(rows == total + 1);
}

TEST_CASE("Match keys given inside a transaction are found with those the file holds - and another connection's", "[sync][store]") {
  // Decision 148: inside a write transaction a key the filter of held keys lacks is answered from
  // the keys the transaction gave; every other is looked up in the file. Decision 149: a key names
  // its entity's row, and a key given before the row is written waits for it.
  tz::test::TempDir dir;
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  auto other = open_sqlite_server_store(dir.path() / "server").take();
  auto row = [](uint8_t n) {
    EntityRecord r;
    r.state.type = EntityType::person;
    r.state.id = ent(n);
    r.villages = {"522632001001"};
    r.last_seq = n;
    return r;
  };
  s->begin();
  s->put_entity(row(1));
  s->put_match_key(ent(1), "p:520000199001011234");
  s->put_match_key(ent(2), "p:520000199001011234");
  s->put_match_key(ent(3), "h:522632001001/0001");
  CHECK(s->entities_with_match_key("p:520000199001011234") == std::vector<EntityId>{std::min(ent(1), ent(2)), std::max(ent(1), ent(2))});
  // A key changed or removed inside the transaction leaves its old holders.
  s->put_match_key(ent(2), "p:520000199002021234");
  s->put_match_key(ent(3), "");
  CHECK(s->entities_with_match_key("p:520000199001011234") == std::vector<EntityId>{ent(1)});
  CHECK(s->entities_with_match_key("h:522632001001/0001").empty());
  CHECK(s->match_key(ent(2)) == "p:520000199002021234");
  CHECK_FALSE(s->match_key(ent(3)));
  const EntityRecord two = row(2), three = row(3);
  s->put_entities_later({&two, &three});
  s->commit(nullptr, nullptr);
  CHECK(s->match_key(ent(1)) == "p:520000199001011234");
  CHECK_FALSE(s->match_key(ent(3)));
  // The next transaction finds the committed holder beside its own.
  s->begin();
  s->put_entity(row(4));
  s->put_match_key(ent(4), "p:520000199002021234");
  CHECK(s->entities_with_match_key("p:520000199002021234") == std::vector<EntityId>{std::min(ent(2), ent(4)), std::max(ent(2), ent(4))});
  s->rollback();
  // A rolled-back key is gone.
  s->begin();
  CHECK(s->entities_with_match_key("p:520000199002021234") == std::vector<EntityId>{ent(2)});
  CHECK_FALSE(s->match_key(ent(4)));
  s->commit(nullptr, nullptr);
  // A key another connection gives after the filter was made is found too.
  other->begin();
  other->put_entity(row(5));
  other->put_match_key(ent(5), "h:522632001002/0007");
  other->commit(nullptr, nullptr);
  s->begin();
  s->put_match_key(ent(6), "h:522632001002/0007");
  s->put_entity(row(6));
  CHECK(s->entities_with_match_key("h:522632001002/0007") == std::vector<EntityId>{std::min(ent(5), ent(6)), std::max(ent(5), ent(6))});
  s->commit(nullptr, nullptr);
  CHECK(s->match_key_groups() == std::vector<std::vector<EntityId>>{{std::min(ent(5), ent(6)), std::max(ent(5), ent(6))}});
  CHECK(s->match_key(ent(2)) == "p:520000199002021234");
  CHECK(s->match_key(ent(6)) == "h:522632001002/0007");
  // Outside a transaction too; a key given to an entity with no row names nothing.
  s->put_match_key(ent(7), "p:520000199001011234");
  CHECK(s->entities_with_match_key("p:520000199001011234") == std::vector<EntityId>{ent(1)});
}

TEST_CASE("A format-3 server store gets links and match keys by row number - a link to a parent without a row waiting", "[sync][store]") {
  // Decision 149. ent(1) a household with a key, ent(2) its person with a key, ent(3) a person whose
  // household ent(4) the store holds no row for (pushed later, or held in quarantine).
  tz::test::TempDir dir;
  auto record = [](uint8_t n, EntityType type, std::vector<EntityId> parents) {
    EntityRecord r;
    r.state.type = type;
    r.state.id = ent(n);
    r.villages = {"522632001001"};
    r.parents = std::move(parents);
    r.last_seq = n;
    return r;
  };
  {
    auto s = open_sqlite_server_store(dir.path() / "server").take();
    s->begin();
    s->put_entity(record(1, EntityType::household, {}));
    s->put_entity(record(2, EntityType::person, {ent(1)}));
    s->put_entity(record(3, EntityType::person, {ent(4)}));
    s->put_match_key(ent(1), "h:522632001001/0001");
    s->put_match_key(ent(2), "p:520000199001011234");
    s->commit(nullptr, nullptr);
    CHECK(s->children(ent(4)) == std::vector<EntityId>{ent(3)});
  }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
    links_to_format3(db);
    sqlite3_close(db);
  }
  auto opened = open_sqlite_server_store(dir.path() / "server");
  if (!opened) FAIL(opened.error().message(Lang::en));
  auto s = std::move(*opened);
  CHECK(s->children(ent(1)) == std::vector<EntityId>{ent(2)});
  CHECK(s->children(ent(4)) == std::vector<EntityId>{ent(3)});
  CHECK(s->match_key(ent(1)) == "h:522632001001/0001");
  CHECK(s->entities_with_match_key("p:520000199001011234") == std::vector<EntityId>{ent(2)});
  auto count = [&](const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "server" / "server.db").c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  };
  CHECK(count("SELECT value FROM meta WHERE key = 'format'") == 4);
  CHECK(count("SELECT count(*) FROM links") == 1);
  CHECK(count("SELECT count(*) FROM links_waiting") == 1);
  // The household arrives: its waiting link becomes a link by number, found as before.
  s->begin();
  CHECK_FALSE(s->entity(ent(4)));
  s->put_entity(record(4, EntityType::household, {}));
  s->commit(nullptr, nullptr);
  CHECK(s->children(ent(4)) == std::vector<EntityId>{ent(3)});
  CHECK(count("SELECT count(*) FROM links") == 2);
  CHECK(count("SELECT count(*) FROM links_waiting") == 0);
  // A person moved from the household without a row to one with a row, and back, in one transaction.
  s->begin();
  s->put_entity(record(5, EntityType::person, {ent(9)}));
  auto moved = record(5, EntityType::person, {ent(1)});
  s->put_entity(moved);
  s->commit(nullptr, nullptr);
  CHECK(s->children(ent(9)).empty());
  auto kids = s->children(ent(1));
  CHECK(kids == (ent(2) < ent(5) ? std::vector<EntityId>{ent(2), ent(5)} : std::vector<EntityId>{ent(5), ent(2)}));
  CHECK(count("SELECT count(*) FROM links_waiting") == 0);
}

TEST_CASE("An entity row numbered as the last row of another table gets its own links", "[sync][store]") {
  // Decision 149: a new row's number is taken from last_insert_rowid when the write changed it; a
  // log row just written with the same number (1) leaves it unchanged, and the number is looked up.
  tz::test::TempDir dir;
  auto s = open_sqlite_server_store(dir.path() / "server").take();
  s->begin();
  LogRow r;
  r.kind = LogKind::conflict;
  r.entity = ent(9);
  CHECK(s->append(std::move(r)) == 1);
  EntityRecord hh;
  hh.state.type = EntityType::household;
  hh.state.id = ent(1);
  hh.villages = {"522632001001"};
  s->put_entity(hh);
  EntityRecord p = hh;
  p.state.type = EntityType::person;
  p.state.id = ent(2);
  p.parents = {ent(1)};
  s->put_entity(p);
  s->commit(nullptr, nullptr);
  CHECK(s->children(ent(1)) == std::vector<EntityId>{ent(2)});
  CHECK(s->children(ent(2)).empty());
}
