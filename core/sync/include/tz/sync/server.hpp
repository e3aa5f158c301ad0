// The server side of sync (SPEC §5): push batches applied in sequence order in one transaction each,
// with per-change outcomes; quarantine and its release or rejection; epochs and the rolled-back
// refusal; pull pages within a device's scope; the clock guard. Over a ServerStore; knows nothing of
// HTTP (a transport hands it request bytes through handle()).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tz/crypto/keys.hpp"
#include "tz/model/schema.hpp"
#include "tz/model/validation.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::sync {

// The server-store meta value listing the merges in force: "<merged away hex> <survivor hex>\n" each.
inline constexpr const char* kMetaMerges = "merges";
// "1" once every entity's match key is in the store (merging on apply, decision 221); the pairs a
// reviewer unmerged ("survivor merged-away" hex per line), never merged again on apply or by verify.
inline constexpr const char* kMetaMatchKeys = "match_keys";
inline constexpr const char* kMetaUnmerged = "unmerged";
// The device id of the changes the server makes itself (children placed under a merge's survivor);
// its sequence numbers are counted in meta value "merge_device_seq".
DeviceId merge_device_id();

struct ServerOptions {
  int64_t max_clock_lead_ms = 5 * 60 * 1000;  // a timestamp further ahead than this is re-stamped
  size_t max_page_records = 5000;             // records per pull page, whatever the device asks
  size_t max_scan_rows = 20000;               // log rows one pull page looks at
  MergeMode merge_mode = MergeMode::correct;  // test seam: the simulator proves its oracle catches LWW
  Limits limits;                              // what handle() decodes
  // Exact duplicates merged as a push or release brings them (SPEC §8 "on apply"; decision 221).
  // Off: only verify (merge_exact) merges them.
  bool merge_on_apply = true;
};

// The server-store meta value naming the county admin replica (decision 60; hex device id): the only
// device whose changes to a reviewer_only field apply (decision 315).
inline constexpr const char* kMetaAdminDevice = "admin_device";

// The county server's identity (SPEC §6): the county, its natural-key secret and the server's
// long-lived Ed25519 (signing) and X25519 (sealing) keys, kept in the store's meta values "county",
// "county_name", "county_secret", "sign_priv", "sign_pub", "box_priv", "box_pub".
struct ServerIdentity {
  std::string county, county_name, county_secret;
  crypto::KeyPair sign, box;
};
// `sync-server init`: makes the secret and both key pairs in one transaction. county must be 6 digits;
// already_exists when the store has a county already.
Result<ServerIdentity> create_server_identity(ServerStore& store, const std::string& county, const std::string& county_name);
// not_found (naming what is missing: run init) when the store has no county or no keys.
Result<ServerIdentity> load_server_identity(const ServerStore& store);

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
  // Changes after at_seq (default: the device's current acknowledged sequence) are quarantined from
  // now on. An at_seq below what the server applied already is invalid_input.
  Status retire_device(const DeviceId& id, std::optional<uint64_t> at_seq = std::nullopt);
  Status revoke_device(const DeviceId& id);
  // County configuration sent to every device (key: schema, thresholds, period, region_tree).
  Status set_config(const std::string& key, const std::string& value);

  PushReply push(const PushRequest& request);
  Result<PullPage> pull(const PullRequest& request);
  // Decodes an unsigned request frame (bounded by options.limits), runs it, encodes the reply. Bad
  // bytes get an ErrorReply frame (protocol.hpp), never an exception. In process only (tests, the
  // admin replica): the network gets handle_signed.
  std::string handle(std::string_view request);

  // Enrolment (SPEC §6; needs the server identity). A one-time token bound to a scope and collectors,
  // valid until expires_ms (server clock); returns the token string (protocol.hpp encode_token).
  Result<std::string> create_token(const Scope& scope, const std::vector<std::string>& collectors, int64_t expires_ms);
  std::vector<TokenRecord> tokens() const;
  // An EnrolRequest frame → an EnrolReply or ErrorReply frame (token_unknown, token_expired, token_used,
  // bad_signature, device_revoked, schema_version, invalid_input). The device that used a token may
  // send the same request again (a lost reply) and gets the grant again.
  std::string handle_enrol(std::string_view request);
  // A SignedRequest frame (inner push or pull) → the reply frame. Refused whole with an ErrorReply:
  // unknown_device (also a device without keys), device_revoked, bad_signature, stale_counter (with
  // last_counter; nothing applied), schema_version, invalid_input. What the network sees.
  std::string handle_signed(std::string_view request);

  // `token create --out`: a token as create_token makes, its enrolment code (12 digits, shown to the
  // admin only) and the token file (bundle.hpp) holding the token and the grant under that code.
  struct TokenFileMade {
    std::string token, code, file;
  };
  Result<TokenFileMade> create_token_file(const Scope& scope, const std::vector<std::string>& collectors, int64_t expires_ms);

  // An offline bundle (SPEC §7; server_bundle.cpp): opened with the server's box key, its manifest
  // signature checked against the device's registered key (or, for a device enrolled from a token
  // file, the key its registration carries, which binds the token to it whatever the token's expiry),
  // then its pushes applied by push() and the pull stream read by pull() from its cursor, exactly as
  // the network path does; the response bundle is signed and sealed to the device. Refused whole with
  // nothing applied (a bilingual Error): not a bundle, another format version, sealed to another
  // server, cut short, altered, signed by another key, an unknown or revoked device, a token used by
  // another device. A rolled-back store is not refused here: its response carries the refusal.
  struct BundleImport {
    DeviceId device;
    uint64_t number = 0;
    std::string response;                  // the response bundle file
    bool registered_now = false;           // the bundle's registration bound a token in this import
    uint64_t changes = 0, applied = 0, conflicts = 0, quarantined = 0, duplicates = 0, restamped = 0;
    bool rolled_back = false;              // refused as a rolled-back store (the response says so)
    uint64_t highest_seq_held = 0;
    uint64_t pulled_records = 0, pages = 0;
    bool more = false;                     // the stream did not fit: the device exports again
  };
  Result<BundleImport> import_bundle(std::string_view file);

  // `device recover FILE --out KEYFILE` (SPEC §6): the device's escrowed data key, opened with the
  // server's box key and sealed to the request's one-time key, signed; recorded in the audit chain.
  // unknown_device, device_revoked, not_found (no escrow: the device enrolled without one).
  Result<std::string> recover_device(std::string_view request_file);

  // Review of the quarantine.
  std::vector<StoredChange> quarantine() const;
  // Applies a held change now, without the check that held it, merged as if just received.
  Status release(const VersionId& id);
  // Keeps the change, marked rejected; the sender is told.
  Status reject(const VersionId& id, const std::string& reason);

  // Every notice in the log, in server order, with the device it is for (the review API lists them).
  struct TargetedNotice {
    DeviceId target;
    NoticeRecord notice;
  };
  std::vector<TargetedNotice> notices() const;
  // Notices of kind flagged (verification findings, SPEC §8), appended in one transaction; each
  // reaches its target device in its next pull (field-cli notices).
  struct Flag {
    DeviceId target;
    EntityType type = EntityType::person;
    EntityId entity;
    FieldId field = 0;
    std::string zh, en;
  };
  Status flag(const std::vector<Flag>& flags);

  // The SPEC §5 digest of a scope: every entity whose villages the scope holds, by id, with
  // tz::digest of its state.
  std::string scope_digest(const Scope& scope) const;

  // Merges (SPEC §8; docs/dedup.md "Merging"). In one transaction: merged_away's live versions join
  // survivor's with their ids (disagreeing fields become conflicts), merged_away becomes an empty
  // tombstone linked to survivor (server-store meta kMetaMerges, with what unmerge needs under
  // "merge:<hex>"), its children (persons of a household, jobs, visits and subsidies of a person)
  // are placed under survivor by server-made changes (device kMergeDevice), a merge row joins the
  // pull stream for the villages of both, and the audit chain records it. Later changes addressed to
  // merged_away are applied to survivor (the sender gets a `redirected` notice), except a deletion,
  // which is quarantined. Refused: the same entity, unknown entities, different types, a type other
  // than person or household, merged_away already merged away or a survivor of another merge
  // (unmerge that first), survivor merged away.
  struct MergeSummary {
    EntityId survivor, merged_away;
    uint64_t versions = 0;   // live versions moved (merge) or moved back (unmerge)
    uint64_t conflicts = 0;  // fields of the survivor in conflict after the merge
    uint64_t children = 0;   // children placed under the survivor (merge) or back (unmerge)
  };
  Result<MergeSummary> merge(const EntityId& survivor, const EntityId& merged_away);
  // Undoes the merge of merged_away: it gets back its state at merge time plus every change addressed
  // to it since (redirected to the survivor), the survivor loses exactly those versions, children
  // the merge moved (and nobody moved since) go back. not_found when merged_away is not merged.
  Result<MergeSummary> unmerge(const EntityId& merged_away);
  // Exact duplicates (SPEC §8): every group of persons with one normalised 身份证号, or households
  // with one 村代码 + 户编号, merged into its smallest id, in one transaction (verify). A push or a
  // release that makes such a group merges it as it applies (the sender gets a redirected notice).
  // A pair unmerged before is left apart; a merge the rules refuse (a chain) is skipped.
  Result<std::vector<MergeSummary>> merge_exact();
  // The survivor merged_away was merged into, if it is merged away now.
  std::optional<EntityId> merged_into(const EntityId& id) const;
  // Whether a reviewer unmerged this pair (either order; kMetaUnmerged): no automatic merge joins
  // them again (on apply, merge_exact, verify).
  bool unmerged_before(const EntityId& a, const EntityId& b) const;
  // Every merge in force: (merged away, survivor).
  std::vector<std::pair<EntityId, EntityId>> merges() const;

  const ServerStore& store() const { return store_; }

 private:
  // Binds a token to the device of an enrolment request (its signature already checked), in a
  // transaction: the network's enrolment checks the expiry, a bundle's registration does not.
  struct EnrolRefusal {
    std::string code, zh, en;
  };
  Result<DeviceRecord> bind_enrolment(const EnrolRequest& req, bool check_expiry, EnrolRefusal& refusal);
  EnrolGrant grant_for(const ServerIdentity& id, const Scope& scope, const std::vector<std::string>& collectors) const;

  struct Impl;
  ServerStore& store_;
  const Schema& schema_;
  ValidationContext validation_;
  std::function<int64_t()> clock_;
  ServerOptions options_;
  // The single-field rules of each (entity type, field), made once for the server's life (server.cpp).
  struct FieldRules;
  struct RuleCache;
  std::shared_ptr<RuleCache> rules_;
};

}  // namespace tz::sync
