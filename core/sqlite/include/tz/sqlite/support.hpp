// Helpers shared by the SQLite stores (core/store, core/sync). Private to them: no other layer
// includes SQLiteCpp.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <string_view>

#include "tz/util/error.hpp"

namespace tz::sqlite {

// A blob (or text) column's bytes.
std::string blob_of(const SQLite::Column& c);
void bind_blob(SQLite::Statement& st, int index, std::string_view bytes);
// disk_full for SQLITE_FULL, read_only for storage that refuses writes, store_corrupt for a damaged
// file, io_error otherwise; naming `file` (the database) when given.
Error error_of(const SQLite::Exception& e, const std::string& file = {});
// Makes the storage fault seam (tz/util/storage_fault.hpp) SQLite's default VFS when
// TAIZHANG_STORAGE_FAULT is set; does nothing otherwise.
void install_fault_seam();
// Call before opening a database (every store does): once per process, before SQLite initialises,
// turns off SQLite's memory statistics, which nothing here reads and which made every allocation
// SQLite makes take a process-wide mutex (decision 143); then install_fault_seam().
void prepare_library();

}  // namespace tz::sqlite
