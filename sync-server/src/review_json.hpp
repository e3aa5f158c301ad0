// JSON shapes shared by the admin commands' --json and the review API (api.cpp): quarantined
// changes and reconciliation reports.
#pragma once

#include <nlohmann/json.hpp>

#include "tz/model/schema.hpp"
#include "tz/ops/reconcile.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::server_cli {

// A bilingual() text in one language.
std::string in_lang(const std::string& s, Lang lang);

nlohmann::json quarantined_json(const sync::StoredChange& q, const Schema& schema, Lang lang);
// The summary (counts); with_rows adds every discrepancy (IDs masked unless full_ids).
nlohmann::json reconcile_json(const ops::ReconcileReport& r, Lang lang, bool full_ids, bool with_rows);
// Bad rows of a refused reconciliation: [{line, column, rule, message}].
nlohmann::json problems_json(const std::vector<ops::ImportProblem>& problems, Lang lang);

}  // namespace tz::server_cli
