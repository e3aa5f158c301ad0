// The county configuration values a server sends every device (SyncServer::set_config) and how a
// device store takes them up. Formats (docs/decisions.md, decision 62):
//   "period":      "YEAR:YYYY-MM-DD" (the year, then the as-of date; the form of period_key())
//   "region_tree": the JSON {"version": "...", "csv": "..."} (RegionTree::to_csv format); a bare CSV
//                  is also read, versioned by the record's version
// Devices and the admin replica take them up with apply_received_config (tz/ops/config.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tz/model/period.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/ops/config.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

inline constexpr const char* kConfigPeriod = "period";
inline constexpr const char* kConfigRegionTree = "region_tree";

std::string period_config_value(const Period& p);

struct RegionTreeConfig {
  std::string version;
  std::string csv;
};
std::string region_tree_config_value(const RegionTreeConfig& t);
std::optional<RegionTreeConfig> parse_region_tree_config(std::string_view value, uint64_t record_version = 0);

// The region tree a store's configuration holds, if any (and if it parses).
std::optional<region::RegionTree> region_tree_of(const DeviceStore& store);

}  // namespace tz::ops
