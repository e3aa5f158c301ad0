// A full disk and read-only storage with the real programs (docs/crash-points.md "Full disk and
// read-only storage"): the injected fault (TAIZHANG_STORAGE_FAULT names a control file) makes writes
// fail; the command says so in Chinese or English naming the file, exits 1, and leaves the stores as
// they were (digest unchanged, PRAGMA integrity_check ok); once the control file is gone the same
// command succeeds. `serve` answers a push on a full disk with 507 and goes on serving.
#include <filesystem>
#include <fstream>

#include "e2e_fixture.hpp"

namespace fs = std::filesystem;

namespace {

// The control file of the fault: "full", "full:N", "readonly", or absent (space returned).
struct Fault {
  TempDir dir;
  std::string path = (dir / "storage-fault").string();
  void set(const std::string& what) const { write_file(path, what); }
  void clear() const { fs::remove(path); }
};

// The device's store file.
fs::path store_db(const Device& d) {
  for (auto& e : fs::directory_iterator(d.store))
    if (e.path().extension() == ".db") return e.path();
  FAIL("no store file in " << d.store);
  return {};
}

void says_disk_full(const ProcessResult& r, const std::string& file) {
  INFO(r.out << r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("磁盘已满，未写入任何数据") != std::string::npos);
  CHECK(r.err.find("请清理该磁盘的空间") != std::string::npos);
  CHECK(r.err.find(file) != std::string::npos);
}

}  // namespace

TEST_CASE("a device on a full or read-only disk says so and keeps its store and works once space returns", "[e2e][disk]") {
  Fault fault;
  County c;
  c.init();
  c.serve();
  Device a, b;
  a.env["TAIZHANG_STORAGE_FAULT"] = fault.path;
  a.join(c, c.token());
  b.join(c, c.token());
  const std::string db = store_db(a).string();

  // import: nothing of the roster is written.
  const std::string roster = (source_dir() / "data/samples/roster-522632.gb18030.csv").string();
  a.edit(kSun, "联系电话=13900001111");
  std::string before = a.everything();
  fault.set("full");
  says_disk_full(a.cli({"import", roster}), db);
  auto en = a.cli({"edit", kSun, "--set", "联系电话=13900002222", "--lang", "en"});
  CHECK(en.exit_code == 1);
  CHECK(en.err.find("the disk is full; nothing was written") != std::string::npos);
  CHECK(en.err.find("free space on that disk") != std::string::npos);
  CHECK(a.everything() == before);
  integrity_ok(db);

  // edit on read-only storage.
  fault.set("readonly");
  auto ro = a.cli({"edit", kSun, "--set", "联系电话=13900002222"});
  INFO(ro.err);
  CHECK(ro.exit_code == 1);
  CHECK(ro.err.find("存储设备只读，未写入任何数据") != std::string::npos);
  CHECK(ro.err.find(db) != std::string::npos);
  CHECK(a.everything() == before);

  // Space returns: the same commands succeed.
  fault.clear();
  a.ok({"import", roster});
  a.edit(kSun, "联系电话=13900002222");
  CHECK(a.value(kSun, "phone") == "13900002222");

  // sync: the disk fills up at every stage of a sync in turn (N more bytes, N growing) until one
  // fits. Each failure says so and leaves the store whole: as it was, or with the page it committed.
  a.sync();
  b.edit(kFu, "联系电话=13900003333");
  b.sync();
  const std::string digest_before = a.digest(), digest_after = b.digest();
  int failed = 0;
  for (size_t n = 0; n < 400000; n += 4000) {
    fault.set("full:" + std::to_string(n));
    auto r = a.cli({"sync"});
    if (r.exit_code == 0) break;
    ++failed;
    INFO("full:" << n << ": " << r.out << r.err);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("磁盘已满") != std::string::npos);
    const std::string now = a.digest();
    CHECK((now == digest_before || now == digest_after));
    integrity_ok(db);
  }
  CHECK(failed >= 2);
  fault.clear();
  a.sync();
  CHECK(a.value(kFu, "phone") == "13900003333");
  converged(c, a, b);
  c.stop();
}

TEST_CASE("serve on a full disk answers a push with 507 and the reason and goes on serving", "[e2e][disk]") {
  Fault fault;
  County c;
  c.init();
  c.env["TAIZHANG_STORAGE_FAULT"] = fault.path;
  c.serve();
  Device a;
  a.join(c, c.token());
  a.edit(kSun, "联系电话=13900001111");
  const std::string server_before = c.digest({kTownship});
  const uint64_t seq_before = c.last_seq();

  fault.set("full");
  auto r = a.cli({"sync"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("磁盘已满") != std::string::npos);
  CHECK(r.err.find("server.db") != std::string::npos);
  CHECK(c.digest({kTownship}) == server_before);
  CHECK(c.last_seq() == seq_before);
  CHECK(a.acked() < a.last_own_seq());

  // Space returns: the device's next sync is applied by the same running server.
  fault.clear();
  auto j = a.sync();
  CHECK(j["applied"].get<uint64_t>() >= 1);
  CHECK(a.acked() == a.last_own_seq());
  CHECK(a.digest() == c.digest({kTownship}));
  auto stopped = c.stop();
  CHECK(stopped.signal == 0);
  CHECK(stopped.err.find("/sync 507 ") != std::string::npos);  // the request log
  integrity_ok(fs::path(c.data) / "server.db");
}

TEST_CASE("register import and backup on a full disk say so and change nothing until space returns", "[e2e][disk]") {
  Fault fault;
  County c;
  c.init(false);
  c.env["TAIZHANG_STORAGE_FAULT"] = fault.path;
  c.env["TAIZHANG_BACKUP_PASSPHRASE"] = "县里另外保管的口令";
  c.env["TAIZHANG_KDF_LOG2N"] = "10";
  const std::string roster = (source_dir() / "data/samples/roster-522632.gb18030.csv").string();
  const std::string server_before = server_state(c);

  fault.set("full");
  says_disk_full(c.run({"register", "import", roster}), c.data);
  CHECK(server_state(c) == server_before);
  fault.set("readonly");
  auto ro_import = c.run({"register", "import", roster});
  CHECK(ro_import.exit_code == 1);
  CHECK(ro_import.err.find("存储设备只读") != std::string::npos);
  CHECK(server_state(c) == server_before);
  integrity_ok(fs::path(c.data) / "server.db");
  fault.clear();
  c.ok({"register", "import", roster});
  CHECK(c.persons_with_id(kSun).size() == 1);

  const std::string out = (c.dir / "county.backup").string();
  fault.set("full");
  says_disk_full(c.run({"backup", "--out", out}), out);
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(out + ".partial"));
  fault.set("readonly");
  auto ro = c.run({"backup", "--out", out, "--lang", "en"});
  CHECK(ro.exit_code == 1);
  CHECK(ro.err.find("the storage is read-only; nothing was written") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  fault.clear();
  c.ok({"backup", "--out", out});
  CHECK(fs::file_size(out) > 0);
}
