// Personal data at rest: the raw store files (with -wal and any temporary file) hold no ID, no
// 14-digit ID prefix, no name in UTF-8, UTF-16LE or GB18030 and no phone; two stores of the same data
// have different ciphertext; the same county secret gives the same ids.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "store_fixture.hpp"
#include "tz/model/id_number.hpp"
#include "tz/util/encoding.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

struct Person {
  std::string name, id, phone;
};

std::vector<Person> people() {
  const char* names[] = {"王小明", "欧阳娜娜", "阿依古丽·买买提", "张𠮷祥", "李秀英", "陈建国", "杨丽", "赵一鸣"};
  std::vector<Person> out;
  for (int i = 0; i < 8; ++i) {
    char body[32];
    std::snprintf(body, sizeof body, "5226321985%02d%02d%03d", 1 + i, 10 + i, 101 + 2 * i);
    std::string id17 = body;
    std::string phone = "1380013" + std::to_string(1000 + i * 7);
    out.push_back(Person{names[i], id17 + idn::check_char(id17), phone});
  }
  return out;
}

std::string roster(const std::vector<Person>& ps) {
  std::string csv = "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能\n";
  for (size_t i = 0; i < ps.size(); ++i)
    csv += "522632101001,00" + std::to_string(i / 3 + 1) + "," + ps[i].name + "," + ps[i].id + "," +
           (i % 3 ? "子女" : "户主") + "," + ps[i].phone + ",普通劳动力\n";
  return csv;
}

std::string all_files(const std::filesystem::path& dir) {
  std::string bytes;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) bytes += tz::test::read_file(e.path());
  return bytes;
}

void check_no_leak(const std::string& raw, const std::vector<Person>& ps) {
  for (auto& p : ps) {
    INFO(p.name);
    CHECK(raw.find(p.id) == std::string::npos);
    CHECK(raw.find(p.id.substr(0, 14)) == std::string::npos);
    CHECK(raw.find(p.phone) == std::string::npos);
    CHECK(raw.find(p.name) == std::string::npos);
    CHECK(raw.find(encoding::utf8_to_utf16le(p.name)) == std::string::npos);
    CHECK(raw.find(encoding::utf8_to_gb18030(p.name)) == std::string::npos);
  }
}

std::string sec_blob(const std::filesystem::path& db_file, const EntityId& id) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT sec FROM entities WHERE id = ?", -1, &st, nullptr) == SQLITE_OK);
  sqlite3_bind_blob(st, 1, id.bytes.data(), 16, SQLITE_STATIC);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW)
    out.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)), static_cast<size_t>(sqlite3_column_bytes(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("the raw store files hold no ID - ID prefix - name or phone", "[store][pii]") {
  auto ps = people();
  TempDir dir;
  auto s = tz::test::make_store(dir.path());
  auto rep = ops::import_roster(*s, roster(ps), tz::test::import_env()).take();
  REQUIRE(rep.written);
  REQUIRE(rep.persons_created == ps.size());
  // While open (the -wal file holds the pages) and after closing.
  check_no_leak(all_files(dir.path()), ps);
  s.reset();
  check_no_leak(all_files(dir.path()), ps);
  // The data is there, readable with the passphrase.
  auto again = open_device_store(dir.path(), "correct horse", tz::test::resources().schema).take();
  auto id = again->natural_keys().person(ps[3].id);
  auto p = again->get(id);
  REQUIRE(p);
  CHECK(p->value_or(tz::test::resources().schema.entity(EntityType::person).require("name").id) == "张𠮷祥");
  CHECK(again->lookup(LookupKind::id_number, ps[3].id) == std::vector<EntityId>{id});
}

TEST_CASE("two stores with the same county secret give the same ids but different ciphertext", "[store][pii]") {
  auto ps = people();
  std::string secret(32, 'k');
  TempDir a, b, c;
  auto sa = tz::test::make_store(a.path(), secret);
  auto sb = tz::test::make_store(b.path(), secret);
  auto sc = tz::test::make_store(c.path());  // its own secret
  for (auto* s : {sa.get(), sb.get(), sc.get()}) REQUIRE(ops::import_roster(*s, roster(ps), tz::test::import_env()).take().written);

  const auto& ka = sa->natural_keys();
  const auto& kb = sb->natural_keys();
  auto person = ka.person(ps[0].id);
  CHECK(person == kb.person(ps[0].id));
  CHECK(ka.household("522632101001", "001") == kb.household("522632101001", "001"));
  CHECK(ka.roster_job(person, 2026) == kb.roster_job(person, 2026));
  CHECK(person != sc->natural_keys().person(ps[0].id));
  CHECK(sb->get(person).has_value());
  CHECK_FALSE(sc->get(person).has_value());

  std::string blob_a = sec_blob(a.path() / "store.db", person);
  std::string blob_b = sec_blob(b.path() / "store.db", person);
  REQUIRE_FALSE(blob_a.empty());
  REQUIRE_FALSE(blob_b.empty());
  CHECK(blob_a != blob_b);
  CHECK(all_files(a.path()) != all_files(b.path()));
}

TEST_CASE("load_rows gives what scan gives in the same order on any thread count - a tampered record fails", "[store][pii]") {
  // More people than one read chunk (2048 rows), so helpers decrypt while the reader goes on.
  std::string csv = "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能\n";
  const char* given[] = {"明", "华", "英", "芳", "军", "伟", "丽", "强", "敏", "静", "磊", "洋", "勇", "艳", "杰", "娟", "涛", "超", "霞", "平"};
  for (int i = 0; i < 1700; ++i) {
    char body[32];
    std::snprintf(body, sizeof body, "5226321980%02d%02d%03d", 1 + i % 12, 1 + i % 28, i % 1000);
    csv += "522632101001," + std::to_string(1000 + i / 2) + ",王" + given[i % 20] + given[i / 20 % 20] + "," + tz::test::idc(body) + "," +
           (i % 2 ? "子女" : "户主") + ",,普通劳动力\n";
  }
  TempDir dir;
  auto store = tz::test::make_store(dir.path());
  REQUIRE(ops::import_roster(*store, csv, tz::test::import_env()).take().written);
  std::vector<std::string> scanned;
  store->scan(std::nullopt, [&](EntityRow&& row) {
    scanned.push_back(row.entity.id.hex() + "|" + row.village + "|" + std::to_string(row.flags) + "|" +
                      (row.parent ? row.parent->hex() : "") + "|" + std::to_string(row.entity.fields.size()) + "|" +
                      row.entity.value_or(store->schema().entity(row.entity.type).fields.front().id));
  });
  REQUIRE(scanned.size() > 2048);
  for (unsigned threads : {1u, 2u, 4u}) {
    INFO("threads " << threads);
    auto rows = store->load_rows(threads);
    REQUIRE(rows.size() == scanned.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      REQUIRE(scanned[i] == row.entity.id.hex() + "|" + row.village + "|" + std::to_string(row.flags) + "|" +
                                (row.parent ? row.parent->hex() : "") + "|" + std::to_string(row.entity.fields.size()) + "|" +
                                row.entity.value_or(store->schema().entity(row.entity.type).fields.front().id));
    }
  }
  // The personal fields came out decrypted: a name is there.
  const FieldId f_name = store->schema().entity(EntityType::person).require("name").id;
  size_t named = 0;
  for (auto& row : store->load_rows(2))
    if (row.entity.type == EntityType::person && row.entity.value_or(f_name).rfind("王", 0) == 0) ++named;
  CHECK(named == 1700);

  // One record's sealed blob altered on disk: every thread count refuses the whole read.
  EntityId victim;
  store->scan(EntityType::person, [&](EntityRow&& row) { victim = row.entity.id; });
  store.reset();
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2((dir.path() / "store.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "UPDATE entities SET sec = CAST(zeroblob(40) AS BLOB) WHERE id = ?", -1, &st, nullptr) == SQLITE_OK);
    sqlite3_bind_blob(st, 1, victim.bytes.data(), 16, SQLITE_STATIC);
    REQUIRE(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  store = open_device_store(dir.path(), "correct horse", tz::test::resources().schema).take();
  for (unsigned threads : {1u, 2u, 4u}) {
    INFO("threads " << threads);
    try {
      store->load_rows(threads);
      FAIL("a tampered record was read");
    } catch (const Failure& e) {
      CHECK(e.error().code() == ErrorCode::store_corrupt);
    }
  }
}
