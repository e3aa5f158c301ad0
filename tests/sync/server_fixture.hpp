// A SyncServer on a SQLite server store in a temp folder, with a clock the test drives, and helpers
// to build the raw protocol messages a device would send.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "store_fixture.hpp"
#include "temp_dir.hpp"
#include "tz/sync/server.hpp"

namespace tz::test {

// Villages of 榕江县 (522632): two in 忠诚镇 (522632101), one in 古州镇 (522632100).
inline const std::string kVillageA = "522632101001";
inline const std::string kVillageB = "522632101002";
inline const std::string kVillageC = "522632100001";
inline const std::string kTownship = "522632101";

struct ServerFixture {
  TempDir dir;
  std::unique_ptr<sync::ServerStore> store;
  std::unique_ptr<region::RegionTree> tree;
  int64_t now = kNowMs;
  std::unique_ptr<sync::SyncServer> server;

  sync::ServerOptions options;

  explicit ServerFixture(sync::ServerOptions o = {}) : options(std::move(o)) {
    tree = std::make_unique<region::RegionTree>(region::RegionTree::parse_csv(*resources().county_tree_csv("522632"), "shipped").take());
    open();
  }
  std::filesystem::path folder() const { return dir.path() / "server"; }
  // Closes the server and its store (the WAL is checkpointed into the file).
  void close() {
    server.reset();
    store.reset();
  }
  // Opens the store in folder() (creating it the first time) and a server over it.
  void open() {
    store = sync::open_sqlite_server_store(folder()).take();
    server = std::make_unique<sync::SyncServer>(*store, resources().schema, test_validation(tree.get()), [this] { return now; }, options);
  }
  // What the server validates with: the test clock's day, period 2026, the given tree.
  static ValidationContext test_validation(const region::RegionTree* tree) {
    ValidationContext ctx;
    ctx.today = china_date_of(kNowMs);
    ctx.period_year = 2026;
    ctx.settings = &resources().schema.settings();
    ctx.counties = &resources().counties;
    ctx.tree = tree;
    return ctx;
  }
};

inline DeviceId test_device(uint8_t n) {
  std::string raw(16, '\0');
  raw[0] = static_cast<char>(0xd0);
  raw[15] = static_cast<char>(n);
  return DeviceId::from_bytes(raw);
}
inline EntityId test_entity(uint8_t n) {
  std::string raw(16, '\0');
  raw[0] = static_cast<char>(0xe0);
  raw[15] = static_cast<char>(n);
  return EntityId::from_bytes(raw);
}

inline FieldId field_id(EntityType t, const char* name) { return resources().schema.entity(t).require(name).id; }

// A device's change log as it would push it: seq numbers follow, the clock ticks by 1 ms.
struct FakeDevice {
  DeviceId id;
  uint64_t next_seq = 1;
  uint64_t counter = 0;
  int64_t clock_ms = kNowMs;
  std::vector<FieldChange> log;

  FieldChange& add(EntityType type, const EntityId& entity, const char* field, std::string value,
                   std::vector<VersionId> base = {}) {
    FieldChange c;
    c.type = type;
    c.entity = entity;
    c.field = field ? field_id(type, field) : 0;
    c.value = std::move(value);
    c.version = VersionId{id, Seq{next_seq++}};
    c.ts = Hlc{++clock_ms, 0};
    c.collector = "王芳";
    c.device_ms = c.ts.ms;
    c.base = std::move(base);
    c.schema_version = static_cast<uint32_t>(resources().schema.version());
    log.push_back(c);
    return log.back();
  }
  // The changes after `after`, as one push request.
  sync::PushRequest push(uint64_t after) {
    sync::PushRequest r;
    r.device = id;
    r.device_epoch = "dev";
    r.request_counter = ++counter;
    r.device_now_ms = clock_ms;
    r.first_seq = after + 1;
    for (auto& c : log)
      if (c.version.seq.value > after) r.changes.push_back(c);
    return r;
  }
};

// Every record a device gets pulling from `cursor` to the end, in pages of `page`.
inline std::vector<sync::PullRecord> pull_all(sync::SyncServer& s, const DeviceId& d, uint64_t cursor = 0, uint32_t page = 1000,
                                 bool own_values = false, std::string epoch = {}) {
  std::vector<sync::PullRecord> out;
  for (int i = 0; i < 10000; ++i) {
    sync::PullRequest r;
    r.device = d;
    r.cursor = cursor;
    r.max_records = page;
    r.own_values = own_values;
    r.server_epoch_seen = epoch.empty() ? s.store().epoch() : epoch;
    auto p = s.pull(r);
    if (!p) throw std::runtime_error("pull failed: " + p.error().message(Lang::en));
    for (auto& rec : p->records) out.push_back(rec);
    cursor = p->next_cursor;
    if (!p->more) break;
  }
  return out;
}

template <typename T>
inline std::vector<T> only(const std::vector<sync::PullRecord>& rs) {
  std::vector<T> out;
  for (auto& r : rs)
    if (auto* x = std::get_if<T>(&r)) out.push_back(*x);
  return out;
}

}  // namespace tz::test
