// The sync merge (SPEC §5 "Merge per field", "Deletion"): an entity's state as sets of live and
// superseded version ids per field, so the result is a function of the SET of changes applied, never
// of their order or repetition. Pure: no I/O, no clock reads. docs/merge-rules.md gives the laws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tz/model/hlc.hpp"
#include "tz/model/ids.hpp"
#include "tz/model/record.hpp"
#include "tz/util/flat_map.hpp"

namespace tz {

// Field id 0 is reserved in every schema for deletion: its value is the reason; "" is a restore.
inline constexpr FieldId kDeletedField = 0;

// correct is the product. last_writer_wins_for_tests keeps only the highest (timestamp, device,
// seq) version of each field and ignores bases: it converges but loses concurrent values, and
// exists only so the simulator can prove its oracles catch a merge that silently drops writes.
enum class MergeMode { correct, last_writer_wins_for_tests };

// What merge_apply did with one change; informational (the state is right whatever it says).
enum class MergeOutcome {
  added,       // the change is now a live version
  superseded,  // an earlier-applied base already names it: it stays out of the live set
  duplicate,   // the same version id is already live with the same value: nothing changed
  id_reused,   // the same version id is live with a DIFFERENT value: a rolled-back device (SPEC
               // "Epochs"); the state is unchanged and the caller must refuse the change
};

// One field. Both vectors are sorted by version id and hold no duplicates.
struct FieldState {
  Versions live;
  // Every id named in the base of a change applied to this field (for the deletion field this also
  // holds ids of other fields, which never arrive there). A version arriving later whose id is here
  // never becomes live: this is what makes arrival order irrelevant.
  std::vector<VersionId> superseded;
};

// The merge state of one entity. A plain value: owned by its holder, copyable, no internal
// sharing; not synchronised (guard it like any value).
struct EntityState {
  EntityType type = EntityType::person;
  EntityId id;
  FlatMap<FieldId, FieldState> fields;
  // The base of each LIVE deletion version with a reason (field kDeletedField, restores have
  // none), which decides is_deleted. Entries go when their deletion stops being live.
  FlatMap<VersionId, std::vector<VersionId>> deletion_bases;
};

// Applies one accepted change. c.type and c.entity must be e's (std::invalid_argument otherwise).
// correct mode: the field's live set loses every id in c.base and gains c unless c's id is already
// superseded; c.base joins the superseded ids. A deletion's base removes nothing from other fields.
// server_ms is the receipt time recorded on the new version (0 on a device until the server's is
// known); for a duplicate the earliest non-zero receipt time is kept.
MergeOutcome merge_apply(EntityState& e, const FieldChange& c, MergeMode mode = MergeMode::correct,
                         int64_t server_ms = 0);

// The provisional winner: the highest (timestamp, device id, seq); nullptr when nothing is live.
const Version* provisional_winner(const FieldState& f);

// Live versions grouped by value: equal values are one entry listing every attribution. The
// provisional winner's value comes first, the others by their best version, highest first.
struct ValueView {
  std::string value;
  std::vector<Version> versions;  // sorted by version id
};
std::vector<ValueView> values(const FieldState& f);

// More than one distinct live value.
bool in_conflict(const FieldState& f);

// The base of an ordinary edit: every version showing the provisional winner's value (sorted).
std::vector<VersionId> edit_base(const FieldState& f);
// The base of a resolution: every live version (sorted).
std::vector<VersionId> resolution_base(const FieldState& f);
// The base of a deletion (or restore) made now: every live version of every field, the deletion
// field included, so it also replaces earlier deletions (sorted).
std::vector<VersionId> deletion_base(const EntityState& e);

// Deleted: there is a live deletion version (a non-empty reason) and the bases of the live deletion
// versions together name every live version of every other field. The deletion field is a field
// like the others, so concurrent deleters who between them saw everything delete the entity. A
// restore ("" in the deletion field, its base naming the deletions) undoes a deletion.
bool is_deleted(const EntityState& e);
// A live deletion exists but the entity is not deleted: someone changed it after (or without
// seeing) what the deleter saw. The entity stays shown and counted with its values.
bool deletion_in_conflict(const EntityState& e);
// Live versions of fields other than the deletion field that no live deletion's base names.
std::vector<VersionId> unseen_by_deletion(const EntityState& e);

struct ConflictView {
  FieldId field = 0;               // kDeletedField for a deletion in conflict
  std::vector<ValueView> values;   // as values(): every value with its versions' attribution
  std::vector<VersionId> unseen;   // deletion only: what unseen_by_deletion returns
};
// Every open conflict, by field id: fields with more than one distinct value, and the deletion field
// when its values differ or when deletion_in_conflict.
std::vector<ConflictView> conflicts(const EntityState& e);

// The record view the rest of the model reads (validation, derived status): live versions only,
// the deletion field left out.
Entity to_entity(const EntityState& e);

// A canonical text of the state that convergence tests compare: per field its live versions
// (version id, timestamp, collector, device time, value), the conflicts and the deletion state.
// The server receipt time is left out (a device may never learn it for its own changes), and so
// are superseded ids (internal bookkeeping, equal whenever the applied sets are).
std::string digest(const EntityState& e);

}  // namespace tz

namespace tz {

// Merging two entities (SPEC §8): every live version of `from` becomes live in `into` with its id
// (unless `into` already names it superseded), per field; `from`'s superseded ids and deletion bases
// join `into`'s. Version ids are never shared between two entities, so nothing is lost and fields
// whose values disagree are conflicts by the ordinary rule. Pure; `from` is left as it was.
void absorb_versions(EntityState& into, const EntityState& from);

// Undoing a merge: the live versions with these ids leave `e` (superseded ids stay: they are
// bookkeeping). Deletion bases of removed deletion versions go with them. Fields left empty go.
void remove_live_versions(EntityState& e, const std::vector<VersionId>& sorted_ids);

}  // namespace tz
