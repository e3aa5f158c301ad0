// The derived review state (SPEC §8): 已通过 while the record's live versions are exactly the approved
// ones, 待复核 after any edit, 已退回 when sent back; the person's jobs are part of the record.
#include <catch2/catch.hpp>

#include "tz/model/review.hpp"

using namespace tz;

namespace {

constexpr FieldId kReview = 23;

DeviceId device(uint8_t n) {
  std::string raw(16, '\0');
  raw[15] = static_cast<char>(n);
  return DeviceId::from_bytes(raw);
}

void live(Entity& e, FieldId f, std::string value, uint8_t dev, uint64_t seq) {
  Version v;
  v.id = VersionId{device(dev), Seq{seq}};
  v.value = std::move(value);
  e.fields[f].live = {v};
}

}  // namespace

TEST_CASE("A review approval holds until any version of the person or a job is replaced or added", "[model][review]") {
  Entity p, job;
  p.type = EntityType::person;
  job.type = EntityType::job;
  live(p, 3, "张三", 1, 1);
  live(p, 6, "13900001111", 1, 2);
  live(job, 7, "广东某厂", 1, 3);
  const std::vector<const Entity*> record{&p, &job};
  CHECK(review_status(record, kReview).state == ReviewState::unreviewed);

  const std::string value = approval_value(record, kReview);
  CHECK(value.rfind("approve:", 0) == 0);
  live(p, kReview, value, 9, 1);
  auto s = review_status(record, kReview);
  CHECK(s.state == ReviewState::approved);
  CHECK(s.approved.size() == 3);
  CHECK(review_state_label(s.state, Lang::zh) == "已通过");

  SECTION("an edit of the phone") {
    live(p, 6, "13900002222", 2, 1);
    CHECK(review_status(record, kReview).state == ReviewState::pending);
  }
  SECTION("a new field") {
    live(p, 14, "1", 2, 1);
    CHECK(review_status(record, kReview).state == ReviewState::pending);
  }
  SECTION("an edit of the job") {
    live(job, 7, "深圳某厂", 2, 1);
    CHECK(review_status(record, kReview).state == ReviewState::pending);
    CHECK(review_state_label(ReviewState::pending, Lang::zh) == "待复核");
  }
  SECTION("a concurrent second value beside the approved one") {
    Version other;
    other.id = VersionId{device(3), Seq{1}};
    other.value = "13900003333";
    p.fields[6].live.push_back(other);
    CHECK(review_status(record, kReview).state == ReviewState::pending);
  }
  SECTION("sent back") {
    live(p, kReview, return_value("电话不对"), 9, 2);
    auto r = review_status(record, kReview);
    CHECK(r.state == ReviewState::returned);
    CHECK(r.reason == "电话不对");
    CHECK(review_state_label(r.state, Lang::en) == "sent back");
  }
}
