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
// disk_full for SQLITE_FULL, store_corrupt for a damaged file, io_error otherwise.
Error error_of(const SQLite::Exception& e);

}  // namespace tz::sqlite
