// An injected storage failure: a full disk or read-only storage on demand, for tests and drills
// (docs/crash-points.md "Full disk and read-only storage"). TAIZHANG_STORAGE_FAULT=FILE names a
// control file, read at every write while the variable is set:
//   missing or empty  no fault (space has returned)
//   full              every write fails as on a full disk
//   full:N            N more bytes are written, then writes fail as on a full disk
//   readonly          every write fails as on read-only storage
// Without the variable nothing is read and every call answers none. The SQLite stores see the fault
// through a VFS shim (core/sqlite), other output files through check_storage_write.
#pragma once

#include <cstddef>
#include <filesystem>

#include "tz/util/error.hpp"

namespace tz {

enum class StorageFault { none, full, read_only };

// The fault for writing `bytes` more bytes now (counted against full:N).
StorageFault storage_fault(size_t bytes = 0);

// disk_full or read_only naming `path` when a fault is on for a write of `bytes` bytes.
Status check_storage_write(const std::filesystem::path& path, size_t bytes);

// The catalogue's error for a failed write of `path`: disk_full when the fault or the disk says so
// (under 1 MiB free), read_only likewise, io_error otherwise.
Error storage_write_error(const std::filesystem::path& path);

}  // namespace tz
