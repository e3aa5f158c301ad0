// County review of people (SPEC §8; decision 304) over a store: the derived state of a person with
// their jobs, the decision written through the Editor (an ordinary field change, pushed and merged
// like any), and the people the collectors must act on (sent back, or changed since approval).
#pragma once

#include <vector>

#include "tz/model/review.hpp"
#include "tz/ops/editor.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

ReviewStatus review_status_of(const DeviceStore& store, const EntityId& person);
// Approves what the store holds of the person and their jobs now (naming every live version), or
// sends the person back with a reason (not empty). invalid_input when id is not a person.
Result<ReviewStatus> decide_review(DeviceStore& store, const EntityId& person, bool approve, const std::string& reason,
                                   const EditContext& ctx);

struct ReviewItem {
  EntityId person;
  ReviewStatus status;
};
// People sent back, or changed since their approval (待复核), in id order.
std::vector<ReviewItem> review_items(const DeviceStore& store);

}  // namespace tz::ops
