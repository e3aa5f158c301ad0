#include "tz/sqlite/support.hpp"
#include "tz/sqlite/snapshot.hpp"

#include <sqlite3.h>

#include <mutex>

#include "tz/util/storage_fault.hpp"

namespace tz::sqlite {

std::string blob_of(const SQLite::Column& c) {
  return std::string(static_cast<const char*>(c.getBlob()), static_cast<size_t>(c.getBytes()));
}

void bind_blob(SQLite::Statement& st, int index, std::string_view bytes) {
  st.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

Error error_of(const SQLite::Exception& e, const std::string& file) {
  const int code = e.getErrorCode() & 0xff;
  const std::string what = file.empty() ? std::string(e.what()) : file + " (" + e.what() + ")";
  if (code == SQLITE_FULL) return Error(ErrorCode::disk_full, {what});
  if (code == SQLITE_READONLY || (code == SQLITE_IOERR && storage_fault() == StorageFault::read_only))
    return Error(ErrorCode::read_only, {what});
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Error(ErrorCode::store_corrupt, {what});
  return Error(ErrorCode::io_error, {what});
}

void prepare_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Only before SQLite initialises (SQLITE_MISUSE after: the statistics then stay on, which is
    // harmless). A push makes dozens of SQLite allocations per change; each took the mutex.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
  install_fault_seam();
}

}  // namespace tz::sqlite

namespace tz::sqlite {

Status snapshot_database(const std::filesystem::path& db, const std::filesystem::path& dest) {
  std::error_code ec;
  if (std::filesystem::exists(dest, ec)) return Error(ErrorCode::io_error, {dest.string() + ": exists"});
  prepare_library();
  try {
    SQLite::Database from(db.string(), SQLite::OPEN_READONLY);
    from.setBusyTimeout(10000);
    SQLite::Database to(dest.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    sqlite3_backup* b = sqlite3_backup_init(to.getHandle(), "main", from.getHandle(), "main");
    if (!b) throw SQLite::Exception(to.getHandle(), sqlite3_errcode(to.getHandle()));
    int rc;
    // All pages in one step: one read transaction on the source, so the copy is of one moment
    // (writers go on in WAL mode meanwhile).
    do {
      rc = sqlite3_backup_step(b, -1);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) throw SQLite::Exception(to.getHandle(), rc);
    to.exec("PRAGMA journal_mode=DELETE");
    return ok_status();
  } catch (const SQLite::Exception& e) {
    std::filesystem::remove(dest, ec);
    return error_of(e, dest.string());
  }
}

}  // namespace tz::sqlite
