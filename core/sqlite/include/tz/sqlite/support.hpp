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
// TAIZHANG_STORAGE_FAULT is set; does nothing otherwise. Call before opening a database.
void install_fault_seam();

}  // namespace tz::sqlite
