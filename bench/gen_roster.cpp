// Writes a generated county roster as CSV (UTF-8, or GB18030 as Excel on Chinese Windows saves it):
// sample data for demos, training and manual tests. Deterministic for a given seed.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "roster_gen.hpp"
#include "tz/ops/resources.hpp"
#include "tz/util/encoding.hpp"

int main(int argc, char** argv) {
  size_t persons = 100;
  uint64_t seed = 1;
  int year = 2026;
  std::string county = "522632", out, encoding = "utf8", data = TZ_SOURCE_DATA_DIR;
  size_t max_villages = 0;
  bool rich = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--persons") persons = std::stoul(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--period") year = std::stoi(next());
    else if (a == "--county") county = next();
    else if (a == "--villages") max_villages = std::stoul(next());
    else if (a == "--encoding") encoding = next();
    else if (a == "--rich") rich = true;
    else if (a == "--out") out = next();
    else if (a == "--data") data = next();
    else {
      std::cerr << "usage: gen_roster [--persons N] [--seed S] [--period YEAR] [--county CODE] [--villages K] [--rich]"
                   " [--encoding utf8|utf8-bom|gb18030] --out FILE\n";
      return 2;
    }
  }
  if (out.empty()) {
    std::cerr << "--out FILE is required\n";
    return 2;
  }
  auto tree = tz::ops::read_file(std::filesystem::path(data) / "data/regions/trees" / (county + ".csv"));
  if (!tree) {
    std::cerr << "no region tree for " << county << "\n";
    return 1;
  }
  tz::bench::RosterSpec spec;
  spec.seed = seed;
  spec.persons = persons;
  spec.period_year = year;
  spec.rich = rich;
  spec.villages = tz::bench::villages_of_tree(*tree);
  if (max_villages && spec.villages.size() > max_villages) spec.villages.resize(max_villages);
  auto roster = tz::bench::generate_roster(spec);
  std::string csv = tz::bench::roster_csv(roster, encoding == "utf8-bom");
  if (encoding == "gb18030") csv = tz::encoding::utf8_to_gb18030(csv);
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << csv;
  if (!f) {
    std::cerr << "cannot write " << out << "\n";
    return 1;
  }
  std::cout << out << ": " << roster.persons.size() << " persons, " << roster.households << " households; expected "
            << roster.employed << " employed, " << roster.unemployed << " unemployed, " << roster.willing
            << " willing, " << roster.returned << " returned\n";
  return 0;
}
