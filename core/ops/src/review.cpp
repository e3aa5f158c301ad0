// County review of people over a store (review.hpp).
#include "tz/ops/review.hpp"

#include <algorithm>

#include "tz/util/crash_point.hpp"

namespace tz::ops {

namespace {

FieldId review_field(const Schema& schema) { return schema.entity(EntityType::person).require("review").id; }

std::vector<const Entity*> record_of(const Entity& person, const std::vector<EntityRow>& kids) {
  std::vector<const Entity*> out{&person};
  for (auto& k : kids)
    if (k.entity.type == EntityType::job) out.push_back(&k.entity);
  return out;
}

}  // namespace

ReviewStatus review_status_of(const DeviceStore& store, const EntityId& person) {
  auto p = store.get(person);
  if (!p || p->type != EntityType::person) return {};
  auto kids = store.children(person);
  return review_status(record_of(*p, kids), review_field(store.schema()));
}

Result<ReviewStatus> decide_review(DeviceStore& store, const EntityId& person, bool approve, const std::string& reason,
                                   const EditContext& ctx) {
  auto p = store.get(person);
  if (!p || p->type != EntityType::person)
    return Error(ErrorCode::invalid_input, {bilingual("只能审核人员记录（" + person.hex() + "）", "only a person can be reviewed (" + person.hex() + ")")});
  if (!approve && reason.empty())
    return Error(ErrorCode::invalid_input, {bilingual("退回须写明原因", "sending back needs a reason")});
  const FieldId f = review_field(store.schema());
  auto kids = store.children(person);
  const std::string value = approve ? approval_value(record_of(*p, kids), f) : return_value(reason);
  Editor ed(store, ctx);
  Entity* e = ed.find(person);
  if (!e) return Error(ErrorCode::not_found, {person.hex()});
  ed.set(*e, f, value);
  if (auto st = ed.commit("server.review.before_commit"); !st) return st.error();
  crash_point("server.review.after_commit");
  return review_status_of(store, person);
}

std::vector<ReviewItem> review_items(const DeviceStore& store) {
  const FieldId f = review_field(store.schema());
  std::vector<ReviewItem> out;
  store.scan(EntityType::person, [&](EntityRow&& row) {
    auto* v = row.entity.value(f);
    if (!v || v->empty()) return;
    auto kids = store.children(row.entity.id);
    auto s = review_status(record_of(row.entity, kids), f);
    if (s.state == ReviewState::returned || s.state == ReviewState::pending) out.push_back(ReviewItem{row.entity.id, s});
  });
  std::sort(out.begin(), out.end(), [](const ReviewItem& a, const ReviewItem& b) { return a.person < b.person; });
  return out;
}

}  // namespace tz::ops
