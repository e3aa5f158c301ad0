// The county's configuration records, as pulled (DeviceStore::sync_config), applied to the store's
// StoreConfig (SPEC §3: the reporting period and region-tree updates reach devices as versioned
// configuration records). Collectors and scope come from enrolment, not from here.
//
// Record values (docs/storage.md "Received configuration", decision 57):
//   period       "YEAR:YYYY-MM-DD" (the form of period_key, e.g. "2026:2026-11-30"), or the JSON
//                {"year": 2026, "as_of": "2026-11-30"}; the as-of date must lie in the year.
//   region_tree  the county's tree as CSV (the columns of data/regions/villages.csv, see
//                region::RegionTree::parse_csv), versioned by the record's version; or the JSON
//                {"version": "...", "csv": "..."}. A newer tree is merged over the one the store has,
//                so codes only in the old tree stay, retired.
#pragma once

#include <optional>
#include <string_view>

#include "tz/store/device_store.hpp"

namespace tz::ops {

// A period record's value; nullopt when it is not one of the forms above.
std::optional<Period> parse_period_config(std::string_view value);

struct ConfigApplied {
  bool period_changed = false;
  bool region_tree_changed = false;
  size_t flags_recomputed = 0;  // persons whose flags were derived again for the new period
};

// Applies the received period and region tree to the store's configuration (one write each, only when
// they differ from what the store has). When the period changes, every person's flags are derived
// again for it and the store's derived period moves with them (one transaction), so `status` and
// later edits use the new period; a locked store keeps each person's stored identity flag. A record
// that cannot be read is invalid_input naming its key, and nothing is applied.
Result<ConfigApplied> apply_received_config_report(DeviceStore& store);
Status apply_received_config(DeviceStore& store);

// Derives every person's flags again for the store's period and marks them valid for it.
Result<size_t> recompute_flags(DeviceStore& store);

}  // namespace tz::ops
