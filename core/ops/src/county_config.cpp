// County configuration values: encoding, decoding, and taking them up in a device store.
#include "tz/ops/county_config.hpp"

#include "tz/util/text.hpp"

namespace tz::ops {

std::string period_config_value(const Period& p) { return period_key(p); }

std::optional<Period> parse_period_config(std::string_view value) {
  auto colon = value.find(':');
  if (colon != 4) return std::nullopt;
  std::string year(value.substr(0, 4));
  if (!text::all_digits(year)) return std::nullopt;
  auto as_of = parse_date(value.substr(colon + 1));
  if (!as_of) return std::nullopt;
  return make_period(std::stoi(year), *as_of);
}

std::string region_tree_config_value(const RegionTreeConfig& t) { return t.version + "\n" + t.csv; }

std::optional<RegionTreeConfig> parse_region_tree_config(std::string_view value) {
  auto nl = value.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  return RegionTreeConfig{std::string(value.substr(0, nl)), std::string(value.substr(nl + 1))};
}

std::optional<region::RegionTree> region_tree_of(const DeviceStore& store) {
  const auto& cfg = store.info().config;
  if (cfg.region_tree_csv.empty()) return std::nullopt;
  auto t = region::RegionTree::parse_csv(cfg.region_tree_csv, cfg.region_tree_version);
  if (!t) return std::nullopt;
  return std::move(*t);
}

Status apply_admin_config(DeviceStore& store) {
  StoreConfig cfg = store.info().config;
  bool changed = false;
  if (auto v = store.sync_config(kConfigPeriod))
    if (auto p = parse_period_config(v->second); p && period_key(*p) != period_key(cfg.period)) {
      cfg.period = *p;
      changed = true;
    }
  if (auto v = store.sync_config(kConfigRegionTree))
    if (auto t = parse_region_tree_config(v->second);
        t && (t->version != cfg.region_tree_version || t->csv != cfg.region_tree_csv)) {
      cfg.region_tree_version = t->version;
      cfg.region_tree_csv = t->csv;
      changed = true;
    }
  if (!changed) return ok_status();
  return store.set_config(cfg);
}

}  // namespace tz::ops
