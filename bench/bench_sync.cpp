// bench_sync: the sync path in one process over the loopback transport (no TLS; Sync II measures
// HTTPS): the initial push of a county-sized device store to a SQLite server store, the pull that
// follows, a new device pulling one township, and a one-field edit round trip. Figures, not asserts.
//
//   bench_sync [--persons N] [--seed S] [--township-persons T] [--basic] [--no-visits] [--push-batch B] [--data DIR]
#include <sqlite3.h>
#include <malloc.h>
#include <zlib.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "bench_common.hpp"
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

using namespace tz::bench;

namespace {

// Counts the bytes each way and the time spent in the server (decode, apply, commit, reply).
class CountingTransport final : public tz::sync::Transport {
 public:
  explicit CountingTransport(tz::sync::SyncServer& s) : loop_(s) {}
  tz::Result<std::string> exchange(std::string_view request) override {
    up += request.size();
    ++requests;
    auto t0 = Clock::now();
    double c0 = cpu_ms(), t_c0 = thread_cpu_ms();
    auto r = loop_.exchange(request);
    server_ms += ms_since(t0);
    server_cpu_ms += cpu_ms() - c0;
    server_thread_cpu_ms += thread_cpu_ms() - t_c0;
    if (r) down += r->size();
    return r;
  }
  uint64_t up = 0, down = 0, requests = 0;
  double server_ms = 0, server_cpu_ms = 0, server_thread_cpu_ms = 0;
  void reset() {
    up = down = requests = 0;
    server_ms = server_cpu_ms = server_thread_cpu_ms = 0;
  }

 private:
  tz::sync::LoopbackTransport loop_;
};

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_sync_bench_args(argc, argv, "bench_sync", TZ_SOURCE_DATA_DIR);
  if (!args) return 64;
  const size_t persons = args->persons, township_persons = args->township_persons, push_batch = args->push_batch;
  const uint64_t seed = args->seed;
  const bool rich = args->rich, visits = args->visits;
  const std::string data = args->data;
  const std::string load = load_average();
  auto res = tz::ops::load_resources(data).take();
  auto tree_csv = res->county_tree_csv("522632").value();
  auto tree = tz::region::RegionTree::parse_csv(tree_csv, "shipped").take();
  tz::bench::RosterSpec spec;
  spec.seed = seed;
  spec.persons = persons;
  spec.villages = tz::bench::villages_of_tree(tree_csv);
  spec.rich = rich;
  const std::string township = spec.villages.front().substr(0, 9);
  spec.township = township;
  spec.township_persons = std::min(township_persons, persons);
  auto roster = tz::bench::generate_roster(spec);
  std::string csv = tz::bench::roster_csv(roster);

  fs::path dir = fs::temp_directory_path() / ("tz-bench-sync-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const tz::StoreConfig cfg = bench_store_config(tree_csv);
  const std::string pass = "bench passphrase 台账";
  tz::ScryptCost cost{1ULL << 10, 8, 1};
  const std::string secret(32, 'k');
  const int64_t now = tz::china_midnight_ms({2026, 11, 1});

  auto a = tz::create_device_store(dir / "a", pass, res->schema, cfg, cost, secret).take();
  const BenchFill fill = fill_bench_store(*a, csv, *res, tree, now, seed, visits);
  if (!fill.ok) {
    std::cerr << "import or visits failed\n";
    return 1;
  }
  uint64_t changes = a->info().next_seq - 1;
  auto server_store = tz::sync::open_sqlite_server_store(dir / "server").take();
  const tz::ValidationContext vctx = bench_validation(*res, tree);
  tz::sync::SyncServer server(*server_store, res->schema, vctx, [&] { return now + 3600 * 1000; });
  auto b = tz::create_device_store(dir / "b", pass, res->schema, cfg, cost, secret).take();
  if (!server.register_device(a->info().device, {"522632"}) || !server.register_device(b->info().device, {township})) return 1;

  CountingTransport net(server);
  tz::ops::DeviceSyncOptions opt;
  opt.push_batch = push_batch;
  opt.page_records = 5000;
  tz::ops::DeviceSync sa(*a, net, [&] { return now + 3600 * 1000; }, opt);
  // What sync() does first on a device that never pulled: pull from cursor 0 (nothing yet).
  if (!sa.pull_once()) return 1;
  // The roster and its CSV are not needed any more: freed (and handed back to the system), so the
  // peak of the push is mostly the server's and the device's work.
  const size_t csv_bytes = csv.size(), csv_gzip = gzip_size(csv), households = roster.households;
  std::string().swap(csv);
  roster = {};
  malloc_trim(0);
  net.reset();
  const uint64_t rss_before_kb = proc_status_kb("VmRSS");
  reset_peak();
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
  const uint64_t push_hwm_kb = proc_status_kb("VmHWM");
  double push_server_ms = net.server_ms, push_server_cpu_ms = net.server_cpu_ms,
         push_thread_cpu_ms = net.server_thread_cpu_ms;
  uint64_t push_up = net.up, push_down = net.down, push_requests = net.requests;
  // The raw reference: the same (entity, field, value) rows, read back from device a's change log.
  std::optional<RawReference> raw;
  {
    auto rows = raw_rows_of(*a);
    raw = raw_reference(dir, rows);
    if (!raw) {
      std::cerr << "raw sqlite reference failed\n";
      return 1;
    }
  }
  const double raw_s = raw->s, raw_cpu_s = raw->cpu_s;
  // What the server's storage layout costs by itself (decision 146).
  auto layout_floor = storage_floor(dir / "server" / "server.db", dir, push_requests);
  if (!layout_floor) {
    std::cerr << "storage floor failed\n";
    return 1;
  }
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
  uint64_t township_down = net.down, township_entities = 0, township_requests = net.requests;
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
  // TZ_BENCH_KEEP=1 keeps the stores (their paths are printed) for a look at what the push wrote.
  if (const char* keep = std::getenv("TZ_BENCH_KEEP"); keep && *keep == '1') std::fprintf(stderr, "stores kept in %s\n", dir.c_str());
  else fs::remove_all(dir);

  std::printf("== bench_sync: loopback sync of a county (Sync I; HTTPS figures come with Sync II) ==\n");
  std::printf("configuration\n");
  print_county_lines(persons, seed, rich, roster_headers(rich).size(), households, changes, fill, visits, csv_bytes, csv_gzip);
  std::printf("  SQLite                   WAL, synchronous=FULL on both stores; push batch %zu, page %u\n", opt.push_batch,
              opt.page_records);
  std::printf("  raw reference            one table (entity BLOB, field INTEGER, value TEXT), no index, one transaction,\n"
              "                           one prepared INSERT, WAL + synchronous=FULL, timed from open to COMMIT;\n"
              "                           run 3 times after the push, the median kept\n");
  std::printf("  CPUs                     %u; load average at start %s\n", std::thread::hardware_concurrency(), load.c_str());
  std::printf("results\n");
  std::printf("  initial push             %.0f ms, %llu requests, %.1f MB up, %.1f KB down (%.0f changes/s)\n", push_ms,
              static_cast<unsigned long long>(push_requests), push_up / 1e6, push_down / 1e3, changes / (push_ms / 1000));
  const double server_rate = changes / (push_server_ms / 1000), raw_rate = changes / raw_s;
  std::printf("  server part of the push  %.0f ms (decode, apply, commit, reply: %.0f changes/s)\n", push_server_ms, server_rate);
  std::printf("    its CPU time           %.0f ms on all threads, %.0f ms on the request's own thread\n", push_server_cpu_ms,
              push_thread_cpu_ms);
  std::printf("  raw SQLite inserts       %.0f ms for %llu rows (%.0f rows/s): the median of %d runs, %.0f to %.0f ms\n",
              raw_s * 1000, static_cast<unsigned long long>(changes), raw_rate, raw->runs, raw->min_s * 1000, raw->max_s * 1000);
  std::printf("  apply : raw ratio        %.2f (target >= 0.40); in CPU time %.2f (server %.0f ms, raw %.0f ms)\n",
              server_rate / raw_rate, (raw_cpu_s * 1000) / push_server_cpu_ms, push_server_cpu_ms, raw_cpu_s * 1000);
  std::printf("  storage floor            %.0f ms: the %llu rows (%.0f MB) the push left in %d tables, written again by raw\n"
              "                           SQLite with the server's schema and pragmas in %llu transactions, nothing else;\n"
              "                           the median of %d runs, %.0f to %.0f ms\n",
              layout_floor->timing.s * 1000, static_cast<unsigned long long>(layout_floor->rows), layout_floor->bytes / 1e6, layout_floor->tables,
              static_cast<unsigned long long>(push_requests), layout_floor->timing.runs, layout_floor->timing.min_s * 1000, layout_floor->timing.max_s * 1000);
  std::printf("  raw : floor              %.2f: the apply : raw ratio of a server doing nothing but this layout's writes;\n"
              "                           the server part is %.1f times the floor\n",
              raw_s / layout_floor->timing.s, push_server_ms / (layout_floor->timing.s * 1000));
  std::printf("  memory during the push   VmHWM %.0f MB (RSS before it %.0f MB: the device store open; growth %.0f MB)\n",
              push_hwm_kb / 1024.0, rss_before_kb / 1024.0, (double(push_hwm_kb) - double(rss_before_kb)) / 1024.0);
  std::printf("  wire vs gzip of the CSV  %.2f (%.1f MB vs %.1f MB)\n", double(push_up) / double(csv_gzip), push_up / 1e6,
              csv_gzip / 1e6);
  std::printf("  its pull (own ids)       %.0f ms, %.1f MB down\n", pull_ms, pull_down / 1e6);
  std::printf("  new device, township %s: %.0f ms, %llu persons, %.1f MB down in %llu requests\n", township.c_str(),
              township_ms, static_cast<unsigned long long>(township_entities), township_down / 1e6,
              static_cast<unsigned long long>(township_requests));
  std::printf("  one-field edit round trip %llu bytes in %llu requests\n", static_cast<unsigned long long>(edit_bytes),
              static_cast<unsigned long long>(edit_requests));
  std::printf("  converged                %s\n", converged ? "yes" : "NO");
  return converged ? 0 : 1;
}
