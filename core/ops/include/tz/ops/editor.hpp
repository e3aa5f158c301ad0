// The one write path for every edit (import, form, edit): stages field-level changes with base =
// the live versions the editor saw, keeps the touched entities' plaintext columns (village, parent,
// identity flag) right, and writes everything in one transaction.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tz/model/derive.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

struct EditContext {
  std::string collector;
  int64_t now_ms = 0;  // the device's wall time, injected (tests use a fixed clock)
};

// Not thread-safe; one operation at a time.
class Editor {
 public:
  Editor(DeviceStore& store, EditContext ctx);

  // The entity as staged or stored; nullptr when neither has it.
  Entity* find(const EntityId& id);
  // Reads many entities at once (one read transaction) so that find() needs no further reads.
  void prefetch(const std::vector<EntityId>& ids);
  // What find() would return for an id that was prefetched, without touching the store: safe to call
  // from several threads at once while nothing is staged.
  const Entity* peek(const EntityId& id) const;
  // The entity, created empty when it does not exist yet.
  Entity& get_or_create(EntityType type, const EntityId& id, bool* created = nullptr);
  // Sets a field to a canonical value; false (and no change) when it already shows that value
  // without a conflict.
  bool set(Entity& e, FieldId field, const std::string& value);
  // A resolution: replaces every live version of the field (all values of a conflict); an ordinary
  // set when the field is not in conflict.
  bool resolve(Entity& e, FieldId field, const std::string& value);
  // Deletes the entity (field 0 = the reason; "" restores): its base names every live version of
  // every field, so it deletes only while nobody has changed what the deleter saw.
  void delete_entity(Entity& e, const std::string& reason);
  // Raises the clock this editor writes with to a timestamp received from elsewhere (sync).
  void observe(Hlc remote);
  void add_lookup(LookupKind kind, std::string key, const EntityId& entity);

  // Sync (DeviceSync): replaces an entity's whole merge state as received from the server, or
  // merged with what it pulled; no change is recorded. Village, parent, flags and lookups follow as
  // for an edit (a household moving village carries its people): the entity's lookup rows are
  // replaced by one per live ID number and phone. A state with no live version removes the entity.
  void put_state(const EntityState& state);
  // The merge state of an entity as staged or stored (live versions plus extras); nullopt if absent.
  std::optional<EntityState> state(const EntityId& id);
  // Drops an entity (it left the device's scope): its row and lookups go; its changes stay in the log.
  void remove(const EntityId& id);
  // Stages sync bookkeeping written in the same transaction as the states (DeviceSync).
  WriteBatch& batch() { return batch_; }

  size_t change_count() const { return changes_written_ + batch_.changes.size(); }
  // Writes what is staged so far into the operation's transaction (opened on the first flush) and
  // frees it; later finds read it back from the store. A large import flushes every few thousand
  // rows. Entities found or staged before are not valid afterwards.
  Status flush();
  // Flushes and commits the operation; crash_point names the point just before COMMIT. One editor
  // serves one operation; if it is destroyed without committing, nothing is written.
  Status commit(std::string crash_point = {});
  ~Editor();
  Editor(const Editor&) = delete;
  Editor& operator=(const Editor&) = delete;

 private:
  // Applies an own change through merge_apply, so the entity's extras keep what its base superseded.
  void apply_local(Entity& e, const FieldChange& c);
  void touch(const EntityId& id);
  // Drops lookups staged for an entity whose state is replaced or removed.
  void drop_staged_lookups(const EntityId& id);
  void record(Entity& e, FieldId field, const std::string& value, std::vector<VersionId> base);
  EntityRow row_for(const Entity& e);
  std::string village_of(const EntityId& id, int depth);
  std::optional<EntityId> parent_of(const Entity& e) const;
  // Recomputes the flags (four clears, employed, labour count) and village of every person the
  // staged changes touch (directly, or through a household, job or visit), for the rows about to be
  // written and, as RowUpdates, for people not written themselves.
  void update_derived(std::vector<EntityRow>& rows);

  DeviceStore& store_;
  EditContext ctx_;
  Hlc ts_;
  uint64_t next_seq_;
  std::unordered_map<EntityId, Entity, IdHash> staged_;
  std::unordered_map<EntityId, MergeExtras, IdHash> extras_;    // of staged entities; absent when empty
  std::unordered_map<EntityId, std::string, IdHash> villages_;  // cache of stored rows' villages
  std::unordered_set<EntityId, IdHash> missing_;                // known not to be in the store
  std::unordered_set<EntityId, IdHash> created_;                // created by this editor
  std::unordered_set<EntityId, IdHash> flushed_parents_;        // parents of entities written so far
  std::optional<Deriver> deriver_;
  std::vector<EntityId> touched_;
  std::unordered_set<EntityId, IdHash> touched_set_;
  std::unordered_set<EntityId, IdHash> with_lookups_;       // entities with lookups in batch_
  std::unordered_set<EntityId, IdHash> lookups_replaced_;   // in batch_.lookups_replaced
  WriteBatch batch_;
  bool txn_open_ = false;
  size_t changes_written_ = 0;
};

// Whether a person's identity is complete: name, a valid ID, household and village.
bool identity_complete(const Schema& schema, const Entity& person, const std::string& village);

// The same check with the person's fields looked up once, for a pass over everyone.
class IdentityCheck {
 public:
  explicit IdentityCheck(const Schema& schema);
  bool operator()(const Entity& person, const std::string& village) const;

 private:
  FieldId name_, id_, household_;
};

// The flags a person's row carries (kFlag*), from its derived status for the period.
uint32_t person_flags(const DerivedStatus& d, bool identity_ok);

}  // namespace tz::ops
