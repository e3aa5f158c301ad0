// The person flags every write keeps (four clears, employed, labour count, village) against an
// independent oracle: deriving everyone again from the records. A seeded random walk of edits —
// visits inside and outside the period, status and ability changes, jobs, households moving village —
// must leave the fast status equal to the derived one, and every row's village equal to its
// household's.
#include <catch2/catch.hpp>

#include <random>

#include "generated_county.hpp"
#include "store_fixture.hpp"
#include "tz/crypto/natural_keys.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/status.hpp"

using namespace tz;
using tz::test::TempDir;

namespace {

void check_same(const ops::StoreStatus& fast, const ops::StoreStatus& derived) {
  REQUIRE(fast.villages.size() == derived.villages.size());
  for (size_t i = 0; i < fast.villages.size(); ++i) {
    const auto& a = fast.villages[i];
    const auto& b = derived.villages[i];
    INFO("village " << a.code);
    CHECK(a.code == b.code);
    CHECK(a.persons == b.persons);
    CHECK(a.identity == b.identity);
    CHECK(a.labour == b.labour);
    CHECK(a.status == b.status);
    CHECK(a.willingness == b.willingness);
    CHECK(a.all == b.all);
  }
}

// Every row's village column equals the village of its household (persons, jobs, visits).
void check_villages(const DeviceStore& s) {
  const auto& schema = s.schema();
  const FieldId hv = schema.entity(EntityType::household).require("village_code").id;
  std::map<EntityId, EntityRow> rows;
  s.scan(std::nullopt, [&](EntityRow&& r) { rows.emplace(r.entity.id, std::move(r)); });
  auto household_village = [&](const EntityRow& r) -> std::string {
    const EntityRow* cur = &r;
    for (int depth = 0; depth < 3 && cur; ++depth) {
      if (cur->entity.type == EntityType::household) return cur->entity.value_or(hv);
      if (!cur->parent) return "";
      auto it = rows.find(*cur->parent);
      cur = it == rows.end() ? nullptr : &it->second;
    }
    return "";
  };
  for (auto& [id, r] : rows) {
    INFO(entity_type_name(r.entity.type) << " " << id.hex());
    CHECK(r.village == household_village(r));
  }
}

}  // namespace

TEST_CASE("person flags stay equal to a full derivation through a random walk of edits", "[ops][status]") {
  const uint64_t seed = 20261122;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

  TempDir dir;
  auto county = tz::test::generated_county(dir.path(), seed, 300, {}, 6);
  auto& store = county.store;
  const auto& tree = county.tree;
  const auto& roster = county.roster;
  check_same(ops::compute_status(*store, &tree), ops::compute_status_by_derivation(*store, &tree));

  const Schema& schema = store->schema();
  const auto& ps = schema.entity(EntityType::person);
  const auto& hs = schema.entity(EntityType::household);
  const auto& js = schema.entity(EntityType::job);
  const auto& vs = schema.entity(EntityType::visit);
  const auto& keys = store->natural_keys();
  ValidationContext ctx;
  ctx.today = {2026, 11, 30};
  ctx.period_year = 2026;
  ctx.settings = &schema.settings();

  int saved = 0;
  for (int step = 0; step < 60; ++step) {
    INFO("step " << step);
    const auto& gp = roster.persons[pick(roster.persons.size())];
    EntityId pid = keys.person(gp.id_number);
    EntityId hid = keys.household(gp.village, gp.household_no);
    std::vector<ops::Draft> drafts;
    switch (pick(6)) {
      case 0:  // a visit to the person, inside or outside the period
        drafts.push_back({EntityType::visit, crypto::random_entity_id(),
                          {{vs.require("subject_id").id, pid.hex()},
                           {vs.require("date").id, pick(2) ? "2026-05-0" + std::to_string(1 + pick(9)) : "2025-12-15"}}});
        break;
      case 1:  // a visit to the household
        drafts.push_back({EntityType::visit, crypto::random_entity_id(),
                          {{vs.require("subject_id").id, hid.hex()}, {vs.require("date").id, "2026-0" + std::to_string(1 + pick(9)) + "-10"}}});
        break;
      case 2:  // declared status for this or last period
        drafts.push_back({EntityType::person, pid,
                          {{ps.require("declared_status").id, std::string(pick(2) ? "2026:" : "2025:") + "0" + std::to_string(1 + pick(3))}}});
        break;
      case 3:  // labour ability and willingness
        drafts.push_back({EntityType::person, pid,
                          {{ps.require("labour_ability").id, "0" + std::to_string(1 + pick(4))},
                           {ps.require("willing_to_go_out").id, pick(2) ? "1" : "0"}}});
        break;
      case 4:  // a new job, ended or open
        drafts.push_back({EntityType::job, crypto::random_entity_id(),
                          {{js.require("person_id").id, pid.hex()},
                           {js.require("start_month").id, pick(2) ? "2025-03" : "2026-04"},
                           {js.require("place_bucket").id, "out_province"},
                           {js.require("employer").id, "某厂"}}});
        if (pick(2)) drafts.back().values[js.require("end_month").id] = pick(2) ? "2025-10" : "2026-08";
        break;
      case 5: {  // the household moves to another village (a 村 merger)
        std::string to = county.villages[pick(county.villages.size())];
        drafts.push_back({EntityType::household, hid, {{hs.require("village_code").id, to}}});
        break;
      }
    }
    auto r = ops::save_drafts(*store, drafts, ops::EditContext{"王芳", tz::test::kNowMs + step * 1000}, ctx).take();
    saved += r.saved;  // a refused edit (e.g. a job starting before 16) writes nothing; flags must still agree
    check_same(ops::compute_status(*store, &tree), ops::compute_status_by_derivation(*store, &tree));
  }
  CHECK(saved >= 50);
  check_villages(*store);
}

TEST_CASE("after a period change status derives everyone instead of trusting old flags", "[ops][status]") {
  TempDir dir;
  auto store = tz::test::make_store(dir.path());
  std::string csv = "村代码,户编号,姓名,身份证号,劳动技能,就业状态\n522632101001,0001,王小明,522632198001010010,普通劳动力,已就业\n";
  REQUIRE(ops::import_roster(*store, csv, tz::test::import_env()).take().written);
  CHECK(ops::compute_status(*store, nullptr).total.status == 1);
  auto cfg = store->info().config;
  cfg.period = *make_period(2027, CivilDate{2027, 6, 30});  // the 2026 declaration no longer counts
  REQUIRE(store->set_config(cfg).ok());
  auto s = ops::compute_status(*store, nullptr);
  CHECK(s.total.persons == 1);
  CHECK(s.total.status == 0);
}
