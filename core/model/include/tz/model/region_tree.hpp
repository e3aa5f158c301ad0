// Regions: the national county list, one county's versioned region tree (county → township → village,
// NBS 统计用区划代码) with retired codes and their successors, and the 三区三州 prefix list.
// Pure: every loader takes the file's UTF-8 text; nothing here reads files.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tz/util/error.hpp"

namespace tz::region {

enum class Level { province, city, county, township, village };

// 2 digits → province, 4 → city, 6 → county, 9 → township, 12 → village; nullopt for any other
// length or a non-digit character.
std::optional<Level> level_of_code(std::string_view code);

struct County {
  std::string code, name, city_name, province_code, province_name;
};

// The national county list (data/regions/counties.csv:
// code,name,city_code,city_name,province_code,province_name).
class CountyList {
 public:
  static tz::Result<CountyList> parse(std::string_view counties_csv);
  const County* find(std::string_view code6) const;
  bool province_exists(std::string_view code2) const;
  size_t size() const { return counties_.size(); }

 private:
  std::map<std::string, County, std::less<>> counties_;
  std::map<std::string, std::string, std::less<>> provinces_;  // code → name
};

struct Region {
  std::string code, name;
  Level level = Level::village;
  std::string parent;     // the enclosing code (a county's parent is its 4-digit city code)
  std::string successor;  // set when the code was retired in favour of another
  bool retired = false;
};

// One county's region tree as of a version. File format (header required, columns found by name,
// case-insensitive): code,name,streetCode,provinceCode,cityCode,areaCode[,successor][,retired].
// Only code and name are required; rows are the county (6 digits), its townships (9) and villages
// (12). A row with a non-empty successor, or retired = 1/true/yes, is retired.
class RegionTree {
 public:
  static tz::Result<RegionTree> parse_csv(std::string_view text, std::string version);

  const Region* find(std::string_view code) const;
  // Follows successor links from `code` to the first live code. Returns the input when the code is
  // unknown, or when no live code is reached (a retired code without successor, a successor outside
  // the tree, or a cycle).
  std::string resolve(std::string_view code) const;
  // Direct children in code order; retired ones only when asked.
  std::vector<const Region*> children(std::string_view code, bool include_retired = false) const;
  // All villages in code order; retired ones only when asked.
  std::vector<const Region*> villages(bool include_retired = false) const;
  const std::string& county_code() const { return county_code_; }
  const std::string& version() const { return version_; }
  size_t size() const { return regions_.size(); }

  // The newer tree's rows win (its version too); codes only in this tree are kept, retired, with the
  // successor they already had.
  RegionTree merged_with(const RegionTree& newer) const;
  // Same format, county then townships then villages, each in code order; adds a `retired` column only when a retired code has no successor.
  std::string to_csv() const;

 private:
  std::map<std::string, Region, std::less<>> regions_;
  std::string county_code_;
  std::string version_;
};

// The 三区三州 prefix list (data/regions/sanqu_sanzhou.csv: prefix,name,group).
class SanquList {
 public:
  static tz::Result<SanquList> parse(std::string_view csv);
  // True when a code (of any level) starts with one of the prefixes.
  bool contains(std::string_view village_code) const { return !group_of(village_code).empty(); }
  // The group of the longest matching prefix (e.g. "三州"), or "" when outside.
  std::string group_of(std::string_view code) const;
  size_t size() const { return prefixes_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> prefixes_;  // prefix → group
};

}  // namespace tz::region
