// The world of the bundle fuzz target (fuzz_bundle.cpp) and of its seed maker (make_bundle_seeds.cpp):
// a real county server store (identity, one token) and a real encrypted device store enrolled with it
// in process, holding the shipped sample roster, so that the server's and the device's bundle readers
// run on the stores they run on in the field. Made once per process, in a temporary folder.
//
// The device id and both epochs are random per world; seeds made in one world are replayed in another,
// so the seeds carry placeholders (kSeedDevice, kSeedServerEpoch, kSeedDeviceEpoch) that the harness
// replaces with this world's values before it seals a bundle.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include <unistd.h>

#include "tz/ops/enrol.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/store/device_store.hpp"
#include "tz/sync/server.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::fuzz {

inline constexpr int64_t kWorldNowMs = 1793505600000LL;  // 2026-11-01, China time
inline const std::string kSeedDevice(16, '\xDD');

// A placeholder as long as the real value it stands for.
inline std::string placeholder_for(const std::string& real, char c) { return std::string(real.size(), c); }

inline void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

struct BundleWorld {
  std::filesystem::path dir;
  std::shared_ptr<ops::Resources> res;
  region::RegionTree tree;
  std::unique_ptr<sync::ServerStore> server_store;
  std::unique_ptr<sync::SyncServer> server;
  sync::ServerIdentity server_id;
  std::unique_ptr<DeviceStore> device;
  DeviceIdentity device_id;

  // {placeholder, this world's value}: the device id and the server's and device's epochs.
  std::vector<std::pair<std::string, std::string>> substitutions() const {
    const std::string& se = server_store->epoch();
    const std::string& de = device->info().epoch;
    return {{kSeedDevice, std::string(device->info().device.view())}, {placeholder_for(se, 'S'), se}, {placeholder_for(de, 'E'), de}};
  }
};

inline void fail_world(const char* what, const Error& e) {
  std::fprintf(stderr, "bundle fuzz world: %s: %s\n", what, e.message(Lang::en).c_str());
  std::abort();
}

template <typename T>
T must(Result<T> r, const char* what) {
  if (!r) fail_world(what, r.error());
  return std::move(r).take();
}

inline std::unique_ptr<BundleWorld> make_bundle_world(const char* source_dir) {
  auto w = std::make_unique<BundleWorld>();
  w->res = must(ops::load_resources(ops::default_data_dir(source_dir)), "resources");
  w->dir = std::filesystem::temp_directory_path() / ("tz-fuzz-bundle-" + std::to_string(::getpid()));
  std::filesystem::remove_all(w->dir);
  std::filesystem::create_directories(w->dir);
  const std::string tree_csv = *w->res->county_tree_csv("522632");
  w->tree = must(region::RegionTree::parse_csv(tree_csv, "shipped"), "region tree");

  w->server_store = must(sync::open_sqlite_server_store(w->dir / "server"), "server store");
  w->server_id = must(sync::create_server_identity(*w->server_store, "522632", "榕江县"), "server identity");
  ValidationContext v;
  v.today = china_date_of(kWorldNowMs);
  v.period_year = 2026;
  v.settings = &w->res->schema.settings();
  v.counties = &w->res->counties;
  v.tree = &w->tree;
  w->server = std::make_unique<sync::SyncServer>(*w->server_store, w->res->schema, v, [] { return kWorldNowMs; });
  const std::string token = must(w->server->create_token({"522632001"}, {"王芳"}, kWorldNowMs + 86400000LL), "token");

  StoreConfig c;
  c.county = "522632";
  c.collectors = {"王芳"};
  c.default_collector = "王芳";
  c.period = *make_period(2026, CivilDate{2026, 11, 30});
  c.region_tree_csv = tree_csv;
  c.region_tree_version = "shipped";
  w->device = must(create_device_store(w->dir / "device", "fuzz passphrase", w->res->schema, c, ScryptCost{1ULL << 10, 8, 1}),
                   "device store");
  // The shipped sample roster (its first rows): real households, people and jobs to push.
  std::ifstream in(std::filesystem::path(source_dir) / "data/samples/roster-522632.gb18030.csv", std::ios::binary);
  std::string roster((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Its header and first rows: enough households to push, small enough for fast fuzzing.
  size_t cut = 0;
  for (int line = 0; line < 9 && cut != std::string::npos; ++line) cut = roster.find('\n', cut + 1);
  if (cut != std::string::npos) roster.resize(cut + 1);
  ops::ImportEnv env;
  env.resources = w->res.get();
  env.tree = &w->tree;
  env.today = CivilDate{2026, 11, 1};
  env.edit = ops::EditContext{"王芳", kWorldNowMs};
  must(ops::import_roster(*w->device, roster, env), "sample roster");
  must(ops::enrol_store(*w->device, token, "https://127.0.0.1:1",
                        [&](std::string_view frame) -> Result<std::string> { return w->server->handle_enrol(frame); }),
       "enrolment");
  w->device_id = *w->device->identity();
  return w;
}

}  // namespace tz::fuzz
