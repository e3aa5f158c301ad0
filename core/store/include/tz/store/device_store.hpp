// The device store: entities with their live field versions, the change log that sync pushes, keyed
// lookups, and the store's configuration. Personal data is encrypted at rest (AES-256-GCM under a
// data key wrapped by a scrypt key from the passphrase). SQLite sits behind this interface; none of
// its types appear here. One DeviceStore is used by one thread at a time.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tz/crypto/crypto.hpp"
#include "tz/crypto/natural_keys.hpp"
#include "tz/model/hlc.hpp"
#include "tz/model/merge.hpp"
#include "tz/model/period.hpp"
#include "tz/model/record.hpp"
#include "tz/model/schema.hpp"
#include "tz/util/error.hpp"

namespace tz {

// What init sets up, and what later configuration (enrolment, the server's period) replaces.
struct StoreConfig {
  std::string county;                   // 6-digit county code
  std::vector<std::string> collectors;  // the device's collectors
  std::string default_collector;
  Period period;
  std::string region_tree_csv;          // the county's region tree, when known
  std::string region_tree_version;
};

// Where the device stands with its server (SPEC §5 Push / Pull / Epochs). Written only together with
// what it describes (a pull page's records, a push's acknowledgement), in one transaction.
struct SyncState {
  std::string server_epoch;      // the server epoch of the last successful exchange ("" never synced)
  uint64_t cursor = 0;           // the server sequence up to which pull pages are applied
  bool own_values = true;        // pulling from cursor 0: the device's own changes come with values
  uint64_t request_counter = 0;  // the last request counter used (stored before a request is sent)
  // Set after a rolled-back refusal or a new server epoch: pull from cursor 0 before pushing again.
  bool full_pull_needed = false;
};

// What enrolment gives a device (SPEC §6): its own key pairs (Ed25519 for signing requests, X25519 for
// what the server seals to it), the server it enrolled with and that server's public keys (pinned),
// and the device's scope. All raw 32-byte keys. Stored sealed under the data key: nothing of it is in
// the file in plaintext.
struct DeviceIdentity {
  std::string sign_priv, sign_pub, box_priv, box_pub;
  std::string server_url, server_sign_pub, server_box_pub;
  std::vector<std::string> scope;  // region codes (villages, townships or the county)
  // Enrolled from a token file (no network): the EnrolRequest frame that registers the device's
  // keys, carried in every bundle until a response bundle confirms it ("" otherwise).
  std::string registration;
  bool operator==(const DeviceIdentity&) const = default;
};

struct StoreInfo {
  DeviceId device;
  std::string epoch;         // random, new after a restore
  uint64_t next_seq = 1;     // the next change sequence number
  uint64_t acked_seq = 0;    // the last sequence the server acknowledged
  int64_t created_ms = 0;
  int64_t last_sync_ms = 0;
  int schema_version = 0;
  std::string derived_period;  // the period ("YEAR:as-of") the person flags were computed for
  StoreConfig config;
  SyncState sync;
  // Whether the store ever exchanged with a server (its ids can then no longer be re-keyed).
  bool ever_synced() const { return acked_seq != 0 || sync.cursor != 0 || !sync.server_epoch.empty(); }
};

// What the server decided about one of this device's own changes (only non-default ones are kept).
enum class OwnStatus : uint8_t { normal = 0, quarantined = 1, rejected = 2 };

// A notice for the collector (`notices`), as received in a pull page.
struct StoredNotice {
  uint64_t server_seq = 0;
  uint8_t kind = 0;             // tz::sync::NoticeRecord::Kind
  EntityType type = EntityType::person;
  EntityId entity;
  FieldId field = 0;
  VersionId version;
  std::string reason_zh;
  std::string reason_en;
};

// The form of StoreInfo::derived_period for a period.
std::string period_key(const Period& p);

// Exact lookups through keyed hashes; the key never appears in the file.
enum class LookupKind : uint8_t { id_number = 1, phone = 2, name = 3 };

// The merge bookkeeping of an entity beside its live versions (merge.hpp EntityState): ids that
// bases have superseded, per field, and the bases of live deletions. Not personal data.
struct MergeExtras {
  FlatMap<FieldId, std::vector<VersionId>> superseded;
  FlatMap<VersionId, std::vector<VersionId>> deletion_bases;
  bool empty() const { return superseded.empty() && deletion_bases.empty(); }
};
// Conversions between a stored entity (live versions + extras) and the merge state.
EntityState to_state(const Entity& e, const MergeExtras& extras);
void from_state(const EntityState& s, Entity& e, MergeExtras& extras);

// One entity as written: its full state plus the plaintext columns the store indexes.
struct EntityRow {
  Entity entity;
  std::string village;               // the village the entity belongs to (scope, status by village)
  std::optional<EntityId> parent;    // person -> household, job/visit -> person or household
  uint32_t flags = 0;                // kFlag* bits, readable without the passphrase
  MergeExtras merge;                 // superseded ids and deletion bases (plaintext, NULL when empty)
};

// Person flags, computed whenever the person, its household, jobs or visits change, for the period
// named by StoreInfo::derived_period; readable without the passphrase (status).
inline constexpr uint32_t kFlagIdentityOk = 1;          // 人员底数清: name, a valid ID, household and village
inline constexpr uint32_t kFlagLabourClear = 2;         // 劳动能力清
inline constexpr uint32_t kFlagStatusClear = 4;         // 就业状态清
inline constexpr uint32_t kFlagWillingnessClear = 8;    // 外出意愿清
inline constexpr uint32_t kFlagEmployed = 16;           // employed in the period
inline constexpr uint32_t kFlagInLabourCount = 32;      // in the labour count

// A change to an entity's plaintext columns only (a household's village moving its people, a
// person's flags after a job or visit changed).
struct RowUpdate {
  EntityId id;
  std::string village;
  uint32_t flags = 0;
};

struct LookupRow {
  LookupKind kind;
  std::string key;  // normalised value (e.g. the 18-character ID)
  EntityId entity;
};

// Everything one operation writes, applied in one transaction.
struct WriteBatch {
  std::vector<EntityRow> entities;
  std::vector<FieldChange> changes;  // seqs must continue the store's next_seq without gaps
  std::vector<LookupRow> lookups;
  std::vector<RowUpdate> row_updates;
  std::string derived_period;        // when set: the period the person flags are now valid for
  Hlc clock;                         // the clock after the changes
  std::string crash_point;           // named crash point just before commit
  // Sync (tz::ops::DeviceSync):
  std::vector<EntityId> removed;     // entity rows (and their lookups) to delete
  // Entities whose lookup rows are deleted before `lookups` are added (a state replaced whole).
  std::vector<EntityId> lookups_replaced;
  // Own changes to put into the log at sequence numbers below next_seq that the log lacks (a store
  // restored from an older copy gets back, from the server, the changes it had lost). A seq the log
  // holds, or not below next_seq, refuses the whole batch; next_seq does not move.
  std::vector<FieldChange> restored_changes;
  std::vector<std::pair<uint64_t, OwnStatus>> own_status;  // seq -> status (normal erases)
  std::vector<StoredNotice> notices;  // insert or ignore by (server_seq, version)
  std::vector<std::pair<std::string, std::pair<uint64_t, std::string>>> configs;  // key -> (version, value)
  std::optional<SyncState> sync;
  std::optional<uint64_t> acked_seq;  // the server's acknowledgement
};

struct ScryptCost {
  uint64_t n = 1ULL << 15;
  uint32_t r = 8;
  uint32_t p = 1;
};

class DeviceStore {
 public:
  virtual ~DeviceStore() = default;

  virtual const StoreInfo& info() const = 0;
  virtual const Schema& schema() const = 0;
  virtual bool unlocked() const = 0;

  // Natural-key ids under the county secret (requires unlock).
  virtual const crypto::NaturalKeys& natural_keys() const = 0;

  virtual std::optional<Entity> get(const EntityId& id) const = 0;
  virtual std::optional<EntityRow> get_row(const EntityId& id) const = 0;
  // Many rows in one read transaction (one result per id, in order): imports read thousands.
  virtual std::vector<std::optional<EntityRow>> get_rows(const std::vector<EntityId>& ids) const = 0;
  // Every entity (optionally of one type), decrypted; locked stores give only non-personal fields.
  virtual void scan(std::optional<EntityType> type, const std::function<void(EntityRow&&)>& fn) const = 0;
  // Every entity, decrypted, as scan(nullopt) gives them and in the same order (by id), all at once:
  // the calling thread reads the file while up to `threads` threads in all decrypt and decode
  // (reports and lists read a whole county this way).
  virtual std::vector<EntityRow> load_rows(unsigned threads) const = 0;
  // Candidates for an exact match; callers confirm against the decrypted value.
  virtual std::vector<EntityId> lookup(LookupKind kind, std::string_view key) const = 0;
  virtual uint64_t entity_count(EntityType type) const = 0;
  // The entities whose parent is `parent` (a household's persons, a person's jobs and visits).
  virtual std::vector<EntityRow> children(const EntityId& parent) const = 0;
  // Only the plaintext columns of every entity of a type: fast, and needs no passphrase.
  virtual void scan_flags(EntityType type,
                          const std::function<void(const EntityId&, const std::string& village, uint32_t flags)>& fn) const = 0;

  // Changes not yet acknowledged by the server, in sequence order.
  virtual std::vector<FieldChange> changes_after(uint64_t seq) const = 0;
  // At most `limit` changes with seq > after, in order (a push batch).
  virtual std::vector<FieldChange> changes_range(uint64_t after, size_t limit) const = 0;
  // Whether the log holds the change with this sequence number (no decryption).
  virtual bool has_change(uint64_t seq) const = 0;
  // Every own change with a non-normal status.
  virtual std::vector<std::pair<uint64_t, OwnStatus>> own_statuses() const = 0;
  // By server_seq; the reasons are sealed, so this needs the passphrase.
  virtual std::vector<StoredNotice> notices() const = 0;
  // The configuration records received (key -> version, value).
  virtual std::optional<std::pair<uint64_t, std::string>> sync_config(const std::string& key) const = 0;
  // Renumbers every change with seq > after to new_first, new_first + 1, ... (SPEC §5 Epochs: after a
  // rolled-back refusal), rewriting the version ids in the change log (including bases of later
  // changes) and in every entity's live versions, superseded ids and deletion bases; own statuses move
  // with their seqs; next_seq becomes new_first + their count. One transaction; new_first must exceed
  // after (invalid_input), and no write transaction may be open.
  virtual Status renumber_changes(uint64_t after, uint64_t new_first) = 0;
  virtual uint64_t pending_change_count() const = 0;

  // A new timestamp from the store's hybrid logical clock (not yet persisted: write() does).
  virtual Hlc tick(int64_t physical_ms) = 0;
  virtual Hlc clock() const = 0;

  // Applies a batch in one transaction. On any failure nothing is written. Inside begin_write() /
  // commit_write() it only adds the batch to the open transaction (its crash point is not used).
  virtual Status write(WriteBatch& batch) = 0;
  // One write transaction over several batches, so a large import is written in parts and memory
  // stays small; all or nothing. rollback_write() undoes everything since begin_write().
  virtual Status begin_write() = 0;
  virtual Status commit_write(const std::string& crash_point) = 0;
  virtual void rollback_write() = 0;
  virtual Status set_config(const StoreConfig& config) = 0;

  // Enrolment (SPEC §6). The identity needs the passphrase: a locked store reports none, as does a
  // store never enrolled (enrolled() tells them apart without the passphrase). set_identity replaces
  // it in one transaction (wrong_passphrase when locked).
  virtual bool enrolled() const = 0;
  virtual std::optional<DeviceIdentity> identity() const = 0;
  virtual Status set_identity(const DeviceIdentity& identity) = 0;
  // The raw 32-byte data key, for the caller to seal to the county server's box key at enrolment (so a
  // forgotten passphrase does not lose unpushed work). Empty when locked.
  virtual std::string escrow_data_key() const = 0;

  // Re-keys a store used before enrolment to the county secret (tz/ops/rekey.hpp computes `ids`):
  // every entity in `ids` (old id -> new id) moves to its new id — its row (personal fields sealed
  // again, bound to the new id), its lookups and notices —, every parent column and every value of a
  // `ref` field naming a moved id (live versions and the change log) is rewritten, every change in the
  // log names the new id, and the county secret becomes `county_secret`. One transaction, crash point
  // `device.rekey.before_commit`. Refused with invalid_input once the store has exchanged anything
  // with a server (acked_seq, cursor or server epoch set); wrong_passphrase when locked.
  virtual Status rekey(const std::vector<std::pair<EntityId, EntityId>>& ids, std::string_view county_secret) = 0;
};

// Creates a new store in dir (which must not hold one). county_secret: empty = a new random one
// (tests pass one to make two stores share it).
Result<std::unique_ptr<DeviceStore>> create_device_store(const std::filesystem::path& dir, std::string_view passphrase,
                                                         const Schema& schema, const StoreConfig& config,
                                                         const ScryptCost& cost = {},
                                                         std::string county_secret = {},
                                                         std::optional<DeviceId> device_id = std::nullopt);
// (device_id: empty = a new random one, as `init` makes; the simulator passes one so that a seed
// replays exactly, since device ids order versions.)
// Opens with the passphrase; a wrong passphrase is ErrorCode::wrong_passphrase.
Result<std::unique_ptr<DeviceStore>> open_device_store(const std::filesystem::path& dir, std::string_view passphrase,
                                                       const Schema& schema);
// Opens without the passphrase: configuration, counts and non-personal fields only (status).
Result<std::unique_ptr<DeviceStore>> open_device_store_locked(const std::filesystem::path& dir, const Schema& schema);

// Recovery of a forgotten passphrase (SPEC §6, field-cli recover): opened with the raw data key (from
// the server's key file) instead of the passphrase — wrong_passphrase when it is not this store's
// key —, and the data key wrapped again under a new passphrase (in one transaction; nothing else
// changes, so nothing is lost).
Result<std::unique_ptr<DeviceStore>> open_device_store_with_key(const std::filesystem::path& dir, std::string_view data_key,
                                                                const Schema& schema);
Status set_store_passphrase(const std::filesystem::path& dir, std::string_view data_key, std::string_view passphrase,
                            const Schema& schema, const ScryptCost& cost = {});

bool device_store_exists(const std::filesystem::path& dir);

}  // namespace tz
