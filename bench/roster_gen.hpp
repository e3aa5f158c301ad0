// A deterministic generator of realistic county rosters (SPEC §9 import contract) for benchmarks and
// tests: households of 2–6 persons, Chinese names (compound surnames, minority names with "·", now
// and then a character outside the BMP), unique valid resident IDs of the village's county, mobile
// phones, labour ability, the declared employment status with its job columns, 外出意愿 and 返乡回流.
// The same spec always gives the same roster: std::mt19937_64 seeded from the spec, no clock, and no
// std::*_distribution (their output differs between standard libraries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tz::bench {

struct RosterSpec {
  uint64_t seed = 1;
  size_t persons = 1000;
  std::vector<std::string> villages;  // 12-digit village codes; the IDs take their first 6 digits
  int period_year = 2026;             // the roster describes this year up to 30 November
  // Rich: the roster also fills the other columns a county's 台账 keeps (民族, 文化程度, 健康状况,
  // 掌握技能, 培训需求, 就业意向, 服务需求, 在校生, 备注, 意愿务工地域, 返乡日期; the household's
  // 户主姓名, 家庭住址, 易地扶贫搬迁 with 安置方式 / 安置点; the job's 统一社会信用代码, 所属行业,
  // 就业渠道, 签订劳动合同 with 合同期限(月), 参加社会保险, 输出机构, 交通费用), about 33 field values
  // per person instead of 15 (bench_sync: a 50,000-person county of about 1.7 million values). Drawn
  // from a second generator after the base roster, so the base columns are the same either way.
  bool rich = false;
  // When set: the households of the township with this 9-digit code (its villages among `villages`)
  // are drawn until they hold township_persons persons (whole households, so a few more), and the
  // other households from the other villages: a township of a chosen size for a new device's pull.
  std::string township;
  size_t township_persons = 0;
};

// One roster row, every cell as written in the file (labels, not codes).
struct GenPerson {
  std::string village, household_no, name, id_number, relation, phone;
  std::string labour;       // 普通劳动力 / 技能劳动力 / 丧失劳动力 / 无劳动力
  std::string status;       // 已就业 / 未就业 / 失业
  std::string bucket;       // 县内 / 省内县外 / 省外 / 境外, or "" when not employed
  std::string place, employer;
  std::string start_month;  // YYYY-MM, or ""
  std::string months, income;
  std::string organised, p2p;  // 是 / 否, or ""
  std::string willing;         // 有 / 无 for those able to work and not employed, else ""
  std::string returned;        // 是 / 否
  // Rich columns (RosterSpec::rich), "" otherwise.
  std::string ethnicity, education, health, skills, training_need, intention, service_needs, student, remarks;
  std::string willing_where, returned_date;
  std::string head_name, address, relocated, relocation_mode, relocation_site;  // the same for a household
  std::string credit_code, industry, source, contract, contract_months, insured, agency, fare;  // employed only
};

struct Roster {
  std::vector<GenPerson> persons;
  bool rich = false;  // roster_csv writes the rich columns too
  size_t households = 0;
  // Expected list sizes by construction (SPEC §9 lists, the declared status deciding employment):
  size_t employed = 0;    // status 已就业
  size_t unemployed = 0;  // 普通/技能劳动力 whose status is not 已就业
  size_t willing = 0;     // unemployed with 外出意愿 有
  size_t returned = 0;    // 返乡回流 是
  size_t older = 0;       // aged over 64 on the as-of date (age warnings expected)
};

// Throws std::invalid_argument when there are persons but no 12-digit village.
Roster generate_roster(const RosterSpec& spec);

// The roster as CSV with the SPEC §9 headers in contract order, through tz::csv::Writer (long digit
// strings written as ="…"); employment columns blank when not employed.
std::string roster_csv(const Roster& roster, bool bom = false);

// The SPEC §9 headers in the order roster_csv writes them (rich: followed by the rich columns, each
// its field's label_zh).
const std::vector<std::string>& roster_headers(bool rich = false);

// The live village codes of a region tree CSV (data/regions/trees/CODE.csv), in code order.
// Throws tz::Failure when the tree does not parse.
std::vector<std::string> villages_of_tree(std::string_view tree_csv);

}  // namespace tz::bench
