// County review of records (SPEC §8; decisions 303, 312) over a store: the derived state of a record,
// the decision written through the Editor (an ordinary field change, pushed and merged like any), and
// the records the collectors must act on (sent back, or changed since approval). A record type is
// reviewable when its schema declares a `review` field: a person (with their jobs) and a household
// (its own fields; its members are reviewed as persons).
#pragma once

#include <optional>
#include <vector>

#include "tz/model/review.hpp"
#include "tz/model/validation.hpp"
#include "tz/ops/editor.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

bool reviewable(const Schema& schema, EntityType type);
// Unreviewed for an id that is not a reviewable record.
ReviewStatus review_status_of(const DeviceStore& store, const EntityId& record);
// Approves what the store holds of the record now (naming every live version), or sends it back with
// a reason (not empty). invalid_input when id is neither a person nor a household.
Result<ReviewStatus> decide_review(DeviceStore& store, const EntityId& record, bool approve, const std::string& reason,
                                   const EditContext& ctx);

struct ReviewItem {
  EntityType type;
  EntityId record;
  ReviewStatus status;
};
// Households and people sent back, or changed since their approval (待复核), in id order.
std::vector<ReviewItem> review_items(const DeviceStore& store);

// What `list flagged` shows for a record of that type in that state (a household's on each of its
// members): nothing unless sent back or to review again.
std::optional<Problem> review_problem(EntityType type, const ReviewStatus& status);

}  // namespace tz::ops
