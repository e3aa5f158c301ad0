// Subsidy records (SPEC §4 subsidy, 政策落实): the entitlements compute_subsidies() works out, kept
// as subsidy entities so that a county can record what it has paid and devices see both (decision 420).
//
// Each record's id is derived from (person, rule, period) (SPEC §4: a computed subsidy is keyed), so
// recording again updates the same record instead of adding one. A record marked 已发放 (paid) is never
// changed or withdrawn by a later computation: what was paid stays as it was paid.
#pragma once

#include <string>

#include "tz/ops/editor.hpp"
#include "tz/ops/policy.hpp"

namespace tz::ops {

struct SubsidyRecordCounts {
  size_t added = 0;      // new 应享 records
  size_t updated = 0;    // 应享 records whose amount, payee or rule changed
  size_t unchanged = 0;  // 应享 records already as computed
  size_t withdrawn = 0;  // 应享 records of the period and region no longer due (deleted, with a reason)
  size_t paid = 0;       // records marked 已发放, left as they are
};

// Writes the entitlements of `lines` (computed for `region` of the store's period) in one transaction.
Result<SubsidyRecordCounts> record_subsidies(DeviceStore& store, const std::vector<SubsidyLine>& lines, const std::string& region,
                                             const EditContext& ctx);

struct SubsidyPaid {
  std::string kind;      // the kind's code, whatever name it was given by
  bool changed = false;  // false when it was already marked
};
// Marks the recorded subsidy of one kind (code, label or alias: transport / 一次性交通补贴, referral,
// job_keeping) of a person in the store's period as 已发放. not_found when it was never recorded.
Result<SubsidyPaid> mark_subsidy_paid(DeviceStore& store, const Policy& policy, const EntityId& person, const std::string& kind,
                               const EditContext& ctx);

}  // namespace tz::ops
