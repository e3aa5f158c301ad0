// County review of a record (SPEC §8; decisions 303, 312): the decision is an ordinary field of the record
// (person.review, household.review), merged like the others; its value names the versions a reviewer approved, or
// the reason the record was sent back. The state shown is derived, never stored: 已通过 while the
// record's live versions are exactly the approved ones, 待复核 once any of them is replaced or a new
// one added (an edit after approval writes nothing else), 退回 when sent back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tz/model/record.hpp"
#include "tz/model/validation.hpp"
#include "tz/util/error.hpp"

namespace tz {

enum class ReviewState { unreviewed, approved, pending, returned };

struct ReviewStatus {
  ReviewState state = ReviewState::unreviewed;
  std::string reason;                // returned: why
  std::vector<VersionId> approved;   // approved or pending: the versions the reviewer approved
};

// A reviewed record: record[0] the entity holding the review field (a person or a household), the rest
// what the decision also covers (a person's jobs). "approve:DEVICE:SEQ,DEVICE:SEQ,…": every live version of every field of the record
// but the review field.
std::string approval_value(const std::vector<const Entity*>& record, FieldId review_field);
// "return:REASON".
std::string return_value(std::string_view reason);
ReviewStatus review_status(const std::vector<const Entity*>& record, FieldId review_field);
// The name of the review decision field: a record is reviewable when its entity schema declares it,
// and only the county's reviewers write it (decision 314): no device input (edit, add, import) may
// set it, and the server holds a device's change to it unless the device is the county admin replica.
inline constexpr std::string_view kReviewFieldName = "review";
bool reviewer_only(const FieldDef& f);
// The refusal of a value typed, imported or pushed for it, naming the field.
Problem reviewer_only_problem(const FieldDef& f);
// 未审核 / 已通过 / 待复核 / 已退回 (unreviewed, approved, to review again, sent back).
std::string review_state_label(ReviewState s, Lang lang);

}  // namespace tz
