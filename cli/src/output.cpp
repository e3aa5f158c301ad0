// Import reports and lists, printed the same way by field-cli and sync-server.
#include "tz/cli/output.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>

#include "tz/ops/population.hpp"
#include "tz/util/parallel.hpp"
#include "tz/util/storage_fault.hpp"
#include "tz/util/text.hpp"
#include "tz/xlsx/xlsx.hpp"

namespace tz::cli {

using nlohmann::json;

void Io::print_json(const json& j) const { out << j.dump(2) << "\n"; }

void Io::write_file(const std::string& path, const std::string& bytes) const {
  // A full disk or read-only storage (real or injected) is said as such; a partial file is removed.
  if (auto st = check_storage_write(path, bytes.size()); !st) throw Failure(st.error());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
  f.close();
  if (!f) {
    const Error e = storage_write_error(path);
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (e.code() != ErrorCode::io_error) throw Failure(e);
    throw CliError{1, tr("write_failed", {path})};
  }
}

json import_report_json(const ops::ImportReport& rep, bool dry_run, Lang lang) {
  json problems = json::array();
  for (auto& p : rep.problems)
    problems.push_back({{"line", p.line},
                        {"column", p.column},
                        {"rule", p.rule_id},
                        {"severity", p.severity == Severity::error ? "error" : "warning"},
                        {"message", p.message(lang)}});
  return {{"ok", rep.error_count() == 0},
          {"written", rep.written},
          {"dry_run", dry_run},
          {"encoding", rep.encoding},
          {"rows", rep.rows},
          {"households_created", rep.households_created},
          {"persons_created", rep.persons_created},
          {"jobs_created", rep.jobs_created},
          {"changes", rep.changes},
          {"extra_columns", rep.extra_columns},
          {"errors", rep.error_count()},
          {"warnings", rep.warning_count()},
          {"problems", problems}};
}

int print_import(const Io& io, const ops::ImportReport& rep, bool dry_run) {
  const bool refused = rep.error_count() > 0;
  if (io.as_json) {
    io.print_json(import_report_json(rep, dry_run, io.lang));
    return refused ? 1 : 0;
  }
  // Errors on stderr, every one, one per line; warnings on stdout, the first kMaxWarningLines of
  // them (a county register can raise thousands: the rest are in --json).
  constexpr size_t kMaxWarningLines = 50;
  size_t warnings_shown = 0;
  for (auto& p : rep.problems) {
    const bool error = p.severity == Severity::error;
    if (!error && warnings_shown++ >= kMaxWarningLines) continue;
    std::string line = io.tr("problem_line", {std::to_string(p.line), p.column, p.message(io.lang), p.rule_id});
    std::string sev = io.tr(error ? "severity_error" : "severity_warning");
    (error ? io.err : io.out) << sev << (io.lang == Lang::zh ? "：" : ": ") << line << "\n";
  }
  if (warnings_shown > kMaxWarningLines)
    io.out << io.tr("more_warnings", {std::to_string(warnings_shown - kMaxWarningLines)}) << "\n";
  if (!rep.extra_columns.empty()) {
    std::string cols;
    for (auto& c : rep.extra_columns) cols += (cols.empty() ? "" : "、") + c;
    io.out << io.tr("import_extra_columns", {cols}) << "\n";
  }
  if (dry_run) {
    io.out << io.tr("import_dry_run", {std::to_string(rep.rows), std::to_string(rep.error_count()),
                                       std::to_string(rep.warning_count())})
           << "\n";
    return refused ? 1 : 0;
  }
  if (refused) throw CliError{1, io.tr("import_rejected", {std::to_string(rep.error_count())})};
  io.out << io.tr("import_summary", {std::to_string(rep.rows), rep.encoding, std::to_string(rep.households_created),
                                     std::to_string(rep.persons_created), std::to_string(rep.jobs_created),
                                     std::to_string(rep.changes)})
         << "\n";
  if (rep.warning_count()) io.out << io.tr("import_warnings", {std::to_string(rep.warning_count())}) << "\n";
  return 0;
}

namespace {

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && text::to_upper_ascii(s.substr(s.size() - suffix.size())) == suffix;
}

// The format an --out name implies (.csv, .xlsx), else the fallback.
std::string format_by_name(const std::string& out, const std::string& fallback) {
  if (ends_with_ci(out, ".CSV")) return "csv";
  if (ends_with_ci(out, ".XLSX")) return "xlsx";
  return fallback;
}

// 00:00 China time on the as-of date: the workbook's created date.
int64_t created_of(const Period& p) { return china_midnight_ms(p.as_of) / 1000; }

// Writes through a temporary name and renames, so a failure leaves no half-made workbook.
void write_workbook_file(const Io& io, const std::string& path, const std::function<Status(const std::string&)>& write) {
  const std::string tmp = path + ".new";
  std::error_code ec;
  if (!write(tmp)) {
    std::filesystem::remove(tmp, ec);
    throw CliError{1, io.tr("write_failed", {path})};
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw CliError{1, io.tr("write_failed", {path})};
  }
}

}  // namespace

Status write_list_xlsx(const std::string& path, const ops::Table& t, const Period& period, const Messages& m, Lang lang) {
  xlsx::Sheet sheet{t.title, t.headers, t.rows};
  sheet.title = t.title;
  sheet.totals = {m.tr(lang, "list_total", {std::to_string(t.rows.size())})};
  sheet.numeric_columns = {0};  // 序号
  return xlsx::write_workbook(path, {sheet}, xlsx::WorkbookOptions{created_of(period)});
}

Status write_tables_xlsx(const std::string& path, const std::vector<ops::Table>& tables, const std::vector<SheetLayout>& layout,
                         const Period& period, const Messages& m, Lang lang) {
  std::vector<xlsx::Sheet> sheets;
  for (size_t i = 0; i < tables.size(); ++i) {
    xlsx::Sheet s{i < layout.size() ? m.tr(lang, layout[i].name_key) : std::to_string(i + 1), tables[i].headers, tables[i].rows};
    s.title = tables[i].title;
    if (i < layout.size()) s.numeric_columns = layout[i].numeric_columns;
    sheets.push_back(std::move(s));
  }
  return xlsx::write_workbook(path, sheets, xlsx::WorkbookOptions{created_of(period)});
}

ListRequest list_request(const Io& io, const Args& a) {
  ListRequest r;
  r.out = a.get("out");
  r.format = a.get("format", format_by_name(r.out, "table"));
  if (r.format != "table" && r.format != "csv" && r.format != "xlsx") throw CliError{2, io.tr("bad_format", {"table, csv, xlsx"})};
  if (r.format == "xlsx" && r.out.empty()) throw CliError{2, io.tr("xlsx_needs_out")};
  r.options.kind = a.words.size() > 1 ? a.words[1] : "";
  r.options.region = a.get("region");
  r.options.full_ids = a.flag("full-ids");
  r.options.lang = io.lang;
  return r;
}

int emit_list(const Io& io, const ops::Table& t, const ListRequest& r, const Period& period) {
  if (io.as_json && r.out.empty()) {
    io.print_json(list_json(t, r.options.kind));
    return 0;
  }
  if (r.format == "xlsx")
    write_workbook_file(io, r.out, [&](const std::string& p) { return write_list_xlsx(p, t, period, io.m, io.lang); });
  std::string bytes = r.format == "csv" ? ops::render_csv(t) : r.format == "table" ? ops::render_table(t, io.lang) : "";
  if (!r.out.empty()) {
    if (r.format != "xlsx") io.write_file(r.out, bytes);
    if (io.as_json)
      io.print_json({{"ok", true}, {"kind", r.options.kind}, {"out", r.out}, {"count", t.rows.size()}});
    else
      io.out << io.tr("list_written", {r.out, t.title, std::to_string(t.rows.size())}) << "\n";
  } else {
    io.out << bytes;
  }
  if (r.options.full_ids) io.err << io.tr("full_ids_note") << "\n";
  return 0;
}

TablesRequest tables_request(const Io& io, const Args& a) {
  TablesRequest r;
  r.out = a.get("out");
  r.format = a.get("format", format_by_name(r.out, io.as_json ? "json" : "table"));
  if (r.format != "table" && r.format != "csv" && r.format != "xlsx" && r.format != "json")
    throw CliError{2, io.tr("bad_format", {"table, csv, xlsx, json"})};
  if (r.format == "xlsx" && r.out.empty()) throw CliError{2, io.tr("xlsx_needs_out")};
  r.region = text::trim(a.get("region"));
  return r;
}

ReportRequest report_request(const Io& io, const Args& a) {
  ReportRequest r;
  static_cast<TablesRequest&>(r) = tables_request(io, a);
  const std::string unit = a.get("unit", "person");
  if (unit != "person" && unit != "wan") throw CliError{2, io.tr("bad_unit")};
  r.unit = unit == "wan" ? ops::ReportUnit::wan : ops::ReportUnit::person;
  return r;
}

namespace {

json rows_json(const ops::Table& t) {
  json rows = json::array();
  for (auto& row : t.rows) {
    json o = json::object();
    for (size_t i = 0; i < row.size() && i < t.headers.size(); ++i) o[t.headers[i]] = row[i];
    rows.push_back(o);
  }
  return rows;
}

json report_json_of(const ops::ProgressReport& r, const std::vector<ops::Table>& tables) {
  json regions = json::array();
  for (auto& f : r.regions)
    regions.push_back({{"code", f.code},
                       {"name", f.name},
                       {"level", f.level == region::Level::village ? "village" : f.level == region::Level::township ? "township" : "county"},
                       {"baseline", r.has_baseline ? json(f.baseline) : json(nullptr)},
                       {"total", f.total},
                       {"ratio", r.has_baseline ? json(ops::report_ratio(f.total, f.baseline)) : json(nullptr)},
                       {"out_province", f.out_province},
                       {"in_province", f.in_province},
                       {"in_county", f.in_county},
                       {"point_to_point", f.p2p},
                       {"willing", f.willing},
                       {"abroad", f.abroad},
                       {"other", f.other},
                       {"persons", f.persons},
                       {"identity_clear", f.identity},
                       {"labour_clear", f.labour},
                       {"status_clear", f.status},
                       {"willingness_clear", f.willingness},
                       {"four_clear", f.all_clear}});
  return {{"ok", true},
          {"year", r.period.year},
          {"as_of", format_date(r.period.as_of)},
          {"has_baseline", r.has_baseline},
          {"title", tables[0].title},
          {"regions", regions},
          {"below", rows_json(tables[1])},
          {"not_gone_out", rows_json(tables[2])},
          {"life_events", rows_json(tables[3])}};
}

// Writes bytes to --out or prints them; --out also prints where.
int deliver(const Io& io, const TablesRequest& req, const std::string& bytes, const std::string& what) {
  if (req.out.empty()) {
    io.out << bytes;
    return 0;
  }
  if (req.format != "xlsx") io.write_file(req.out, bytes);
  if (io.as_json)
    io.print_json({{"ok", true}, {"out", req.out}, {"format", req.format}});
  else
    io.out << io.tr("tables_written", {req.out, what}) << "\n";
  return 0;
}

}  // namespace

json list_json(const ops::Table& t, const std::string& kind) {
  return {{"ok", true}, {"kind", kind}, {"title", t.title}, {"count", t.rows.size()}, {"rows", rows_json(t)}};
}

json tables_json(const std::vector<ops::Table>& tables) {
  json parts = json::array();
  for (auto& t : tables) parts.push_back({{"title", t.title}, {"rows", rows_json(t)}});
  return {{"ok", true}, {"tables", parts}};
}

json report_json(const ops::ProgressReport& r, ops::ReportUnit unit, Lang lang) {
  return report_json_of(r, ops::report_tables(r, unit, lang));
}

int emit_tables(const Io& io, const std::vector<ops::Table>& tables, const TablesRequest& req,
                const std::vector<SheetLayout>& layout, const Period& period) {
  std::string bytes;
  if (req.format == "xlsx") {
    write_workbook_file(io, req.out, [&](const std::string& p) { return write_tables_xlsx(p, tables, layout, period, io.m, io.lang); });
  } else if (req.format == "csv") {
    bytes = ops::render_tables_csv(tables);
  } else if (req.format == "json") {
    bytes = tables_json(tables).dump(2) + "\n";
  } else {
    bytes = ops::render_tables_text(tables, io.lang);
  }
  return deliver(io, req, bytes, tables.empty() ? "" : tables[0].title);
}

namespace {

// The report's sheets: the region table's counts as numbers (codes, names, levels and ratios stay
// text), then the person-by-person parts.
std::vector<SheetLayout> report_layout(const std::vector<ops::Table>& tables) {
  std::set<size_t> counts;
  for (size_t c = 3; c + 1 < tables[0].headers.size(); ++c)
    if (c != 5) counts.insert(c);
  return {{"sheet_report", counts}, {"sheet_below", {3, 4, 5}}, {"sheet_not_gone", {0}}, {"sheet_life_events", {0}}};
}

}  // namespace

int emit_report(const Io& io, const ops::ProgressReport& r, const ReportRequest& req) {
  auto tables = ops::report_tables(r, req.unit, io.lang);
  if (req.format == "json") return deliver(io, req, report_json_of(r, tables).dump(2) + "\n", tables[0].title);
  return emit_tables(io, tables, req, report_layout(tables), r.period);
}

ExportRequest export_request(const Io& io, const Args& a) {
  ExportRequest r;
  static_cast<ReportRequest&>(r) = report_request(io, a);
  if (!a.has("format")) r.format = "csv";
  if (r.format != "csv" && r.format != "xlsx") throw CliError{2, io.tr("bad_format", {"csv, xlsx"})};
  if (r.out.empty()) throw CliError{2, io.tr("missing_option", {"--out"})};
  return r;
}

std::vector<ExportedFile> write_export(const Io& io, const DeviceStore& store, const ops::Resources& res,
                                       const region::RegionTree* tree, const ExportRequest& req,
                                       const ops::ReportOptions& report) {
  const Period& period = store.info().config.period;
  if (!period.is_set()) throw Failure(Error(ErrorCode::period_unset));
  if (auto st = ops::check_region(req.region); !st) throw Failure(st.error());
  std::error_code ec;
  std::filesystem::create_directories(req.out, ec);
  if (ec || !std::filesystem::is_directory(req.out)) throw CliError{1, io.tr("write_failed", {req.out})};

  const unsigned threads = worker_threads();
  const auto pop = ops::Population::load(store, threads);
  pop.derived(store.schema(), period);  // everyone's status, once, before the parts share it

  // The longest part first (the list to verify validates everyone), then the report, then the
  // other lists; each part makes its table and writes its own file. The parts share the population
  // read-only; only the report reads the store again (its baseline), so no two threads use the
  // store's connection at once.
  const auto kinds = ops::list_kinds();
  std::vector<std::string> order = {"flagged", "report"};
  for (auto& k : kinds)
    if (k != "flagged") order.push_back(k);
  std::vector<ExportedFile> files(order.size());
  const std::string ext = "." + req.format;
  auto path_of = [&](const std::string& name) { return (std::filesystem::path(req.out) / (name + ext)).string(); };
  parallel_tasks(order.size(), threads, [&](size_t i) {
    ExportedFile& f = files[i];
    f.kind = order[i];
    if (f.kind == "report") {
      auto r = ops::make_report(store, pop, tree, report);
      if (!r) throw Failure(r.error());
      const auto tables = ops::report_tables(*r, req.unit, io.lang);
      f.title = tables[0].title;
      f.rows = r->regions.size();
      f.path = path_of(io.lang == Lang::zh ? "进度报表" : "progress-report");
      if (req.format == "xlsx")
        write_workbook_file(io, f.path, [&](const std::string& p) {
          return write_tables_xlsx(p, tables, report_layout(tables), period, io.m, io.lang);
        });
      else
        io.write_file(f.path, ops::render_tables_csv(tables));
      return;
    }
    auto t = ops::make_list(store, pop, res, tree, {f.kind, req.region, false, io.lang});
    if (!t) throw Failure(t.error());
    f.title = t->title;
    f.rows = t->rows.size();
    f.path = path_of(io.lang == Lang::zh ? t->title : "list-" + f.kind);
    if (req.format == "xlsx")
      write_workbook_file(io, f.path, [&](const std::string& p) { return write_list_xlsx(p, *t, period, io.m, io.lang); });
    else
      io.write_file(f.path, ops::render_csv(*t));
  });
  return files;
}

int emit_export(const Io& io, const DeviceStore& store, const ops::Resources& res, const region::RegionTree* tree,
                const ExportRequest& req, const ops::ReportOptions& report) {
  const auto files = write_export(io, store, res, tree, req, report);
  if (io.as_json) {
    json parts = json::array();
    for (auto& f : files) parts.push_back({{"kind", f.kind}, {"out", f.path}, {"title", f.title}, {"count", f.rows}});
    io.print_json({{"ok", true}, {"out", req.out}, {"format", req.format}, {"files", parts}});
    return 0;
  }
  io.out << io.tr("export_written", {std::to_string(files.size()), req.out}) << "\n";
  for (auto& f : files)
    io.out << "  " << io.tr(f.kind == "report" ? "export_report_line" : "export_list_line", {f.path, f.title, std::to_string(f.rows)})
           << "\n";
  return 0;
}

namespace {
template <typename T>
T take_or_throw(const Io& io, Result<T> r) {
  if (!r) throw CliError{r.error().exit_code(), r.error().message(io.lang)};
  return std::move(*r);
}
}  // namespace

int emit_standards(const Io& io, const DeviceStore& store, const ops::Resources& res, const region::RegionTree* tree,
                   const TablesRequest& req) {
  const auto policy = take_or_throw(io, ops::load_policy(res));
  const auto people = take_or_throw(io, ops::work_standards(store, policy, req.region));
  return emit_tables(io, ops::work_standards_tables(people, policy, tree, io.lang), req,
                     {{"sheet_standards_villages", {2, 3, 4, 5}}, {"sheet_standards_persons", {0, 5, 6, 7, 8}}},
                     store.info().config.period);
}

int emit_subsidies(const Io& io, const DeviceStore& store, const ops::Resources& res, const region::RegionTree* tree,
                   const TablesRequest& req) {
  const auto policy = take_or_throw(io, ops::load_policy(res));
  const auto lines = take_or_throw(io, ops::compute_subsidies(store, policy, req.region));
  return emit_tables(io, ops::subsidy_tables(lines, store.schema(), tree, io.lang), req,
                     {{"sheet_subsidies", {0, 6}}, {"sheet_subsidies_villages", {2, 3, 4, 5}}, {"sheet_subsidies_agencies", {1, 2}}},
                     store.info().config.period);
}

}  // namespace tz::cli
