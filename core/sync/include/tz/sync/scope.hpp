// Scope membership (SPEC §5 "Scope"): which villages an entity belongs to, and whether a device's
// scope (a set of region codes: villages, townships or the whole county) holds one of them. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tz/model/ids.hpp"
#include "tz/model/merge.hpp"
#include "tz/model/schema.hpp"

namespace tz::sync {

using Scope = std::vector<std::string>;  // region codes; a code holds every village it prefixes

// Whether the scope holds the village (a scope code is a prefix of it).
bool scope_holds(const Scope& scope, std::string_view village);
// Whether the scope holds any of the villages.
bool scope_holds_any(const Scope& scope, const std::vector<std::string>& villages);

// The villages an entity names itself: a household's live 村代码 values (every live value, so a
// village in conflict puts the household in both scopes). Empty for other types.
std::vector<std::string> own_villages(const Schema& schema, const EntityState& e);
// The entities an entity belongs to through (a person's live household ids, a job's or subsidy's
// live person ids, a visit's live subject ids), sorted, without duplicates.
std::vector<EntityId> parents_of(const Schema& schema, const EntityState& e);
// Whether a field places its entity (village_code, household_id, person_id, subject_id).
bool is_placing_field(const Schema& schema, EntityType type, FieldId field);

// Sorted union without duplicates.
std::vector<std::string> village_union(std::vector<std::string> a, const std::vector<std::string>& b);

}  // namespace tz::sync
