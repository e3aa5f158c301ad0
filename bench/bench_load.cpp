// Load (SPEC §13, issue "hostile input and load"): N simulated devices syncing concurrently with the
// real `sync-server serve` over loopback HTTPS for a bounded time, each a real encrypted device store
// enrolled by its own token for its own village, pushing its roster, then adding 摸查走访 visits and
// syncing (retry with backoff, ops::sync_with_retry, as field-cli sync) until the time is up; the
// generator stops by itself. Meanwhile K stalled clients hold TCP connections open without a word
// (and K slow ones dribble a TLS ClientHello), to show that they cannot take the server's workers.
//
// Reported: syncs, failed syncs (must be 0), retries, p50/p90/p99/max sync latency, throughput
// (syncs/s, changes/s), the server's peak memory (VmHWM of the serve process) and threads. Checked:
// no lost writes (after a final sync every device's acknowledged sequence is its last one, and its
// scope digest equals the server's for its village).
//
//   bench_load [--devices 200] [--seconds 30] [--stalled 32] [--persons 20] [--think-ms 200]
//              [--threads N] [--max-threads M] [--data DIR]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "bench_common.hpp"
#include "process.hpp"
#include "roster_gen.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/net/http.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/enrol.hpp"
#include "tz/ops/resources.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"

namespace fs = std::filesystem;
using namespace tz::bench;

namespace {

struct Args {
  size_t devices = 200;
  int seconds = 30;
  size_t stalled = 32;
  size_t persons = 20;
  int think_ms = 200;
  size_t threads = 0;      // 0: the server's default
  size_t max_threads = 0;  // 0: the server's default
  std::string data = TZ_SOURCE_DATA_DIR;
};

std::optional<Args> parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    auto v = next();
    if (!v) {
      std::cerr << "usage: bench_load [--devices N] [--seconds S] [--stalled K] [--persons P] [--think-ms T] [--threads W] [--max-threads M] [--data DIR]\n";
      return std::nullopt;
    }
    if (k == "--devices") a.devices = std::stoul(*v);
    else if (k == "--seconds") a.seconds = std::stoi(*v);
    else if (k == "--stalled") a.stalled = std::stoul(*v);
    else if (k == "--persons") a.persons = std::stoul(*v);
    else if (k == "--think-ms") a.think_ms = std::stoi(*v);
    else if (k == "--threads") a.threads = std::stoul(*v);
    else if (k == "--max-threads") a.max_threads = std::stoul(*v);
    else if (k == "--data") a.data = *v;
    else {
      std::cerr << "unknown option " << k << "\n";
      return std::nullopt;
    }
  }
  return a;
}

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// Each device's roster: the rows of its village from one county roster (so that IDs never collide).
std::map<std::string, std::string> split_by_village(const std::string& csv) {
  std::map<std::string, std::string> out;
  std::istringstream in(csv);
  std::string header, line;
  std::getline(in, header);
  while (std::getline(in, line)) {
    std::string first;  // the village code, written as a CSV-quoted ="…" text guard
    for (char c : line.substr(0, line.find(',')))
      if (c >= '0' && c <= '9') first.push_back(c);
    auto& rows = out[first];
    if (rows.empty()) rows = header + "\n";
    rows += line + "\n";
  }
  return out;
}

// One 摸查走访 visit to one of the store's persons, saved as field-cli `add visit` saves it
// (ops::save_drafts: validated, one transaction). False (and the first problem printed) when refused.
bool add_one_visit(tz::DeviceStore& store, const tz::ValidationContext& vc, const std::vector<tz::EntityId>& persons,
                   std::mt19937_64& rng) {
  const auto& vs = store.schema().entity(tz::EntityType::visit);
  tz::FieldValues v;
  v[vs.require("subject_id").id] = persons[rng() % persons.size()].hex();
  v[vs.require("date").id] = "2026-11-" + std::to_string(10 + rng() % 10);
  v[vs.require("method").id] = "01";
  v[vs.require("visitor").id] = "驻村队员";
  v[vs.require("note").id] = "本人在家，核实务工情况，信息无变化";
  std::vector<tz::ops::Draft> drafts{{tz::EntityType::visit, tz::crypto::random_entity_id(), std::move(v)}};
  auto r = tz::ops::save_drafts(store, drafts, {"驻村队员", tz::china_midnight_ms({2026, 11, 20})}, vc);
  if (r && r->saved) return true;
  std::fprintf(stderr, "visit: %s\n", !r ? r.error().message(tz::Lang::en).c_str()
                                          : r->problems.empty() ? "not saved" : r->problems.front().second.message_en.c_str());
  return false;
}

struct DeviceRun {
  fs::path dir;
  std::string village;
  std::string roster;
  std::unique_ptr<tz::DeviceStore> store;
  std::vector<double> latencies_ms;
  uint64_t syncs = 0, failed = 0, retries = 0, changes_made = 0;
  std::string first_error;
};

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  auto args = parse(argc, argv);
  if (!args) return 64;
  const std::string load = load_average();
  fs::path dir = fs::temp_directory_path() / ("tz-bench-load-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string data = (dir / "server").string();
  const std::map<std::string, std::string> env{{"TAIZHANG_DATA_DIR", args->data}, {"TAIZHANG_LANG", "en"}};
  auto admin = [&](std::vector<std::string> a) {
    a.push_back("--data");
    a.push_back(data);
    auto r = tz::test::run_process(SYNC_SERVER_PATH, a, env);
    if (r.exit_code != 0) std::cerr << "sync-server " << a.front() << ": " << r.out << r.err;
    return r;
  };
  auto cleanup = [&](int code) {
    fs::remove_all(dir);
    return code;
  };
  if (admin({"init", "--county", "522632", "--name", "榕江县"}).exit_code != 0) return cleanup(1);
  if (admin({"period", "set", "2026", "--as-of", "2026-11-30"}).exit_code != 0) return cleanup(1);

  auto res = tz::ops::load_resources(args->data).take();
  const std::string tree_csv = res->county_tree_csv("522632").value();
  auto villages = villages_of_tree(tree_csv);
  if (villages.size() < args->devices) {
    std::cerr << "the county has " << villages.size() << " villages; at most that many devices\n";
    return cleanup(64);
  }
  villages.resize(args->devices);
  RosterSpec spec;
  spec.seed = 7;
  spec.persons = args->devices * args->persons;
  spec.villages = villages;
  auto rosters = split_by_village(roster_csv(generate_roster(spec)));

  // Tokens first (the admin command, as a county admin would make them), then serve.
  std::vector<std::string> tokens;
  for (auto& v : villages) {
    auto r = admin({"token", "create", "--scope", v, "--collector", "驻村队员"});
    if (r.exit_code != 0) return cleanup(1);
    tokens.push_back(last_line(r.out));
  }
  std::vector<std::string> serve_args{"serve", "--listen", "127.0.0.1:0", "--json", "--data", data};
  if (args->threads) {
    serve_args.push_back("--threads");
    serve_args.push_back(std::to_string(args->threads));
  }
  if (args->max_threads) {
    serve_args.push_back("--max-threads");
    serve_args.push_back(std::to_string(args->max_threads));
  }
  tz::test::Background server(SYNC_SERVER_PATH, serve_args, env);
  auto hello = server.wait_for_line("\"url\"");
  if (!hello) {
    std::cerr << "serve did not start: " << server.output() << server.stop().err;
    return cleanup(1);
  }
  auto j = nlohmann::json::parse(*hello);
  const std::string url = j["url"];
  const int port = j["port"];
  const std::string sign_pub = *tz::crypto::from_hex(j["server_sign_pub"].get<std::string>());

  // The devices: created, enrolled over HTTPS, their village's roster imported.
  const tz::ScryptCost cost{1ULL << 10, 8, 1};
  std::vector<DeviceRun> devs(args->devices);
  auto t_setup = Clock::now();
  for (size_t i = 0; i < devs.size(); ++i) {
    auto& d = devs[i];
    d.dir = dir / ("device" + std::to_string(i));
    d.village = villages[i];
    d.roster = rosters[villages[i]];
    tz::StoreConfig cfg = bench_store_config(tree_csv);
    cfg.collectors = {"驻村队员"};
    cfg.default_collector = "驻村队员";
    d.store = tz::create_device_store(d.dir, "bench passphrase", res->schema, cfg, cost).take();
    tz::net::HttpTransport t(url, sign_pub);
    auto enrolled = tz::ops::enrol_store(*d.store, tokens[i], url, [&](std::string_view f) { return t.post("/api/v1/enrol", f); });
    if (!enrolled) {
      std::cerr << "enrol " << i << ": " << enrolled.error().message(tz::Lang::en) << "\n";
      server.stop();
      return cleanup(1);
    }
    if (d.roster.size() > 1) {
      tz::ops::ImportEnv ienv;
      ienv.resources = res.get();
      auto tree = tz::region::RegionTree::parse_csv(tree_csv, "shipped").take();
      ienv.tree = &tree;
      ienv.today = {2026, 11, 30};
      ienv.edit = {"驻村队员", tz::china_midnight_ms({2026, 11, 1})};
      auto r = tz::ops::import_roster(*d.store, d.roster, ienv);
      if (!r || !r->written) {
        std::cerr << "import " << i << " failed\n";
        server.stop();
        return cleanup(1);
      }
    }
  }
  const double setup_s = ms_since(t_setup) / 1000;

  // The stalled and slow clients, held for the whole run.
  std::vector<int> stalled;
  for (size_t i = 0; i < args->stalled; ++i)
    if (int fd = tz::test::open_stalled_client(port, i % 2 == 1 ? std::string_view("\x16\x03\x01", 3) : std::string_view()); fd >= 0)
      stalled.push_back(fd);

  std::atomic<bool> stop{false};
  std::atomic<long> peak_threads{0};
  const int server_pid = server.pid();
  std::thread watcher([&] {
    while (!stop.load()) {
      long th = static_cast<long>(proc_status_kb("Threads", "/proc/" + std::to_string(server_pid) + "/status"));
      long cur = peak_threads.load();
      if (th > cur) peak_threads.store(th);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });

  const int64_t deadline = steady_now_ms() + int64_t{args->seconds} * 1000;
  auto t_load = Clock::now();
  std::vector<std::thread> workers;
  for (size_t i = 0; i < devs.size(); ++i) {
    workers.emplace_back([&, i] {
      auto& d = devs[i];
      tz::net::ClientOptions copt;
      copt.read_timeout_s = 60;
      tz::net::HttpTransport t(url, sign_pub, copt);
      auto id = d.store->identity().value();
      tz::ops::DeviceSyncOptions opt;
      opt.signer = tz::ops::RequestSigner{d.store->info().device, id.sign_priv};
      tz::ops::DeviceSync ds(*d.store, t, [] { return tz::china_midnight_ms({2026, 11, 20}); }, opt);
      tz::ops::RetryPolicy policy;
      policy.timeout_ms = 120000;
      tz::ops::RetryHooks hooks;
      hooks.steady_ms = steady_now_ms;
      hooks.sleep = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
      hooks.on_retry = [&](const tz::Error&, int64_t) { ++d.retries; };
      auto tree = tz::region::RegionTree::parse_csv(tree_csv, "shipped").take();
      const tz::ValidationContext vc = bench_validation(*res, tree);
      std::vector<tz::EntityId> persons;
      d.store->scan_flags(tz::EntityType::person, [&](const tz::EntityId& e, const std::string&, uint32_t) { persons.push_back(e); });
      std::mt19937_64 rng(i + 1);
      auto one_sync = [&]() {
        auto t0 = Clock::now();
        auto r = tz::ops::sync_with_retry(ds, d.store->info().device, policy, hooks);
        d.latencies_ms.push_back(ms_since(t0));
        ++d.syncs;
        if (!r.result) {
          ++d.failed;
          if (d.first_error.empty()) d.first_error = r.result.error().message(tz::Lang::en);
        }
      };
      bool last = false;
      while (!last) {
        last = steady_now_ms() >= deadline;
        if (!last && d.syncs > 0 && !persons.empty()) {
          const uint64_t before = d.store->info().next_seq;
          if (!add_one_visit(*d.store, vc, persons, rng)) ++d.failed;
          d.changes_made += d.store->info().next_seq - before;
        }
        one_sync();
        if (!last && args->think_ms > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(rng() % static_cast<uint64_t>(args->think_ms + 1))));
      }
    });
  }
  for (auto& w : workers) w.join();
  const double load_s = ms_since(t_load) / 1000;
  stop = true;
  watcher.join();
  const long server_hwm_kb = static_cast<long>(proc_status_kb("VmHWM", "/proc/" + std::to_string(server_pid) + "/status"));
  for (int fd : stalled) ::close(fd);
  auto stopped = server.stop();

  // No lost writes: every device's changes acknowledged, and its village's digest equal to the server's.
  uint64_t syncs = 0, failed = 0, retries = 0, changes = 0, unacked = 0, digest_mismatch = 0;
  std::vector<double> lat;
  std::string first_error;
  {
    auto s = tz::sync::open_sqlite_server_store(data).take();
    tz::sync::SyncServer srv(*s, res->schema, tz::ValidationContext{}, [] { return tz::china_midnight_ms({2026, 11, 20}); });
    for (auto& d : devs) {
      syncs += d.syncs;
      failed += d.failed;
      retries += d.retries;
      changes += d.changes_made;
      lat.insert(lat.end(), d.latencies_ms.begin(), d.latencies_ms.end());
      if (first_error.empty()) first_error = d.first_error;
      auto info = d.store->info();
      if (info.acked_seq + 1 != info.next_seq) ++unacked;
      const tz::sync::Scope scope{d.village};
      if (tz::ops::device_scope_digest(*d.store, scope) != srv.scope_digest(scope)) ++digest_mismatch;
    }
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))]; };

  std::printf("== bench_load: %zu devices syncing concurrently with sync-server serve over loopback HTTPS ==\n", devs.size());
  std::printf("configuration\n");
  std::printf("  devices                  %zu, one village each, %zu persons a village (roster imported, pushed at the first sync)\n",
              devs.size(), args->persons);
  std::printf("  load                     %d s: add one 摸查走访 visit, sync (ops::sync_with_retry: doubling waits with jitter), think 0-%d ms\n",
              args->seconds, args->think_ms);
  std::printf("  hostile clients          %zu held open the whole run (half silent, half a started TLS record)\n", stalled.size());
  std::printf("  server                   sync-server serve, threads %s, max threads %s, SQLite WAL synchronous=FULL; CPUs %u; load average at start %s\n",
              args->threads ? std::to_string(args->threads).c_str() : "default",
              args->max_threads ? std::to_string(args->max_threads).c_str() : "default", std::thread::hardware_concurrency(), load.c_str());
  std::printf("  setup                    %.1f s (stores, enrolment over HTTPS, imports)\n", setup_s);
  std::printf("results\n");
  std::printf("  syncs                    %llu in %.1f s (%.1f syncs/s), failed %llu, retries %llu\n", (unsigned long long)syncs,
              load_s, syncs / load_s, (unsigned long long)failed, (unsigned long long)retries);
  std::printf("  changes made and synced  %llu (%.0f changes/s besides the initial rosters)\n", (unsigned long long)changes,
              changes / load_s);
  std::printf("  sync latency             p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms\n", pct(0.50), pct(0.90), pct(0.99),
              lat.empty() ? 0.0 : lat.back());
  std::printf("  server                   peak memory (VmHWM) %.0f MB, peak threads %ld, exit %d\n", server_hwm_kb / 1024.0,
              peak_threads.load(), stopped.exit_code);
  std::printf("  lost writes              %llu devices with unacknowledged changes, %llu scope digests unequal\n",
              (unsigned long long)unacked, (unsigned long long)digest_mismatch);
  if (!first_error.empty()) std::printf("  first failure            %s\n", first_error.c_str());
  const bool ok = failed == 0 && unacked == 0 && digest_mismatch == 0;
  std::printf("  verdict                  %s\n", ok ? "no failed sync, no lost writes" : "FAILED");
  return cleanup(ok ? 0 : 1);
}
