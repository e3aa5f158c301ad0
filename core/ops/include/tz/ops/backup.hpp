// Backups of a county server's data folder (SPEC §6 "Off the device", issue "crash safety, backup
// and restore"): always encrypted to a passphrase the admin keeps apart (TAIZHANG_BACKUP_PASSPHRASE),
// taken while `serve` runs, and restored with a new epoch so that every device re-pushes what the
// restored server lacks and pulls again from the start (SPEC §5 "Epochs").
//
// File format (docs/storage.md "Backups"):
//   "TZBACKUP" u8(version = 1) u32be(header length) header
//   chunk*   each: u32be(sealed length) AES-256-GCM(nonce || ciphertext || tag) of at most 1 MiB
// header: ByteWriter fields: salt (16), scrypt log2 n, r, p, created ms, county, server epoch, last
// server sequence, entry count. The key is scrypt(passphrase, salt). Each chunk is sealed with aad =
// SHA-256(magic || version || header) || be64(chunk index) || u8(1 on the last chunk, else 0): chunks
// cannot be reordered, dropped, moved between backups, and a cut-off file has no last chunk.
// The plaintext is the entries one after another: str(relative path) varint(size) bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tz/crypto/crypto.hpp"
#include "tz/util/error.hpp"

namespace tz::ops {

struct BackupInfo {
  std::string county;
  std::string server_epoch;   // the epoch the backup was taken in (restore makes a new one)
  uint64_t last_seq = 0;      // the server's last sequence at the backup
  int64_t created_ms = 0;
  std::vector<std::pair<std::string, uint64_t>> entries;  // relative path, size
  uint64_t bytes = 0;         // size of the backup file
};

// What a server data folder's backup holds: every SQLite database (server.db, admin/store.db, ...)
// through SQLite's online backup, and the other files (TLS certificate and key, the admin replica's
// files); never lock files, WAL or shared-memory files, or earlier backups. The file is written
// beside `out` and renamed into place when complete.
Result<BackupInfo> write_backup(const std::filesystem::path& data_dir, const std::filesystem::path& out,
                                std::string_view passphrase, int64_t now_ms,
                                const crypto::ScryptParams& kdf = {1ULL << 15, 8, 1});

// Reads and checks the whole backup (wrong passphrase, damage, truncation: an error naming the file,
// nothing written) and writes its files under `dest`, which must not exist.
Result<BackupInfo> unpack_backup(const std::filesystem::path& file, std::string_view passphrase,
                                 const std::filesystem::path& dest);

}  // namespace tz::ops
