// The figures derived per person for the reporting period (SPEC §3): employed or not, the place
// bucket, months and income in the period, and whether the person is in the labour count. Pure:
// the caller gathers the person's household, jobs and visits.
#pragma once

#include <string>
#include <vector>

#include "tz/model/period.hpp"
#include "tz/model/record.hpp"
#include "tz/model/schema.hpp"

namespace tz {

struct PersonFacts {
  const Entity* person = nullptr;
  const Entity* household = nullptr;
  std::vector<const Entity*> jobs;    // jobs whose person_id is this person
  std::vector<const Entity*> visits;  // visits to the person or to the household
};

struct DerivedStatus {
  bool employed = false;
  bool declared = false;            // a declared status for the period decided `employed`
  std::string bucket;               // place_bucket option code of the bucket job; "" when unknown
  const Entity* bucket_job = nullptr;
  int months = 0;                   // months worked in the period (counted jobs)
  double income = 0;                // income in the period, yuan
  bool life_event = false;          // 人员变更 recorded
  bool student = false;             // 在校生
  bool able = false;                // 劳动技能 01 / 02 or not recorded
  bool in_labour_count = false;     // able, no life event, not a student
  bool willing = false;             // 外出意愿 = 有
  bool willing_recorded = false;
  bool returned = false;            // 返乡回流
  bool status_confirmed = false;    // the status was declared or confirmed within the period
  bool labour_recorded = false;     // 劳动技能 recorded
};

// The "four clears" of SPEC §3 for one person; everyone in scope is the denominator.
struct FourClears {
  bool identity = false;     // 人员底数清: name, valid ID, household, village
  bool labour = false;       // 劳动能力清: labour ability recorded
  bool status = false;       // 就业状态清: status for the period determinable and confirmed within it
  bool willingness = false;  // 外出意愿清: willingness recorded where it is asked (not employed, able)
  bool all() const { return identity && labour && status && willingness; }
};

// identity_ok comes from the store's identity flag, so it is known without the passphrase.
FourClears four_clears(const DerivedStatus& d, bool identity_ok);

// Field ids looked up once; derive() is then cheap enough for 275,000 people.
class Deriver {
 public:
  Deriver(const Schema& schema, const Period& period);
  DerivedStatus derive(const PersonFacts& facts) const;
  // The bucket of one job for a person whose household is in home_village ("" when unknown).
  std::string job_bucket(const Entity& job, const std::string& home_village) const;
  // Whether a job is counted as employment (务农 only when the schema setting says so).
  bool job_counts(const Entity& job) const;
  // Months of a job inside the period (the recorded months, capped by the overlap when known).
  int job_months(const Entity& job) const;
  bool job_overlaps(const Entity& job) const;
  const Period& period() const { return period_; }

 private:
  const Schema& schema_;
  Period period_;
  FieldId hh_village_, p_labour_, p_declared_, p_willing_, p_returned_, p_life_, p_student_;
  FieldId j_start_, j_end_, j_months_, j_place_, j_bucket_, j_source_, j_income_;
  FieldId v_date_;
  int64_t start_ms_ = 0, end_ms_ = 0;  // the period's [start, end), worked out once
  std::string declared_prefix_;        // "YEAR:" of a declared status for the period
};

}  // namespace tz
