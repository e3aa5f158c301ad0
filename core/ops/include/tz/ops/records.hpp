// Adding and editing records outside an import: finding the record a user means, reading
// "field=value" inputs against the schema, and saving drafts after validating each record as it
// will be (stored values overlaid by the new ones). Used by field-cli's forms and --set.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tz/model/validation.hpp"
#include "tz/ops/editor.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

// What a user may type to name a record: the entity id (32 hex digits), a person's 身份证号 (any
// accepted form), or a household as 村代码/户编号.
Result<EntityId> locate(const DeviceStore& store, std::string_view ref, const CivilDate& today);

// The person whose normalised ID is id18, if the store has one (keyed lookup, confirmed by decryption).
std::optional<EntityId> person_by_id_number(const DeviceStore& store, std::string_view id18);

// One "key=value" of --set: the field by schema name, Chinese label, English label or alias.
struct FieldInput {
  const FieldDef* field = nullptr;
  std::string raw;
  Normalized value;
};
// Reads "key=value" strings for one entity type. Unknown keys and values that fail an error-level
// format rule are errors naming the key; an empty value clears nothing (it is refused).
Result<std::vector<FieldInput>> parse_inputs(const EntitySchema& es, const std::vector<std::string>& args,
                                            const ValidationContext& ctx);

// A record to create or change: the values to set, canonical.
struct Draft {
  EntityType type = EntityType::person;
  EntityId id;
  FieldValues values;
};

struct SaveReport {
  bool saved = false;
  size_t changes = 0;
  std::vector<std::pair<size_t, Problem>> problems;  // (draft index, problem): errors stop the save
};

// Validates every draft as it will be and, when no error remains, writes all of them in one
// transaction (with their lookups). A job's age rule uses its person's ID (from the drafts or the store).
Result<SaveReport> save_drafts(DeviceStore& store, const std::vector<Draft>& drafts, const EditContext& edit,
                               const ValidationContext& ctx);

// The shown values of a stored entity (empty when absent).
FieldValues shown_values(const Entity* e);

}  // namespace tz::ops
