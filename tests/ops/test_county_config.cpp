// County configuration values (decision 62): their text forms, and how a store (the admin replica too) takes them up.
#include <catch2/catch.hpp>

#include "store_fixture.hpp"
#include "tz/ops/county_config.hpp"

using namespace tz;
using namespace tz::test;

TEST_CASE("county config values round-trip and refuse malformed text", "[ops]") {
  auto p = *make_period(2026, CivilDate{2026, 11, 30});
  CHECK(ops::period_config_value(p) == "2026:2026-11-30");
  auto back = ops::parse_period_config("2026:2026-11-30");
  REQUIRE(back);
  CHECK(back->year == 2026);
  CHECK(back->as_of == p.as_of);
  CHECK_FALSE(ops::parse_period_config("2026:2025-11-30"));
  CHECK_FALSE(ops::parse_period_config("26:2026-11-30"));
  CHECK_FALSE(ops::parse_period_config("2026"));
  auto t = ops::parse_region_tree_config(ops::region_tree_config_value({"2027", "code,name\n522632,榕江县\n"}));
  REQUIRE(t);
  CHECK(t->version == "2027");
  CHECK(t->csv == "code,name\n522632,榕江县\n");
  CHECK_FALSE(ops::parse_region_tree_config("{\"version\": \"2027\"}"));  // no csv
  auto bare = ops::parse_region_tree_config("code,name\n", 7);
  REQUIRE(bare);
  CHECK(bare->version == "7");
}

TEST_CASE("apply_received_config takes up a received period and region tree", "[ops]") {
  TempDir dir;
  StoreConfig cfg = test_config();
  cfg.period = {};
  cfg.region_tree_csv.clear();
  cfg.region_tree_version.clear();
  auto store = create_device_store(dir / "s", "correct horse", resources().schema, cfg, cheap_kdf()).take();
  REQUIRE(ops::apply_received_config(*store));  // nothing received: nothing changes
  CHECK_FALSE(store->info().config.period.is_set());
  WriteBatch b;
  b.configs.push_back({"period", {1, "2026:2026-11-30"}});
  b.configs.push_back({"region_tree", {1, ops::region_tree_config_value({"shipped", *resources().county_tree_csv("522632")})}});
  REQUIRE(store->write(b));
  REQUIRE(ops::apply_received_config(*store));
  CHECK(period_key(store->info().config.period) == "2026:2026-11-30");
  CHECK(store->info().config.region_tree_version == "shipped");
  REQUIRE(ops::region_tree_of(*store));
  CHECK(ops::region_tree_of(*store)->county_code() == "522632");
}
