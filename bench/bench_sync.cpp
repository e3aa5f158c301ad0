// bench_sync: the sync path in one process over the loopback transport (no TLS; Sync II measures
// HTTPS): the initial push of a county-sized device store to a SQLite server store, the pull that
// follows, a new device pulling one township, and a one-field edit round trip. Figures, not asserts.
//
//   bench_sync [--persons N] [--seed S] [--data DIR]
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "roster_gen.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/sync/server.hpp"

#ifndef TZ_SOURCE_DATA_DIR
#define TZ_SOURCE_DATA_DIR "."
#endif

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Counts the bytes each way.
class CountingTransport final : public tz::sync::Transport {
 public:
  explicit CountingTransport(tz::sync::SyncServer& s) : loop_(s) {}
  tz::Result<std::string> exchange(std::string_view request) override {
    up += request.size();
    ++requests;
    auto r = loop_.exchange(request);
    if (r) down += r->size();
    return r;
  }
  uint64_t up = 0, down = 0, requests = 0;
  void reset() { up = down = requests = 0; }

 private:
  tz::sync::LoopbackTransport loop_;
};

size_t gzip_size(const std::string& s) {
  uLongf n = compressBound(static_cast<uLong>(s.size()));
  std::string out(n, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(s.data()), static_cast<uLong>(s.size()), 6);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  size_t persons = 50000;
  uint64_t seed = 1;
  std::string data = TZ_SOURCE_DATA_DIR;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--persons") persons = std::stoul(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--data") data = next();
    else {
      std::cerr << "usage: bench_sync [--persons N] [--seed S] [--data DIR]\n";
      return 64;
    }
  }
  auto res = tz::ops::load_resources(data).take();
  auto tree_csv = res->county_tree_csv("522632").value();
  auto tree = tz::region::RegionTree::parse_csv(tree_csv, "shipped").take();
  tz::bench::RosterSpec spec;
  spec.seed = seed;
  spec.persons = persons;
  spec.villages = tz::bench::villages_of_tree(tree_csv);
  auto roster = tz::bench::generate_roster(spec);
  std::string csv = tz::bench::roster_csv(roster);

  fs::path dir = fs::temp_directory_path() / ("tz-bench-sync-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  tz::StoreConfig cfg;
  cfg.county = "522632";
  cfg.collectors = {"bench"};
  cfg.default_collector = "bench";
  cfg.period = *tz::make_period(2026, tz::CivilDate{2026, 11, 30});
  cfg.region_tree_csv = tree_csv;
  const std::string pass = "bench passphrase 台账";
  tz::ScryptCost cost{1ULL << 10, 8, 1};
  const std::string secret(32, 'k');
  const int64_t now = tz::china_midnight_ms({2026, 11, 1});

  auto a = tz::create_device_store(dir / "a", pass, res->schema, cfg, cost, secret).take();
  {
    tz::ops::ImportEnv env;
    env.resources = res.get();
    env.tree = &tree;
    env.today = {2026, 11, 30};
    env.edit = {"bench", now};
    auto r = tz::ops::import_roster(*a, csv, env).take();
    if (!r.written) {
      std::cerr << "import failed\n";
      return 1;
    }
  }
  uint64_t changes = a->info().next_seq - 1;
  auto server_store = tz::sync::open_sqlite_server_store(dir / "server").take();
  tz::ValidationContext vctx;
  vctx.today = {2026, 11, 30};
  vctx.period_year = 2026;
  vctx.settings = &res->schema.settings();
  vctx.counties = &res->counties;
  vctx.tree = &tree;
  tz::sync::SyncServer server(*server_store, res->schema, vctx, [&] { return now + 3600 * 1000; });
  const std::string township = spec.villages.front().substr(0, 9);
  auto b = tz::create_device_store(dir / "b", pass, res->schema, cfg, cost, secret).take();
  if (!server.register_device(a->info().device, {"522632"}) || !server.register_device(b->info().device, {township})) return 1;

  CountingTransport net(server);
  tz::ops::DeviceSyncOptions opt;
  opt.push_batch = 20000;
  opt.page_records = 5000;
  tz::ops::DeviceSync sa(*a, net, [&] { return now + 3600 * 1000; }, opt);
  // What sync() does first on a device that never pulled: pull from cursor 0 (nothing yet).
  if (!sa.pull_once()) return 1;
  net.reset();
  auto t0 = Clock::now();
  for (;;) {
    auto r = sa.push_once();
    if (!r) {
      std::cerr << r.error().message(tz::Lang::en) << "\n";
      return 1;
    }
    if (r->done) break;
  }
  double push_ms = ms_since(t0);
  uint64_t push_up = net.up, push_down = net.down, push_requests = net.requests;
  net.reset();
  t0 = Clock::now();
  auto pulled = sa.sync();
  double pull_ms = ms_since(t0);
  if (!pulled) {
    std::cerr << pulled.error().message(tz::Lang::en) << "\n";
    return 1;
  }
  uint64_t pull_down = net.down;
  net.reset();
  tz::ops::DeviceSync sb(*b, net, [&] { return now + 3600 * 1000; }, opt);
  t0 = Clock::now();
  auto rb = sb.sync();
  double township_ms = ms_since(t0);
  uint64_t township_down = net.down, township_entities = 0;
  b->scan_flags(tz::EntityType::person, [&](const tz::EntityId&, const std::string&, uint32_t) { ++township_entities; });
  if (!rb) return 1;
  // A one-field edit on a, synced: the bytes of that round trip (push and pull).
  {
    tz::ops::Editor ed(*a, {"bench", now + 2 * 3600 * 1000});
    tz::EntityId id;
    a->scan_flags(tz::EntityType::person, [&](const tz::EntityId& e, const std::string&, uint32_t) { id = e; });
    ed.prefetch({id});
    ed.set(*ed.find(id), res->schema.entity(tz::EntityType::person).require("phone").id, "13912345678");
    if (!ed.commit()) return 1;
  }
  net.reset();
  if (!sa.sync()) return 1;
  uint64_t edit_bytes = net.up + net.down, edit_requests = net.requests;
  bool converged = tz::ops::device_scope_digest(*a, {"522632"}) == server.scope_digest({"522632"});
  a.reset();
  b.reset();
  fs::remove_all(dir);

  std::printf("== bench_sync: loopback sync of a county (Sync I; HTTPS figures come with Sync II) ==\n");
  std::printf("configuration\n");
  std::printf("  persons                  %zu (seed %llu), field changes %llu\n", persons, static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(changes));
  std::printf("  SQLite                   WAL, synchronous=FULL on both stores; push batch %zu, page %u\n", opt.push_batch,
              opt.page_records);
  std::printf("  CPUs                     %u\n", std::thread::hardware_concurrency());
  std::printf("results\n");
  std::printf("  initial push             %.0f ms, %llu requests, %.1f MB up, %.1f KB down (%.0f changes/s)\n", push_ms,
              static_cast<unsigned long long>(push_requests), push_up / 1e6, push_down / 1e3, changes / (push_ms / 1000));
  std::printf("  wire vs gzip of the CSV  %.2f (%.1f MB vs %.1f MB)\n", double(push_up) / double(gzip_size(csv)), push_up / 1e6,
              gzip_size(csv) / 1e6);
  std::printf("  its pull (own ids)       %.0f ms, %.1f MB down\n", pull_ms, pull_down / 1e6);
  std::printf("  new device, township %s: %.0f ms, %llu persons, %.1f MB down\n", township.c_str(), township_ms,
              static_cast<unsigned long long>(township_entities), township_down / 1e6);
  std::printf("  one-field edit round trip %llu bytes in %llu requests\n", static_cast<unsigned long long>(edit_bytes),
              static_cast<unsigned long long>(edit_requests));
  std::printf("  converged                %s\n", converged ? "yes" : "NO");
  return converged ? 0 : 1;
}
