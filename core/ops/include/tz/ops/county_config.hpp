// The county configuration values a server sends every device (SyncServer::set_config) and how a
// device store takes them up. Formats (docs/decisions.md, decision 62):
//   "period":      "YEAR:YYYY-MM-DD" (the year, then the as-of date; the form of period_key())
//   "region_tree": the tree's version on the first line, then its CSV (RegionTree::to_csv format)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tz/model/period.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

inline constexpr const char* kConfigPeriod = "period";
inline constexpr const char* kConfigRegionTree = "region_tree";

std::string period_config_value(const Period& p);
std::optional<Period> parse_period_config(std::string_view value);

struct RegionTreeConfig {
  std::string version;
  std::string csv;
};
std::string region_tree_config_value(const RegionTreeConfig& t);
std::optional<RegionTreeConfig> parse_region_tree_config(std::string_view value);

// The region tree a store's configuration holds, if any (and if it parses).
std::optional<region::RegionTree> region_tree_of(const DeviceStore& store);

// Copies the received period and region tree (DeviceStore::sync_config) into the store's
// configuration when they differ from it. For the server's admin replica; the collector's device
// takes the same values up through tz/ops/config.hpp, into which this is meant to fold.
Status apply_admin_config(DeviceStore& store);

}  // namespace tz::ops
