// Names of entity types and the printable form of version ids.
#include "tz/model/ids.hpp"

namespace tz {

std::string VersionId::str() const { return device.hex() + ":" + std::to_string(seq.value); }

std::string_view entity_type_name(EntityType t) {
  switch (t) {
    case EntityType::household: return "household";
    case EntityType::person: return "person";
    case EntityType::job: return "job";
    case EntityType::visit: return "visit";
    case EntityType::subsidy: return "subsidy";
  }
  return "unknown";
}

std::optional<EntityType> entity_type_from_name(std::string_view name) {
  for (auto t : kEntityTypes)
    if (entity_type_name(t) == name) return t;
  return std::nullopt;
}

}  // namespace tz
