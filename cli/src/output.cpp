// Import reports and lists, printed the same way by field-cli and sync-server.
#include "tz/cli/output.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>

#include "tz/util/storage_fault.hpp"
#include "tz/util/text.hpp"

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

ListRequest list_request(const Io& io, const Args& a) {
  ListRequest r;
  r.out = a.get("out");
  bool csv_name = r.out.size() > 4 && text::to_upper_ascii(r.out.substr(r.out.size() - 4)) == ".CSV";
  r.format = a.get("format", csv_name ? "csv" : "table");
  if (r.format != "table" && r.format != "csv") throw CliError{2, io.tr("bad_format", {"table, csv"})};
  r.options.kind = a.words.size() > 1 ? a.words[1] : "";
  r.options.region = a.get("region");
  r.options.full_ids = a.flag("full-ids");
  r.options.lang = io.lang;
  return r;
}

int emit_list(const Io& io, const ops::Table& t, const ListRequest& r) {
  if (io.as_json && r.out.empty()) {
    json rows = json::array();
    for (auto& row : t.rows) {
      json o = json::object();
      for (size_t i = 0; i < row.size() && i < t.headers.size(); ++i) o[t.headers[i]] = row[i];
      rows.push_back(o);
    }
    io.print_json({{"ok", true}, {"kind", r.options.kind}, {"title", t.title}, {"count", t.rows.size()}, {"rows", rows}});
    return 0;
  }
  std::string bytes = r.format == "csv" ? ops::render_csv(t) : ops::render_table(t, io.lang);
  if (!r.out.empty()) {
    io.write_file(r.out, bytes);
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

}  // namespace tz::cli
