// The server's data folder as the admin commands use it: the server store, a SyncServer over it, the
// server's identity (sync::ServerIdentity: county, secret, signing and box keys, made by init through
// sync::create_server_identity), and the county admin replica (decision 60) — a real encrypted
// device store under admin/ registered with the server for the whole county, brought up to date before a command reads
// and pushed after it writes, over the same sync path as any device. An admin command holds
// admin/lock (flock) from open to exit, so two admin commands take turns; `serve` shares the server
// store (SQLite WAL, busy timeout, nothing cached across transactions) and opens the folder only for
// a reconciliation request (decision 301).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tz/model/region_tree.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/resources.hpp"
#include "tz/store/device_store.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::server_cli {

inline constexpr const char* kAdminCollector = "县管理员";

// Owns the store, the server and the replica of one command. Not thread-safe.
class AdminFolder {
 public:
  // The folder of an initialised server: a user error naming the folder when it holds none.
  static Result<std::unique_ptr<AdminFolder>> open(const std::filesystem::path& dir, const ops::Resources& res,
                                                   std::function<int64_t()> clock);
  // init: a new server store with the county, the county's shipped region tree when the project has
  // one, and the admin replica.
  static Result<std::unique_ptr<AdminFolder>> create(const std::filesystem::path& dir, const ops::Resources& res,
                                                     std::function<int64_t()> clock, const std::string& county,
                                                     const std::string& name);
  ~AdminFolder();

  const std::filesystem::path& dir() const { return dir_; }
  const sync::ServerIdentity& identity() const { return identity_; }
  sync::ServerStore& store() { return *store_; }
  // A server whose validation context reflects the configuration as of this call.
  sync::SyncServer& server();
  Status set_config(const std::string& key, const std::string& value);

  // The county configuration as the server holds it now.
  std::optional<region::RegionTree> region_tree() const;
  std::optional<Period> period() const;

  // The replica, brought up to date with the server (pull, and push of anything unpushed), with the
  // received configuration taken up. Opened (or made, when missing) on first use.
  Result<DeviceStore*> replica();
  // Pushes what the replica holds unpushed and pulls what is new.
  Result<ops::SyncReport> sync_replica();
  std::optional<DeviceId> admin_device() const;

 private:
  AdminFolder(std::filesystem::path dir, const ops::Resources& res, std::function<int64_t()> clock);
  Status lock();
  Status make_replica();
  Status open_replica();

  std::filesystem::path dir_;
  const ops::Resources& res_;
  std::function<int64_t()> clock_;
  int lock_fd_ = -1;
  std::unique_ptr<sync::ServerStore> store_;
  sync::ServerIdentity identity_;
  std::optional<region::RegionTree> server_tree_;  // the tree the current server_ validates with
  std::unique_ptr<sync::SyncServer> server_;
  std::unique_ptr<DeviceStore> replica_;
};

}  // namespace tz::server_cli
