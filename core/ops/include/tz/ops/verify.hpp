// The county's verification rules beyond field validation (SPEC §8; decision 302), over a store that
// holds the county (the server's admin replica): each rule looks at the whole population and returns
// findings, each about one record with the villages it concerns, so the caller can notify the
// collectors whose scope holds them. Thresholds come from schemas/verification.json. The rule list is
// a plain list: further checks (deduplication) are added to it, or run beside it by the caller.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tz/ops/population.hpp"
#include "tz/ops/resources.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

struct VerificationThresholds {
  std::map<std::string, std::string> severity;  // rule id -> "warning" or "info" (low: normal life may explain it)
  size_t phone_max_households = 3;
  bool phone_flag_different_villages = true;
  size_t employer_min_persons = 10;
  double employer_min_arranged_share = 0.5;  // share of the employer's people placed 有组织 or 点对点
  std::map<std::string, double> min_monthly_income;  // by place bucket code ("" = unknown place)
  double max_monthly_income = 50000;
  std::set<std::string> exempt_sources;  // job sources that have no employer (灵活就业, 自主创业, 务农)
  size_t max_visits_per_day = 30;
};

// schemas/verification.json (TAIZHANG_SCHEMA_DIR overrides the folder, as for the schema).
Result<VerificationThresholds> load_verification_thresholds(const Resources& res);
Result<VerificationThresholds> parse_verification_thresholds(std::string_view json_text);

struct Finding {
  std::string rule;
  EntityType type = EntityType::person;
  EntityId entity;
  FieldId field = 0;
  std::vector<std::string> villages;  // the record's villages: who is told
  std::string zh, en;                 // what to verify, naming the record and the evidence
};

struct VerifyInput {
  const DeviceStore* store = nullptr;
  VerificationThresholds thresholds;
  // The region scope of each collector, from the devices enrolled for them (a collector on several
  // devices has the union). Collectors not listed are not judged by household_outside_scope.
  std::map<std::string, std::vector<std::string>> collector_scopes;
  // Records written by these collectors (the county admin's imports) are not judged by the rules
  // about collectors (visits_per_day, household_outside_scope).
  std::set<std::string> excluded_collectors;
  // Filed headcounts by employer (employer_key -> people filed), from the last 用工备案 list
  // reconciled (filed_headcounts): an employer whose filing covers the people claiming it is not
  // flagged by employer_crowd.
  std::map<std::string, uint64_t> filed_headcounts;
};

struct VerificationRule {
  std::string id;
  std::string title_zh, title_en;
  std::function<std::vector<Finding>(const VerifyInput&, const Population&)> run;  // the store's people, loaded once
};

// shared_phone, employer_crowd, implausible_income, implausible_months, employed_without_employer,
// visits_per_day, household_outside_scope — in that order.
const std::vector<VerificationRule>& verification_rules();

}  // namespace tz::ops
