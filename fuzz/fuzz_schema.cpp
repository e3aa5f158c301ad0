// Fuzz target: the schema loader (schemas/*.json). The input replaces one of the shipped schema
// files (the first byte picks which), so the fuzzer explores a loader that sees a whole, otherwise
// valid manifest. A schema that loads must give every entity's fields unique ids.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "tz/ops/resources.hpp"

namespace {

const std::map<std::string, std::string>& shipped() {
  static const auto files = [] {
    std::map<std::string, std::string> out;
    auto dir = tz::ops::default_data_dir(TZ_SOURCE_DIR) / "schemas";
    for (auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".json") out[e.path().filename().string()] = tz::ops::read_file(e.path()).take();
    return out;
  }();
  return files;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto files = shipped();
  auto it = files.begin();
  std::advance(it, data[0] % files.size());
  it->second.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  auto schema = tz::Schema::parse(files);
  if (!schema.ok()) return 0;
  for (auto type : {tz::EntityType::household, tz::EntityType::person, tz::EntityType::job}) {
    std::set<tz::FieldId> ids;
    for (auto& f : schema.value().entity(type).fields)
      if (!ids.insert(f.id).second) std::abort();
  }
  return 0;
}
