// A consistent copy of a live SQLite database file (SQLite's online backup API), taken while other
// connections read and write it (WAL): what `sync-server backup` copies. No SQLite type in here, so
// the layers above may call it.
#pragma once

#include <filesystem>

#include "tz/util/error.hpp"

namespace tz::sqlite {

// Copies the database at `db` (with what its WAL holds) into a new file `dest` (which must not
// exist). disk_full / io_error / store_corrupt as the catalogue's; dest is removed on failure.
Status snapshot_database(const std::filesystem::path& db, const std::filesystem::path& dest);

}  // namespace tz::sqlite
