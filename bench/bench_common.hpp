// Helpers the sync benchmarks share: timers, gzip size, /proc figures and the raw SQLite reference
// (SPEC §13: the server's apply rate is reported as a ratio to raw inserts of the same rows, measured
// in the same run with the same synchronous setting).
#pragma once

#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <random>

#include "tz/crypto/natural_keys.hpp"
#include "tz/model/ids.hpp"
#include "tz/model/period.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/store/device_store.hpp"
#include "tz/sync/server_store.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
// A clock_gettime clock in ms.
inline double clock_ms(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
// CPU time of the process in ms: the work's own CPU time on every thread, without the time it
// waited for the disk or for other processes on a shared machine.
inline double cpu_ms() { return clock_ms(CLOCK_PROCESS_CPUTIME_ID); }
// CPU time of the calling thread in ms: with work handed to other threads (decisions 135, 138), the
// part the request's own thread does, which bounds its wall time from below (decision 139).
inline double thread_cpu_ms() { return clock_ms(CLOCK_THREAD_CPUTIME_ID); }

inline size_t gzip_size(const std::string& s) {
  uLongf n = compressBound(static_cast<uLong>(s.size()));
  std::string out(n, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(s.data()), static_cast<uLong>(s.size()), 6);
  return n;
}

// A /proc/self/status figure in kB (VmRSS, VmHWM), 0 when unavailable.
inline uint64_t proc_status_kb(const char* key, const std::string& status_file = "/proc/self/status") {
  std::ifstream in(status_file);
  std::string line;
  size_t n = std::strlen(key);
  while (std::getline(in, line))
    if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':') return std::stoull(line.substr(n + 1));
  return 0;
}
// Resets VmHWM to the current RSS (Linux ≥ 4.0), so the peak of one phase can be read apart.
inline void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

struct RawRow {
  tz::EntityId entity;
  int field;
  std::string value;
};

// A raw sqlite3 connection, closed with the statements kept in it when it goes out of scope.
struct RawDb {
  sqlite3* db = nullptr;
  std::vector<sqlite3_stmt*> statements;
  RawDb() = default;
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() {
    for (auto* st : statements) sqlite3_finalize(st);
    sqlite3_close(db);
  }
};

// Seconds to insert the rows into a fresh database: open, WAL + synchronous=FULL, one table, one
// transaction, one prepared INSERT; timed from open to the end of COMMIT (as bench_import). -1 on failure.
inline double raw_sqlite_insert(const fs::path& file, const std::vector<RawRow>& rows, double* cpu) {
  auto t0 = Clock::now();
  double c0 = cpu_ms();
  RawDb raw;
  if (sqlite3_open(file.c_str(), &raw.db) != SQLITE_OK) return -1.0;
  sqlite3* db = raw.db;
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                          "CREATE TABLE field_value(entity BLOB, field INTEGER, value TEXT)", "BEGIN"})
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO field_value(entity, field, value) VALUES (?, ?, ?)", -1, &st, nullptr) != SQLITE_OK)
    return -1.0;
  raw.statements.push_back(st);
  for (auto& r : rows) {
    auto e = r.entity.view();
    sqlite3_bind_blob(st, 1, e.data(), static_cast<int>(e.size()), SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r.field);
    sqlite3_bind_text(st, 3, r.value.data(), static_cast<int>(r.value.size()), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) return -1.0;
    sqlite3_reset(st);
  }
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
  *cpu = (cpu_ms() - c0) / 1000;
  return ms_since(t0) / 1000;
}

// The raw reference run `runs` times, each into a fresh file, and the run of median wall time kept:
// one run of about a second moved the ratio by ±0.1 with the host's speed from one minute to the
// next (decision 140). nullopt on failure.
struct RawReference {
  double s = 0, cpu_s = 0;      // the median run: wall and CPU seconds
  double min_s = 0, max_s = 0;  // the fastest and slowest runs
  int runs = 0;
};
// Runs `run(i, &cpu)` (wall seconds, -1 on failure) `runs` times and keeps the run of median wall time.
template <typename Run>
inline std::optional<RawReference> median_run(int runs, Run run) {
  std::vector<std::pair<double, double>> timed;  // (wall, CPU) of each run
  for (int i = 0; i < runs; ++i) {
    double cpu = 0;
    const double s = run(i, &cpu);
    if (s < 0) return std::nullopt;
    timed.emplace_back(s, cpu);
  }
  if (timed.empty()) return std::nullopt;
  std::sort(timed.begin(), timed.end());
  RawReference r;
  r.s = timed[timed.size() / 2].first;
  r.cpu_s = timed[timed.size() / 2].second;
  r.min_s = timed.front().first;
  r.max_s = timed.back().first;
  r.runs = static_cast<int>(timed.size());
  return r;
}
// Removes a SQLite file with its WAL and shared-memory files.
inline void remove_sqlite_file(const fs::path& file) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
}
inline std::optional<RawReference> raw_reference(const fs::path& dir, const std::vector<RawRow>& rows, int runs = 3) {
  return median_run(runs, [&](int i, double* cpu) {
    const fs::path file = dir / ("raw-" + std::to_string(i) + ".db");
    const double s = raw_sqlite_insert(file, rows, cpu);
    remove_sqlite_file(file);
    return s;
  });
}

// The storage floor (decision 146): the rows the push left in the server's file, written again by
// raw SQLite into a fresh file with the server's own tables, indexes and pragmas, in as many
// transactions as the push had requests, with no decoding, checking, merging or encoding: what the
// server's storage layout costs by itself. Each table's rows are taken in the order the server
// wrote them (entities by arrival, links and match keys by their entity's arrival, blocks and log
// rows by sequence), so the random-keyed trees are filled as the push filled them; transaction k
// writes the k-th share of every table. Run `runs` times, the median kept. nullopt on failure.
struct StorageFloor {
  RawReference timing;
  uint64_t rows = 0, bytes = 0;  // what was written: rows and the bytes of their values
  int tables = 0;
};
inline std::optional<StorageFloor> storage_floor(const fs::path& server_db, const fs::path& dir, size_t transactions,
                                                 int runs = 3) {
  struct Table {
    std::string name, create;           // the server's CREATE statement, then its indexes'
    std::vector<std::string> indexes;
    int columns = 0;
    struct Cell {
      int type = SQLITE_NULL;
      int64_t i = 0;
      double d = 0;
      std::string bytes;  // text or blob
    };
    std::vector<std::vector<Cell>> rows;
  };
  // (table, how to read it in the order the server wrote it)
  const std::vector<std::pair<std::string, std::string>> reads = {
      {"entities", "SELECT * FROM entities ORDER BY n"},
      {"change_blocks", "SELECT * FROM change_blocks ORDER BY first_seq, device"},
      {"log", "SELECT * FROM log ORDER BY seq"},
      {"links", "SELECT * FROM links ORDER BY child, parent"},
      {"match_keys", "SELECT * FROM match_keys ORDER BY n"},
      {"audit", "SELECT * FROM audit ORDER BY seq"},
  };
  StorageFloor out;
  std::vector<Table> tables;
  {
    RawDb source;
    if (sqlite3_open_v2(server_db.c_str(), &source.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return std::nullopt;
    sqlite3* src = source.db;
    for (auto& [name, select] : reads) {
      Table t;
      t.name = name;
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(src, "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC",
                             -1, &st, nullptr) != SQLITE_OK)
        return std::nullopt;
      sqlite3_bind_text(st, 1, name.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(st) == SQLITE_ROW) {
        std::string type = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        std::string sql = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
        if (type == "table") t.create = sql;
        else t.indexes.push_back(sql);
      }
      sqlite3_finalize(st);
      if (t.create.empty() || sqlite3_prepare_v2(src, select.c_str(), -1, &st, nullptr) != SQLITE_OK) return std::nullopt;
      t.columns = sqlite3_column_count(st);
      while (sqlite3_step(st) == SQLITE_ROW) {
        auto& row = t.rows.emplace_back();
        for (int c = 0; c < t.columns; ++c) {
          auto& cell = row.emplace_back();
          cell.type = sqlite3_column_type(st, c);
          if (cell.type == SQLITE_INTEGER) cell.i = sqlite3_column_int64(st, c);
          else if (cell.type == SQLITE_FLOAT) cell.d = sqlite3_column_double(st, c);
          else if (cell.type != SQLITE_NULL) {
            const void* p = cell.type == SQLITE_BLOB ? sqlite3_column_blob(st, c) : sqlite3_column_text(st, c);
            if (p) cell.bytes.assign(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(st, c)));
          }
          out.bytes += cell.type == SQLITE_INTEGER || cell.type == SQLITE_FLOAT ? 8 : cell.bytes.size();
        }
      }
      sqlite3_finalize(st);
      out.rows += t.rows.size();
      tables.push_back(std::move(t));
    }
  }
  out.tables = static_cast<int>(tables.size());
  transactions = std::max<size_t>(transactions, 1);
  auto write = [&](const fs::path& file, double* cpu) -> double {
    auto t0 = Clock::now();
    double c0 = cpu_ms();
    RawDb target;
    if (sqlite3_open(file.c_str(), &target.db) != SQLITE_OK) return -1.0;
    sqlite3* db = target.db;
    if (sqlite3_exec(db, tz::sync::kSqliteServerStorePragmas, nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
    for (auto& t : tables) {
      if (sqlite3_exec(db, t.create.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
      for (auto& ix : t.indexes)
        if (sqlite3_exec(db, ix.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
      std::string sql = "INSERT INTO " + t.name + " VALUES (";
      for (int c = 0; c < t.columns; ++c) sql += c ? ", ?" : "?";
      sql += ")";
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return -1.0;
      target.statements.push_back(st);
    }
    for (size_t k = 0; k < transactions; ++k) {
      if (sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
      for (size_t ti = 0; ti < tables.size(); ++ti) {
        auto& t = tables[ti];
        sqlite3_stmt* st = target.statements[ti];
        const size_t from = t.rows.size() * k / transactions, to = t.rows.size() * (k + 1) / transactions;
        for (size_t r = from; r < to; ++r) {
          for (int c = 0; c < t.columns; ++c) {
            const auto& cell = t.rows[r][c];
            const int n = static_cast<int>(cell.bytes.size());
            if (cell.type == SQLITE_NULL) sqlite3_bind_null(st, c + 1);
            else if (cell.type == SQLITE_INTEGER) sqlite3_bind_int64(st, c + 1, cell.i);
            else if (cell.type == SQLITE_FLOAT) sqlite3_bind_double(st, c + 1, cell.d);
            else if (cell.type == SQLITE_TEXT) sqlite3_bind_text(st, c + 1, cell.bytes.data(), n, SQLITE_STATIC);
            else sqlite3_bind_blob(st, c + 1, cell.bytes.data(), n, SQLITE_STATIC);
          }
          if (sqlite3_step(st) != SQLITE_DONE) return -1.0;
          sqlite3_reset(st);
        }
      }
      if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
    }
    *cpu = (cpu_ms() - c0) / 1000;
    return ms_since(t0) / 1000;
  };
  auto timing = median_run(runs, [&](int i, double* cpu) {
    const fs::path file = dir / ("floor-" + std::to_string(i) + ".db");
    const double s = write(file, cpu);
    remove_sqlite_file(file);
    return s;
  });
  if (!timing) return std::nullopt;
  out.timing = *timing;
  return out;
}

// Each person's 摸查走访 records (schema entity `visit`) added after the roster import, as field-cli
// `add visit` saves them (ops::save_drafts: validated, one write transaction per `chunk` persons):
// `per_person` visits in the period year before the as-of date, each with its subject, date, method,
// visitor and a note. Deterministic contents for a seed (the ids are random, as on a device).
// Returns the number of visits written, or -1 when a save fails (the first problem printed). With
// `csv`, appends the visits to it as CSV rows (subject, date, method, visitor, note), so that the
// wire bytes are compared with gzip of a CSV that holds the same values.
inline long long add_visits(tz::DeviceStore& store, const tz::ValidationContext& ctx, const tz::ops::EditContext& edit,
                            uint64_t seed, std::string* csv = nullptr, int per_person = 2, size_t chunk = 2000) {
  const auto& vs = store.schema().entity(tz::EntityType::visit);
  const tz::FieldId f_subject = vs.require("subject_id").id, f_date = vs.require("date").id,
                    f_method = vs.require("method").id, f_visitor = vs.require("visitor").id, f_note = vs.require("note").id;
  std::vector<tz::EntityId> persons;
  store.scan_flags(tz::EntityType::person, [&](const tz::EntityId& e, const std::string&, uint32_t) { persons.push_back(e); });
  static const char* const kNotes[] = {
      "本人在家，核实务工情况，信息无变化",
      "电话联系本人，已在外务工，工资按月发放",
      "家属代为说明，本人在省外务工，春节返乡",
      "本人有外出务工意愿，已登记岗位需求并推送招聘信息",
      "本人因照顾老人暂不外出，有就近就业意愿",
      "已返乡，正在联系县内企业，需跟踪",
      "宣传就业补贴和技能培训政策，本人有意参加培训",
      "本人身体状况一般，暂无务工意愿",
      "微信联系，本人在县内务工，收入稳定",
      "核实家庭人口与联系方式，已更新"};
  std::mt19937_64 rng(seed ^ 0x7669736974ULL);  // "visit"
  auto draw = [&](uint64_t n) { return static_cast<uint64_t>(rng() % n); };
  long long written = 0;
  std::vector<tz::ops::Draft> drafts;
  auto flush = [&]() -> bool {
    if (drafts.empty()) return true;
    auto r = tz::ops::save_drafts(store, drafts, edit, ctx);
    if (!r || !r->saved) {
      if (!r) std::fprintf(stderr, "visits: %s\n", r.error().message(tz::Lang::en).c_str());
      else if (!r->problems.empty()) std::fprintf(stderr, "visits: %s\n", r->problems.front().second.message_en.c_str());
      return false;
    }
    written += static_cast<long long>(drafts.size());
    drafts.clear();
    return true;
  };
  const int last_month = ctx.today.month;
  for (size_t i = 0; i < persons.size(); ++i) {
    for (int k = 0; k < per_person; ++k) {
      // Spread over the year up to the as-of date: visit k of n falls in its share of the months.
      int lo = 1 + (last_month * k) / per_person, hi = std::max(lo, (last_month * (k + 1)) / per_person);
      int month = lo + static_cast<int>(draw(static_cast<uint64_t>(hi - lo + 1)));
      int day = 1 + static_cast<int>(draw(28));
      if (month == ctx.today.month && day > ctx.today.day) day = ctx.today.day;
      uint64_t m = draw(100);
      const char* method = m < 70 ? "01" : m < 88 ? "02" : m < 98 ? "03" : "99";
      tz::FieldValues v;
      v[f_subject] = persons[i].hex();
      v[f_date] = tz::format_date(tz::CivilDate{ctx.today.year, month, day});
      v[f_method] = method;
      v[f_visitor] = edit.collector;
      v[f_note] = kNotes[draw(std::size(kNotes))];
      if (csv) {
        for (tz::FieldId f : {f_subject, f_date, f_method, f_visitor, f_note}) {
          csv->append(v[f]);
          csv->push_back(f == f_note ? '\n' : ',');
        }
      }
      drafts.push_back(tz::ops::Draft{tz::EntityType::visit, tz::crypto::random_entity_id(), std::move(v)});
    }
    if ((i + 1) % chunk == 0 && !flush()) return -1;
  }
  return flush() ? written : -1;
}

// The validation context of the benchmark county (period 2026 as of 2026-11-30), as a device or the
// server validates with.
inline tz::ValidationContext bench_validation(const tz::ops::Resources& res, const tz::region::RegionTree& tree) {
  tz::ValidationContext vc;
  vc.today = {2026, 11, 30};
  vc.period_year = 2026;
  vc.settings = &res.schema.settings();
  vc.counties = &res.counties;
  vc.tree = &tree;
  return vc;
}

// A benchmark device store filled: the roster imported, then (when asked) each person's 摸查走访
// visits added (also appended to csv, so the wire bytes are compared with the same values).
struct BenchFill {
  bool ok = false;
  uint64_t roster_changes = 0;
  long long visits = 0;
  double visits_ms = 0;
};
inline BenchFill fill_bench_store(tz::DeviceStore& store, std::string& csv, const tz::ops::Resources& res,
                                  const tz::region::RegionTree& tree, int64_t edit_ms, uint64_t seed, bool visits) {
  BenchFill out;
  tz::ops::ImportEnv env;
  env.resources = &res;
  env.tree = &tree;
  env.today = {2026, 11, 30};
  env.edit = {"bench", edit_ms};
  auto r = tz::ops::import_roster(store, csv, env);
  if (!r || !r->written) return out;
  out.roster_changes = store.info().next_seq - 1;
  if (visits) {
    const tz::ValidationContext vc = bench_validation(res, tree);
    auto t0 = Clock::now();
    out.visits = add_visits(store, vc, {"bench", edit_ms}, seed, &csv);
    out.visits_ms = ms_since(t0);
    if (out.visits < 0) return out;
  }
  out.ok = true;
  return out;
}

// The configuration lines both sync benchmarks print about their county.
inline void print_county_lines(size_t persons, uint64_t seed, bool rich, size_t columns, size_t households,
                               uint64_t changes, const BenchFill& fill, bool visits, size_t csv_bytes, size_t csv_gzip) {
  std::printf("  persons                  %zu (seed %llu, %s roster: %zu columns), %zu households, field changes %llu\n",
              persons, static_cast<unsigned long long>(seed), rich ? "rich" : "basic", columns, households,
              static_cast<unsigned long long>(changes));
  if (visits)
    std::printf("  摸查走访 visits            %lld (2 a person, through ops::save_drafts, 2,000 persons a transaction, %.0f ms):\n"
                "                           %llu field values; the roster's %llu (--no-visits leaves them out)\n",
                fill.visits, fill.visits_ms, static_cast<unsigned long long>(changes - fill.roster_changes),
                static_cast<unsigned long long>(fill.roster_changes));
  else
    std::printf("  摸查走访 visits            none (--no-visits)\n");
  std::printf("  roster CSV%s %.1f MB, gzip -6 %.2f MB\n", visits ? " + visits     " : "              ", csv_bytes / 1e6,
              csv_gzip / 1e6);
}

// The options bench_sync and bench_https share.
struct SyncBenchArgs {
  size_t persons = 50000;
  uint64_t seed = 1;
  size_t township_persons = 10000, push_batch = tz::ops::DeviceSyncOptions{}.push_batch;  // the device's default
  bool rich = true, visits = true;
  std::string data;
};
// nullopt after printing the usage line (exit 64).
inline std::optional<SyncBenchArgs> parse_sync_bench_args(int argc, char** argv, const char* name, std::string data) {
  SyncBenchArgs a;
  a.data = std::move(data);
  for (int i = 1; i < argc; ++i) {
    std::string o = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (o == "--persons") a.persons = std::stoul(next());
    else if (o == "--seed") a.seed = std::stoull(next());
    else if (o == "--data") a.data = next();
    else if (o == "--township-persons") a.township_persons = std::stoul(next());
    else if (o == "--basic") a.rich = false;
    else if (o == "--no-visits") a.visits = false;
    else if (o == "--push-batch") a.push_batch = std::stoul(next());
    else {
      std::fprintf(stderr, "usage: %s [--persons N] [--seed S] [--township-persons T] [--basic] [--no-visits] [--push-batch B] [--data DIR]\n", name);
      return std::nullopt;
    }
  }
  return a;
}

// The 1-minute load average, printed beside the figures.
inline std::string load_average() {
  std::string load;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

// The configuration of the benchmarks' device stores: 榕江县 with its shipped tree, period 2026.
inline tz::StoreConfig bench_store_config(const std::string& tree_csv) {
  tz::StoreConfig cfg;
  cfg.county = "522632";
  cfg.collectors = {"bench"};
  cfg.default_collector = "bench";
  cfg.period = *tz::make_period(2026, tz::CivilDate{2026, 11, 30});
  cfg.region_tree_csv = tree_csv;
  return cfg;
}

// The (entity, field, value) rows of a store's change log, for the raw SQLite reference.
inline std::vector<RawRow> raw_rows_of(const tz::DeviceStore& store) {
  std::vector<RawRow> rows;
  rows.reserve(store.info().next_seq);
  for (uint64_t after = 0;;) {
    auto page = store.changes_range(after, 100000);
    if (page.empty()) break;
    for (auto& c : page) rows.push_back(RawRow{c.entity, static_cast<int>(c.field), std::move(c.value)});
    after = page.back().version.seq.value;
  }
  return rows;
}

}  // namespace tz::bench
