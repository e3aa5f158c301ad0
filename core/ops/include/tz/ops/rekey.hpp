// Re-keying a store used before enrolment (SPEC §5 Model, §6): its natural-key entity ids were made
// under a local county secret; enrolment delivers the county's, and every keyed id is recomputed under
// it before anything is pushed, so the same person imported on two devices is one entity.
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "tz/store/device_store.hpp"

namespace tz::ops {

// The ids that change (old -> new), without writing anything: every entity whose id is its natural
// key under the store's current county secret (a household from 村代码 + 户编号, a person from the
// ID number or household + name, a roster job from person + period year, a subsidy from person +
// rule + year), with the key recomputed under `county_secret`. Any value the entity ever had (live
// versions and the change log) may be the one its id was made from. Random ids stay. `period_year`:
// roster jobs of the store's own period year are keyed for that year instead (the server's period).
// Needs the passphrase.
std::vector<std::pair<EntityId, EntityId>> rekey_plan(const DeviceStore& store, std::string_view county_secret,
                                                      std::optional<int> period_year = std::nullopt);

// Computes the plan and applies it with DeviceStore::rekey: entity rows, the change log (entity ids and
// values naming entities), parent columns, lookups, notices and the county secret, in one transaction.
// Only for a store that has never synced (acked sequence 0, cursor 0, no server epoch): otherwise
// invalid_input with a bilingual message, and nothing changes. Returns how many ids changed.
Result<size_t> rekey_store(DeviceStore& store, std::string_view county_secret, std::optional<int> period_year = std::nullopt);

}  // namespace tz::ops
