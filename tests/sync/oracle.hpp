// An independent oracle for the sync of SPEC §5. It learns what the server ACCEPTED by watching the
// transport (every push request and the server's reply, decoded with the wire codec) and what the
// simulated reviewer did (release, reject), and computes the expected state with its own naive merge,
// written from the text of SPEC §5 and docs/merge-rules.md — it never calls tz::merge_apply,
// tz::digest, provisional_winner, is_deleted or any other function of the implementation's merge.
//
// The naive merge works on the whole set of effective changes at once (applied, or released by the
// reviewer): per (entity, field) the live versions are the effective changes of that field whose id
// no effective change of the SAME field names in its base. The deletion field (id 0, value = reason,
// "" = restore) is a field like the others among its own versions, but its base, which names
// versions of every field, removes nothing from other fields. The entity is deleted iff a live
// deletion version has a non-empty reason and the bases of the live deletion versions with a reason
// together name every live version of every other field.
//
// The checks compare that expectation with a snapshot of the server (ServerView) read through the
// server store, and with what a device holds; each problem found is a Violation naming the invariant.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tz/model/hlc.hpp"
#include "tz/model/ids.hpp"
#include "tz/model/merge.hpp"
#include "tz/model/record.hpp"
#include "tz/model/schema.hpp"
#include "tz/sync/protocol.hpp"

namespace tz::sim {

// One live version as the oracle compares it: everything SPEC §5 says a version carries, except the
// server receipt time (checked on its own by the attribution invariant).
struct OracleVersion {
  VersionId id;
  std::string value;
  Hlc ts;
  std::string collector;
  int64_t device_ms = 0;
  auto operator<=>(const OracleVersion&) const = default;
  std::string str() const;
};
OracleVersion oracle_version(const Version& v);

using VersionSet = std::set<OracleVersion>;

struct ExpectedEntity {
  EntityType type = EntityType::person;
  std::map<FieldId, VersionSet> live;                       // only fields with a live version
  std::map<VersionId, std::set<VersionId>> deletion_bases;  // live deletion versions with a reason
  bool deleted = false;
};

// What the server holds, read through its store (SyncServer::store().scan_entities) and
// SyncServer::quarantine(); built by the simulator, or by hand in the oracle's own tests.
struct ServerView {
  std::map<EntityId, EntityState> entities;
  std::set<VersionId> quarantined;
};

struct Violation {
  int invariant = 0;  // SPEC §5 invariant 1-4; 0 = a protocol rule of docs/sync-protocol.md
  std::string what;
};
std::string to_string(const Violation& v);

class Oracle {
 public:
  enum class Status { applied, quarantined, released, rejected };
  struct Entry {
    FieldChange change;  // change.ts is the stamp in force (the server's when it re-stamped)
    Status status = Status::applied;
    bool restamped = false;
  };

  // The schema tells which field places an entity (for device scope checks); optional for tests
  // that check only the server.
  explicit Oracle(const Schema* schema = nullptr);

  // Transport level: one request frame and the reply frame the server produced for it (whether or
  // not the device then received it). Only push requests with a decodable, unrefused reply matter.
  void observe_exchange(std::string_view request, std::string_view reply);

  // What observe_exchange records for each outcome; public for hand-made histories.
  void accept(const FieldChange& change, sync::ChangeOutcome::Kind kind, std::optional<Hlc> restamped = {});
  // The simulated reviewer. ts_in_force: the stamp the server holds for the change when released
  // (a release may re-stamp it); nullopt keeps the recorded one.
  void released(const VersionId& id, std::optional<Hlc> ts_in_force = {});
  void rejected(const VersionId& id);

  // The county merged `away` into `survivor` (SPEC §8), or undid it: from then on (and for every
  // change, whenever it was made) the changes addressed to `away` count as the survivor's.
  void merged(const EntityId& away, const EntityId& survivor) { merged_into_[away] = survivor; }
  void unmerged(const EntityId& away) { merged_into_.erase(away); }
  // The entity a change addressed to `id` belongs to now.
  EntityId target(const EntityId& id) const {
    auto it = merged_into_.find(id);
    return it == merged_into_.end() ? id : it->second;
  }

  const std::map<VersionId, Entry>& entries() const { return entries_; }
  size_t count(Status s) const;

  // The naive merge over every effective change.
  std::map<EntityId, ExpectedEntity> expected() const;

  // Invariant 1 (no lost writes) against the server, at any time.
  std::vector<Violation> check_no_lost_writes(const ServerView& server) const;
  // Invariant 2, the server half: the server's live versions (and the bases of live deletions)
  // equal the expected ones, entity by entity, field by field.
  std::vector<Violation> check_server_state(const ServerView& server) const;
  // Invariant 4: every live version on the server has a device, a collector, a device wall time and
  // a server receipt time.
  std::vector<Violation> check_attribution(const ServerView& server) const;
  // Invariant 2, the device half: every entity the expected state puts inside `scope` is held by
  // the device with exactly the expected live versions. Needs the schema.
  std::vector<Violation> check_device(const std::string& device_name, const std::map<EntityId, Entity>& held,
                                      const std::vector<std::string>& scope) const;
  // Protocol problems met while observing (a duplicate whose content differs, a re-sent change not
  // reported as a duplicate, an outcome for a change the request did not hold).
  const std::vector<Violation>& observed() const { return observed_; }

  // The villages an expected entity belongs to (a household's live 村代码 values; others through
  // their live parent references, transitively). Needs the schema.
  std::set<std::string> villages_of(const std::map<EntityId, ExpectedEntity>& all, const EntityId& id) const;

 private:
  bool effective(const Entry& e) const { return e.status == Status::applied || e.status == Status::released; }
  static bool same_content(const FieldChange& a, const FieldChange& b);

  const Schema* schema_;
  std::map<VersionId, Entry> entries_;
  std::vector<Violation> observed_;
  std::map<EntityId, EntityId> merged_into_;
};

// Whether a scope (region codes: a code holds every village it prefixes) holds a village. The
// oracle's own, not tz::sync::scope_holds.
bool oracle_scope_holds(const std::vector<std::string>& scope, const std::string& village);

}  // namespace tz::sim
