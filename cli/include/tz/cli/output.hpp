// What both programs print the same way: an import's report (every error with its line and column,
// warnings up to a bound, the counts) and a list (table, CSV, --out FILE, --json).
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tz/cli/args.hpp"
#include "tz/cli/messages.hpp"
#include "tz/ops/lists.hpp"
#include "tz/ops/policy.hpp"
#include "tz/ops/report.hpp"
#include "tz/ops/roster_import.hpp"

namespace tz::cli {

// Where a command writes, in which language and form.
struct Io {
  const Messages& m;
  Lang lang;
  bool as_json;
  std::ostream& out;
  std::ostream& err;
  std::string tr(std::string_view key, const std::vector<std::string>& args = {}) const { return m.tr(lang, key, args); }
  void print_json(const nlohmann::json& j) const;
  // Writes bytes to path (truncating); a user error naming the file when that fails.
  void write_file(const std::string& path, const std::string& bytes) const;
};

// An import's report as --json prints it.
nlohmann::json import_report_json(const ops::ImportReport& rep, bool dry_run, Lang lang);
// Prints an import's report. Returns the exit code: 0 when written (or a clean dry run), 1 when rows
// were refused (with --json; otherwise throws the one-line refusal after listing the errors).
int print_import(const Io& io, const ops::ImportReport& rep, bool dry_run);

// The list options shared by both programs: --format table|csv|xlsx (csv or xlsx by default for an
// --out name ending so), --out FILE, --region CODE, --full-ids.
struct ListRequest {
  ops::ListOptions options;
  std::string format;
  std::string out;
};
ListRequest list_request(const Io& io, const Args& a);
// Prints or writes the list; returns the exit code. An XLSX workbook is dated from the period's
// as-of date, so the same list gives the same bytes on a device and on the server.
int emit_list(const Io& io, const ops::Table& t, const ListRequest& r, const Period& period);

// The options of the multi-part outputs (the report, work standards, subsidies): --format
// table|csv|xlsx|json (by the --out name's ending when not given; json with --json), --out FILE,
// --region CODE.
struct TablesRequest {
  std::string format;
  std::string out;
  std::string region;
};
TablesRequest tables_request(const Io& io, const Args& a);

// One sheet per table: its name and the columns written as numbers (the others are text).
struct SheetLayout {
  std::string name_key;  // message key of the sheet name
  std::set<size_t> numeric_columns;
};
// The workbook of several tables, each with its title row; dated from the period's as-of date.
Status write_tables_xlsx(const std::string& path, const std::vector<ops::Table>& tables, const std::vector<SheetLayout>& layout,
                         const Period& period, const Messages& m, Lang lang);
// Prints or writes the tables in the requested format; returns the exit code.
int emit_tables(const Io& io, const std::vector<ops::Table>& tables, const TablesRequest& req,
                const std::vector<SheetLayout>& layout, const Period& period);

// The report: the tables' options and --unit person|wan.
struct ReportRequest : TablesRequest {
  ops::ReportUnit unit = ops::ReportUnit::person;
};
ReportRequest report_request(const Io& io, const Args& a);
int emit_report(const Io& io, const ops::ProgressReport& r, const ReportRequest& req);

// export --out DIR [--format csv|xlsx] [--region CODE] [--unit person|wan]: the progress report and
// all five lists written into one folder from a single read of the store, made side by side on
// worker_threads() threads (decision 430). IDs are masked as in `list` without --full-ids.
struct ExportRequest : ReportRequest {};
ExportRequest export_request(const Io& io, const Args& a);
// One file written by export.
struct ExportedFile {
  std::string kind;   // "report" or a list kind
  std::string path;
  std::string title;
  size_t rows = 0;    // regions of the report, persons of a list
};
// Makes and writes them all; `report` gives the report's regions (the device's scope, the county).
// Throws CliError (naming the file) when a file cannot be written; files already written stay.
std::vector<ExportedFile> write_export(const Io& io, const DeviceStore& store, const ops::Resources& res,
                                       const region::RegionTree* tree, const ExportRequest& req,
                                       const ops::ReportOptions& report);
// write_export, then the summary (or --json).
int emit_export(const Io& io, const DeviceStore& store, const ops::Resources& res, const region::RegionTree* tree,
                const ExportRequest& req, const ops::ReportOptions& report);

// Work standards and subsidies of the store for req.region (schemas/policy.json), in the requested
// format; both programs run these on their store (a device's own, the server's admin replica).
int emit_standards(const Io& io, const DeviceStore& store, const ops::Resources& res, const region::RegionTree* tree,
                   const TablesRequest& req);
int emit_subsidies(const Io& io, const DeviceStore& store, const ops::Resources& res, const region::RegionTree* tree,
                   const TablesRequest& req);

// The JSON forms --json prints, shared with the review API: a list's rows by header, several tables,
// and the report (figures by key, the other parts by header).
nlohmann::json list_json(const ops::Table& t, const std::string& kind);
nlohmann::json tables_json(const std::vector<ops::Table>& tables);
nlohmann::json report_json(const ops::ProgressReport& r, ops::ReportUnit unit, Lang lang);

// The workbook of a list (what emit_list writes).
Status write_list_xlsx(const std::string& path, const ops::Table& t, const Period& period, const Messages& m, Lang lang);

}  // namespace tz::cli
