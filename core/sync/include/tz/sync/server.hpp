// The server side of sync (SPEC §5): push batches applied in sequence order in one transaction each,
// with per-change outcomes; quarantine and its release or rejection; epochs and the rolled-back
// refusal; pull pages within a device's scope; the clock guard. Over a ServerStore; knows nothing of
// HTTP (a transport hands it request bytes through handle()).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "tz/model/schema.hpp"
#include "tz/model/validation.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::sync {

struct ServerOptions {
  int64_t max_clock_lead_ms = 5 * 60 * 1000;  // a timestamp further ahead than this is re-stamped
  size_t max_page_records = 5000;             // records per pull page, whatever the device asks
  size_t max_scan_rows = 20000;               // log rows one pull page looks at
  MergeMode merge_mode = MergeMode::correct;  // test seam: the simulator proves its oracle catches LWW
  Limits limits;                              // what handle() decodes
};

// Not thread-safe: one request at a time (the HTTP server serialises writes).
class SyncServer {
 public:
  // clock: the server's wall clock in ms (injected; tests drive it).
  SyncServer(ServerStore& store, const Schema& schema, ValidationContext validation, std::function<int64_t()> clock,
             ServerOptions options = {});

  // Devices (enrolment comes with Sync II; here a device is registered with its scope).
  Status register_device(const DeviceId& id, const Scope& scope);
  // A new scope: the device's next pull gains the full state of what entered and drops what left.
  Status set_scope(const DeviceId& id, const Scope& scope);
  // Changes after the device's current acknowledged sequence are quarantined from now on.
  Status retire_device(const DeviceId& id);
  Status revoke_device(const DeviceId& id);
  // County configuration sent to every device (key: schema, thresholds, period, region_tree).
  Status set_config(const std::string& key, const std::string& value);

  PushReply push(const PushRequest& request);
  Result<PullPage> pull(const PullRequest& request);
  // Decodes a request frame (bounded by options.limits), runs it, encodes the reply. Bad bytes get an
  // ErrorReply frame (protocol.hpp), never an exception.
  std::string handle(std::string_view request);

  // Review of the quarantine.
  std::vector<StoredChange> quarantine() const;
  // Applies a held change now, without the check that held it, merged as if just received.
  Status release(const VersionId& id);
  // Keeps the change, marked rejected; the sender is told.
  Status reject(const VersionId& id, const std::string& reason);

  // The SPEC §5 digest of a scope: every entity whose villages the scope holds, by id, with
  // tz::digest of its state.
  std::string scope_digest(const Scope& scope) const;

  const ServerStore& store() const { return store_; }

 private:
  struct Impl;
  ServerStore& store_;
  const Schema& schema_;
  ValidationContext validation_;
  std::function<int64_t()> clock_;
  ServerOptions options_;
};

}  // namespace tz::sync
