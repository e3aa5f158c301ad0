// The shared texts and the two-level lookup.
#include "tz/cli/messages.hpp"

namespace tz::cli {

const Catalogue& common_texts() {
  static const Catalogue kTexts = {
      {"unknown_command", {"未知命令“{0}”。运行 {1} --help 查看用法", "unknown command \"{0}\"; run {1} --help"}},
      {"missing_subcommand", {"{0} 后应为 {1} 之一。运行 {2} --help 查看用法", "{0} takes one of {1}; run {2} --help"}},
      {"missing_command", {"缺少命令。运行 {0} --help 查看用法", "no command given; run {0} --help"}},
      {"unknown_option", {"命令 {0} 不接受选项 {1}", "command {0} does not take the option {1}"}},
      {"option_needs_value", {"选项 {0} 需要一个值", "option {0} needs a value"}},
      {"missing_option", {"缺少选项 {0}", "the option {0} is required"}},
      {"bad_option_value", {"选项 {0} 的值“{1}”无效：{2}", "option {0}: \"{1}\" is invalid: {2}"}},
      {"extra_argument", {"多余的参数“{0}”", "unexpected argument \"{0}\""}},
      {"missing_argument", {"缺少参数：{0}", "missing argument: {0}"}},
      {"error_prefix", {"错误：", "error: "}},
      {"import_summary",
       {"导入 {0} 行（编码 {1}）：新增 {2} 户、{3} 人、{4} 条务工经历，记录 {5} 项字段变更",
        "imported {0} rows ({1}): {2} new households, {3} new persons, {4} new jobs, {5} field changes"}},
      {"import_dry_run", {"试导入：检查了 {0} 行，未写入任何数据（错误 {1} 处，提示 {2} 处）",
                          "dry run: checked {0} rows, nothing written ({1} errors, {2} warnings)"}},
      {"import_rejected", {"导入被拒绝：{0} 处错误，未写入任何数据。请改正后重新导入",
                           "import refused: {0} errors, nothing was written. Fix them and import again"}},
      {"import_extra_columns", {"以下列不属于台账，已忽略：{0}", "these columns are not part of the roster and were ignored: {0}"}},
      {"problem_line", {"第 {0} 行，“{1}”列：{2}（{3}）", "line {0}, column \"{1}\": {2} ({3})"}},
      {"severity_error", {"错误", "error"}},
      {"severity_warning", {"提示", "warning"}},
      {"import_warnings", {"有 {0} 处提示（已导入，记入待核实）", "{0} warnings (imported; listed as to verify)"}},
      {"more_warnings", {"……另有 {0} 处提示未列出（--json 可看全部）", "... {0} more warnings not shown (--json lists them all)"}},
      {"list_written", {"已写入 {0}：{1}（{2} 人）", "wrote {0}: {1} ({2} persons)"}},
      {"bad_format", {"--format 应为 {0}", "--format must be one of {0}"}},
      {"write_failed", {"无法写入文件 {0}", "cannot write the file {0}"}},
      {"read_failed", {"无法读取文件 {0}", "cannot read the file {0}"}},
      {"full_ids_note", {"注意：清单含完整身份证号，请妥善保管", "note: the list holds full ID numbers; keep it safe"}},
      {"arg_kind", {"清单类型", "KIND"}},
      {"xlsx_needs_out", {"--format xlsx 需要用 --out 给出文件名", "--format xlsx needs a file name with --out"}},
      {"bad_unit", {"--unit 应为 person（人）或 wan（万人）", "--unit must be person or wan (10,000 persons)"}},
      {"list_total", {"合计：{0} 人", "Total: {0} persons"}},
      {"tables_written", {"已写入 {0}：{1}", "wrote {0}: {1}"}},
      {"export_written", {"已导出 {0} 个文件到 {1}：", "wrote {0} files to {1}:"}},
      {"export_report_line", {"{0}：{1}（{2} 个区划）", "{0}: {1} ({2} regions)"}},
      {"export_list_line", {"{0}：{1}（{2} 人）", "{0}: {1} ({2} persons)"}},
      {"sheet_standards_villages", {"按村汇总", "Per village"}},
      {"sheet_standards_persons", {"逐人", "Person by person"}},
      {"sheet_subsidies", {"补贴明细", "Amounts"}},
      {"sheet_subsidies_villages", {"按村合计", "Per village"}},
      {"sheet_subsidies_agencies", {"按输出机构合计", "Per agency"}},
      {"sheet_report", {"外出务工情况", "Progress"}},
      {"sheet_below", {"低于去年人数", "Below last year"}},
      {"sheet_not_gone", {"去年外出今年未外出", "Not gone out"}},
      {"sheet_life_events", {"人员变更", "Life events"}},
      {"unknown_county", {"{0} 不是全国县级区划中的代码", "{0} is not a county code of the national list"}},
      {"bad_period", {"统计年度应为 2000–2100 之间的年份，截至日期应在该年度之内",
                      "the period must be a year 2000–2100 and the as-of date must lie in it"}},
      {"init_tree", {"已载入本县区划：{0} 个村", "loaded the county's region tree: {0} villages"}},
      {"arg_file", {"文件", "FILE"}},
      {"no_conflicts", {"没有冲突", "no conflicts"}},
      {"conflicts_count", {"共 {0} 处冲突（* 为当前显示的取值）：", "{0} conflicts (* marks the value shown now):"}},
      {"deletion_field", {"删除", "deletion"}},
      {"restored", {"（恢复）", "(restored)"}},
      {"deleted_because", {"删除：{0}", "deleted: {0}"}},
      {"attribution", {"{0} 于 {1} 录入（设备 {2}，第 {3} 号变更）", "set by {0} at {1} (device {2}, change {3})"}},
      {"resolve_how", {"请给出 --pick 编号 或 --value 值 二者之一", "give one of --pick N or --value V"}},
      {"arg_resolve", {"记录 字段", "RECORD FIELD"}},
  };
  return kTexts;
}

const Text* Messages::find(std::string_view key) const {
  if (auto it = own_.find(key); it != own_.end()) return &it->second;
  if (auto it = common_texts().find(key); it != common_texts().end()) return &it->second;
  return nullptr;
}

std::string Messages::tr(Lang lang, std::string_view key, const std::vector<std::string>& args) const {
  const Text* t = find(key);
  if (!t) return std::string(key);
  return format_message(lang == Lang::zh ? t->zh : t->en, args);
}

std::vector<std::string_view> Messages::keys() const {
  std::vector<std::string_view> keys;
  for (auto& [k, _] : own_) keys.push_back(k);
  for (auto& [k, _] : common_texts())
    if (!own_.count(k)) keys.push_back(k);
  return keys;
}

bool Messages::has_both_languages(std::string_view key) const {
  const Text* t = find(key);
  return t && !t->zh.empty() && !t->en.empty();
}

}  // namespace tz::cli
