// Loading schemas and region data from the data folder.
#include "tz/ops/resources.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tz::ops {

Result<std::string> read_file(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) return Error(ErrorCode::not_found, {p.string()});
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error(ErrorCode::not_found, {p.string()});
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::io_error, {p.string()});
  return ss.str();
}

std::filesystem::path default_data_dir(const std::filesystem::path& compiled_default) {
  if (const char* v = std::getenv("TAIZHANG_DATA_DIR"); v && *v) return v;
  return compiled_default;
}

std::filesystem::path schema_dir_of(const std::filesystem::path& data_dir) {
  if (const char* v = std::getenv("TAIZHANG_SCHEMA_DIR"); v && *v) return v;
  return data_dir / "schemas";
}

Result<Schema> load_schema_dir(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    auto text = read_file(entry.path());
    if (!text) return text.error();
    files[entry.path().filename().string()] = std::move(*text);
  }
  if (ec) return Error(ErrorCode::schema_error, {dir.string() + ": " + ec.message()});
  return Schema::parse(files);
}

Result<std::shared_ptr<Resources>> load_resources(const std::filesystem::path& data_dir) {
  auto schema = load_schema_dir(schema_dir_of(data_dir));
  if (!schema) return schema.error();
  auto counties_csv = read_file(data_dir / "data/regions/counties.csv");
  if (!counties_csv) return counties_csv.error();
  auto counties = region::CountyList::parse(*counties_csv);
  if (!counties) return counties.error();
  auto sanqu_csv = read_file(data_dir / "data/regions/sanqu_sanzhou.csv");
  if (!sanqu_csv) return sanqu_csv.error();
  auto sanqu = region::SanquList::parse(*sanqu_csv);
  if (!sanqu) return sanqu.error();
  return std::make_shared<Resources>(Resources{std::move(*schema), std::move(*counties), std::move(*sanqu), data_dir});
}

std::optional<std::string> Resources::county_tree_csv(const std::string& county) const {
  auto text = read_file(data_dir / "data/regions/trees" / (county + ".csv"));
  if (!text) return std::nullopt;
  return std::move(*text);
}

}  // namespace tz::ops
