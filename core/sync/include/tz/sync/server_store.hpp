// The county server's store, behind an interface so that PostgreSQL can sit beside SQLite without
// touching the sync logic (server.hpp). It keeps: every device with its scope and acknowledged
// sequence; every change the server accepted or holds in quarantine, by version id; every entity's
// merge state with the villages it belongs to and the entities it belongs to; the pull stream (a log
// numbered by server sequence, visible in order); and the store's epoch and clock.
// One transaction at a time; a store is used by one thread at a time.
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tz/model/hlc.hpp"
#include "tz/model/ids.hpp"
#include "tz/model/merge.hpp"
#include "tz/model/record.hpp"
#include "tz/sync/scope.hpp"
#include "tz/util/error.hpp"

namespace tz::sync {

struct DeviceRecord {
  DeviceId id;
  Scope scope;
  uint64_t acked_seq = 0;      // every change of the device up to here is held (applied or quarantined)
  uint64_t last_counter = 0;   // the last request counter accepted
  uint64_t retired_after = 0;  // retired: changes after this sequence are quarantined (0 = active)
  bool retired = false;
  bool revoked = false;
  int64_t clock_offset_ms = 0; // device wall clock minus server clock at the last push
  int64_t last_push_ms = 0;    // server time of the last push
  // Enrolment (SPEC §6); empty for a device registered in process (tests, the admin replica), which
  // handle_signed refuses.
  std::string sign_pub;        // Ed25519, 32 bytes
  std::string box_pub;         // X25519, 32 bytes
  std::string escrow;          // the device's data key sealed to the server box key (kEscrowContext)
  std::vector<std::string> collectors;
  std::string token;           // the id of the token it enrolled with ("" none)
};

// A one-time enrolment token (the secret itself is never stored: id = hex sha256(secret)).
struct TokenRecord {
  std::string id;
  Scope scope;
  std::vector<std::string> collectors;
  int64_t expires_ms = 0;
  int64_t created_ms = 0;
  std::optional<DeviceId> used_by;  // bound to the first device that enrolled with it
  int64_t used_ms = 0;
};

// A user of the HTTP API (users.hpp; SPEC §6): a reviewer or admin of 人社局 or 扶贫办 with a region
// scope, a salted scrypt hash of the password, and the recent failed logins (for the lockout).
struct UserRecord {
  std::string name;
  std::string role;    // "reviewer" or "admin"
  std::string agency;  // "rsj" (人社局) or "fpb" (扶贫办)
  Scope scope;
  std::string salt, hash;  // raw bytes
  uint64_t kdf_n = 0;
  uint32_t kdf_r = 0, kdf_p = 0;
  int64_t created_ms = 0;
  bool disabled = false;
  std::vector<int64_t> failures;  // server times of failed logins within the lockout window
};

// A login session: id = hex sha256(token); the token itself is never stored.
struct SessionRecord {
  std::string id;
  std::string user;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
};

// A change as the server holds it.
struct StoredChange {
  enum class Status : uint8_t { applied = 0, quarantined = 1, rejected = 2 };
  FieldChange change;      // change.ts is the stamp in force (the server's when it re-stamped)
  Hlc device_ts;           // the timestamp the device sent
  int64_t server_ms = 0;   // receipt time
  Status status = Status::applied;
  std::string reason;      // bilingual() text, for quarantined and rejected
  uint64_t server_seq = 0; // the log row that made it live (0 while quarantined or rejected)
  bool restamped() const { return !(change.ts == device_ts); }
};

// What the pull stream holds. Payload layouts are private to server.cpp.
enum class LogKind : uint8_t {
  version = 1,       // a change became live: key = its version id
  conflict = 2,      // a field now holds more than one value: field
  decision = 3,      // for the sender of a change: a decision about it
  notice = 4,        // for one device: a notice
  config = 5,        // county configuration
  membership = 6,    // an entity's villages changed: payload holds old and new villages
  scope_change = 7,  // a device's scope was edited and the entity entered (payload 1) or left (0) it
  merge = 8,         // entity was merged (payload u8 1) into, or unmerged (u8 2) from, the survivor
                     // (16 bytes after it); villages: those of both
};

struct LogRow {
  uint64_t seq = 0;                 // assigned by append
  LogKind kind = LogKind::version;
  std::optional<DeviceId> target;   // for decision, notice and scope_change: the one device concerned
  EntityType type = EntityType::person;
  EntityId entity;
  std::vector<std::string> villages;  // the villages the row concerns (old and new); scope filter
  VersionId version;                // version, decision, notice: the change concerned
  std::string payload;
};

// One entry of the server's audit chain (SPEC §6 Audit; tz/sync/audit.hpp): never personal data,
// only hashes, counts and ids. hash = hex sha256 over prev and the other fields (audit.hpp).
struct AuditEntry {
  uint64_t seq = 0;     // 1, 2, ... in the order appended
  int64_t ms = 0;       // server time
  std::string kind;     // "batch", "release", "reject", "admin", "bundle", ...
  std::string actor;    // "device:HEX", "county-admin"
  std::string summary;  // a JSON object: hashes, counts, ids
  std::string prev;     // the previous entry's hash (64 '0' for the first)
  std::string hash;
};

struct EntityRecord {
  EntityState state;
  std::vector<std::string> villages;  // sorted: own villages plus those of its parents
  std::vector<EntityId> parents;      // sorted: parents_of(state)
  uint64_t last_seq = 0;              // the last log row about it
};

class ServerStore {
 public:
  virtual ~ServerStore() = default;

  virtual const std::string& epoch() const = 0;
  // A new random epoch (after a restore: devices then re-push and pull from cursor 0).
  virtual void new_epoch() = 0;

  // One write transaction. commit makes it durable (synchronous=FULL) before returning; the crash
  // points fire just before and just after COMMIT. A failure inside leaves the store as it was
  // once rollback() is called.
  virtual void begin() = 0;
  virtual void commit(const char* crash_before, const char* crash_after) = 0;
  virtual void rollback() = 0;
  // Called in a catch block after rollback(): a storage failure in flight (full disk, read-only
  // storage) is thrown as the catalogue's Failure naming the file, so a write failing before COMMIT
  // (a page-cache spill) is reported like one failing at it, not as an internal error; any other
  // exception is left to the caller, which rethrows it.
  virtual void throw_storage_failure() const {}
  // A read transaction: what a pull page reads comes from one snapshot (and pays the lock once).
  virtual void begin_read() = 0;
  virtual void end_read() = 0;

  virtual Hlc clock() const = 0;
  virtual void set_clock(Hlc clock) = 0;

  virtual std::optional<DeviceRecord> device(const DeviceId& id) const = 0;
  virtual void put_device(const DeviceRecord& d) = 0;
  virtual std::vector<DeviceRecord> devices() const = 0;

  virtual std::optional<StoredChange> change(const VersionId& id) const = 0;
  // Insert or replace by version id (by value: the applied changes of a transaction are kept until
  // written, and a caller done with its change moves it in).
  virtual void put_change(StoredChange c) = 0;
  // Changes held in quarantine (status quarantined), in order of version id.
  virtual std::vector<StoredChange> quarantined() const = 0;

  virtual std::optional<EntityRecord> entity(const EntityId& id) const = 0;
  // entity(id)->villages, without decoding the state (decision 140).
  virtual std::optional<std::vector<std::string>> entity_villages(const EntityId& id) const = 0;
  virtual void put_entity(const EntityRecord& e) = 0;
  // put_entity of each, in the order given (a push's dirty entities, decision 135: the SQLite store
  // encodes the next states on another thread while it writes one).
  virtual void put_entities(const std::vector<const EntityRecord*>& records) = 0;
  // put_entities done later, in the open transaction, beside the caller (decision 145: the SQLite
  // store's writer encodes and writes them while a push applies the changes after them). The
  // records must stay alive and unchanged until settle_writes() returns; every read of the store,
  // the commit and a rollback settle first.
  virtual void put_entities_later(std::vector<const EntityRecord*> records) = 0;
  // Returns once every write handed over is done; rethrows what one threw.
  virtual void settle_writes() = 0;
  // Entities whose parents include `parent`.
  virtual std::vector<EntityId> children(const EntityId& parent) const = 0;
  // Every entity, in id order.
  virtual void scan_entities(const std::function<void(const EntityRecord&)>& fn) const = 0;

  // The match key of an entity (SPEC §8 exact duplicates: a person's normalised 身份证号, a
  // household's 村代码 + 户编号), kept by the server on apply. put_match_key with an empty key
  // removes it (inside a transaction); entities_with_match_key in id order; match_key_groups: every
  // key held by more than one entity, with its entities in id order.
  virtual std::optional<std::string> match_key(const EntityId& id) const = 0;
  virtual void put_match_key(const EntityId& id, const std::string& key) = 0;
  virtual std::vector<EntityId> entities_with_match_key(const std::string& key) const = 0;
  virtual std::vector<std::vector<EntityId>> match_key_groups() const = 0;

  // Appends a row (seq = last_seq() + 1, returned; the row's own seq is not read). Rows become
  // visible to log_after in order.
  virtual uint64_t append(const LogRow& row) = 0;
  virtual uint64_t last_seq() const = 0;
  // Up to limit rows with seq > after, in order.
  virtual std::vector<LogRow> log_after(uint64_t after, size_t limit) const = 0;

  // Server-wide values by key (the county, the server's keys, the audit head): inside a transaction
  // for writes; read afresh every time (another process may have written them).
  virtual std::optional<std::string> meta_value(const std::string& key) const = 0;
  virtual void put_meta_value(const std::string& key, std::string_view value) = 0;

  // Enrolment tokens by id (inside a transaction for writes); tokens() in order of creation.
  virtual std::optional<TokenRecord> token(const std::string& id) const = 0;
  virtual void put_token(const TokenRecord& t) = 0;
  virtual std::vector<TokenRecord> tokens() const = 0;

  // The audit chain (tz/sync/audit.hpp appends and checks it). append_audit inside a transaction;
  // audit_entries in the order the rows were stored.
  virtual void append_audit(const AuditEntry& e) = 0;
  virtual std::vector<AuditEntry> audit_entries() const = 0;
  // Users by name and their sessions by id (inside a transaction for writes); users() by name.
  virtual std::optional<UserRecord> user(const std::string& name) const = 0;
  virtual void put_user(const UserRecord& u) = 0;
  virtual std::vector<UserRecord> users() const = 0;
  virtual std::optional<SessionRecord> session(const std::string& id) const = 0;
  virtual void put_session(const SessionRecord& s) = 0;
  // Removes one session, or (user non-empty) every session of that user.
  virtual void delete_sessions(const std::string& id, const std::string& user = {}) = 0;

  // Configuration by key: (version, value).
  virtual std::optional<std::pair<uint64_t, std::string>> config(const std::string& key) const = 0;
  virtual void put_config(const std::string& key, uint64_t version, const std::string& value) = 0;
};

// Runs fn() in one write transaction of s: committed (durable) when it returns, rolled back when it
// throws (a Failure gives its error, another exception an internal error naming it).
template <typename Fn>
Status in_write_txn(ServerStore& s, Fn&& fn) {
  try {
    s.begin();
    fn();
    s.commit(nullptr, nullptr);
    return ok_status();
  } catch (const Failure& f) {
    s.rollback();
    return f.error();
  } catch (const std::exception& e) {
    s.rollback();
    return Error(ErrorCode::internal, {e.what()});
  }
}

// SQLite (WAL, synchronous=FULL). Creates the store (with a new random epoch) when dir has none.
Result<std::unique_ptr<ServerStore>> open_sqlite_server_store(const std::filesystem::path& dir);
// The pragmas the SQLite server store sets on its connection (bench_sync's storage floor writes
// with the same): page_size takes effect only when the file is created; 128 MiB of page cache keeps
// a county's entity and log indexes in memory while a batch is applied.
inline constexpr const char* kSqliteServerStorePragmas =
    "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
    "PRAGMA cache_size=-131072; PRAGMA foreign_keys=OFF; PRAGMA wal_autocheckpoint=16384;";

}  // namespace tz::sync
