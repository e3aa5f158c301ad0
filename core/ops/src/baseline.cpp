// Last year's baseline: reading the national export, and the configuration record devices receive.
#include "tz/ops/baseline.hpp"

#include <unordered_map>

#include "tz/crypto/crypto.hpp"
#include "tz/model/id_number.hpp"
#include "tz/model/validation.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

namespace {
constexpr std::string_view kMagic = "taizhang-baseline 1";
}  // namespace

std::string baseline_key(std::string_view county, std::string_view normalized_id) {
  std::string msg = "taizhang-baseline\n" + std::string(county) + "\n" + std::string(normalized_id.substr(0, 18));
  return crypto::to_hex(crypto::sha256(msg)).substr(0, 32);
}

Result<BaselineImport> parse_baseline_csv(std::string_view bytes, const std::string& county,
                                          const region::RegionTree* tree, const CivilDate& today,
                                          const region::CountyList* counties) {
  BaselineImport out;
  ImportReport& report = out.report;
  auto rows = read_roster_rows(bytes, report);
  if (!rows) return rows.error();
  auto problem = [&](size_t line, const std::string& column, std::string rule, Severity sev, std::string zh, std::string en) {
    report.problems.push_back(ImportProblem{line, column, std::move(rule), sev, std::move(zh), std::move(en)});
  };

  // The three columns, by their exact Chinese headers; anything else is reported and ignored.
  const std::vector<std::pair<std::string, std::string>> kColumns = {
      {"村代码", "village code"}, {"姓名", "name"}, {"身份证号", "ID number"}};
  std::vector<int> index(kColumns.size(), -1);
  const auto& header = rows->front();
  for (size_t i = 0; i < header.cells.size(); ++i) {
    std::string h = text::trim(csv::unwrap_excel_text(header.cells[i]));
    if (h.empty()) continue;
    bool known = false;
    for (size_t c = 0; c < kColumns.size(); ++c)
      if (h == kColumns[c].first) {
        known = true;
        if (index[c] >= 0)
          problem(header.line, h, "baseline.duplicate_column", Severity::error, "列“" + h + "”出现了两次",
                  "column \"" + h + "\" appears twice");
        index[c] = static_cast<int>(i);
      }
    if (!known) report.extra_columns.push_back(h);
  }
  std::string missing_zh, missing_en;
  for (size_t c = 0; c < kColumns.size(); ++c)
    if (index[c] < 0) {
      missing_zh += (missing_zh.empty() ? "" : "、") + kColumns[c].first;
      missing_en += (missing_en.empty() ? "" : ", ") + kColumns[c].first + " (" + kColumns[c].second + ")";
    }
  if (!missing_zh.empty())
    return Error(ErrorCode::invalid_input, {bilingual("缺少必需的列：" + missing_zh, "required columns missing: " + missing_en)});

  // The ID is checked as the person schema's ID field would be (same messages as the roster import).
  FieldDef id_field;
  id_field.name = "id_number";
  id_field.type = FieldType::id_number;
  ValidationContext vctx;
  vctx.today = today;
  vctx.counties = counties;
  std::unordered_map<std::string, size_t> id_lines;
  auto cell_of = [&](const csv::Row& row, size_t c) {
    size_t i = static_cast<size_t>(index[c]);
    return i < row.cells.size() ? text::trim(csv::unwrap_excel_text(row.cells[i])) : std::string();
  };
  for (size_t r = 1; r < rows->size(); ++r) {
    const auto& row = (*rows)[r];
    std::string village = cell_of(row, 0), name = cell_of(row, 1), id = cell_of(row, 2);
    if (village.empty() && name.empty() && id.empty()) continue;
    ++report.rows;
    const size_t errors_before = report.error_count();
    if (village.size() != 12 || !text::all_digits(village)) {
      problem(row.line, "村代码", "baseline.village_code", Severity::error, "村代码“" + village + "”应为 12 位数字",
              "village code \"" + village + "\" must be 12 digits");
    } else if (village.compare(0, 6, county) != 0) {
      problem(row.line, "村代码", "baseline.other_county", Severity::error,
              "村代码 " + village + " 不属于本县（" + county + "）", "village code " + village + " is not in this county (" + county + ")");
    } else if (tree) {
      std::string live = tree->resolve(village);
      if (!tree->find(village))
        problem(row.line, "村代码", "baseline.unknown_village", Severity::warning, "村代码 " + village + " 不在区划中",
                "village code " + village + " is not in the region tree");
      else if (live != village && tree->find(live))
        problem(row.line, "村代码", "baseline.retired_village", Severity::warning,
                "村代码 " + village + " 已撤销，计入 " + live, "village code " + village + " is retired; counted under " + live);
      village = live;
    }
    if (name.empty())
      problem(row.line, "姓名", "baseline.name_empty", Severity::error, "姓名为空", "the name is empty");
    std::string normalized;
    if (excel_damaged_id_cell(id, today)) {
      Error e(ErrorCode::excel_damaged_id, {id});
      problem(row.line, "身份证号", "import.excel_damaged", Severity::error, e.message(Lang::zh), e.message(Lang::en));
    } else {
      auto n = normalize_value(id_field, id, vctx);
      if (n.ok)
        normalized = n.value;
      else
        problem(row.line, "身份证号", "baseline.id_number", Severity::error, "身份证号" + n.detail_zh,
                "ID number: " + n.detail_en);
    }
    if (!normalized.empty()) {
      auto [it, inserted] = id_lines.emplace(normalized.substr(0, 18), row.line);
      if (!inserted)
        problem(row.line, "身份证号", "baseline.duplicate_id",
                Severity::error, "与第 " + std::to_string(it->second) + " 行是同一身份证号",
                "the same ID number as line " + std::to_string(it->second));
    }
    if (report.error_count() == errors_before && !normalized.empty())
      out.baseline.entries.push_back(BaselineEntry{village, baseline_key(county, normalized), idn::mask_id(normalized)});
  }
  if (report.rows == 0)
    return Error(ErrorCode::invalid_input, {bilingual("文件中没有人员行", "the file has no rows of people")});
  return out;
}

std::string baseline_config_value(const Baseline& b) {
  std::string s(kMagic);
  s += '\n';
  for (auto& e : b.entries) s += e.village + '\t' + e.key + '\t' + e.masked_id + '\n';
  return s;
}

std::optional<Baseline> parse_baseline_config(std::string_view value) {
  if (value.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  Baseline b;
  size_t pos = value.find('\n');
  while (pos != std::string_view::npos && pos + 1 < value.size()) {
    size_t end = value.find('\n', pos + 1);
    std::string_view line = value.substr(pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
    size_t t1 = line.find('\t'), t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) return std::nullopt;
    b.entries.push_back(BaselineEntry{std::string(line.substr(0, t1)), std::string(line.substr(t1 + 1, t2 - t1 - 1)),
                                      std::string(line.substr(t2 + 1))});
    pos = end;
  }
  return b;
}

std::optional<Baseline> baseline_of(const DeviceStore& store) {
  auto rec = store.sync_config(kConfigBaseline);
  if (!rec) return std::nullopt;
  return parse_baseline_config(rec->second);
}

}  // namespace tz::ops
