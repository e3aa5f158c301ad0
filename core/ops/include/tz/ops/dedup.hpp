// Deduplication over the county's data (SPEC §8, issue 7): the persons of a store as dedup input,
// the exact groups and probable pairs they hold, and the reviewer's dismissals, remembered in the
// server store so a dismissed pair is never proposed again. Merging and unmerging are
// SyncServer::merge / unmerge (tz/sync/server.hpp; docs/dedup.md "Merging").
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tz/dedup/dedup.hpp"
#include "tz/store/device_store.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::ops {

// Every person of the store that is not deleted: shown name, 身份证号, phone, relation, household
// (its parent) and village.
std::vector<dedup::PersonInput> dedup_inputs(const DeviceStore& store);

// A reviewer's decision about a pair of persons. Only dismissals exist so far; merge and unmerge will
// be recorded the same way.
struct DedupDecision {
  enum class Kind : uint8_t { dismiss = 1 };
  Kind kind = Kind::dismiss;
  EntityId a, b;          // stored as (smaller, larger)
  std::string by;         // the collector or admin who decided
  int64_t server_ms = 0;  // when
};

// The server-store meta value that keeps the decisions: one line per decision,
// "dismiss <a hex> <b hex> <server_ms> <by>", in order of recording.
inline constexpr const char* kMetaDedupDecisions = "dedup_decisions";

// Every recorded decision, in order (unparseable lines are skipped).
std::vector<DedupDecision> dedup_decisions(const sync::ServerStore& server);
// The dismissed pairs among them.
dedup::PairSet dismissed_pairs(const sync::ServerStore& server);

// THE one place a dedup decision is written: appended to kMetaDedupDecisions in one server-store
// transaction (a pair dismissed twice is recorded once), with its audit-chain entry under `actor`
// (sync::kCountyAdminActor for the admin command, the user's name for the review API) in the same
// transaction. invalid_input when a == b.
Status record_dedup_decision(sync::ServerStore& server, DedupDecision decision, std::string_view actor);

// What `sync-server duplicates` and `verify` show.
struct DuplicateReport {
  std::vector<dedup::ExactGroup> exact;
  std::vector<dedup::Pair> probable;               // dismissed pairs left out
  std::map<EntityId, dedup::PersonInput> persons;  // everyone named above
  size_t persons_checked = 0;
};
DuplicateReport find_duplicates(const DeviceStore& store, const dedup::PairSet& dismissed, const CivilDate& today,
                                unsigned threads = 1);

}  // namespace tz::ops
