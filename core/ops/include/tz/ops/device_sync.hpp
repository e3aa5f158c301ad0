// The device side of sync (SPEC §5): pushes the change log after the server's acknowledgement in
// batches, pulls pages after the cursor and applies each in one transaction (the cursor is stored in
// it, never before), keeps unpushed edits visible, raises the clock to what it pulls, and recovers
// from a rolled-back refusal (renumber, pull from cursor 0, push again) and from a new server epoch
// (re-push what the server lacks, pull from cursor 0). Over a DeviceStore and a Transport.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tz/ops/enrol.hpp"
#include "tz/store/device_store.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/scope.hpp"
#include "tz/sync/transport.hpp"

namespace tz::ops {

// Where a sync() stands, after each exchange (a progress bar, or plain lines when not on a terminal).
struct SyncProgress {
  bool pulling = false;        // the exchange was a pull page (else a push)
  uint64_t pushed = 0;         // changes sent so far in this sync
  uint64_t to_push = 0;        // changes waiting when the sync started (grows after a renumbering)
  uint64_t pulled_records = 0;
  uint64_t pages = 0;
  uint64_t exchanges = 0;
};

struct DeviceSyncOptions {
  // Changes per push request, and a bound on their values' bytes (the request stays far below the
  // server's 64 MiB inflated-body limit whatever the values hold; at least one change always goes).
  // 50,000 is what bench/ measures: each request is one server transaction, and its commit writes
  // the pages of the random-keyed indexes it touched, so fewer, larger requests cost the server less;
  // the server's memory for one request stays about 220 MB (decision 135).
  size_t push_batch = 50000;
  size_t push_bytes = size_t{16} << 20;
  uint32_t page_records = 2000;   // records asked for per pull page
  int max_exchanges = 100000;     // a bound on requests in one sync() (it gives up with an error)
  MergeMode merge_mode = MergeMode::correct;  // test seam (simulator): must match the server's
  sync::Limits limits;            // what replies may hold
  std::function<void(const SyncProgress&)> progress;  // called after every exchange of sync()
  // Set for an enrolled device talking to SyncServer::handle_signed: every request goes out in a
  // SignedRequest whose counter is stored before it leaves (pulls too). A stale_counter refusal moves
  // the stored counter above the server's last one and the request is sent once more.
  std::optional<RequestSigner> signer;
};

struct PushResult {
  uint64_t sent = 0;            // changes sent in the request
  uint64_t acked_seq = 0;       // after the reply
  uint64_t applied = 0, conflicts = 0, quarantined = 0, duplicates = 0, restamped = 0;
  bool done = false;            // nothing left to push
  bool rolled_back = false;     // refused as a rolled-back store: renumbered, pull from cursor 0 next
};

struct PullResult {
  uint64_t records = 0;
  bool more = false;
};

struct SyncReport {
  uint64_t pushed = 0, applied = 0, conflicts = 0, quarantined = 0, duplicates = 0, restamped = 0;
  uint64_t pulled_records = 0, pages = 0, exchanges = 0;
  bool rolled_back_recovered = false;  // a rolled-back refusal was met and recovered from
  bool new_server_epoch = false;       // the server's epoch changed since the last sync
  bool period_changed = false;         // the county's configuration changed the store's period
  bool region_tree_changed = false;    // ... or its region tree
};

// Not thread-safe; one sync at a time on one store (the store's own rule).
class DeviceSync {
 public:
  // now: the device's wall clock in ms (injected).
  DeviceSync(DeviceStore& store, sync::Transport& transport, std::function<int64_t()> now,
             DeviceSyncOptions options = {});

  // Pushes everything, then pulls everything, handling refusals and epochs; resumable (a cut-off
  // exchange is an error and the next sync() goes on from what was stored).
  Result<SyncReport> sync();
  // One push request (the simulator's partial syncs).
  Result<PushResult> push_once();
  // One pull page.
  Result<PullResult> pull_once();

  // The pieces of push_once and pull_once that offline bundles use (ops/bundle.hpp), so a bundle is
  // applied by exactly the network path's code. The push request of the changes after `after` (one
  // consecutive run of at most push_batch changes and about push_bytes; its counter is left 0).
  sync::PushRequest make_push_request(uint64_t after) const;
  // The pull request from the stored cursor (as pull_once sends it).
  sync::PullRequest make_pull_request() const;
  // Takes a push reply for a request whose last change was `compared`: acknowledgement, refusals
  // (rolled back: renumber and pull from cursor 0), a restored store or server.
  Result<PushResult> take_push_reply(const sync::PushReply& reply, uint64_t compared);
  // Applies one pull page in one transaction with its cursor (or, when the page shows this store
  // reused ids or was restored, stores what must happen next and leaves the cursor).
  Status apply_page(const sync::PullPage& page);

 private:
  Status handle_push_refusal(const sync::PushReply& reply);
  void note_epoch(const std::string& server_epoch);
  // Sends make(counter)'s frame (signed when options_.signer is set) and returns the reply. A counter
  // is spent (stored first) for every push and, when signing, every request.
  Result<std::string> send(const std::function<std::string(uint64_t counter)>& make, bool push);
  // A SignedReply's inner frame, its audit head checked and kept (keep_audit_head); any other reply as is.
  Result<std::string> take_audit_head(std::string reply);

  // The device's own changes by entity and sequence, read from the log once per sync when a page
  // needs them (rebuilds, re-stamps, releases); dropped when the log changes under it.
  struct OwnIndex;
  std::shared_ptr<OwnIndex> own_;
  // Set by a page that shows this store reused ids the server holds: the page was not applied and
  // the next push (refused as rolled back) must come before more pulls.
  bool push_first_ = false;

  DeviceStore& store_;
  sync::Transport& transport_;
  std::function<int64_t()> now_;
  DeviceSyncOptions options_;
};

// How a device keeps trying when the server cannot be reached or is busy (503): waits that double
// from first_wait_ms up to max_wait_ms, each drawn between half and all of its value (so that many
// devices that failed together do not come back together), until timeout_ms has passed. A refusal
// or a wrong server is not retried.
struct RetryPolicy {
  int64_t first_wait_ms = 500;
  int64_t max_wait_ms = 8000;
  int64_t timeout_ms = 30000;
  uint64_t jitter_seed = 0;  // 0: a seed from the device id
};
struct RetryHooks {
  std::function<int64_t()> steady_ms;             // a monotonic clock
  std::function<void(int64_t ms)> sleep;          // waits that long
  std::function<void(const Error&, int64_t wait_ms)> on_retry;  // told before each wait (may be empty)
};
struct RetriedSync {
  Result<SyncReport> result;
  int tries = 0;
};
RetriedSync sync_with_retry(DeviceSync& sync, const DeviceId& device, const RetryPolicy& policy, const RetryHooks& hooks);
// Checks the audit head against the server's key (when given) and keeps it when it is the highest
// seen (sync_config kAuditHeadConfig). sync_refused when the signature does not verify.
Status keep_audit_head(DeviceStore& store, const sync::AuditHead& head, std::string_view server_sign_pub);
// The highest audit head this device has seen (signature checked when it was kept), if any: the
// county checks it against its chain (`sync-server audit verify --head SEQ:HASH`) to detect a
// truncated or rewritten chain.
std::optional<sync::AuditHead> kept_audit_head(const DeviceStore& store);

// What the device records for the county's audit chain (SPEC §6: "a device records it locally and
// pushes the record"): kept in the store until a push that carried it is acknowledged, over the
// network or through a response bundle. summary: counts and names, never an ID, name or phone.
Status record_device_audit(DeviceStore& store, int64_t device_ms, const std::string& kind, const std::string& summary);
std::vector<sync::PushRequest::AuditNote> pending_audit_notes(const DeviceStore& store);
// Drops the notes recorded up to `up_to_ms` (those the acknowledged push or bundle carried).
Status drop_audit_notes(DeviceStore& store, int64_t up_to_ms);

// The merges this device learnt from its pull stream (merged-away id -> survivor): MergeRecords add
// them, an entity entering the scope replaces the links into it, one leaving drops them.
inline constexpr std::string_view kMergeLinksConfig = "merge_links";
sync::MergeLinks device_merge_links(const DeviceStore& store);

// The SPEC §5 digest of a device's scope: every entity held whose villages (computed from the
// device's own states, as the server computes them) the scope holds, by id, with tz::digest of its
// state and the entities merged into it (sync::append_merge_lines). Equal to
// SyncServer::scope_digest after everyone pushed and pulled.
std::string device_scope_digest(const DeviceStore& store, const sync::Scope& scope);

}  // namespace tz::ops
