// A test store holding a county roster from the benchmarks' generator (bench/roster_gen.hpp),
// imported under the store's own region tree: the report, list and status tests check their
// figures against what the roster holds by construction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "roster_gen.hpp"
#include "store_fixture.hpp"
#include "tz/model/region_tree.hpp"

namespace tz::test {

struct GeneratedCounty {
  std::unique_ptr<DeviceStore> store;
  region::RegionTree tree;
  bench::Roster roster;
  std::vector<std::string> villages;  // those the roster is spread over
};

// `villages` empty: the first `first_villages` villages of the store's tree.
inline GeneratedCounty generated_county(const std::filesystem::path& dir, uint64_t seed, size_t persons,
                                        std::vector<std::string> villages, size_t first_villages = 0) {
  auto store = make_store(dir);
  const std::string tree_csv = store->info().config.region_tree_csv;
  auto tree = region::RegionTree::parse_csv(tree_csv, "t").take();
  bench::RosterSpec spec;
  spec.seed = seed;
  spec.persons = persons;
  if (villages.empty()) {
    villages = bench::villages_of_tree(tree_csv);
    villages.resize(first_villages);
  }
  spec.villages = villages;
  auto roster = bench::generate_roster(spec);
  auto imported = ops::import_roster(*store, bench::roster_csv(roster), import_env(&tree)).take();
  if (!imported.written) throw std::runtime_error("the generated roster was not imported");
  return GeneratedCounty{std::move(store), std::move(tree), std::move(roster), std::move(villages)};
}

}  // namespace tz::test
