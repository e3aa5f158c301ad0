// The data folder of the admin commands: identity, lock, server and the county admin replica.
#include "admin_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "tz/crypto/crypto.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/sync/transport.hpp"

namespace tz::server_cli {

namespace fs = std::filesystem;

namespace {

// The replica's passphrase is random (the key file is the secret; the server machine is the trust
// boundary), so the KDF's cost buys nothing and stays cheap.
constexpr ScryptCost kReplicaKdf{1ULL << 10, 8, 1};

Error io_error(const fs::path& p, const std::string& what) { return Error(ErrorCode::io_error, {p.string() + ": " + what}); }

Result<std::string> read_key(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::string key((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (!f.good() && !f.eof()) return io_error(p, "read");
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (key.empty()) return io_error(p, "empty key file");
  return key;
}

Status write_private_file(const fs::path& p, const std::string& bytes) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(p, std::strerror(errno));
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return io_error(p, "write");
  return ok_status();
}

}  // namespace

AdminFolder::AdminFolder(fs::path dir, const ops::Resources& res, std::function<int64_t()> clock)
    : dir_(std::move(dir)), res_(res), clock_(std::move(clock)) {}

AdminFolder::~AdminFolder() {
  replica_.reset();
  server_.reset();
  store_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Status AdminFolder::lock() {
  std::error_code ec;
  fs::create_directories(dir_ / "admin", ec);
  if (ec) return io_error(dir_ / "admin", ec.message());
  lock_fd_ = ::open((dir_ / "admin" / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return io_error(dir_ / "admin" / "lock", std::strerror(errno));
  // Another admin command holds it: wait for it to finish (commands are short; none prompts).
  while (::flock(lock_fd_, LOCK_EX) != 0)
    if (errno != EINTR) return io_error(dir_ / "admin" / "lock", std::strerror(errno));
  return ok_status();
}

Result<std::unique_ptr<AdminFolder>> AdminFolder::open(const fs::path& dir, const ops::Resources& res,
                                                       std::function<int64_t()> clock) {
  if (!fs::exists(dir / "server.db"))
    return Error(ErrorCode::store_missing, {bilingual(dir.string() + "（请先运行 sync-server init）",
                                                      dir.string() + " (run sync-server init first)")});
  std::unique_ptr<AdminFolder> f(new AdminFolder(dir, res, std::move(clock)));
  if (auto st = f->lock(); !st) return st.error();
  auto s = sync::open_sqlite_server_store(dir);
  if (!s) return s.error();
  f->store_ = std::move(*s);
  auto id = sync::load_server_identity(*f->store_);
  if (!id)
    return Error(ErrorCode::store_missing, {bilingual(dir.string() + "（请先运行 sync-server init）",
                                                      dir.string() + " (run sync-server init first)")});
  f->identity_ = *id;
  return f;
}

Result<std::unique_ptr<AdminFolder>> AdminFolder::create(const fs::path& dir, const ops::Resources& res,
                                                         std::function<int64_t()> clock, const std::string& county,
                                                         const std::string& name) {
  std::unique_ptr<AdminFolder> f(new AdminFolder(dir, res, std::move(clock)));
  if (auto st = f->lock(); !st) return st.error();
  auto s = sync::open_sqlite_server_store(dir);
  if (!s) return s.error();
  f->store_ = std::move(*s);
  auto id = sync::create_server_identity(*f->store_, county, name);
  if (!id) return id.error();
  f->identity_ = *id;
  if (auto csv = res.county_tree_csv(county))
    if (auto tree = region::RegionTree::parse_csv(*csv, "shipped"))
      if (auto st = f->set_config(ops::kConfigRegionTree, ops::region_tree_config_value({"shipped", tree->to_csv()})); !st)
        return st.error();
  if (auto st = f->make_replica(); !st) return st.error();
  return f;
}

std::optional<region::RegionTree> AdminFolder::region_tree() const {
  auto v = store_->config(ops::kConfigRegionTree);
  if (!v) return std::nullopt;
  auto t = ops::parse_region_tree_config(v->second, v->first);
  if (!t) return std::nullopt;
  auto tree = region::RegionTree::parse_csv(t->csv, t->version);
  if (!tree) return std::nullopt;
  return std::move(*tree);
}

std::optional<Period> AdminFolder::period() const {
  auto v = store_->config(ops::kConfigPeriod);
  if (!v) return std::nullopt;
  return ops::parse_period_config(v->second);
}

sync::SyncServer& AdminFolder::server() {
  if (!server_) {
    server_tree_ = region_tree();
    ValidationContext ctx;
    ctx.today = china_date_of(clock_());
    auto p = period();
    ctx.period_year = p ? p->year : ctx.today.year;
    ctx.settings = &res_.schema.settings();
    ctx.counties = &res_.counties;
    ctx.tree = server_tree_ ? &*server_tree_ : nullptr;
    server_ = std::make_unique<sync::SyncServer>(*store_, res_.schema, ctx, clock_);
  }
  return *server_;
}

Status AdminFolder::set_config(const std::string& key, const std::string& value) {
  auto st = server().set_config(key, value);
  server_.reset();  // the next server() validates with the new configuration
  return st;
}

std::optional<DeviceId> AdminFolder::admin_device() const {
  auto v = store_->meta_value(sync::kMetaAdminDevice);
  if (!v) return std::nullopt;
  return DeviceId::from_hex(*v);
}

// A new replica: a random passphrase in admin/key (0600), a device store with the county secret,
// registered for the whole county. admin/key is written last, so a replica interrupted while being
// made is made again; a replaced admin device is retired.
Status AdminFolder::make_replica() {
  const fs::path admin = dir_ / "admin", store_dir = admin / "store", key = admin / "key";
  std::error_code ec;
  fs::remove_all(store_dir, ec);
  std::string pass = crypto::to_hex(crypto::random_bytes(32));
  StoreConfig cfg;
  cfg.county = identity_.county;
  cfg.collectors = {kAdminCollector};
  cfg.default_collector = kAdminCollector;
  auto s = create_device_store(store_dir, pass, res_.schema, cfg, kReplicaKdf, identity_.county_secret);
  if (!s) return s.error();
  const DeviceId id = (*s)->info().device;
  if (auto old = admin_device(); old && *old != id)
    if (auto d = store_->device(*old); d && !d->retired) (void)server().retire_device(*old);
  if (auto st = server().register_device(id, {identity_.county}); !st) return st;
  if (auto st = sync::in_write_txn(*store_, [&] { store_->put_meta_value(sync::kMetaAdminDevice, id.hex()); }); !st) return st;
  if (auto st = write_private_file(admin / "key.new", pass); !st) return st;
  fs::rename(admin / "key.new", key, ec);
  if (ec) return io_error(key, ec.message());
  replica_ = std::move(*s);
  return ok_status();
}

Status AdminFolder::open_replica() {
  const fs::path admin = dir_ / "admin";
  if (!fs::exists(admin / "key") || !device_store_exists(admin / "store")) return make_replica();
  auto pass = read_key(admin / "key");
  if (!pass) return pass.error();
  auto s = open_device_store(admin / "store", *pass, res_.schema);
  if (!s) return s.error();
  replica_ = std::move(*s);
  return ok_status();
}

Result<DeviceStore*> AdminFolder::replica() {
  if (!replica_) {
    if (auto st = open_replica(); !st) return st.error();
    if (auto r = sync_replica(); !r) return r.error();
  }
  return replica_.get();
}

Result<ops::SyncReport> AdminFolder::sync_replica() {
  if (!replica_)
    if (auto st = open_replica(); !st) return st.error();
  sync::LoopbackTransport transport(server());
  ops::DeviceSync ds(*replica_, transport, clock_);
  auto r = ds.sync();
  if (!r) return r.error();
  if (auto st = ops::apply_received_config(*replica_); !st) return st.error();
  return r;
}

}  // namespace tz::server_cli
