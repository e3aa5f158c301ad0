// Applying the county's configuration records to the store.
#include "tz/ops/config.hpp"

#include <nlohmann/json.hpp>

#include "tz/model/derive.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/population.hpp"
#include "tz/ops/status.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

namespace {

Error bad_record(const std::string& key, const std::string& why_zh, const std::string& why_en) {
  return Error(ErrorCode::invalid_input, {bilingual("服务器下发的配置“" + key + "”无法读取：" + why_zh,
                                                    "the server's configuration \"" + key + "\" cannot be read: " + why_en)});
}

}  // namespace

std::optional<Period> parse_period_config(std::string_view value_in) {
  std::string value = text::trim(std::string(value_in));
  int year = 0;
  std::string as_of;
  if (!value.empty() && value.front() == '{') {
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("year") || !j.contains("as_of")) return std::nullopt;
    if (j["year"].is_number_integer())
      year = j["year"].get<int>();
    else if (j["year"].is_string() && text::all_digits(j["year"].get<std::string>()) && j["year"].get<std::string>().size() == 4)
      year = std::stoi(j["year"].get<std::string>());
    if (!j["as_of"].is_string()) return std::nullopt;
    as_of = j["as_of"].get<std::string>();
  } else {
    auto colon = value.find(':');
    if (colon != 4 || !text::all_digits(value.substr(0, 4))) return std::nullopt;
    year = std::stoi(value.substr(0, 4));
    as_of = value.substr(colon + 1);
  }
  auto d = parse_date(as_of);
  if (!d || year <= 0) return std::nullopt;
  return make_period(year, *d);
}

Result<size_t> recompute_flags(DeviceStore& store) {
  const Period& period = store.info().config.period;
  if (!period.is_set()) return size_t{0};
  const Schema& schema = store.schema();
  const FieldId hh_village = schema.entity(EntityType::household).require("village_code").id;
  try {
    Deriver deriver(schema, period);
    auto pop = Population::load(store);
    WriteBatch b;
    for (const Entity* p : pop.persons()) {
      const Entity* hh = pop.household_of(*p);
      std::string village = hh ? hh->value_or(hh_village) : std::string();
      uint32_t flags = person_flags(deriver.derive(pop.facts(*p)), identity_ok(store, pop, *p, village));
      if (flags != pop.flags_of(*p) || village != pop.village_of(*p)) b.row_updates.push_back(RowUpdate{p->id, village, flags});
    }
    b.derived_period = period_key(period);
    b.clock = store.clock();
    b.crash_point = "device.config.before_commit";
    size_t n = b.row_updates.size();
    if (auto st = store.write(b); !st) return st.error();
    return n;
  } catch (const Failure& f) {
    return f.error();
  }
}

Result<ConfigApplied> apply_received_config_report(DeviceStore& store) {
  ConfigApplied out;
  StoreConfig cfg = store.info().config;
  if (auto rec = store.sync_config(kConfigPeriod)) {
    auto p = parse_period_config(rec->second);
    if (!p)
      return bad_record("period", "应为“年度:截至日期”，如 2026:2026-11-30",
                        "expected \"YEAR:as-of date\", e.g. 2026:2026-11-30");
    if (!cfg.period.is_set() || cfg.period.year != p->year || !(cfg.period.as_of == p->as_of)) {
      cfg.period = *p;
      out.period_changed = true;
    }
  }
  if (auto rec = store.sync_config(kConfigRegionTree)) {
    auto rtc = parse_region_tree_config(rec->second, rec->first);
    if (!rtc) return bad_record("region_tree", "应为区划 CSV", "expected the region tree as CSV");
    const std::string& csv = rtc->csv;
    const std::string& version = rtc->version;
    if (version != cfg.region_tree_version) {
      auto tree = region::RegionTree::parse_csv(csv, version);
      if (!tree) return bad_record("region_tree", tree.error().message(Lang::zh), tree.error().message(Lang::en));
      if (!cfg.county.empty() && !tree->county_code().empty() && tree->county_code() != cfg.county)
        return bad_record("region_tree", "区划属于 " + tree->county_code() + "，本设备属于 " + cfg.county,
                          "the tree is county " + tree->county_code() + ", this device's is " + cfg.county);
      region::RegionTree merged = std::move(*tree);
      if (auto old = region_tree_of(store); old && old->county_code() == merged.county_code())
        merged = old->merged_with(merged);
      cfg.region_tree_csv = merged.to_csv();
      cfg.region_tree_version = version;
      out.region_tree_changed = true;
    }
  }
  if (!out.period_changed && !out.region_tree_changed) {
    // The flags may still lag a period applied before a crash.
    if (cfg.period.is_set() && store.info().derived_period != period_key(cfg.period)) {
      auto n = recompute_flags(store);
      if (!n) return n.error();
      out.flags_recomputed = *n;
    }
    return out;
  }
  if (auto st = store.set_config(cfg); !st) return st.error();
  if (out.period_changed || store.info().derived_period != period_key(cfg.period)) {
    auto n = recompute_flags(store);
    if (!n) return n.error();
    out.flags_recomputed = *n;
  }
  return out;
}

Status apply_received_config(DeviceStore& store) {
  auto r = apply_received_config_report(store);
  if (!r) return r.error();
  return ok_status();
}

}  // namespace tz::ops
