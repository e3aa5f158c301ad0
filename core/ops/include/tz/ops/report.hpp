// The progress report (SPEC §9) in the layout of the annex of seed 000 (贫困劳动力外出务工情况):
// per village, township and county, last year's count (the baseline), this year's 共计 (employed in
// the period in 省外, 省内县外 or 县内), its ratio to last year, the three buckets, 跨省点对点,
// 境外 and 其他/unknown apart, not gone out but willing, and the four clears; then the villages and
// townships below last year's count, and person by person who was counted last year and has not gone
// out this year (life events apart). The same report made on a device and on the server for the same
// scope is identical, byte for byte (decisions 401-404).
#pragma once

#include <string>
#include <vector>

#include "tz/model/region_tree.hpp"
#include "tz/ops/lists.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

struct RegionFigures {
  std::string code, name;
  region::Level level = region::Level::village;
  size_t baseline = 0;      // last year's count (people in the baseline file)
  size_t total = 0;         // 共计 = out_province + in_province + in_county
  size_t out_province = 0;  // 省外
  size_t in_province = 0;   // 省内县外
  size_t in_county = 0;     // 县内
  size_t p2p = 0;           // 跨省点对点: 省外 with 点对点输送 = 是
  size_t willing = 0;       // not gone out (labour count, not employed) but willing
  size_t abroad = 0;        // 境外 (outside 共计)
  size_t other = 0;         // 其他 or the place unknown (outside 共计)
  size_t persons = 0;       // everyone in scope: the four clears' denominator
  size_t identity = 0, labour = 0, status = 0, willingness = 0, all_clear = 0;
};

struct BaselinePerson {
  std::string village, village_name;
  std::string name;       // "" when the person is not in the store
  std::string masked_id;
  std::string situation;  // this year: 未就业 / 失业 / 不在台账中, or the life event
};

struct ProgressReport {
  Period period;
  bool has_baseline = false;
  std::vector<RegionFigures> regions;        // code order: county, township, its villages, ...
  std::vector<size_t> below;                 // indices of villages and townships below last year's count
  std::vector<BaselinePerson> not_gone_out;  // counted last year, not employed this year
  std::vector<BaselinePerson> life_events;   // counted last year, with a 人员变更
};

struct ReportOptions {
  // The regions reported on (village, township or county codes); empty = the store's county.
  std::vector<std::string> roots;
  Lang lang = Lang::zh;
};

Result<ProgressReport> make_report(const DeviceStore& store, const region::RegionTree* tree, const ReportOptions& options);
Result<ProgressReport> make_report(const DeviceStore& store, const Population& pop, const region::RegionTree* tree,
                                   const ReportOptions& options);

enum class ReportUnit { person, wan };

// The report as tables: the region table first, then below-count, not gone out, life events.
std::vector<Table> report_tables(const ProgressReport& r, ReportUnit unit, Lang lang);
// Terminal text: each table with its title.
std::string render_report_text(const ProgressReport& r, ReportUnit unit, Lang lang);
// CSV (UTF-8 with BOM): one header row and one row per region, then each other part after an empty
// line (its title, its header row, its rows).
std::string render_report_csv(const ProgressReport& r, ReportUnit unit, Lang lang);

// A count as the report shows it: persons, or 万人 to two decimals.
std::string report_count(size_t n, ReportUnit unit);
// part / whole as a percentage to two decimals ("101.53%"); "" when whole is 0.
std::string report_ratio(size_t part, size_t whole);

}  // namespace tz::ops
