// County configuration values: encoding, decoding, and taking them up in a device store.
#include "tz/ops/county_config.hpp"

#include <nlohmann/json.hpp>

namespace tz::ops {

std::string period_config_value(const Period& p) { return period_key(p); }

std::string region_tree_config_value(const RegionTreeConfig& t) {
  return nlohmann::json{{"version", t.version}, {"csv", t.csv}}.dump();
}

std::optional<RegionTreeConfig> parse_region_tree_config(std::string_view value, uint64_t record_version) {
  RegionTreeConfig out{std::to_string(record_version), std::string(value)};
  if (value.empty() || value.front() != '{') return out;  // bare CSV, versioned by the record
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("csv") || !j["csv"].is_string()) return std::nullopt;
  if (j.contains("version") && j["version"].is_string())
    out.version = j["version"].get<std::string>();
  else if (j.contains("version") && j["version"].is_number_integer())
    out.version = std::to_string(j["version"].get<int64_t>());
  out.csv = j["csv"].get<std::string>();
  return out;
}

std::optional<region::RegionTree> region_tree_of(const DeviceStore& store) {
  const auto& cfg = store.info().config;
  if (cfg.region_tree_csv.empty()) return std::nullopt;
  auto t = region::RegionTree::parse_csv(cfg.region_tree_csv, cfg.region_tree_version);
  if (!t) return std::nullopt;
  return std::move(*t);
}

}  // namespace tz::ops
