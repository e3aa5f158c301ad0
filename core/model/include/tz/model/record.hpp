// Records as the store keeps them: per field the set of live versions, each with its attribution;
// and the field-level change that every edit is recorded as. A change removes exactly the versions
// its base names and adds itself (merge.hpp keeps the full state sync needs).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tz/model/hlc.hpp"
#include "tz/model/ids.hpp"
#include "tz/util/flat_map.hpp"
#include "tz/util/small_vector.hpp"

namespace tz {

// One value of one field, with who set it (谁摸查、谁负责).
struct Version {
  VersionId id;
  std::string value;
  Hlc ts;
  std::string collector;
  int64_t device_ms = 0;  // the device's wall time when the edit was made
  int64_t server_ms = 0;  // the server's receipt time; 0 until the server has it
};

// A field's live versions: nearly always one, kept inline (decision 431).
using Versions = SmallVector<Version, 1>;

// The live versions of one field. More than one distinct value is a conflict.
struct FieldVersions {
  Versions live;
  // The version shown: the highest (timestamp, device id).
  const Version* shown() const;
  bool conflict() const;
};

// Fields of one entity by id: a sorted vector (an entity has a few dozen fields at most, and a county
// holds hundreds of thousands of entities, so node-based maps cost more than they save).
using FieldMap = FlatMap<FieldId, FieldVersions>;

struct Entity {
  EntityType type = EntityType::person;
  EntityId id;
  FieldMap fields;

  // The shown value of a field, or nullptr when the field has no live version.
  const std::string* value(FieldId f) const;
  std::string value_or(FieldId f, std::string fallback = {}) const;
  // The shown value without a copy; empty when the field has none.
  std::string_view view(FieldId f) const {
    const std::string* v = value(f);
    return v ? std::string_view(*v) : std::string_view();
  }
  // Every live version id of a field, sorted: the base of a resolution (an ordinary edit names only
  // the versions of the value shown; see Editor::set and merge.hpp edit_base).
  std::vector<VersionId> live_ids(FieldId f) const;
  // Every live version of every field.
  std::vector<const Version*> all_versions() const;
};

// A field-level change: what push sends and the change log keeps.
struct FieldChange {
  EntityType type = EntityType::person;
  EntityId entity;
  FieldId field = 0;
  std::string value;
  VersionId version;
  Hlc ts;
  std::string collector;
  int64_t device_ms = 0;
  std::vector<VersionId> base;
  uint32_t schema_version = 0;
};

// Whether two changes under one version id are the same change (a retry): entity, field, value, base,
// device time and collector. Never the timestamp, which the server may have re-stamped (decision 40).
// The server and the device must judge alike, so both call this.
inline bool same_change_content(const FieldChange& a, const FieldChange& b) {
  return a.type == b.type && a.entity == b.entity && a.field == b.field && a.value == b.value && a.base == b.base &&
         a.device_ms == b.device_ms && a.collector == b.collector;
}

// The same change but for the entity it names: one addressed to an entity merged away since, as the
// server applied it to the survivor (SPEC §8; sync-protocol.md "Merges").
inline bool same_change_but_entity(const FieldChange& a, const FieldChange& b) {
  return a.type == b.type && a.field == b.field && a.value == b.value && a.base == b.base &&
         a.device_ms == b.device_ms && a.collector == b.collector;
}

// Applies a change to an entity's live versions: removes the base's ids from the field's live set
// and adds the new version, forgetting what the base superseded. Tests build records with it; the
// editor and sync go through merge_apply (merge.hpp), which remembers superseded ids so a version
// pulled again after it was replaced stays out.
void apply_change(Entity& e, const FieldChange& c);

}  // namespace tz
