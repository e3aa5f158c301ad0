// The read-only data a program needs: the schema, the national county list and the 三区三州
// prefixes, loaded from the installed data folder (schemas/ and data/regions/).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tz/model/region_tree.hpp"
#include "tz/model/schema.hpp"
#include "tz/util/error.hpp"

namespace tz::ops {

struct Resources {
  Schema schema;
  region::CountyList counties;
  region::SanquList sanqu;
  std::filesystem::path data_dir;
  // The shipped region tree of a county, when the project has one (data/regions/trees/CODE.csv).
  std::optional<std::string> county_tree_csv(const std::string& county) const;
};

// TAIZHANG_DATA_DIR, else the folder the build was configured with. TAIZHANG_SCHEMA_DIR overrides
// the schema folder alone (used to try a changed schema).
std::filesystem::path default_data_dir(const std::filesystem::path& compiled_default);
Result<std::shared_ptr<Resources>> load_resources(const std::filesystem::path& data_dir);
// The schema folder of a data folder: TAIZHANG_SCHEMA_DIR when set, else DATA/schemas (thresholds and
// rules files live beside the entity schemas).
std::filesystem::path schema_dir_of(const std::filesystem::path& data_dir);
inline std::filesystem::path schema_dir(const Resources& res) { return schema_dir_of(res.data_dir); }
Result<Schema> load_schema_dir(const std::filesystem::path& schema_dir);

Result<std::string> read_file(const std::filesystem::path& p);

}  // namespace tz::ops
