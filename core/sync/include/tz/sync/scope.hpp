// Scope membership (SPEC §5 "Scope"): which villages an entity belongs to, and whether a device's
// scope (a set of region codes: villages, townships or the whole county) holds one of them. Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
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

// Merges in force (SPEC §8): merged-away id -> survivor. Kept by the server (meta kMetaMerges) and by
// each device for what its pull stream told it (config kMergeLinksConfig), as text: one
// "merged-away-hex survivor-hex" line per merge, sorted.
using MergeLinks = std::unordered_map<EntityId, EntityId, IdHash>;
MergeLinks parse_merge_links(std::string_view text);
std::string format_merge_links(const MergeLinks& links);
// Survivor -> its merged-away ids, sorted.
std::map<EntityId, std::vector<EntityId>> merged_from(const MergeLinks& links);
// The SPEC §5 digest's lines for a survivor in the scope: one "merged <hex>" line per entity merged
// into it (nothing when none), so a device that missed a merge or an unmerge has another digest.
void append_merge_lines(std::string& digest, const std::map<EntityId, std::vector<EntityId>>& from, const EntityId& survivor);

}  // namespace tz::sync
