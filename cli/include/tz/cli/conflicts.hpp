// What both programs print of conflicts and their resolution (field-cli over the collector's store,
// sync-server over the county admin replica): the same listing (tz/ops/conflicts.hpp), the same
// version numbers, the same text and --json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tz/cli/output.hpp"
#include "tz/ops/conflicts.hpp"

namespace tz::cli {

// A stored value as people read it (an enumeration's label, ...); an ID number masked unless full_ids.
std::string shown_value(const FieldDef* f, const std::string& stored, Lang lang, bool full_ids);

// Whom a conflict concerns, in one line: a person by name and (masked) ID, a household by
// village/number, anything else by its type, short id and its person; then the person's household.
std::string conflict_record(const Schema& schema, const ops::FieldConflict& c, Lang lang, bool full_ids);

// Prints the conflicts as text (each version numbered, * on the value shown now, then the program's
// "conflicts_hint") or, with --json, {"ok", "count", "conflicts": [...]}.
void print_conflicts(const Io& io, const Schema& schema, const std::vector<ops::FieldConflict>& list, bool full_ids);

// A resolution as --json prints it; shown is the value as shown_value gives it.
nlohmann::json resolved_json(EntityType type, const EntityId& id, const FieldDef* f, const std::string& shown,
                             const ops::ResolveReport& r, const std::string& collector);

}  // namespace tz::cli
