// County review of records over a store (review.hpp).
#include "tz/ops/review.hpp"

#include <algorithm>

#include "tz/util/crash_point.hpp"

namespace tz::ops {

namespace {

const FieldDef* review_field(const Schema& schema, EntityType type) { return schema.entity(type).field(kReviewFieldName); }

// The record a decision covers: the entity, and for a person their jobs (read into kids, which the
// result points into).
std::vector<const Entity*> record_of(const DeviceStore& store, const Entity& e, std::vector<EntityRow>& kids) {
  std::vector<const Entity*> out{&e};
  if (e.type != EntityType::person) return out;
  kids = store.children(e.id);
  for (auto& k : kids)
    if (k.entity.type == EntityType::job) out.push_back(&k.entity);
  return out;
}

}  // namespace

bool reviewable(const Schema& schema, EntityType type) { return review_field(schema, type) != nullptr; }

ReviewStatus review_status_of(const DeviceStore& store, const EntityId& record) {
  auto e = store.get(record);
  if (!e) return {};
  const FieldDef* f = review_field(store.schema(), e->type);
  if (!f) return {};
  std::vector<EntityRow> kids;
  return review_status(record_of(store, *e, kids), f->id);
}

Result<ReviewStatus> decide_review(DeviceStore& store, const EntityId& record, bool approve, const std::string& reason,
                                   const EditContext& ctx) {
  auto e = store.get(record);
  const FieldDef* f = e ? review_field(store.schema(), e->type) : nullptr;
  if (!f)
    return Error(ErrorCode::invalid_input, {bilingual("只能审核人员或户的记录（" + record.hex() + "）",
                                                      "only a person or a household can be reviewed (" + record.hex() + ")")});
  if (!approve && reason.empty())
    return Error(ErrorCode::invalid_input, {bilingual("退回须写明原因", "sending back needs a reason")});
  std::vector<EntityRow> kids;
  const std::string value = approve ? approval_value(record_of(store, *e, kids), f->id) : return_value(reason);
  Editor ed(store, ctx);
  Entity* edited = ed.find(record);
  if (!edited) return Error(ErrorCode::not_found, {record.hex()});
  ed.set(*edited, f->id, value);
  if (auto st = ed.commit("server.review.before_commit"); !st) return st.error();
  crash_point("server.review.after_commit");
  return review_status_of(store, record);
}

std::vector<ReviewItem> review_items(const DeviceStore& store) {
  std::vector<ReviewItem> out;
  for (auto type : {EntityType::household, EntityType::person}) {
    const FieldDef* f = review_field(store.schema(), type);
    if (!f) continue;
    store.scan(type, [&](EntityRow&& row) {
      auto* v = row.entity.value(f->id);
      if (!v || v->empty()) return;
      std::vector<EntityRow> kids;
      auto s = review_status(record_of(store, row.entity, kids), f->id);
      if (s.state == ReviewState::returned || s.state == ReviewState::pending) out.push_back(ReviewItem{type, row.entity.id, s});
    });
  }
  std::sort(out.begin(), out.end(), [](const ReviewItem& a, const ReviewItem& b) { return a.record < b.record; });
  return out;
}

std::optional<Problem> review_problem(EntityType type, const ReviewStatus& status) {
  const bool household = type == EntityType::household;
  const std::string id = household ? "household.review" : "review";
  const std::string zh = household ? "户：" : "", en = household ? "household: " : "";
  if (status.state == ReviewState::returned)
    return Problem{id + ".returned", Severity::warning, "review", zh + "县里审核退回：" + status.reason,
                   en + "sent back by the county: " + status.reason};
  if (status.state == ReviewState::pending)
    return Problem{id + ".pending", Severity::warning, "review", zh + "审核通过后有修改，待复核",
                   en + "changed since its approval; to review again"};
  return std::nullopt;
}

}  // namespace tz::ops
