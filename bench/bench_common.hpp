// Helpers the sync benchmarks share: timers, gzip size, /proc figures and the raw SQLite reference
// (SPEC §13: the server's apply rate is reported as a ratio to raw inserts of the same rows, measured
// in the same run with the same synchronous setting).
#pragma once

#include <sqlite3.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tz/model/ids.hpp"

namespace tz::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
// CPU time of the process in ms (one thread does everything here, so it is the work's own CPU time,
// without the time it waited for the disk or for other processes on a shared machine).
inline double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

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

// Seconds to insert the rows into a fresh database: open, WAL + synchronous=FULL, one table, one
// transaction, one prepared INSERT; timed from open to the end of COMMIT (as bench_import). -1 on failure.
inline double raw_sqlite_insert(const fs::path& file, const std::vector<RawRow>& rows, double* cpu) {
  sqlite3* db = nullptr;
  auto t0 = Clock::now();
  double c0 = cpu_ms();
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) return -1.0;
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close(db); }
  } closer{db};
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                          "CREATE TABLE field_value(entity BLOB, field INTEGER, value TEXT)", "BEGIN"})
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO field_value(entity, field, value) VALUES (?, ?, ?)", -1, &st, nullptr) != SQLITE_OK)
    return -1.0;
  for (auto& r : rows) {
    auto e = r.entity.view();
    sqlite3_bind_blob(st, 1, e.data(), static_cast<int>(e.size()), SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r.field);
    sqlite3_bind_text(st, 3, r.value.data(), static_cast<int>(r.value.size()), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
      sqlite3_finalize(st);
      return -1.0;
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return -1.0;
  *cpu = (cpu_ms() - c0) / 1000;
  return ms_since(t0) / 1000;
}


}  // namespace tz::bench
