// Backup files (ops/backup.hpp): a round trip holds the stores as they were; a wrong passphrase, an
// unknown version, a bit flipped anywhere, a file cut anywhere (also at a chunk boundary) or chunks
// from another backup are refused with a message naming the file, and nothing is left behind.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "store_fixture.hpp"
#include "tz/ops/backup.hpp"
#include "tz/sync/server_store.hpp"

using namespace tz;
using tz::test::TempDir;
namespace fs = std::filesystem;

namespace {

const crypto::ScryptParams kCheap{1ULL << 10, 8, 1};

// A server data folder with a store holding a few log rows, a TLS file, a lock file, and (to show
// that more than the server store is kept) a second SQLite database of 3 MiB, so the backup has
// several chunks.
fs::path make_folder(const TempDir& dir) {
  fs::path data = dir / "data";
  auto store = sync::open_sqlite_server_store(data).take();
  store->begin();
  for (int i = 0; i < 5; ++i) {
    sync::LogRow row;
    row.kind = sync::LogKind::config;
    row.payload = "config " + std::to_string(i);
    store->append(std::move(row));
  }
  store->put_meta_value("county", "522632");
  store->commit(nullptr, nullptr);
  fs::create_directories(data / "tls");
  tz::test::write_file(data / "tls" / "cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  tz::test::write_file(data / "serve.lock", "");
  auto other = sync::open_sqlite_server_store(data / "admin").take();
  other->begin();
  other->put_meta_value("filler", std::string(3 << 20, 'x'));
  other->commit(nullptr, nullptr);
  return data;
}

std::string read_all(const fs::path& p) { return tz::test::read_file(p); }

}  // namespace

TEST_CASE("a backup restores the stores and files of the data folder as they were", "[ops][backup]") {
  TempDir dir;
  auto data = make_folder(dir);
  auto info = ops::write_backup(data, dir / "b.tzb", "口令 passphrase", 1793505600000LL, kCheap).take();
  CHECK(info.county == "522632");
  CHECK(info.last_seq == 5);
  std::set<std::string> names;
  for (auto& [n, size] : info.entries) names.insert(n);
  CHECK(names == std::set<std::string>{"admin/server.db", "server.db", "tls/cert.pem"});  // no lock, WAL or shm file
  CHECK_FALSE(fs::exists(dir / "b.tzb.partial"));
  const std::string bytes = read_all(dir / "b.tzb");
  // Only the header is readable (county, epoch, KDF): no stored value, no file name, no certificate.
  CHECK(bytes.find("config 0") == std::string::npos);
  CHECK(bytes.find("cert.pem") == std::string::npos);
  CHECK(bytes.find("BEGIN CERTIFICATE") == std::string::npos);
  auto back = ops::unpack_backup(dir / "b.tzb", "口令 passphrase", dir / "out").take();
  CHECK(back.last_seq == 5);
  CHECK(read_all(dir / "out" / "tls" / "cert.pem") == read_all(data / "tls" / "cert.pem"));
  auto restored = sync::open_sqlite_server_store(dir / "out").take();
  CHECK(restored->last_seq() == 5);
  CHECK(restored->meta_value("county") == std::optional<std::string>("522632"));
  auto admin = sync::open_sqlite_server_store(dir / "out" / "admin").take();
  CHECK(admin->meta_value("filler")->size() == (3u << 20));
}

TEST_CASE("a damaged or foreign backup is refused and nothing is written", "[ops][backup]") {
  TempDir dir;
  auto data = make_folder(dir);
  ops::write_backup(data, dir / "b.tzb", "right", 1, kCheap).take();
  ops::write_backup(data, dir / "other.tzb", "right", 2, kCheap).take();
  const std::string good = read_all(dir / "b.tzb"), other = read_all(dir / "other.tzb");
  REQUIRE(good.size() > (3u << 20));
  auto refused = [&](const std::string& bytes, const std::string& pass, const std::string& expect) {
    tz::test::write_file(dir / "bad.tzb", bytes);
    auto r = ops::unpack_backup(dir / "bad.tzb", pass, dir / "out");
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message(Lang::en));
    CHECK(r.error().message(Lang::zh).find(expect) != std::string::npos);
    CHECK(r.error().message(Lang::en).find("bad.tzb") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out"));
  };
  refused(good, "wrong", "备份口令不对");
  refused("not a backup at all", "right", "不是台账的备份文件");
  std::string v2 = good;
  v2[8] = 2;
  refused(v2, "right", "备份格式版本 2 无法识别");
  // One bit flipped in the header, early, in the middle and in the last byte.
  for (size_t at : {size_t{20}, size_t{200}, good.size() / 2, good.size() - 1}) {
    std::string flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    tz::test::write_file(dir / "bad.tzb", flipped);
    CHECK_FALSE(ops::unpack_backup(dir / "bad.tzb", "right", dir / "out").ok());
    CHECK_FALSE(fs::exists(dir / "out"));
  }
  // Cut anywhere, including right after the first chunk (a whole number of chunks).
  const size_t header_end = 13 + ((static_cast<unsigned char>(good[9]) << 24) | (static_cast<unsigned char>(good[10]) << 16) |
                                  (static_cast<unsigned char>(good[11]) << 8) | static_cast<unsigned char>(good[12]));
  const size_t first_chunk = 4 + ((static_cast<unsigned char>(good[header_end]) << 24) |
                                  (static_cast<unsigned char>(good[header_end + 1]) << 16) |
                                  (static_cast<unsigned char>(good[header_end + 2]) << 8) |
                                  static_cast<unsigned char>(good[header_end + 3]));
  refused(good.substr(0, header_end + first_chunk), "right", "被截断");
  refused(good.substr(0, good.size() - 10), "right", "被截断");
  // The second chunk of another backup (same passphrase, same data) in place of this one's.
  std::string mixed = good.substr(0, header_end + first_chunk) + other.substr(header_end + first_chunk);
  refused(mixed, "right", "第 2 个数据块已损坏或被改动");
  // Data after the end.
  refused(good + "more", "right", "末尾有多余的数据");
  CHECK(ops::unpack_backup(dir / "b.tzb", "right", dir / "out").ok());  // the good one still reads
}
