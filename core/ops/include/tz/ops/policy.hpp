// Work standards (seed 004) and subsidies (seed 002), SPEC §9, from the thresholds and rules in
// schemas/policy.json (decisions 405-407).
//
// Work standards: per employed person, the months and income of the period's counted jobs in the
// county and outside it; the time standard is met with at least in_county.min_months in the county or
// outside_county.min_months outside it, the income standard likewise; per village, how many meet each.
//
// Subsidies, each amount with the rule that produced it:
//   transport    the fare of the person's first organised job (有组织输出) of the period, up to
//                max_amount, once per person; payee the person.
//   referral     a job starting within [from_month, to_month] of the period's year with a labour
//                contract of at least min_contract_months and a placing agency: the amount of its bucket
//                (县内 / 省内县外 / 省外), once per person (the first such job); payee the agency.
//   job_keeping  per_month for each month of the window worked outside the county, or in the county
//                at a source in local_sources (企业, 扶贫车间); a month counts once; payee the person.
// Only people employed in the period (SPEC §3) are entitled.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tz/model/region_tree.hpp"
#include "tz/ops/lists.hpp"
#include "tz/ops/resources.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

struct Policy {
  struct Standard {
    int min_months = 0;
    double min_income = 0;
  };
  Standard in_county, outside_county;

  std::string transport_rule;
  double transport_max = 0;
  std::string referral_rule;
  int referral_from = 1, referral_to = 12, referral_min_contract = 0;
  std::map<std::string, double> referral_amounts;  // bucket code -> yuan
  std::string keeping_rule;
  int keeping_from = 1, keeping_to = 12;
  double keeping_per_month = 0;
  std::set<std::string> keeping_local_sources;  // job source codes
};

Result<Policy> parse_policy(std::string_view json_text);
// schemas/policy.json from the data folder (TAIZHANG_SCHEMA_DIR overrides the folder).
Result<Policy> load_policy(const Resources& res);

struct PersonStandard {
  std::string village, name, masked_id;
  int months_in = 0, months_out = 0;
  double income_in = 0, income_out = 0;
  bool time_ok = false, income_ok = false;
};
Result<std::vector<PersonStandard>> work_standards(const DeviceStore& store, const Policy& policy, const std::string& region);
// [per village: employed, time met, income met, both met; per person].
std::vector<Table> work_standards_tables(const std::vector<PersonStandard>& people, const Policy& policy,
                                         const region::RegionTree* tree, Lang lang);

struct SubsidyLine {
  EntityId person;
  std::string village, name, masked_id;
  std::string kind;   // transport, referral, job_keeping
  double amount = 0;
  std::string rule;   // the rule id from policy.json
  std::string payee;  // the person's name, or the placing agency
  std::string basis_zh, basis_en;  // how the amount was reached
};
Result<std::vector<SubsidyLine>> compute_subsidies(const DeviceStore& store, const Policy& policy, const std::string& region);
// [each amount with its rule; totals per village; totals per agency (referral)].
std::vector<Table> subsidy_tables(const std::vector<SubsidyLine>& lines, const Schema& schema, const region::RegionTree* tree,
                                  Lang lang);

}  // namespace tz::ops
