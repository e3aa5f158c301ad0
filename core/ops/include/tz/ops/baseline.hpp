// Last year's baseline (任务基数, SPEC §9): the people counted as 外出务工 last year, one row per
// person (村代码, 姓名, 身份证号), imported on the server and carried to devices as the configuration
// record "baseline" (decision 400). Devices keep configuration in plaintext, so the record holds no
// name and no full ID: per person the village, a keyed hash of the normalised ID (to find the person
// in the store) and the masked ID (to show who is missing from it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tz/model/region_tree.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

inline constexpr const char* kConfigBaseline = "baseline";

struct BaselineEntry {
  std::string village;    // 12-digit village code (a retired code mapped to its successor)
  std::string key;        // baseline_key of the normalised ID
  std::string masked_id;  // idn::mask_id of the normalised ID
};

struct Baseline {
  std::vector<BaselineEntry> entries;  // in file order
};

// The key that matches a baseline row to a person: 32 hex characters of SHA-256 over the county and
// the resident-ID part (18 characters) of the normalised ID.
std::string baseline_key(std::string_view county, std::string_view normalized_id);

struct BaselineImport {
  Baseline baseline;
  ImportReport report;  // problems by line (errors refuse the whole file), encoding, rows
};

// Reads the national system's export (CSV, UTF-8 with or without BOM or GB18030; headers 村代码,
// 姓名, 身份证号 in any order). Every bad row is an error naming its line and column: a village code
// that is not 12 digits or is of another county, an empty name, an invalid or Excel-damaged ID, the
// same ID on two lines. A village unknown to the tree is a warning. An Error when the file as a whole
// cannot be read (encoding, no header, a required column missing).
Result<BaselineImport> parse_baseline_csv(std::string_view bytes, const std::string& county,
                                          const region::RegionTree* tree, const CivilDate& today,
                                          const region::CountyList* counties);

// The configuration record's value: "taizhang-baseline 1" then one line per entry, tab-separated.
std::string baseline_config_value(const Baseline& b);
std::optional<Baseline> parse_baseline_config(std::string_view value);
// The baseline the store has received, if any.
std::optional<Baseline> baseline_of(const DeviceStore& store);

}  // namespace tz::ops
