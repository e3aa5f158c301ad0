// Region data: county list, a county's region tree (榕江县 522632, 昭觉县 513431) from the project's
// data/regions files, merging of versions, successors, round trip and malformed files.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "tz/model/region_tree.hpp"

using namespace tz::region;

namespace {

std::string read_data(const std::string& rel) {
  std::ifstream in(std::string(TZ_SOURCE_DIR "/data/regions/") + rel, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RegionTree load_tree(const std::string& county) {
  auto tree = RegionTree::parse_csv(read_data("trees/" + county + ".csv"), "2023");
  REQUIRE(tree.ok());
  return tree.value();
}

std::string error_text(const tz::Error& e) { return e.message(tz::Lang::en); }

}  // namespace

TEST_CASE("level_of_code by length", "[model]") {
  CHECK(level_of_code("52") == Level::province);
  CHECK(level_of_code("5226") == Level::city);
  CHECK(level_of_code("522632") == Level::county);
  CHECK(level_of_code("522632100") == Level::township);
  CHECK(level_of_code("522632100001") == Level::village);
  CHECK_FALSE(level_of_code("").has_value());
  CHECK_FALSE(level_of_code("52263").has_value());
  CHECK_FALSE(level_of_code("52263a").has_value());
}

TEST_CASE("national county list", "[model]") {
  auto list = CountyList::parse(read_data("counties.csv"));
  REQUIRE(list.ok());
  CHECK(list->size() == 2978);
  const County* c = list->find("522632");
  REQUIRE(c != nullptr);
  CHECK(c->name == "榕江县");
  CHECK(c->city_name == "黔东南苗族侗族自治州");
  CHECK(c->province_code == "52");
  CHECK(c->province_name == "贵州省");
  CHECK(list->find("522699") == nullptr);
  CHECK(list->province_exists("52"));
  CHECK(list->province_exists("65"));
  CHECK_FALSE(list->province_exists("99"));
}

TEST_CASE("522632 region tree", "[model]") {
  RegionTree tree = load_tree("522632");
  CHECK(tree.county_code() == "522632");
  CHECK(tree.version() == "2023");
  const Region* county = tree.find("522632");
  REQUIRE(county != nullptr);
  CHECK(county->name == "榕江县");
  CHECK(county->level == Level::county);
  CHECK(tree.villages().size() == 252);
  CHECK(tree.size() == 1 + 20 + 252);

  auto townships = tree.children("522632");
  REQUIRE(townships.size() == 20);
  CHECK(townships.front()->code == "522632001");
  for (size_t i = 1; i < townships.size(); ++i) CHECK(townships[i - 1]->code < townships[i]->code);
  for (const Region* t : townships) {
    CHECK(t->level == Level::township);
    CHECK(t->parent == "522632");
  }

  const Region* guzhou = tree.find("522632100");
  REQUIRE(guzhou != nullptr);
  CHECK(guzhou->name == "古州镇");
  auto villages = tree.children("522632100");
  REQUIRE(villages.size() == 27);
  CHECK(villages.front()->code == "522632100001");
  CHECK(villages.front()->name == "大十字社区居民委员会");
  CHECK(villages.front()->parent == "522632100");
  CHECK(villages.front()->level == Level::village);
  CHECK(tree.children("522632100001").empty());
  CHECK(tree.children("999999").empty());
  CHECK(tree.find("522632999999") == nullptr);
  CHECK(tree.resolve("522632100001") == "522632100001");
  CHECK(tree.resolve("522632999999") == "522632999999");
}

TEST_CASE("三区三州 prefixes", "[model]") {
  auto sanqu = SanquList::parse(read_data("sanqu_sanzhou.csv"));
  REQUIRE(sanqu.ok());
  CHECK(sanqu->size() == 20);
  RegionTree zhaojue = load_tree("513431");
  REQUIRE_FALSE(zhaojue.villages().empty());
  for (const Region* v : zhaojue.villages()) CHECK(sanqu->contains(v->code));
  CHECK(sanqu->group_of(zhaojue.villages().front()->code) == "三州");
  RegionTree rongjiang = load_tree("522632");
  for (const Region* v : rongjiang.villages()) CHECK_FALSE(sanqu->contains(v->code));
  CHECK(sanqu->group_of("522632100001").empty());
  CHECK(sanqu->group_of("540102001001") == "三区·西藏");
  CHECK(sanqu->group_of("513422100001") == "三区·四省藏区(四川)");  // 木里, inside 凉山州 too
}

TEST_CASE("merged_with keeps retired codes and resolve follows successors", "[model]") {
  const std::string v1 =
      "code,name,streetCode,provinceCode,cityCode,areaCode\n"
      "522632,榕江县,,52,5226,\n"
      "522632100,古州镇,,52,5226,522632\n"
      "522632100001,甲村,522632100,52,5226,522632\n"
      "522632100002,乙村,522632100,52,5226,522632\n"
      "522632100003,丙村,522632100,52,5226,522632\n"
      "522632100004,丁村,522632100,52,5226,522632\n";
  // 2024: 甲村 and 乙村 merge into new 戊村 (the file names 甲村's successor); 丙村 and 丁村
  // disappear without a word.
  const std::string v2 =
      "code,name,streetCode,provinceCode,cityCode,areaCode,successor\n"
      "522632,榕江县,,52,5226,,\n"
      "522632100,古州镇,,52,5226,522632,\n"
      "522632100001,甲村,522632100,52,5226,522632,522632100005\n"
      "522632100005,戊村,522632100,52,5226,522632,\n"
      "522632100004,丁村,522632100,52,5226,522632,522632100003\n";
  auto old_tree = RegionTree::parse_csv(v1, "2023");
  auto new_tree = RegionTree::parse_csv(v2, "2024");
  REQUIRE(old_tree.ok());
  REQUIRE(new_tree.ok());
  RegionTree merged = old_tree->merged_with(new_tree.value());
  CHECK(merged.version() == "2024");
  CHECK(merged.county_code() == "522632");

  const Region* jia = merged.find("522632100001");
  REQUIRE(jia != nullptr);
  CHECK(jia->retired);
  CHECK(jia->successor == "522632100005");
  CHECK(merged.resolve("522632100001") == "522632100005");

  const Region* yi = merged.find("522632100002");  // only in the old tree
  REQUIRE(yi != nullptr);
  CHECK(yi->retired);
  CHECK(yi->successor.empty());
  CHECK(yi->name == "乙村");
  CHECK(merged.resolve("522632100002") == "522632100002");  // no live successor known

  // 丁村 → 丙村, but 丙村 is retired without successor: no live code is reached.
  CHECK(merged.find("522632100003")->retired);
  CHECK(merged.resolve("522632100004") == "522632100004");

  auto live = merged.children("522632100");
  REQUIRE(live.size() == 1);
  CHECK(live[0]->code == "522632100005");
  CHECK(merged.children("522632100", true).size() == 5);
  CHECK(merged.villages().size() == 1);
  CHECK(merged.villages(true).size() == 5);

  // A live code in the newer tree wins over a retired one in the old.
  RegionTree back = merged.merged_with(old_tree.value());
  CHECK_FALSE(back.find("522632100001")->retired);
  CHECK(back.find("522632100005")->retired);
}

TEST_CASE("resolve guards against successor cycles", "[model]") {
  auto tree = RegionTree::parse_csv(
      "code,name,successor\n"
      "522632100001,甲村,522632100002\n"
      "522632100002,乙村,522632100001\n"
      "522632100003,丙村,522632100001\n",
      "x");
  REQUIRE(tree.ok());
  CHECK(tree->county_code() == "522632");
  CHECK(tree->resolve("522632100003") == "522632100003");
  CHECK(tree->resolve("522632100001") == "522632100001");
}

TEST_CASE("to_csv round trips through parse_csv", "[model]") {
  RegionTree tree = load_tree("522632");
  std::string text = tree.to_csv();
  CHECK(text == read_data("trees/522632.csv"));  // same format as the shipped file
  auto again = RegionTree::parse_csv(text, "2023");
  REQUIRE(again.ok());
  CHECK(again->to_csv() == text);

  auto old_tree = RegionTree::parse_csv(
      "code,name\n522632100001,\"甲村, 老\"\n522632100002,乙村\n522632100003,丙村\n", "1");
  auto new_tree = RegionTree::parse_csv(
      "code,name,successor\n522632100001,\"甲村, 老\",522632100004\n522632100004,丁村,\n", "2");
  REQUIRE(old_tree.ok());
  REQUIRE(new_tree.ok());
  RegionTree merged = old_tree->merged_with(new_tree.value());
  std::string merged_csv = merged.to_csv();
  auto reparsed = RegionTree::parse_csv(merged_csv, "2");
  REQUIRE(reparsed.ok());
  CHECK(reparsed->to_csv() == merged_csv);
  CHECK(reparsed->find("522632100001")->name == "甲村, 老");
  CHECK(reparsed->find("522632100001")->successor == "522632100004");
  CHECK(reparsed->find("522632100002")->retired);
  CHECK(reparsed->find("522632100002")->successor.empty());
  CHECK_FALSE(reparsed->find("522632100004")->retired);
  CHECK(reparsed->resolve("522632100001") == "522632100004");
}

TEST_CASE("malformed region files name the line", "[model]") {
  SECTION("missing code column") {
    auto r = RegionTree::parse_csv("name,streetCode\n古州镇,\n", "v");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == tz::ErrorCode::invalid_input);
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 1") && Catch::Contains("code"));
  }
  SECTION("bad code length") {
    auto r = RegionTree::parse_csv(
        "code,name\n522632,榕江县\n522632100,古州镇\n5226321000,坏码\n", "v");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == tz::ErrorCode::invalid_input);
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 4") && Catch::Contains("5226321000"));
  }
  SECTION("code of another county") {
    auto r = RegionTree::parse_csv("code,name\n522632,榕江县\n513431100,某镇\n", "v");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 3"));
  }
  SECTION("duplicate code") {
    auto r = RegionTree::parse_csv("code,name\n522632100,古州镇\n522632100,古州镇\n", "v");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 3"));
  }
  SECTION("empty name") {
    auto r = RegionTree::parse_csv("code,name\n522632100,\n", "v");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 2"));
  }
  SECTION("parent column disagrees with the code") {
    auto r = RegionTree::parse_csv("code,name,streetCode\n522632100001,甲村,522632101\n", "v");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 2"));
  }
  SECTION("successor of another level") {
    auto r = RegionTree::parse_csv("code,name,successor\n522632100001,甲村,522632100\n", "v");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 2"));
  }
  SECTION("no rows") {
    CHECK_FALSE(RegionTree::parse_csv("code,name\n", "v").ok());
    CHECK_FALSE(RegionTree::parse_csv("", "v").ok());
  }
  SECTION("county list with a bad code") {
    auto r = CountyList::parse("code,name,province_code\n522632,榕江县,52\n52263,坏,52\n");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 3"));
  }
  SECTION("sanqu list without a prefix column") {
    auto r = SanquList::parse("code,group\n54,三区\n");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(error_text(r.error()), Catch::Contains("line 1"));
  }
}

TEST_CASE("a BOM - CRLF line ends and header case are accepted", "[model]") {
  auto r = RegionTree::parse_csv("\xEF\xBB\xBF" "CODE,Name\r\n522632100,古州镇\r\n", "v");
  REQUIRE(r.ok());
  CHECK(r->find("522632100")->name == "古州镇");
}
