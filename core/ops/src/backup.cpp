// Encrypted backups of a server data folder (backup.hpp has the format).
#include "tz/ops/backup.hpp"

#include <fstream>
#include <memory>

#include "tz/sqlite/snapshot.hpp"
#include "tz/sync/server_store.hpp"
#include "tz/util/bytes.hpp"
#include "tz/util/storage_fault.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "TZBACKUP";
constexpr uint8_t kVersion = 1;
constexpr size_t kChunk = size_t{1} << 20;
constexpr size_t kMaxHeader = 4096;

Error bad_file(const fs::path& file, const std::string& zh, const std::string& en) {
  return Error(ErrorCode::invalid_input, {bilingual("备份文件 " + file.string() + "：" + zh, "backup file " + file.string() + ": " + en)});
}

void put_be32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t get_be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string chunk_aad(const std::string& header_hash, uint64_t index, bool last) {
  std::string aad = header_hash;
  for (int i = 7; i >= 0; --i) aad.push_back(static_cast<char>((index >> (8 * i)) & 0xff));
  aad.push_back(last ? 1 : 0);
  return aad;
}

bool is_sqlite_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char head[16] = {};
  in.read(head, sizeof head);
  return in.gcount() == 16 && std::string_view(head, 16) == std::string_view("SQLite format 3\0", 16);
}

// Files that are state of a running process, not data: SQLite's WAL and shared memory (the snapshot
// already holds what the WAL held), locks.
bool skipped(const fs::path& rel) {
  const std::string name = rel.filename().string();
  auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
  return ends("-wal") || ends("-shm") || ends("-journal") || name == "lock" || ends(".lock");
}

// A path inside the backup: relative, no "..", no root.
bool safe_relative(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  for (auto& part : fs::path(name))
    if (part == ".." || part == ".") return false;
  return true;
}

// Writes the plaintext stream as sealed chunks.
class ChunkWriter {
 public:
  ChunkWriter(std::ofstream& out, const crypto::Aead& aead, std::string header_hash)
      : out_(out), aead_(aead), hash_(std::move(header_hash)) {}
  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      size_t n = std::min(bytes.size(), kChunk - buf_.size());
      buf_.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (buf_.size() == kChunk) emit(false);
    }
  }
  void finish() { emit(true); }

 private:
  void emit(bool last) {
    std::string sealed = aead_.seal(buf_, chunk_aad(hash_, index_++, last));
    std::string len;
    put_be32(len, static_cast<uint32_t>(sealed.size()));
    // The injected storage fault (tz/util/storage_fault.hpp) fails the stream as a full disk would.
    if (storage_fault(len.size() + sealed.size()) != StorageFault::none) out_.setstate(std::ios::badbit);
    out_.write(len.data(), static_cast<std::streamsize>(len.size()));
    out_.write(sealed.data(), static_cast<std::streamsize>(sealed.size()));
    buf_.clear();
  }
  std::ofstream& out_;
  const crypto::Aead& aead_;
  std::string hash_, buf_;
  uint64_t index_ = 0;
};

struct Header {
  std::string salt;
  uint32_t log2n = 15, r = 8, p = 1;
  int64_t created_ms = 0;
  std::string county, epoch;
  uint64_t last_seq = 0, entries = 0;
};

std::string encode_header(const Header& h) {
  ByteWriter w;
  w.str(h.salt);
  w.varint(h.log2n);
  w.varint(h.r);
  w.varint(h.p);
  w.svarint(h.created_ms);
  w.str(h.county);
  w.str(h.epoch);
  w.varint(h.last_seq);
  w.varint(h.entries);
  return w.take();
}

Header decode_header(std::string_view bytes) {  // throws Failure(store_corrupt) when malformed
  ByteReader r(bytes);
  Header h;
  h.salt = r.str();
  h.log2n = static_cast<uint32_t>(r.varint());
  h.r = static_cast<uint32_t>(r.varint());
  h.p = static_cast<uint32_t>(r.varint());
  h.created_ms = r.svarint();
  h.county = r.str();
  h.epoch = r.str();
  h.last_seq = r.varint();
  h.entries = r.varint();
  return h;
}

}  // namespace

Result<BackupInfo> write_backup(const fs::path& data_dir, const fs::path& out, std::string_view passphrase,
                                int64_t now_ms, const crypto::ScryptParams& kdf) {
  std::error_code ec;
  if (!fs::exists(data_dir / "server.db", ec))
    return Error(ErrorCode::not_found, {(data_dir / "server.db").string()});
  if (passphrase.empty())
    return Error(ErrorCode::invalid_input, {bilingual("备份口令为空", "the backup passphrase is empty")});
  // The copies are made next to the output (the same disk), never inside the data folder.
  const fs::path stage = out.parent_path() / (".tz-backup-" + crypto::to_hex(crypto::random_bytes(6)));
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{stage};
  fs::create_directories(stage, ec);
  if (ec) return storage_write_error(stage);

  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(data_dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    fs::path rel = fs::relative(it->path(), data_dir);
    if (!skipped(rel)) files.push_back(rel);
  }
  if (ec) return Error(ErrorCode::io_error, {data_dir.string() + ": " + ec.message()});
  std::sort(files.begin(), files.end());
  for (auto& rel : files) {
    fs::create_directories((stage / rel).parent_path(), ec);
    if (is_sqlite_file(data_dir / rel)) {
      if (auto s = sqlite::snapshot_database(data_dir / rel, stage / rel); !s) {
        // The copies are staged beside the output: a full disk is the output's.
        const ErrorCode code = s.error().code();
        if (code == ErrorCode::disk_full || code == ErrorCode::read_only) return Error(code, {out.string()});
        return s.error();
      }
    } else if (!fs::copy_file(data_dir / rel, stage / rel, ec)) {
      return storage_write_error(stage / rel);
    }
  }

  Header h;
  h.salt = crypto::random_bytes(16);
  h.log2n = 0;
  for (uint64_t n = kdf.n; n > 1; n >>= 1) ++h.log2n;
  h.r = kdf.r;
  h.p = kdf.p;
  h.created_ms = now_ms;
  h.entries = files.size();
  {
    auto store = sync::open_sqlite_server_store(stage);
    if (!store) return store.error();
    (*store)->begin_read();
    h.epoch = (*store)->epoch();
    h.last_seq = (*store)->last_seq();
    h.county = (*store)->meta_value("county").value_or("");
    (*store)->end_read();
  }
  const std::string header = encode_header(h);
  std::string prefix(kMagic);
  prefix.push_back(static_cast<char>(kVersion));
  put_be32(prefix, static_cast<uint32_t>(header.size()));
  prefix += header;
  crypto::Aead aead(crypto::scrypt(passphrase, h.salt, kdf));

  BackupInfo info;
  info.county = h.county;
  info.server_epoch = h.epoch;
  info.last_seq = h.last_seq;
  info.created_ms = now_ms;
  const fs::path partial = out.string() + ".partial";
  {
    std::ofstream o(partial, std::ios::binary | std::ios::trunc);
    if (!o) return storage_write_error(partial);
    o.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
    ChunkWriter w(o, aead, crypto::sha256(prefix));
    std::vector<char> buf(kChunk);
    for (auto& rel : files) {
      // The snapshot's files, after the server store above closed its connection (its WAL is gone).
      const fs::path src = stage / rel;
      const uint64_t size = fs::file_size(src, ec);
      if (ec) return Error(ErrorCode::io_error, {src.string()});
      ByteWriter e;
      e.str(rel.generic_string());
      e.varint(size);
      w.write(e.data());
      std::ifstream in(src, std::ios::binary);
      uint64_t left = size;
      while (left > 0) {
        in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size())));
        auto got = static_cast<size_t>(in.gcount());
        if (got == 0) return Error(ErrorCode::io_error, {src.string()});
        w.write(std::string_view(buf.data(), got));
        left -= got;
      }
      info.entries.emplace_back(rel.generic_string(), size);
    }
    w.finish();
    o.flush();
    if (!o) {
      fs::remove(partial, ec);
      return storage_write_error(out);
    }
  }
  fs::rename(partial, out, ec);
  if (ec) return storage_write_error(out);
  info.bytes = fs::file_size(out, ec);
  return info;
}

Result<BackupInfo> unpack_backup(const fs::path& file, std::string_view passphrase, const fs::path& dest) {
  std::error_code ec;
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(ErrorCode::not_found, {file.string()});
  if (fs::exists(dest, ec)) return Error(ErrorCode::io_error, {dest.string() + ": exists"});
  char fixed[13];
  in.read(fixed, sizeof fixed);
  if (in.gcount() != sizeof fixed || std::string_view(fixed, 8) != kMagic)
    return bad_file(file, "不是台账的备份文件", "not a taizhang backup file");
  if (static_cast<uint8_t>(fixed[8]) != kVersion)
    return bad_file(file, "备份格式版本 " + std::to_string(static_cast<uint8_t>(fixed[8])) + " 无法识别（需要更新的程序？）",
                    "unknown backup format version " + std::to_string(static_cast<uint8_t>(fixed[8])) + " (a newer program?)");
  const uint32_t header_len = get_be32(reinterpret_cast<const unsigned char*>(fixed + 9));
  if (header_len == 0 || header_len > kMaxHeader) return bad_file(file, "文件头已损坏", "the header is damaged");
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (static_cast<uint32_t>(in.gcount()) != header_len) return bad_file(file, "文件不完整", "the file is cut short");
  Header h;
  try {
    h = decode_header(header);
  } catch (const Failure&) {
    return bad_file(file, "文件头已损坏", "the header is damaged");
  }
  if (h.salt.size() != 16 || h.log2n < 10 || h.log2n > 22 || h.r == 0 || h.r > 32 || h.p == 0 || h.p > 16)
    return bad_file(file, "文件头已损坏", "the header is damaged");
  std::string prefix(fixed, sizeof fixed);
  prefix += header;
  const std::string hash = crypto::sha256(prefix);
  crypto::Aead aead(crypto::scrypt(passphrase, h.salt, crypto::ScryptParams{1ULL << h.log2n, h.r, h.p}));

  fs::create_directories(dest, ec);
  if (ec) return storage_write_error(dest);
  bool done = false;
  auto fail = [&](Error e) -> Result<BackupInfo> {
    std::error_code e2;
    fs::remove_all(dest, e2);
    return e;
  };
  BackupInfo info;
  info.county = h.county;
  info.server_epoch = h.epoch;
  info.last_seq = h.last_seq;
  info.created_ms = h.created_ms;
  // The entry being written and what of the stream is not yet used.
  std::string pending;
  std::ofstream out;
  uint64_t left = 0;
  bool in_entry = false;
  for (uint64_t index = 0;; ++index) {
    unsigned char len[4];
    in.read(reinterpret_cast<char*>(len), 4);
    if (in.gcount() == 0 && !done) return fail(bad_file(file, "文件不完整（被截断）", "the file is cut short (truncated)"));
    if (in.gcount() == 0) break;
    if (done) return fail(bad_file(file, "末尾有多余的数据", "it has data after its end"));
    if (in.gcount() != 4) return fail(bad_file(file, "文件不完整（被截断）", "the file is cut short (truncated)"));
    const uint32_t n = get_be32(len);
    if (n < crypto::kAeadOverhead || n > kChunk + crypto::kAeadOverhead)
      return fail(bad_file(file, "数据块已损坏", "a block is damaged"));
    std::string sealed(n, '\0');
    in.read(sealed.data(), n);
    if (static_cast<uint32_t>(in.gcount()) != n) return fail(bad_file(file, "文件不完整（被截断）", "the file is cut short (truncated)"));
    auto plain = aead.open(sealed, chunk_aad(hash, index, false));
    if (!plain) {
      plain = aead.open(sealed, chunk_aad(hash, index, true));
      if (!plain)
        return fail(index == 0 ? bad_file(file, "备份口令不对，或文件已损坏", "wrong backup passphrase, or the file is damaged")
                               : bad_file(file, "第 " + std::to_string(index + 1) + " 个数据块已损坏或被改动",
                                          "block " + std::to_string(index + 1) + " is damaged or altered"));
      done = true;
    }
    pending += *plain;
    // Consume entries from the stream.
    for (;;) {
      if (in_entry) {
        size_t take = static_cast<size_t>(std::min<uint64_t>(left, pending.size()));
        out.write(pending.data(), static_cast<std::streamsize>(take));
        pending.erase(0, take);
        left -= take;
        if (left > 0) break;
        out.close();
        if (!out) return fail(storage_write_error(dest));
        in_entry = false;
        continue;
      }
      if (pending.empty()) break;
      std::string name;
      uint64_t size = 0;
      size_t used = 0;
      try {
        ByteReader r(pending);
        name = r.str();
        size = r.varint();
        used = pending.size() - r.remaining();
      } catch (const Failure&) {
        if (pending.size() > 8192) return fail(bad_file(file, "内容已损坏", "its contents are damaged"));
        break;  // the entry header continues in the next chunk
      }
      if (!safe_relative(name)) return fail(bad_file(file, "含有不安全的路径 " + name, "it holds an unsafe path " + name));
      pending.erase(0, used);
      fs::create_directories((dest / name).parent_path(), ec);
      out.open(dest / name, std::ios::binary | std::ios::trunc);
      if (!out) return fail(storage_write_error(dest / name));
      info.entries.emplace_back(name, size);
      left = size;
      in_entry = true;
    }
  }
  if (in_entry || !pending.empty() || info.entries.size() != h.entries)
    return fail(bad_file(file, "内容不完整", "its contents are incomplete"));
  info.bytes = fs::file_size(file, ec);
  return info;
}

}  // namespace tz::ops
