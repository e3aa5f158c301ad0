// Regions: county list, versioned county region tree and 三区三州 list, parsed from CSV text via
// tz::csv::parse. Errors are invalid_input with the offending line.
#include "tz/model/region_tree.hpp"

#include <algorithm>
#include <initializer_list>
#include <set>
#include <unordered_map>
#include <utility>

#include "tz/util/csv.hpp"

namespace tz::region {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

Error line_error(size_t line, const std::string& msg) {
  return Error(ErrorCode::invalid_input, {"line " + std::to_string(line) + ": " + msg});
}

std::string trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

size_t code_length(Level level) {
  switch (level) {
    case Level::province: return 2;
    case Level::city: return 4;
    case Level::county: return 6;
    case Level::township: return 9;
    case Level::village: return 12;
  }
  return 0;
}

// The parsed file: a header (lower-cased names → column index) and the non-blank data rows.
struct Table {
  size_t header_line = 1;
  std::unordered_map<std::string, size_t> columns;
  std::vector<csv::Row> rows;

  std::optional<size_t> column(const std::string& name) const {
    auto it = columns.find(lower_ascii(name));
    if (it == columns.end()) return std::nullopt;
    return it->second;
  }
  static std::string cell(const csv::Row& row, std::optional<size_t> col) {
    if (!col || *col >= row.cells.size()) return {};
    return trim(csv::unwrap_excel_text(trim(row.cells[*col])));
  }
};

Result<Table> read_table(std::string_view text, std::initializer_list<std::string_view> required) {
  if (starts_with(text, kBom)) text.remove_prefix(kBom.size());
  auto parsed = csv::parse(text);
  if (!parsed) return parsed.error();
  Table table;
  bool have_header = false;
  for (auto& row : parsed.value()) {
    bool blank = true;
    for (const auto& c : row.cells)
      if (!trim(c).empty()) blank = false;
    if (blank) continue;
    if (!have_header) {
      have_header = true;
      table.header_line = row.line;
      for (size_t i = 0; i < row.cells.size(); ++i) {
        std::string name = lower_ascii(trim(row.cells[i]));
        if (!name.empty()) table.columns.emplace(std::move(name), i);
      }
      continue;
    }
    table.rows.push_back(std::move(row));
  }
  if (!have_header) return Error(ErrorCode::invalid_input, {"the file is empty (no header line)"});
  for (auto name : required)
    if (!table.column(std::string(name)))
      return line_error(table.header_line, "missing column " + std::string(name));
  return table;
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::optional<Level> level_of_code(std::string_view code) {
  if (!all_digits(code)) return std::nullopt;
  switch (code.size()) {
    case 2: return Level::province;
    case 4: return Level::city;
    case 6: return Level::county;
    case 9: return Level::township;
    case 12: return Level::village;
    default: return std::nullopt;
  }
}

// ---- CountyList ----

Result<CountyList> CountyList::parse(std::string_view counties_csv) {
  auto table = read_table(counties_csv, {"code", "name"});
  if (!table) return table.error();
  const Table& t = table.value();
  auto c_code = t.column("code"), c_name = t.column("name"), c_city = t.column("city_name"),
       c_prov = t.column("province_code"), c_prov_name = t.column("province_name");
  CountyList list;
  for (const auto& row : t.rows) {
    County c;
    c.code = Table::cell(row, c_code);
    c.name = Table::cell(row, c_name);
    c.city_name = Table::cell(row, c_city);
    c.province_code = Table::cell(row, c_prov);
    c.province_name = Table::cell(row, c_prov_name);
    if (level_of_code(c.code) != Level::county)
      return line_error(row.line, "bad county code '" + c.code + "' (must be 6 digits)");
    if (c.name.empty()) return line_error(row.line, "empty name for " + c.code);
    if (c.province_code.empty()) c.province_code = c.code.substr(0, 2);
    if (c.province_code != c.code.substr(0, 2))
      return line_error(row.line, "province_code " + c.province_code + " does not match " + c.code);
    auto& prov_name = list.provinces_[c.province_code];
    if (prov_name.empty()) prov_name = c.province_name;
    std::string code = c.code;
    if (!list.counties_.emplace(code, std::move(c)).second)
      return line_error(row.line, "duplicate county code " + code);
  }
  return list;
}

const County* CountyList::find(std::string_view code6) const {
  auto it = counties_.find(code6);
  return it == counties_.end() ? nullptr : &it->second;
}

bool CountyList::province_exists(std::string_view code2) const {
  return provinces_.find(code2) != provinces_.end();
}

// ---- RegionTree ----

Result<RegionTree> RegionTree::parse_csv(std::string_view text, std::string version) {
  auto table = read_table(text, {"code", "name"});
  if (!table) return table.error();
  const Table& t = table.value();
  auto c_code = t.column("code"), c_name = t.column("name"), c_successor = t.column("successor"),
       c_retired = t.column("retired");
  // Optional parent columns: when given they must agree with the code's own prefix.
  const std::pair<const char*, size_t> parent_columns[] = {
      {"provinceCode", 2}, {"cityCode", 4}, {"areaCode", 6}, {"streetCode", 9}};

  RegionTree tree;
  tree.version_ = std::move(version);
  std::unordered_map<std::string, size_t> first_line;
  for (const auto& row : t.rows) {
    Region r;
    r.code = Table::cell(row, c_code);
    r.name = Table::cell(row, c_name);
    auto level = level_of_code(r.code);
    if (!level || *level == Level::province || *level == Level::city)
      return line_error(row.line, "bad code '" + r.code + "' (must be 6, 9 or 12 digits)");
    r.level = *level;
    if (r.name.empty()) return line_error(row.line, "empty name for " + r.code);
    std::string county = r.code.substr(0, 6);
    if (tree.county_code_.empty()) tree.county_code_ = county;
    if (county != tree.county_code_)
      return line_error(row.line,
                        "code " + r.code + " is not in county " + tree.county_code_);
    for (const auto& [name, len] : parent_columns) {
      std::string v = Table::cell(row, t.column(name));
      if (v.empty()) continue;
      if (r.code.size() < len || v != r.code.substr(0, len))
        return line_error(row.line, std::string(name) + " " + v + " does not match code " + r.code);
    }
    r.parent = r.code.substr(0, r.level == Level::county     ? 4
                                : r.level == Level::township ? 6
                                                             : 9);
    r.successor = Table::cell(row, c_successor);
    if (!r.successor.empty()) {
      if (level_of_code(r.successor) != r.level)
        return line_error(row.line, "successor '" + r.successor + "' of " + r.code +
                                        " is not a code of the same level");
      if (r.successor == r.code)
        return line_error(row.line, "code " + r.code + " is its own successor");
      r.retired = true;
    }
    std::string retired = lower_ascii(Table::cell(row, c_retired));
    if (retired == "1" || retired == "true" || retired == "yes")
      r.retired = true;
    else if (!(retired.empty() || retired == "0" || retired == "false" || retired == "no"))
      return line_error(row.line, "bad retired value '" + retired + "'");
    auto [it, inserted] = first_line.emplace(r.code, row.line);
    if (!inserted)
      return line_error(row.line, "duplicate code " + r.code + " (first on line " +
                                      std::to_string(it->second) + ")");
    std::string code = r.code;
    tree.regions_.emplace(std::move(code), std::move(r));
  }
  if (tree.regions_.empty())
    return line_error(t.header_line, "no regions after the header");
  return tree;
}

const Region* RegionTree::find(std::string_view code) const {
  auto it = regions_.find(code);
  return it == regions_.end() ? nullptr : &it->second;
}

std::string RegionTree::resolve(std::string_view code) const {
  const Region* cur = find(code);
  if (!cur) return std::string(code);
  std::set<std::string_view> seen;
  while (cur->retired) {
    if (cur->successor.empty() || !seen.insert(cur->code).second) return std::string(code);
    cur = find(cur->successor);
    if (!cur) return std::string(code);
  }
  return cur->code;
}

std::vector<const Region*> RegionTree::children(std::string_view code, bool include_retired) const {
  std::vector<const Region*> out;
  auto level = level_of_code(code);
  if (!level || *level == Level::village) return out;
  size_t child_len = code_length(static_cast<Level>(static_cast<int>(*level) + 1));
  for (auto it = regions_.lower_bound(code); it != regions_.end() && starts_with(it->first, code);
       ++it) {
    if (it->first.size() == child_len && (include_retired || !it->second.retired))
      out.push_back(&it->second);
  }
  return out;
}

std::vector<const Region*> RegionTree::villages(bool include_retired) const {
  std::vector<const Region*> out;
  for (const auto& [code, r] : regions_)
    if (r.level == Level::village && (include_retired || !r.retired)) out.push_back(&r);
  return out;
}

RegionTree RegionTree::merged_with(const RegionTree& newer) const {
  RegionTree out = newer;
  if (out.county_code_.empty()) out.county_code_ = county_code_;
  for (const auto& [code, r] : regions_) {
    if (out.regions_.count(code)) continue;
    Region kept = r;
    kept.retired = true;
    out.regions_.emplace(code, std::move(kept));
  }
  return out;
}

std::string RegionTree::to_csv() const {
  bool retired_column = false;
  for (const auto& [code, r] : regions_)
    if (r.retired && r.successor.empty()) retired_column = true;
  std::string out = "code,name,streetCode,provinceCode,cityCode,areaCode,successor";
  out += retired_column ? ",retired\n" : "\n";
  std::vector<const Region*> ordered;
  for (const auto& [code, r] : regions_) ordered.push_back(&r);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Region* a, const Region* b) { return a->level < b->level; });
  for (const Region* rp : ordered) {
    const Region& r = *rp;
    const std::string& code = r.code;
    out += code;
    out += ',';
    out += csv_field(r.name);
    out += ',';
    if (r.level == Level::village) out += code.substr(0, 9);
    out += ',';
    out += code.substr(0, 2);
    out += ',';
    out += code.substr(0, 4);
    out += ',';
    if (r.level != Level::county) out += code.substr(0, 6);
    out += ',';
    out += r.successor;
    if (retired_column) out += r.retired ? ",1" : ",";
    out += '\n';
  }
  return out;
}

// ---- SanquList ----

Result<SanquList> SanquList::parse(std::string_view csv) {
  auto table = read_table(csv, {"prefix", "group"});
  if (!table) return table.error();
  const Table& t = table.value();
  auto c_prefix = t.column("prefix"), c_group = t.column("group");
  SanquList list;
  for (const auto& row : t.rows) {
    std::string prefix = Table::cell(row, c_prefix), group = Table::cell(row, c_group);
    if (!level_of_code(prefix))
      return line_error(row.line, "bad prefix '" + prefix + "' (must be 2, 4, 6, 9 or 12 digits)");
    if (group.empty()) return line_error(row.line, "empty group for " + prefix);
    if (!list.prefixes_.emplace(prefix, std::move(group)).second)
      return line_error(row.line, "duplicate prefix " + prefix);
  }
  return list;
}

std::string SanquList::group_of(std::string_view code) const {
  const std::string* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, group] : prefixes_) {
    if (prefix.size() > best_len && starts_with(code, prefix)) {
      best = &group;
      best_len = prefix.size();
    }
  }
  return best ? *best : std::string();
}

}  // namespace tz::region
