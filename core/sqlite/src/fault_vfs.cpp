// The storage fault seam for SQLite (tz/util/storage_fault.hpp): a VFS that forwards everything to
// the default one and fails writes while a fault is on, as the disk would (SQLITE_FULL for a full
// disk, SQLITE_IOERR_WRITE for read-only storage: what the unix VFS returns for ENOSPC and EROFS).
// Registered as the default VFS only when TAIZHANG_STORAGE_FAULT is set.
#include "tz/sqlite/support.hpp"

#include <sqlite3.h>

#include <cstdlib>
#include <mutex>

#include "tz/util/storage_fault.hpp"

namespace tz::sqlite {

namespace {

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs;
sqlite3_io_methods g_methods;

struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;  // the real file, allocated right after this struct
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->real; }

int fault_code(size_t bytes) {
  switch (storage_fault(bytes)) {
    case StorageFault::none: return SQLITE_OK;
    case StorageFault::full: return SQLITE_FULL;
    case StorageFault::read_only: return SQLITE_IOERR_WRITE;
  }
  return SQLITE_OK;
}

int x_close(sqlite3_file* f) {
  sqlite3_file* r = real_of(f);
  int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
  f->pMethods = nullptr;
  return rc;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) { return real_of(f)->pMethods->xRead(real_of(f), buf, n, off); }
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (int rc = fault_code(static_cast<size_t>(n)); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return real_of(f)->pMethods->xTruncate(real_of(f), size); }
int x_sync(sqlite3_file* f, int flags) { return real_of(f)->pMethods->xSync(real_of(f), flags); }
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return real_of(f)->pMethods->xFileSize(real_of(f), size); }
int x_lock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xLock(real_of(f), l); }
int x_unlock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xUnlock(real_of(f), l); }
int x_check_reserved(sqlite3_file* f, int* out) { return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out); }
int x_file_control(sqlite3_file* f, int op, void* arg) { return real_of(f)->pMethods->xFileControl(real_of(f), op, arg); }
int x_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int x_device_chars(sqlite3_file* f) { return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f)); }
int x_shm_map(sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
  return real_of(f)->pMethods->xShmMap(real_of(f), pg, sz, extend, p);
}
int x_shm_lock(sqlite3_file* f, int off, int n, int flags) { return real_of(f)->pMethods->xShmLock(real_of(f), off, n, flags); }
void x_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real_of(f)->pMethods->xShmUnmap(real_of(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) { return real_of(f)->pMethods->xFetch(real_of(f), off, n, p); }
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return real_of(f)->pMethods->xUnfetch(real_of(f), off, p); }

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* ff = reinterpret_cast<FaultFile*>(f);
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->real->pMethods = nullptr;
  int rc = g_real->xOpen(g_real, name, ff->real, flags, out_flags);
  // With no methods set, SQLite does not call xClose: the real file is closed by its own open.
  f->pMethods = ff->real->pMethods ? &g_methods : nullptr;
  return rc;
}
int x_delete(sqlite3_vfs*, const char* name, int sync) { return g_real->xDelete(g_real, name, sync); }
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_real->xAccess(g_real, name, flags, out); }
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) { return g_real->xFullPathname(g_real, name, n, out); }
void* x_dl_open(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void x_dl_error(sqlite3_vfs*, int n, char* msg) { g_real->xDlError(g_real, n, msg); }
void (*x_dl_sym(sqlite3_vfs*, void* h, const char* sym))(void) { return g_real->xDlSym(g_real, h, sym); }
void x_dl_close(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int x_randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int x_sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int x_current_time(sqlite3_vfs*, double* t) { return g_real->xCurrentTime(g_real, t); }
int x_last_error(sqlite3_vfs*, int n, char* out) { return g_real->xGetLastError ? g_real->xGetLastError(g_real, n, out) : 0; }
int x_current_time64(sqlite3_vfs*, sqlite3_int64* t) { return g_real->xCurrentTimeInt64(g_real, t); }

}  // namespace

void install_fault_seam() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* v = std::getenv("TAIZHANG_STORAGE_FAULT");
    if (!v || !*v) return;
    sqlite3_initialize();
    g_real = sqlite3_vfs_find(nullptr);
    if (!g_real || g_real->iVersion < 2) return;
    g_methods = sqlite3_io_methods{3,          x_close,     x_read,      x_write,         x_truncate,      x_sync,
                                   x_file_size, x_lock,      x_unlock,    x_check_reserved, x_file_control, x_sector_size,
                                   x_device_chars, x_shm_map, x_shm_lock, x_shm_barrier,  x_shm_unmap,     x_fetch,
                                   x_unfetch};
    // Version 2: no system-call overrides (the last three members).
    g_vfs = sqlite3_vfs{2,        static_cast<int>(sizeof(FaultFile)) + g_real->szOsFile,
                        g_real->mxPathname, nullptr, "tz-storage-fault", nullptr,
                        x_open,   x_delete, x_access, x_full_pathname, x_dl_open, x_dl_error, x_dl_sym, x_dl_close,
                        x_randomness, x_sleep, x_current_time, x_last_error, x_current_time64,
                        nullptr,  nullptr,  nullptr};
    sqlite3_vfs_register(&g_vfs, 1);
  });
}

}  // namespace tz::sqlite
