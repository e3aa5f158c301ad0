// The rich roster of the generator (bench/roster_gen, RosterSpec::rich) is a valid SPEC §9 import:
// every column maps to a field, nothing is an error, it records many more field values than the
// basic roster, and its base columns are those of the basic roster (the rich columns come from a
// generator of their own). A township of a chosen size holds that many persons.
#include <catch2/catch.hpp>

#include "roster_gen.hpp"
#include "store_fixture.hpp"
#include "tz/ops/roster_import.hpp"

using namespace tz;
using tz::test::TempDir;

TEST_CASE("The rich generated roster imports without errors and keeps the basic columns", "[ops][import]") {
  TempDir dir;
  auto store = tz::test::make_store(dir.path());
  auto tree_csv = store->info().config.region_tree_csv;
  auto tree = region::RegionTree::parse_csv(tree_csv, "t").take();
  bench::RosterSpec spec;
  spec.seed = 7;
  spec.persons = 400;
  spec.villages = bench::villages_of_tree(tree_csv);
  auto basic = bench::generate_roster(spec);
  spec.rich = true;
  auto rich = bench::generate_roster(spec);
  REQUIRE(rich.persons.size() == basic.persons.size());
  for (size_t i = 0; i < rich.persons.size(); ++i) {
    INFO("person " << i);
    const auto& a = basic.persons[i];
    const auto& b = rich.persons[i];
    REQUIRE(a.id_number == b.id_number);
    CHECK(a.name == b.name);
    CHECK(a.status == b.status);
    CHECK(a.household_no == b.household_no);
    CHECK(b.head_name == rich.persons[i == 0 || rich.persons[i - 1].household_no != b.household_no ? i : i - 1].head_name);
  }
  CHECK(bench::roster_headers(true).size() == bench::roster_headers(false).size() + 24);

  auto r = ops::import_roster(*store, bench::roster_csv(rich), tz::test::import_env(&tree)).take();
  for (auto& p : r.problems)
    if (p.severity == Severity::error) FAIL_CHECK("line " << p.line << " " << p.column << ": " << p.message_en);
  CHECK(r.extra_columns.empty());
  REQUIRE(r.written);
  CHECK(r.persons_created == 400);
  // About 27 field values a person (15 with the basic roster).
  CHECK(r.changes > 400 * 22);

  bench::RosterSpec town = spec;
  town.persons = 500;
  town.township = spec.villages.front().substr(0, 9);
  town.township_persons = 300;
  size_t in_township = 0;
  for (auto& p : bench::generate_roster(town).persons) in_township += p.village.rfind(town.township, 0) == 0;
  CHECK(in_township >= 300);
  CHECK(in_township <= 305);
}
