// Conflicts and notices (SPEC §5, §10 and §11 `conflicts`, `resolve`, `notices`): the open conflicts in
// a store, a resolution that replaces every live version of a field, and what the county flagged,
// quarantined or sent back. The one listing and resolution for both programs: field-cli over the
// collector's store, sync-server over the county admin replica (a DeviceStore holding the county), so
// a conflict's versions get the same numbers on a device and on the server (decision 58).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tz/model/validation.hpp"
#include "tz/ops/editor.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

struct ConflictVersion {
  int number = 0;       // 1, 2, ... within the field, in the order listed (what `resolve --pick` takes)
  Version version;      // value, version id (device, seq), timestamp, collector, device time
  bool shown = false;   // the provisional winner's value (shown until resolved)
};

// One field with more than one distinct live value (equal values are one value, not a conflict), or
// a deletion in conflict (field kDeletedField: the entity was deleted while someone changed it).
struct FieldConflict {
  EntityType type = EntityType::person;
  EntityId entity;
  std::string village;
  const FieldDef* field = nullptr;  // nullptr for the deletion field
  FieldId field_id = 0;
  std::vector<ConflictVersion> versions;  // the shown value's versions first, then by value, by id
  // Whom it concerns: the person (the entity itself, a job's person or a visit's person) and the
  // household (itself, the person's, or a visit's household); "" when there is none or it is absent.
  std::string person_name;
  std::string id_number;     // the person's ID number, stored form (callers mask it)
  std::string household_no;  // the household's number (its village is `village`)
};

// Every open conflict in the store whose village starts with region (a village, township or county
// code; empty = all), by village, household number, person name, entity id, field id. Needs the
// passphrase.
std::vector<FieldConflict> list_conflicts(const DeviceStore& store, std::string_view region = {});
// The open conflicts of one entity (empty when none or absent).
std::vector<FieldConflict> entity_conflicts(const DeviceStore& store, const EntityId& id);

// How a conflict is resolved: one of the listed versions (its number or its version id as
// "<device hex>:<seq>"), or a new value (typed as for --set).
struct Resolution {
  std::optional<std::string> pick;
  std::optional<std::string> value;
};

struct ResolveReport {
  std::string value;                 // canonical value written ("" for a restore)
  std::vector<VersionId> replaced;   // every live version the resolution names
  VersionId version;                 // the resolution's own version id
};

// Resolves a field's conflict with a change whose base names every live version (Editor::resolve).
// `field` is the schema name, the Chinese or English label or an alias ("deleted"/"删除" for the
// deletion field). Errors: not_found (no such field), invalid_input (the field has no conflict, the
// version is not one of its live versions, the value fails the field's format). For the deletion
// field a pick of a deletion deletes again (seeing everything now live), a pick of a restore or a
// value of "" restores.
Result<ResolveReport> resolve_conflict(DeviceStore& store, const EntityId& id, std::string_view field,
                                       const Resolution& how, const EditContext& edit, const ValidationContext& ctx);

// The notice kinds (tz::sync::NoticeRecord::Kind).
std::string notice_kind_name(uint8_t kind);                 // quarantined, released, rejected, redirected, clock, flagged
std::string notice_kind_label(uint8_t kind, Lang lang);     // 已隔离待审核 / quarantined for review ...

struct NoticeView {
  StoredNotice notice;
  const FieldDef* field = nullptr;       // nullptr when it names no field (a clock notice)
  std::optional<std::string> value;      // the own change's value when the log still has it
};
// The store's notices in server order, each with its field and, for the device's own change, its value.
std::vector<NoticeView> list_notices(const DeviceStore& store);

}  // namespace tz::ops
