// The county admin's view of conflicts (sync-server `conflicts`): every field of every entity in a
// store that holds more than one live value, with whom it concerns (person name, household) and each
// value's collector, device and time. Read-only; over any DeviceStore (the server's admin replica
// holds the whole county). Named apart from the collector's listing (tz/ops/conflicts.hpp), into
// which it is meant to fold.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tz/store/device_store.hpp"

namespace tz::ops {

struct AdminConflictValue {
  VersionId version;
  std::string value;     // canonical, as stored
  std::string shown;     // an enumeration's label in the caller's language, else the value
  std::string collector;
  int64_t device_ms = 0;
  int64_t server_ms = 0;
};

struct AdminConflict {
  EntityType type = EntityType::person;
  EntityId entity;
  std::string person_name;   // the person concerned (a job's or visit's person), "" for a household
  std::string id_number;     // that person's ID number, stored form (callers mask it)
  std::string village;       // the household's village code
  std::string household_no;  // the household's number
  FieldId field = 0;
  std::string field_name;    // schema name
  std::string field_label;   // in the caller's language
  std::vector<AdminConflictValue> values;  // oldest first (timestamp, then device)
};

// Conflicts in region (a village, township or county code prefix; empty = the whole store), in
// order of village, household number, person name, entity id and field id.
std::vector<AdminConflict> list_conflicts_for_admin(const DeviceStore& store, Lang lang,
                                                    const std::string& region = {});

}  // namespace tz::ops
