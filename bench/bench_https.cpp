// bench_https: the sync path over real HTTPS on loopback (Sync II, SPEC §13). The county server runs in
// a child process forked before anything else is allocated (so its peak memory is its own): a SQLite
// server store with the server's identity, a TLS certificate signed by its key, net::HttpServer with
// /api/v1/enrol and /api/v1/sync. The device (this process) enrols by token through
// ops::enrol_store, imports a county roster and pushes it signed over one kept-alive, pinned TLS
// connection; then its pull, a new device enrolled for one township pulling it, and a one-field edit
// round trip. Figures, not asserts; the raw SQLite reference is measured in the same run.
//
//   bench_https [--persons N] [--seed S] [--township-persons T] [--basic] [--no-visits] [--push-batch B] [--data DIR]
#include <malloc.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "bench_common.hpp"
#include "roster_gen.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/crypto/tls.hpp"
#include "tz/net/http.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/enrol.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/sync/server.hpp"

#ifndef TZ_SOURCE_DATA_DIR
#define TZ_SOURCE_DATA_DIR "."
#endif

using namespace tz::bench;

namespace {

const int64_t kNow = tz::china_midnight_ms({2026, 11, 1}) + 3600 * 1000;

// The county server, in the child process. Writes "PORT SIGN_PUB_HEX TOKEN_A TOKEN_B\n" to `ready`
// once it serves, and serves until `stop` reaches end of file.
int run_server(const fs::path& dir, const std::string& data, const std::string& township, int ready, int stop) {
  auto res = tz::ops::load_resources(data).take();
  auto tree_csv = res->county_tree_csv("522632").value();
  auto tree = tz::region::RegionTree::parse_csv(tree_csv, "shipped").take();
  auto store = tz::sync::open_sqlite_server_store(dir).take();
  auto id = tz::sync::create_server_identity(*store, "522632", "榕江县").take();
  const tz::ValidationContext vctx = bench_validation(*res, tree);
  tz::sync::SyncServer server(*store, res->schema, vctx, [] { return kNow; });
  if (!server.set_config("period", "2026:2026-11-30")) return 1;
  const int64_t expiry = kNow + 7LL * 24 * 3600 * 1000;
  auto token_a = server.create_token({"522632"}, {"bench"}, expiry).take();
  auto token_b = server.create_token({township}, {"bench"}, expiry).take();

  std::mutex mu;  // the SyncServer serves one request at a time (as sync-server serve does)
  double server_ms = 0, server_cpu_ms = 0;
  auto tls = tz::crypto::make_tls_identity(id.sign.priv, "127.0.0.1");
  tz::net::ServerOptions o;
  o.cert_pem = tls.cert_pem;
  o.key_pem = tls.key_pem;
  o.threads = 4;
  tz::net::HttpServer http(o);
  auto timed = [&](auto&& f) {
    std::lock_guard lock(mu);
    auto t0 = Clock::now();
    // The server process's CPU, all threads: the handler's and those a push applies beside it
    // (decision 135). The other HTTP workers are idle meanwhile (one device, one request at a time).
    double c0 = cpu_ms();
    tz::net::HttpResponse r;
    r.body = f();
    server_ms += ms_since(t0);
    server_cpu_ms += cpu_ms() - c0;
    return r;
  };
  http.post("/api/v1/enrol", [&](const tz::net::HttpRequest& q) { return timed([&] { return server.handle_enrol(q.body); }); });
  http.post("/api/v1/sync", [&](const tz::net::HttpRequest& q) { return timed([&] { return server.handle_signed(q.body); }); });
  http.post("/bench/reset", [&](const tz::net::HttpRequest&) {
    std::lock_guard lock(mu);
    server_ms = server_cpu_ms = 0;
    reset_peak();
    return tz::net::HttpResponse{200, "text/plain", "ok"};
  });
  http.get("/bench/stats", [&](const tz::net::HttpRequest&) {
    std::lock_guard lock(mu);
    std::ostringstream s;
    s << server_ms << " " << server_cpu_ms << " " << proc_status_kb("VmHWM") << " " << proc_status_kb("VmRSS");
    return tz::net::HttpResponse{200, "text/plain", s.str()};
  });
  http.get("/bench/digest", [&](const tz::net::HttpRequest&) {
    std::lock_guard lock(mu);
    return tz::net::HttpResponse{200, "application/octet-stream", server.scope_digest({"522632"})};
  });
  auto port = http.start();
  if (!port) {
    std::cerr << port.error().message(tz::Lang::en) << "\n";
    return 1;
  }
  std::string line = std::to_string(*port) + " " + tz::crypto::to_hex(id.sign.pub) + " " + token_a + " " + token_b + "\n";
  if (write(ready, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
  close(ready);
  char c;
  while (read(stop, &c, 1) > 0) {
  }
  http.stop();
  return 0;
}

struct ServerStats {
  double ms = 0, cpu_ms = 0;
  uint64_t hwm_kb = 0, rss_kb = 0;
};

ServerStats stats(tz::net::HttpTransport& t) {
  ServerStats s;
  auto r = t.get("/bench/stats");
  if (r) std::istringstream(*r) >> s.ms >> s.cpu_ms >> s.hwm_kb >> s.rss_kb;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  // A write on a connection the other side has closed must be an error the transport handles, not
  // the end of the process (both processes: set before the fork). The library does not set it.
  std::signal(SIGPIPE, SIG_IGN);
  auto args = parse_sync_bench_args(argc, argv, "bench_https", TZ_SOURCE_DATA_DIR);
  if (!args) return 64;
  const size_t persons = args->persons, township_persons = args->township_persons, push_batch = args->push_batch;
  const uint64_t seed = args->seed;
  const bool rich = args->rich, visits = args->visits;
  const std::string data = args->data;
  const std::string load = load_average();
  fs::path dir = fs::temp_directory_path() / ("tz-bench-https-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // The township the second device is enrolled for: the first township of the shipped tree (the
  // roster generator puts township_persons there).
  std::string township;
  {
    auto res = tz::ops::load_resources(data).take();
    township = villages_of_tree(res->county_tree_csv("522632").value()).front().substr(0, 9);
  }
  int ready[2], stop[2];
  if (pipe(ready) != 0 || pipe(stop) != 0) return 1;
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(ready[0]);
    close(stop[1]);
    _exit(run_server(dir / "server", data, township, ready[1], stop[0]));
  }
  close(ready[1]);
  close(stop[0]);
  std::string hello;
  for (char c; read(ready[0], &c, 1) == 1 && c != '\n';) hello.push_back(c);
  close(ready[0]);
  std::istringstream hs(hello);
  int port = 0;
  std::string sign_hex, token_a, token_b;
  hs >> port >> sign_hex >> token_a >> token_b;
  if (!port) {
    std::cerr << "the server did not start\n";
    return 1;
  }
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  const std::string sign_pub = *tz::crypto::from_hex(sign_hex);
  auto finish = [&](int code) {
    close(stop[1]);
    waitpid(child, nullptr, 0);
    fs::remove_all(dir);
    return code;
  };

  auto res = tz::ops::load_resources(data).take();
  auto tree_csv = res->county_tree_csv("522632").value();
  auto tree = tz::region::RegionTree::parse_csv(tree_csv, "shipped").take();
  RosterSpec spec;
  spec.seed = seed;
  spec.persons = persons;
  spec.villages = villages_of_tree(tree_csv);
  spec.rich = rich;
  spec.township = township;
  spec.township_persons = std::min(township_persons, persons);
  auto roster = generate_roster(spec);
  std::string csv = roster_csv(roster);

  const tz::StoreConfig cfg = bench_store_config(tree_csv);
  const std::string pass = "bench passphrase 台账";
  tz::ScryptCost cost{1ULL << 10, 8, 1};

  // Device a: enrolled by token over HTTPS (pinned to the key the token carries), then the roster.
  auto a = tz::create_device_store(dir / "a", pass, res->schema, cfg, cost).take();
  tz::net::HttpTransport ta(url, sign_pub);
  auto t0 = Clock::now();
  auto enrolled = tz::ops::enrol_store(*a, token_a, url, [&](std::string_view f) { return ta.post("/api/v1/enrol", f); });
  double enrol_ms = ms_since(t0);
  if (!enrolled) {
    std::cerr << enrolled.error().message(tz::Lang::en) << "\n";
    return finish(1);
  }
  const BenchFill fill = fill_bench_store(*a, csv, *res, tree, kNow - 3600 * 1000, seed, visits);
  if (!fill.ok) {
    std::cerr << "import or visits failed\n";
    return finish(1);
  }
  const uint64_t changes = a->info().next_seq - 1;
  auto ida = a->identity().value();
  tz::ops::DeviceSyncOptions opt;
  opt.push_batch = push_batch;
  opt.page_records = 5000;
  opt.signer = tz::ops::RequestSigner{a->info().device, ida.sign_priv};
  tz::ops::DeviceSync sa(*a, ta, [] { return kNow; }, opt);
  if (!sa.pull_once()) return finish(1);  // what sync() does first on a device that never pulled
  const size_t csv_bytes = csv.size(), csv_gzip = gzip_size(csv), households = roster.households;
  std::string().swap(csv);
  roster = {};
  malloc_trim(0);
  if (!ta.post("/bench/reset", "")) return finish(1);
  uint64_t up0 = ta.bytes_sent(), down0 = ta.bytes_received(), hs0 = ta.handshakes();
  t0 = Clock::now();
  uint64_t push_requests = 0;
  for (;;) {
    auto r = sa.push_once();
    ++push_requests;
    if (!r) {
      std::cerr << r.error().message(tz::Lang::en) << "\n";
      return finish(1);
    }
    if (r->done) break;
  }
  double push_ms = ms_since(t0);
  uint64_t push_up = ta.bytes_sent() - up0, push_down = ta.bytes_received() - down0, push_hs = ta.handshakes() - hs0;
  ServerStats push_stats = stats(ta);

  std::optional<RawReference> raw;
  {
    auto rows = raw_rows_of(*a);
    raw = raw_reference(dir, rows);
    if (!raw) {
      std::cerr << "raw sqlite reference failed\n";
      return finish(1);
    }
  }
  const double raw_s = raw->s, raw_cpu_s = raw->cpu_s;

  down0 = ta.bytes_received();
  t0 = Clock::now();
  if (auto r = sa.sync(); !r) {
    std::cerr << r.error().message(tz::Lang::en) << "\n";
    return finish(1);
  }
  double pull_ms = ms_since(t0);
  uint64_t pull_down = ta.bytes_received() - down0;
  ServerStats pull_stats = stats(ta);

  // Device b: a new device enrolled for one township pulls it.
  auto b = tz::create_device_store(dir / "b", pass, res->schema, cfg, cost).take();
  tz::net::HttpTransport tb(url, sign_pub);
  if (!tz::ops::enrol_store(*b, token_b, url, [&](std::string_view f) { return tb.post("/api/v1/enrol", f); })) return finish(1);
  tz::ops::DeviceSyncOptions optb = opt;
  optb.signer = tz::ops::RequestSigner{b->info().device, b->identity().value().sign_priv};
  tz::ops::DeviceSync sb(*b, tb, [] { return kNow; }, optb);
  down0 = tb.bytes_received();
  t0 = Clock::now();
  auto rb = sb.sync();
  double township_ms = ms_since(t0);
  if (!rb) return finish(1);
  uint64_t township_down = tb.bytes_received() - down0, township_entities = 0;
  ServerStats township_stats = stats(ta);
  b->scan_flags(tz::EntityType::person, [&](const tz::EntityId&, const std::string&, uint32_t) { ++township_entities; });

  // A one-field edit on a, synced on the open connection: HTTP bytes both ways, handshakes apart.
  {
    tz::ops::Editor ed(*a, {"bench", kNow + 3600 * 1000});
    tz::EntityId id;
    a->scan_flags(tz::EntityType::person, [&](const tz::EntityId& e, const std::string&, uint32_t) { id = e; });
    ed.prefetch({id});
    ed.set(*ed.find(id), res->schema.entity(tz::EntityType::person).require("phone").id, "13912345678");
    if (!ed.commit()) return finish(1);
  }
  up0 = ta.bytes_sent();
  down0 = ta.bytes_received();
  hs0 = ta.handshakes();
  if (!sa.sync()) return finish(1);
  uint64_t edit_bytes = ta.bytes_sent() - up0 + ta.bytes_received() - down0, edit_hs = ta.handshakes() - hs0;
  // The TLS handshake, apart: a fresh pinned connection's first request against its second.
  double handshake_ms = 0;
  {
    tz::net::HttpTransport fresh(url, sign_pub);
    auto h0 = Clock::now();
    (void)fresh.get("/bench/stats");
    double first = ms_since(h0);
    h0 = Clock::now();
    (void)fresh.get("/bench/stats");
    handshake_ms = first - ms_since(h0);
  }
  ServerStats end_stats = stats(ta);  // before the digest: computing it holds the whole county's states
  auto digest = ta.get("/bench/digest");
  bool converged = digest && *digest == tz::ops::device_scope_digest(*a, {"522632"});
  a.reset();
  b.reset();

  const double server_rate = changes / (push_stats.ms / 1000), raw_rate = changes / raw_s;
  std::printf("== bench_https: a county's initial push over loopback HTTPS (Sync II, SPEC §13) ==\n");
  std::printf("configuration\n");
  print_county_lines(persons, seed, rich, roster_headers(rich).size(), households, changes, fill, visits, csv_bytes, csv_gzip);
  std::printf("  transport                HTTPS on 127.0.0.1 (TLS 1.3, ECDSA P-256 certificate signed by the server's\n"
              "                           Ed25519 key, pinned), one kept-alive connection, signed requests; server in a\n"
              "                           child process, 4 HTTP workers, one SyncServer at a time\n");
  std::printf("  SQLite                   WAL, synchronous=FULL on both stores; push batch %zu, page %u; KDF scrypt N=2^10\n",
              opt.push_batch, opt.page_records);
  std::printf("  raw reference            one table (entity BLOB, field INTEGER, value TEXT), no index, one transaction,\n"
              "                           one prepared INSERT, WAL + synchronous=FULL, timed from open to COMMIT;\n"
              "                           run 3 times after the push, the median kept\n");
  std::printf("  CPUs                     %u; load average at start %s\n", std::thread::hardware_concurrency(), load.c_str());
  std::printf("results\n");
  std::printf("  enrolment (token)        %.0f ms including the first TLS handshake\n", enrol_ms);
  std::printf("  initial push, end to end %.0f ms (target <= 10000), %llu requests, %llu new handshakes (%.0f changes/s)\n",
              push_ms, static_cast<unsigned long long>(push_requests), static_cast<unsigned long long>(push_hs),
              changes / (push_ms / 1000));
  std::printf("  server part of the push  %.0f ms wall, %.0f ms CPU of all its threads (verify, decode, apply, commit, reply: %.0f changes/s)\n",
              push_stats.ms, push_stats.cpu_ms, server_rate);
  std::printf("  raw SQLite inserts       %.0f ms for %llu rows (%.0f rows/s): the median of %d runs, %.0f to %.0f ms\n",
              raw_s * 1000, static_cast<unsigned long long>(changes), raw_rate, raw->runs, raw->min_s * 1000, raw->max_s * 1000);
  std::printf("  apply : raw ratio        %.2f (target >= 0.40); in CPU time %.2f\n", server_rate / raw_rate,
              (raw_cpu_s * 1000) / push_stats.cpu_ms);
  std::printf("  wire bytes (HTTP)        %.2f MB up, %.1f KB down; vs gzip of the CSV %.2f (target <= 2)\n", push_up / 1e6,
              push_down / 1e3, double(push_up) / double(csv_gzip));
  std::printf("  server peak memory       %.0f MB during the push (VmHWM of the server process; target <= 300 MB);\n"
              "                           peak after its pull %.0f MB, after the township pull %.0f MB, after the edit %.0f MB\n",
              push_stats.hwm_kb / 1024.0, pull_stats.hwm_kb / 1024.0, township_stats.hwm_kb / 1024.0, end_stats.hwm_kb / 1024.0);
  std::printf("  its pull (own ids)       %.0f ms, %.1f MB down\n", pull_ms, pull_down / 1e6);
  std::printf("  new device, township %s: %.0f ms, %llu persons, %.1f MB down\n", township.c_str(), township_ms,
              static_cast<unsigned long long>(township_entities), township_down / 1e6);
  std::printf("  one-field edit round trip %llu bytes of HTTP on the open connection (target <= 2048), %llu new handshakes;\n"
              "                           a TLS handshake on a fresh connection: %.1f ms\n",
              static_cast<unsigned long long>(edit_bytes), static_cast<unsigned long long>(edit_hs), handshake_ms);
  std::printf("  converged                %s\n", converged ? "yes" : "NO");
  return finish(converged ? 0 : 1);
}
