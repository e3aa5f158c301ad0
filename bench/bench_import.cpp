// bench_import: roster import on the device (SPEC §13: ≥ 20,000 persons/s from a roster CSV into an
// encrypted store), with the raw-SQLite reference measured in the same run on the same machine.
//
//   bench_import [--persons N] [--seed S] [--kdf-log2n K] [--data DIR] [--reimport] [--breakdown]
//                [--no-verify]
//
// Nothing is written to disk but a temporary folder (the store and the reference database), removed
// at exit. See bench/README.md.
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "roster_gen.hpp"
#include "tz/model/period.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/ops/lists.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/store/device_store.hpp"
#include "tz/util/civil_time.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/encoding.hpp"

#ifndef TZ_SOURCE_DATA_DIR
#define TZ_SOURCE_DATA_DIR "."
#endif
#ifndef TZ_BUILD_TYPE
#define TZ_BUILD_TYPE "unknown"
#endif

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kTargetPersonsPerSecond = 20000.0;
constexpr const char* kCounty = "522632";
constexpr const char* kPassphrase = "bench passphrase 台账";

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Process CPU time (user, system) in seconds, to tell computing from waiting (fsync) in a phase.
struct CpuTimes {
  double user = 0, sys = 0;
  static CpuTimes now() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return {static_cast<double>(u.ru_utime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec) * 1e-6,
            static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) * 1e-6};
  }
  CpuTimes operator-(const CpuTimes& o) const { return {user - o.user, sys - o.sys}; }
};

struct Options {
  size_t persons = 50000;
  uint64_t seed = 1;
  int kdf_log2n = 15;
  std::string data_dir;
  bool reimport = false;
  bool breakdown = false;
  bool verify = true;
};

void usage(const char* argv0) {
  std::cerr << "usage: " << argv0
            << " [--persons N (50000)] [--seed S (1)] [--kdf-log2n K (15)] [--data DIR] [--reimport] [--breakdown]"
               " [--no-verify]\n";
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    try {
      if (a == "--persons") {
        auto v = next();
        if (!v) return false;
        o.persons = std::stoull(v);
      } else if (a == "--seed") {
        auto v = next();
        if (!v) return false;
        o.seed = std::stoull(v);
      } else if (a == "--kdf-log2n") {
        auto v = next();
        if (!v) return false;
        o.kdf_log2n = std::stoi(v);
        if (o.kdf_log2n < 1 || o.kdf_log2n > 24) return false;
      } else if (a == "--data") {
        auto v = next();
        if (!v) return false;
        o.data_dir = v;
      } else if (a == "--reimport") {
        o.reimport = true;
      } else if (a == "--breakdown") {
        o.breakdown = true;
      } else if (a == "--no-verify") {
        o.verify = false;
      } else {
        return false;
      }
    } catch (const std::exception&) {
      return false;
    }
  }
  return true;
}

// The temporary folder, removed however the program ends (short of a signal).
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("tz-bench-import-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The (entity, field, value) rows the import writes, rebuilt from the roster: household (village,
// number), person (household ref, then each non-empty cell), job (person ref, then each cell). Used
// only as realistic payload for the raw reference; the count is then set to the import's own.
struct RawRow {
  std::string entity;  // 16 bytes
  int field;
  std::string value;
};

std::string entity_blob(uint64_t kind, uint64_t n) {
  std::string b(16, '\0');
  uint64_t x = (n + 1) * 0x9E3779B97F4A7C15ULL ^ (kind << 56);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(x >> (8 * i));
  x = x * 0xBF58476D1CE4E5B9ULL + kind;
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<char>(x >> (8 * i));
  return b;
}

std::string hex_of(const std::string& b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) out += d[c >> 4], out += d[c & 15];
  return out;
}

std::vector<RawRow> raw_rows(const tz::bench::Roster& roster, size_t want) {
  std::vector<RawRow> rows;
  rows.reserve(want + 16);
  std::map<std::string, std::string> households;
  size_t n = 0;
  for (auto& p : roster.persons) {
    auto [it, fresh] = households.emplace(p.village + "/" + p.household_no, entity_blob(1, households.size()));
    if (fresh) {
      rows.push_back({it->second, 1, p.village});
      rows.push_back({it->second, 2, p.household_no});
    }
    std::string person = entity_blob(2, n);
    auto add = [&](const std::string& e, int f, const std::string& v) {
      if (!v.empty()) rows.push_back({e, f, v});
    };
    add(person, 1, hex_of(it->second));
    add(person, 2, p.name);
    add(person, 3, p.id_number);
    add(person, 4, p.relation);
    add(person, 6, p.phone);
    add(person, 9, p.labour);
    add(person, 13, p.status);
    add(person, 14, p.willing);
    add(person, 17, p.returned);
    if (!p.bucket.empty()) {
      std::string job = entity_blob(3, n);
      add(job, 1, hex_of(person));
      add(job, 2, p.start_month);
      add(job, 4, p.months);
      add(job, 5, p.place);
      add(job, 6, p.bucket);
      add(job, 7, p.employer);
      add(job, 11, p.income);
      add(job, 15, p.organised);
      add(job, 17, p.p2p);
    }
    ++n;
  }
  if (rows.empty()) return rows;
  for (size_t i = 0; rows.size() < want; ++i) rows.push_back(rows[i]);
  rows.resize(want);
  return rows;
}

#define SQL_CHECK(db, expr)                                                          \
  do {                                                                               \
    int rc_ = (expr);                                                                \
    if (rc_ != SQLITE_OK && rc_ != SQLITE_DONE && rc_ != SQLITE_ROW) {               \
      std::fprintf(stderr, "raw sqlite: %s: %s\n", #expr, sqlite3_errmsg(db));       \
      return -1.0;                                                                   \
    }                                                                                \
  } while (0)

// Seconds to insert the rows into a fresh database: open, WAL + synchronous=FULL, one table, one
// transaction, one prepared INSERT; timed from open to the end of COMMIT. Negative on failure.
double raw_sqlite_insert(const fs::path& file, const std::vector<RawRow>& rows) {
  sqlite3* db = nullptr;
  auto t0 = Clock::now();
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "raw sqlite: cannot open %s\n", file.c_str());
    sqlite3_close(db);
    return -1.0;
  }
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close(db); }
  } closer{db};
  SQL_CHECK(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr));
  SQL_CHECK(db, sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr));
  SQL_CHECK(db, sqlite3_exec(db, "CREATE TABLE field_value(entity BLOB, field INTEGER, value TEXT)", nullptr, nullptr, nullptr));
  SQL_CHECK(db, sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr));
  sqlite3_stmt* st = nullptr;
  SQL_CHECK(db, sqlite3_prepare_v2(db, "INSERT INTO field_value(entity, field, value) VALUES (?, ?, ?)", -1, &st, nullptr));
  for (auto& r : rows) {
    sqlite3_bind_blob(st, 1, r.entity.data(), static_cast<int>(r.entity.size()), SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r.field);
    sqlite3_bind_text(st, 3, r.value.data(), static_cast<int>(r.value.size()), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
      std::fprintf(stderr, "raw sqlite: insert: %s\n", sqlite3_errmsg(db));
      sqlite3_finalize(st);
      return -1.0;
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  SQL_CHECK(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr));
  return seconds_since(t0);
}

void print_problems(const tz::ops::ImportReport& r, size_t max) {
  size_t shown = 0;
  for (auto& p : r.problems) {
    if (p.severity != tz::Severity::error) continue;
    if (shown++ == max) break;
    std::fprintf(stderr, "  line %zu, %s, %s: %s\n", p.line, p.column.c_str(), p.rule_id.c_str(), p.message_en.c_str());
  }
}

// The 1-minute load average: figures taken on a busy machine are not comparable.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  if (!(in >> one)) return "n/a";
  return one;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

int run(const Options& o) {
  std::string load_at_start = load_average();
  fs::path data_dir = o.data_dir.empty() ? tz::ops::default_data_dir(TZ_SOURCE_DATA_DIR) : fs::path(o.data_dir);
  auto resources_r = tz::ops::load_resources(data_dir);
  if (!resources_r) {
    std::fprintf(stderr, "bench_import: cannot load resources from %s: %s\n", data_dir.c_str(),
                 resources_r.error().message(tz::Lang::en).c_str());
    return 1;
  }
  std::shared_ptr<tz::ops::Resources> resources = *resources_r;
  auto tree_csv = resources->county_tree_csv(kCounty);
  if (!tree_csv) {
    std::fprintf(stderr, "bench_import: no region tree data/regions/trees/%s.csv under %s\n", kCounty, data_dir.c_str());
    return 1;
  }
  auto tree = tz::region::RegionTree::parse_csv(*tree_csv, kCounty).take();

  // The roster (not timed against the import; its generation time is shown apart).
  auto t_gen = Clock::now();
  tz::bench::RosterSpec spec;
  spec.seed = o.seed;
  spec.persons = o.persons;
  spec.villages = tz::bench::villages_of_tree(*tree_csv);
  spec.period_year = 2026;
  tz::bench::Roster roster = tz::bench::generate_roster(spec);
  std::string csv = tz::bench::roster_csv(roster, /*bom=*/true);
  double gen_s = seconds_since(t_gen);

  TempDir tmp;
  fs::path store_dir = tmp.path / "store";
  tz::StoreConfig config;
  config.county = kCounty;
  config.collectors = {"bench"};
  config.default_collector = "bench";
  config.period = *tz::make_period(2026, tz::CivilDate{2026, 11, 30});
  config.region_tree_csv = *tree_csv;
  config.region_tree_version = kCounty;
  tz::ScryptCost cost{1ULL << o.kdf_log2n, 8, 1};

  auto t_create = Clock::now();
  {
    auto created = tz::create_device_store(store_dir, kPassphrase, resources->schema, config, cost);
    if (!created) {
      std::fprintf(stderr, "bench_import: create store: %s\n", created.error().message(tz::Lang::en).c_str());
      return 1;
    }
  }
  double create_s = seconds_since(t_create);
  auto t_open = Clock::now();
  auto opened = tz::open_device_store(store_dir, kPassphrase, resources->schema);
  double open_s = seconds_since(t_open);
  if (!opened) {
    std::fprintf(stderr, "bench_import: open store: %s\n", opened.error().message(tz::Lang::en).c_str());
    return 1;
  }
  auto& store = **opened;

  tz::ops::ImportEnv env;
  env.resources = resources.get();
  env.tree = &tree;
  env.today = tz::CivilDate{2026, 11, 30};
  env.edit = tz::ops::EditContext{"bench", tz::china_midnight_ms(tz::CivilDate{2026, 11, 1}) + 10LL * 3600 * 1000};

  // Optional breakdown, before the import and apart from it: decoding, CSV parsing, and a dry run
  // (decode, parse, normalise, validate against the empty store; nothing staged or written).
  double decode_s = 0, parse_s = 0, dry_s = 0;
  if (o.breakdown) {
    auto t0 = Clock::now();
    auto text = tz::encoding::to_utf8(csv).take();
    decode_s = seconds_since(t0);
    t0 = Clock::now();
    auto parsed = tz::csv::parse(text).take();
    parse_s = seconds_since(t0);
    tz::ops::ImportOptions dry;
    dry.dry_run = true;
    t0 = Clock::now();
    auto r = tz::ops::import_roster(store, csv, env, dry);
    dry_s = seconds_since(t0);
    if (!r || r->written || r->error_count()) {
      std::fprintf(stderr, "bench_import: the dry run failed\n");
      return 1;
    }
  }

  ::sync();  // neither timed phase pays for the other's writeback
  auto cpu_import = CpuTimes::now();
  auto t_import = Clock::now();
  auto imported = tz::ops::import_roster(store, csv, env);
  double import_s = seconds_since(t_import);
  auto cpu_import_d = CpuTimes::now() - cpu_import;
  if (!imported) {
    std::fprintf(stderr, "bench_import: import failed: %s\n", imported.error().message(tz::Lang::en).c_str());
    return 1;
  }
  const auto& rep = *imported;
  if (!rep.written) {
    std::fprintf(stderr, "bench_import: import refused: %zu errors, %zu warnings; the first ones:\n", rep.error_count(),
                 rep.warning_count());
    print_problems(rep, 10);
    return 1;
  }

  // Reimport of the same bytes: must record nothing.
  double reimport_s = 0;
  size_t reimport_changes = 0;
  bool reimport_ok = true;
  if (o.reimport) {
    auto t_re = Clock::now();
    auto again = tz::ops::import_roster(store, csv, env);
    reimport_s = seconds_since(t_re);
    if (!again) {
      std::fprintf(stderr, "bench_import: re-import failed: %s\n", again.error().message(tz::Lang::en).c_str());
      return 2;
    }
    reimport_changes = again->changes;
    reimport_ok = reimport_changes == 0 && again->error_count() == 0;
  }

  // The lists the roster was built to give (not timed).
  struct ListCheck {
    const char* kind;
    size_t expected, got;
  };
  std::vector<ListCheck> checks;
  bool lists_ok = true;
  if (o.verify) {
    for (auto [kind, expected] : {std::pair{"employed", roster.employed}, {"unemployed", roster.unemployed},
                                  {"willing", roster.willing}, {"returned", roster.returned}}) {
      tz::ops::ListOptions lo;
      lo.kind = kind;
      auto t = tz::ops::make_list(store, *resources, &tree, lo);
      size_t got = t ? t->rows.size() : static_cast<size_t>(-1);
      checks.push_back({kind, expected, got});
      lists_ok = lists_ok && got == expected;
    }
  }
  opened->reset();

  // The raw reference: the same number of (entity, field, value) rows as the import recorded.
  auto rows = raw_rows(roster, rep.changes);
  ::sync();
  double raw_s = raw_sqlite_insert(tmp.path / "raw.db", rows);
  if (raw_s < 0) return 1;

  double persons_per_s = static_cast<double>(o.persons) / import_s;
  double changes_per_s = static_cast<double>(rep.changes) / import_s;
  double raw_rows_per_s = static_cast<double>(rows.size()) / raw_s;
  double changes_per_person = o.persons ? static_cast<double>(rep.changes) / static_cast<double>(o.persons) : 0;
  double raw_persons_per_s = changes_per_person > 0 ? raw_rows_per_s / changes_per_person : 0;

  std::printf("== bench_import: roster CSV -> encrypted device store (SPEC §13) ==\n");
  std::printf("configuration\n");
  std::printf("  persons (N)              %zu (%zu households), seed %llu\n", o.persons, roster.households,
              static_cast<unsigned long long>(o.seed));
  std::printf("  roster                   %zu bytes, UTF-8 with BOM, 18 columns; generated in %.2f s (not timed)\n",
              csv.size(), gen_s);
  std::printf("  SQLite                   %s, PRAGMA journal_mode=WAL synchronous=FULL (store and raw reference)\n",
              sqlite3_libversion());
  std::printf("  KDF                      scrypt N=2^%d r=8 p=1\n", o.kdf_log2n);
  std::printf("  TLS                      n/a\n");
  std::printf("  CPUs                     %u (1-min load average at start %s)\n", std::thread::hardware_concurrency(),
              load_at_start.c_str());
  std::printf("  build type               %s\n", TZ_BUILD_TYPE);
  std::printf("results\n");
  std::printf("  store create             %.1f ms (includes one scrypt)\n", create_s * 1000);
  std::printf("  KDF open                 %.1f ms (open_device_store, reported apart from the import)\n", open_s * 1000);
  std::printf("  import                   %.3f s end to end (decode, parse, validate, write, commit)\n", import_s);
  std::printf("  import CPU               %.3f s user + %.3f s system; %.3f s off CPU (waiting, e.g. fsync)\n",
              cpu_import_d.user, cpu_import_d.sys, std::max(0.0, import_s - cpu_import_d.user - cpu_import_d.sys));
  if (o.breakdown)
    std::printf("  breakdown (apart)        decode %.3f s, CSV parse %.3f s, dry run (decode+parse+normalise+validate) %.3f s;"
                " so stage+write+commit ~ %.3f s\n",
                decode_s, parse_s, dry_s, import_s - dry_s);
  std::printf("  persons/s                %.0f\n", persons_per_s);
  std::printf("  rows / created           %zu rows; %zu households, %zu persons, %zu jobs; %zu warnings\n", rep.rows,
              rep.households_created, rep.persons_created, rep.jobs_created, rep.warning_count());
  std::printf("  field changes            %zu (%.1f per person)\n", rep.changes, changes_per_person);
  std::printf("  changes/s                %.0f\n", changes_per_s);
  std::printf("  raw SQLite rows/s        %.0f (%zu rows in %.3f s) = %.0f persons/s equivalent\n", raw_rows_per_s,
              rows.size(), raw_s, raw_persons_per_s);
  std::printf("  ratio persons/s : target %s (%.0f / 20000)  %s\n", fmt("%.2f", persons_per_s / kTargetPersonsPerSecond).c_str(),
              persons_per_s, persons_per_s >= kTargetPersonsPerSecond ? "MEETS" : "BELOW TARGET");
  std::printf("  ratio changes/s : raw    %.2f (%.0f / %.0f)\n", changes_per_s / raw_rows_per_s, changes_per_s, raw_rows_per_s);
  if (o.reimport)
    std::printf("  re-import                %.3f s, %zu changes recorded  %s\n", reimport_s, reimport_changes,
                reimport_ok ? "OK" : "FAIL (expected 0)");
  if (o.verify) {
    std::printf("  list check              ");
    for (auto& c : checks) std::printf(" %s %zu/%zu", c.kind, c.got, c.expected);
    std::printf("  %s\n", lists_ok ? "OK" : "MISMATCH");
  }
  std::fflush(stdout);
  if (!reimport_ok) return 2;
  if (!lists_ok) return 3;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) {
    usage(argv[0]);
    return 64;
  }
  try {
    return run(o);
  } catch (const tz::Failure& f) {
    std::fprintf(stderr, "bench_import: %s\n", f.error().message(tz::Lang::en).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_import: %s\n", e.what());
  }
  return 1;
}
