// A tiny program for the sync kill tests (tests/sync/test_crash.cpp): a server store and two device
// stores in one folder, synced through the loopback transport in this process, so that a crash point
// (TAIZHANG_CRASH_AT) kills a real process in the middle of a push or a pull.
//   sync_probe init DIR          a server, devices a and b (village A), 30 people on a
//   sync_probe edit DIR WHO N    N edits on device WHO
//   sync_probe sync DIR WHO      a full sync of WHO in small batches and pages
//   sync_probe report DIR WHO    the digests, sequences and integrity checks, one per line
#include <SQLiteCpp/SQLiteCpp.h>

#include <iostream>

#include "server_fixture.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"

using namespace tz;

namespace {

const std::string kSecret(32, 'p');
constexpr const char* kPass = "correct horse";

struct Probe {
  std::filesystem::path dir;
  std::unique_ptr<sync::ServerStore> store;
  std::unique_ptr<region::RegionTree> tree;
  std::unique_ptr<sync::SyncServer> server;

  explicit Probe(std::filesystem::path d) : dir(std::move(d)) {
    store = sync::open_sqlite_server_store(dir / "server").take();
    tree = std::make_unique<region::RegionTree>(
        region::RegionTree::parse_csv(*test::resources().county_tree_csv("522632"), "shipped").take());
    ValidationContext ctx;
    ctx.today = china_date_of(test::kNowMs);
    ctx.period_year = 2026;
    ctx.settings = &test::resources().schema.settings();
    ctx.counties = &test::resources().counties;
    ctx.tree = tree.get();
    server = std::make_unique<sync::SyncServer>(*store, test::resources().schema, ctx, [] { return test::kNowMs; });
  }
  std::unique_ptr<DeviceStore> device(const std::string& who) {
    return open_device_store(dir / who, kPass, test::resources().schema).take();
  }
};

FieldId fid(EntityType t, const char* name) { return test::field_id(t, name); }

std::string integrity(const std::filesystem::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  return d.execAndGet("PRAGMA integrity_check").getString();
}

int run(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string cmd = argv[1];
  std::filesystem::path dir = argv[2];
  if (cmd == "init") {
    Probe p(dir);
    for (const char* who : {"a", "b"}) {
      auto s = test::make_store(dir / who, kSecret);
      if (!p.server->register_device(s->info().device, {test::kVillageA})) return 1;
    }
    auto a = p.device("a");
    ops::Editor ed(*a, ops::EditContext{"王芳", test::kNowMs});
    EntityId hh = a->natural_keys().household(test::kVillageA, "0001");
    auto& h = ed.get_or_create(EntityType::household, hh);
    ed.set(h, fid(EntityType::household, "village_code"), test::kVillageA);
    for (int i = 0; i < 30; ++i) {
      std::string idn = test::idc("5226321990010" + std::to_string(1000 + i));
      auto& e = ed.get_or_create(EntityType::person, a->natural_keys().person(idn));
      ed.set(e, fid(EntityType::person, "household_id"), hh.hex());
      ed.set(e, fid(EntityType::person, "name"), "人" + std::to_string(i));
      ed.set(e, fid(EntityType::person, "id_number"), idn);
    }
    return ed.commit() ? 0 : 1;
  }
  if (argc < 4) return 2;
  std::string who = argv[3];
  Probe p(dir);
  auto d = p.device(who);
  if (cmd == "edit") {
    int n = argc > 4 ? std::stoi(argv[4]) : 1;
    ops::Editor ed(*d, ops::EditContext{"李强", test::kNowMs + 1000});
    int done = 0;
    d->scan(EntityType::person, [&](EntityRow&& r) {
      if (done >= n) return;
      ed.prefetch({r.entity.id});
      if (Entity* e = ed.find(r.entity.id)) {
        ed.set(*e, fid(EntityType::person, "phone"), "139" + std::to_string(10000000 + done) + who.substr(0, 0));
        ++done;
      }
    });
    return ed.commit() ? 0 : 1;
  }
  if (cmd == "sync") {
    sync::LoopbackTransport net(*p.server);
    ops::DeviceSyncOptions o;
    o.push_batch = 7;
    o.page_records = 5;
    ops::DeviceSync s(*d, net, [] { return test::kNowMs + 5000; }, o);
    auto r = s.sync();
    if (!r) {
      std::cerr << r.error().message(Lang::en) << "\n";
      return 1;
    }
    return 0;
  }
  if (cmd == "report") {
    std::cout << "device " << ops::device_scope_digest(*d, {test::kVillageA}) << "\n";
    std::cout << "server " << p.server->scope_digest({test::kVillageA}) << "\n";
    std::cout << "made " << d->info().next_seq - 1 << "\n";
    std::cout << "held " << p.store->device(d->info().device)->acked_seq << "\n";
    std::cout << "quarantined " << p.server->quarantine().size() << "\n";
    d.reset();
    p.server.reset();
    p.store.reset();
    std::cout << "integrity " << integrity(dir / who / "store.db") << " " << integrity(dir / "server" / "server.db") << "\n";
    return 0;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
