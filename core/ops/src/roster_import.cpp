// Roster import: decode, map headers to schema fields, normalise and validate every row (all
// problems, never just the first), then stage only the cells that differ from what is shown and
// write them in one transaction.
#include "tz/ops/roster_import.hpp"
#include "tz/ops/records.hpp"

#include <algorithm>
#include <thread>
#include <unordered_map>

#include "tz/model/id_number.hpp"
#include "tz/model/review.hpp"
#include "tz/model/validation.hpp"
#include "tz/util/crash_point.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/encoding.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

size_t ImportReport::error_count() const {
  size_t n = 0;
  for (auto& p : problems) n += p.severity == Severity::error;
  return n;
}

size_t ImportReport::warning_count() const { return problems.size() - error_count(); }

namespace {

struct Column {
  size_t index;
  std::string header;
  EntityType type;
  const FieldDef* field;
};

// One row, normalised, with the ids its entities get.
struct PreparedRow {
  size_t line = 0;
  FieldValues household, person, job;
  EntityId household_id, person_id, job_id;
  bool has_job = false;
  std::string id18;
  std::vector<std::string> damaged;  // fields whose cell Excel had damaged (already reported)
};



FieldValues overlay(FieldValues base, const FieldValues& top) {
  for (auto& [f, v] : top) base[f] = v;
  return base;
}

const char* encoding_name(encoding::SourceEncoding e) {
  switch (e) {
    case encoding::SourceEncoding::utf8: return "utf8";
    case encoding::SourceEncoding::utf8_bom: return "utf8_bom";
    case encoding::SourceEncoding::gb18030: return "gb18030";
    case encoding::SourceEncoding::utf16le_bom: return "utf16le_bom";
  }
  return "utf8";
}

}  // namespace

// Excel keeps 15 significant digits: an 18-digit ID typed into a number cell comes back with its last
// three digits as 000, which then fails the check character.
bool looks_excel_truncated_id(const std::string& cell, const CivilDate& today) {
  if (cell.size() != 18 || !text::all_digits(cell) || cell.compare(15, 3, "000") != 0) return false;
  return idn::check_id(cell, today).problem == idn::IdProblem::bad_check;
}

bool excel_damaged_id_cell(const std::string& cell, const CivilDate& today) {
  return csv::looks_excel_damaged_number(cell) || looks_excel_truncated_id(cell, today);
}

Result<std::vector<csv::Row>> read_roster_rows(std::string_view file_bytes, ImportReport& report) {
  encoding::SourceEncoding enc{};
  auto text = encoding::to_utf8(file_bytes, &enc);
  if (!text) return text.error();
  report.encoding = encoding_name(enc);
  auto rows = csv::parse(*text);
  if (!rows) return rows.error();
  if (rows->empty()) return Error(ErrorCode::invalid_input, {bilingual("文件是空的", "the file is empty")});
  return std::move(*rows);
}

Result<ImportReport> import_roster(DeviceStore& store, std::string_view file_bytes, const ImportEnv& env,
                                   const ImportOptions& options) {
  const Schema& schema = store.schema();
  const auto& hs = schema.entity(EntityType::household);
  const auto& ps = schema.entity(EntityType::person);
  const auto& js = schema.entity(EntityType::job);
  const Period& period = store.info().config.period;
  if (!period.is_set()) return Error(ErrorCode::period_unset);

  ImportReport report;
  auto rows = read_roster_rows(file_bytes, report);
  if (!rows) return rows.error();

  // Header: every column is a field of household, person or job (by label or alias), or extra.
  std::vector<Column> columns;
  const auto& header = rows->front();
  std::unordered_map<const FieldDef*, std::string> seen;
  auto problem = [&](size_t line, const std::string& column, std::string rule, Severity sev, std::string zh, std::string en) {
    report.problems.push_back(ImportProblem{line, column, std::move(rule), sev, std::move(zh), std::move(en)});
  };
  for (size_t i = 0; i < header.cells.size(); ++i) {
    std::string h = text::trim(csv::unwrap_excel_text(header.cells[i]));
    if (h.empty()) continue;
    const FieldDef* f = nullptr;
    EntityType t = EntityType::person;
    for (auto [type, es] : {std::pair{EntityType::person, &ps}, {EntityType::household, &hs}, {EntityType::job, &js}}) {
      if (auto* cand = es->find_field(h); cand && cand->type != FieldType::ref) {
        f = cand;
        t = type;
        break;
      }
    }
    if (!f) {
      report.extra_columns.push_back(h);
      continue;
    }
    if (auto it = seen.find(f); it != seen.end()) {
      problem(header.line, h, "import.duplicate_column", Severity::error,
              "列“" + h + "”与列“" + it->second + "”是同一项（" + f->label_zh + "）",
              "column \"" + h + "\" and column \"" + it->second + "\" are the same field (" + f->label_en + ")");
      continue;
    }
    if (reviewer_only(*f)) {
      Problem p = reviewer_only_problem(*f);
      problem(header.line, h, p.rule_id, p.severity, p.message_zh, p.message_en);
      continue;
    }
    seen[f] = h;
    columns.push_back(Column{i, h, t, f});
  }
  std::vector<std::string> missing;
  for (auto* need : {&hs.require("village_code"), &hs.require("household_no"), &ps.require("name")})
    if (!seen.count(need)) missing.push_back(need->label_zh);
  if (!missing.empty()) {
    std::string list;
    for (auto& m : missing) list += (list.empty() ? "" : "、") + m;
    std::string list_en;
    for (auto* f : {&hs.require("village_code"), &hs.require("household_no"), &ps.require("name")})
      if (!seen.count(f)) list_en += (list_en.empty() ? "" : ", ") + f->label_zh + " (" + f->label_en + ")";
    return Error(ErrorCode::invalid_input, {bilingual("缺少必需的列：" + list, "required columns missing: " + list_en)});
  }

  ValidationContext vctx;
  vctx.today = env.today;
  vctx.period_year = period.year;
  vctx.settings = &schema.settings();
  vctx.counties = env.resources ? &env.resources->counties : nullptr;
  vctx.tree = env.tree;

  const auto& keys = store.natural_keys();
  const FieldId f_village = hs.require("village_code").id, f_hhno = hs.require("household_no").id;
  const FieldId f_name = ps.require("name").id, f_id = ps.require("id_number").id, f_phone = ps.require("phone").id;
  const FieldId f_hh_ref = ps.require("household_id").id, f_person_ref = js.require("person_id").id;

  // Pass 1: normalise every cell and give each row its entity ids.
  std::vector<PreparedRow> prepared;
  prepared.reserve(rows->size());
  std::unordered_map<std::string, size_t> id_lines;  // person key -> first line
  for (size_t r = 1; r < rows->size(); ++r) {
    const auto& row = (*rows)[r];
    PreparedRow pr;
    pr.line = row.line;
    bool any = false;
    for (auto& col : columns) {
      if (col.index >= row.cells.size()) continue;
      std::string cell = text::trim(csv::unwrap_excel_text(row.cells[col.index]));
      if (cell.empty()) continue;
      any = true;
      if ((col.field->type == FieldType::id_number || col.field->type == FieldType::phone) &&
          (col.field->type == FieldType::id_number ? excel_damaged_id_cell(cell, env.today)
                                                   : csv::looks_excel_damaged_number(cell))) {
        Error e(ErrorCode::excel_damaged_id, {cell});
        problem(row.line, col.header, "import.excel_damaged", Severity::error, e.message(Lang::zh), e.message(Lang::en));
        pr.damaged.push_back(col.field->name);
        continue;
      }
      auto n = normalize_value(*col.field, cell, vctx);
      if (!n.ok) {
        auto pb = format_problem(schema.entity(col.type), *col.field, n);
        problem(row.line, col.header, pb.rule_id, pb.severity, pb.message_zh, pb.message_en);
      }
      auto& target = col.type == EntityType::household ? pr.household : col.type == EntityType::person ? pr.person : pr.job;
      target[col.field->id] = n.value;  // a warning-level value (e.g. a landline phone) is kept as typed
      if (col.type == EntityType::job) pr.has_job = true;
    }
    for (size_t c = header.cells.size(); c < row.cells.size(); ++c)
      if (!text::trim(row.cells[c]).empty()) {
        problem(row.line, "#" + std::to_string(c + 1), "import.extra_cell", Severity::warning,
                "第 " + std::to_string(c + 1) + " 列没有表头，已忽略", "column " + std::to_string(c + 1) + " has no header; ignored");
        break;
      }
    if (!any) continue;
    ++report.rows;
    auto village = pr.household.count(f_village) ? pr.household[f_village] : "";
    auto hhno = pr.household.count(f_hhno) ? pr.household[f_hhno] : "";
    pr.household_id = keys.household(village, hhno);
    std::string person_key;
    if (auto it = pr.person.find(f_id); it != pr.person.end()) {
      auto c = idn::check_id(it->second, env.today);
      if (c.ok()) {
        pr.id18 = c.id18;
        person_key = "id:" + c.id18;
      }
    }
    std::string name = pr.person.count(f_name) ? pr.person[f_name] : "";
    if (person_key.empty() && !pr.person.count(f_id)) person_key = "noid:" + pr.household_id.hex() + ":" + name;
    pr.person_id = pr.id18.empty() ? keys.person_without_id(pr.household_id, name) : keys.person(pr.id18);
    if (!person_key.empty()) {
      auto [it, inserted] = id_lines.emplace(person_key, row.line);
      if (!inserted) {
        auto id_col = seen.count(&ps.require("id_number")) ? seen[&ps.require("id_number")] : ps.require("name").label_zh;
        std::string other = std::to_string(it->second);
        if (person_key.rfind("id:", 0) == 0)
          problem(row.line, id_col, "import.duplicate_id", Severity::error,
                  "第 " + std::to_string(row.line) + " 行与第 " + other + " 行的身份证号相同（同一人不能出现两次）",
                  "line " + std::to_string(row.line) + " has the same ID number as line " + other);
        else
          problem(row.line, ps.require("name").label_zh, "import.duplicate_person", Severity::error,
                  "第 " + std::to_string(row.line) + " 行与第 " + other + " 行是同一户中同名且无身份证号的人",
                  "line " + std::to_string(row.line) + " and line " + other + " are the same name in one household without ID");
      }
    }
    pr.person[f_hh_ref] = pr.household_id.hex();
    if (pr.has_job) {
      pr.job_id = keys.roster_job(pr.person_id, period.year);
      pr.job[f_person_ref] = pr.person_id.hex();
    }
    prepared.push_back(std::move(pr));
  }

  // Pass 2: validate each record as it would be after the import (stored values overlaid by the row).
  Editor editor(store, env.edit);
  {
    std::vector<EntityId> ids;
    ids.reserve(prepared.size() * 3);
    for (auto& pr : prepared) {
      ids.push_back(pr.household_id);
      ids.push_back(pr.person_id);
      if (pr.has_job) ids.push_back(pr.job_id);
    }
    editor.prefetch(ids);
  }
  const auto& columns_seen = seen;  // read-only from here on (the validation threads share it)
  auto column_of = [&](EntityType t, const std::string& field_name) {
    const auto& es = schema.entity(t);
    const FieldDef* f = es.field(field_name);
    if (f)
      if (auto it = columns_seen.find(f); it != columns_seen.end()) return it->second;
    return f ? f->label_zh : field_name;
  };
  // Rows repeating a household must agree on its fields; the first row validates the household.
  std::unordered_map<EntityId, std::pair<size_t, const FieldValues*>, IdHash> households_seen;
  std::vector<char> first_of_household(prepared.size(), 0);
  for (size_t i = 0; i < prepared.size(); ++i) {
    auto& pr = prepared[i];
    auto [it, inserted] = households_seen.emplace(pr.household_id, std::pair{pr.line, &pr.household});
    first_of_household[i] = inserted;
    if (inserted) continue;
    for (auto& [f, v] : pr.household) {
      auto o = it->second.second->find(f);
      if (o != it->second.second->end() && o->second != v) {
        const FieldDef* fd = hs.field(f);
        problem(pr.line, column_of(EntityType::household, fd->name), "import.household_mismatch", Severity::error,
                "同一户在第 " + std::to_string(it->second.first) + " 行的" + fd->label_zh + "为“" + o->second + "”，本行为“" + v + "”",
                "the same household has " + fd->label_en + " \"" + o->second + "\" on line " +
                    std::to_string(it->second.first) + " but \"" + v + "\" here");
      }
    }
  }
  // Every record as it would be after the import. Pure once everything is prefetched, so the rows
  // are split between the machine's cores (a collector's laptop has two).
  auto validate_rows = [&](size_t begin, size_t end, std::vector<ImportProblem>& out) {
    for (size_t i = begin; i < end; ++i) {
      const auto& pr = prepared[i];
      auto report_problems = [&](EntityType t, const std::vector<Problem>& ps_) {
        for (auto& p : ps_) {
          if (std::find(pr.damaged.begin(), pr.damaged.end(), p.field) != pr.damaged.end()) continue;
          out.push_back(ImportProblem{pr.line, column_of(t, p.field), p.rule_id, p.severity, p.message_zh, p.message_en});
        }
      };
      // A cell that replaces a value collected since (a visit, an edit): imported, but said, naming
      // who set the old value and when, so a re-import never overwrites field work silently.
      auto report_overwrites = [&](EntityType t, const Entity* stored, const FieldValues& values) {
        if (!stored) return;
        const auto& es = schema.entity(t);
        for (auto& [f, v] : values) {
          auto it = stored->fields.find(f);
          if (it == stored->fields.end()) continue;
          const Version* shown = it->second.shown();
          if (!shown || shown->value == v || it->second.conflict()) continue;
          const FieldDef* fd = es.field(f);
          if (!fd || fd->type == FieldType::ref) continue;
          std::string when = format_china_time(shown->device_ms);
          out.push_back(ImportProblem{pr.line, column_of(t, fd->name), "import.overwrites", Severity::warning,
                                      fd->label_zh + "：将“" + display_value(*fd, shown->value, Lang::zh) + "”（" + shown->collector +
                                          " " + when + " 录入）改为“" + display_value(*fd, v, Lang::zh) + "”",
                                      fd->label_en + ": replaces \"" + display_value(*fd, shown->value, Lang::en) + "\" (set by " +
                                          shown->collector + " at " + when + ") with \"" + display_value(*fd, v, Lang::en) + "\""});
        }
      };
      report_overwrites(EntityType::household, editor.peek(pr.household_id), pr.household);
      report_overwrites(EntityType::person, editor.peek(pr.person_id), pr.person);
      if (pr.has_job) report_overwrites(EntityType::job, editor.peek(pr.job_id), pr.job);
      if (first_of_household[i]) {
        const Entity* stored = editor.peek(pr.household_id);
        report_problems(EntityType::household,
                        validate_record(hs, stored ? overlay(shown_values(stored), pr.household) : pr.household, vctx, false));
      }
      const Entity* stored_person = editor.peek(pr.person_id);
      FieldValues merged_person;
      if (stored_person) merged_person = overlay(shown_values(stored_person), pr.person);
      const FieldValues& person_values = stored_person ? merged_person : pr.person;
      report_problems(EntityType::person, validate_record(ps, person_values, vctx, false));
      if (pr.has_job) {
        ValidationContext jctx = vctx;
        if (auto it = person_values.find(f_id); it != person_values.end()) jctx.person_birth = birth_of_id(it->second);
        const Entity* stored_job = editor.peek(pr.job_id);
        report_problems(EntityType::job,
                        validate_record(js, stored_job ? overlay(shown_values(stored_job), pr.job) : pr.job, jctx, false));
      }
    }
  };
  const size_t n = prepared.size();
  const bool split = n >= 2000 && std::thread::hardware_concurrency() >= 2;
  std::vector<ImportProblem> first_half, second_half;
  if (split) {
    std::thread other([&] { validate_rows(n / 2, n, second_half); });
    validate_rows(0, n / 2, first_half);
    other.join();
  } else {
    validate_rows(0, n, first_half);
  }
  for (auto* part : {&first_half, &second_half})
    report.problems.insert(report.problems.end(), std::make_move_iterator(part->begin()), std::make_move_iterator(part->end()));
  std::stable_sort(report.problems.begin(), report.problems.end(),
                   [](const ImportProblem& a, const ImportProblem& b) { return a.line < b.line; });
  if (report.error_count() > 0 || options.dry_run) return report;

  // Pass 3: stage what differs from what is shown, written in parts of one transaction.
  constexpr size_t kRowsPerPart = 4096;
  size_t staged_rows = 0;
  for (auto& pr : prepared) {
    if (++staged_rows % kRowsPerPart == 0)
      if (auto st = editor.flush(); !st) return st.error();
    bool created = false;
    Entity& hh = editor.get_or_create(EntityType::household, pr.household_id, &created);
    report.households_created += created;
    for (auto& [f, v] : pr.household) editor.set(hh, f, v);
    Entity& person = editor.get_or_create(EntityType::person, pr.person_id, &created);
    report.persons_created += created;
    for (auto& [f, v] : pr.person) {
      if (!editor.set(person, f, v)) continue;
      if (f == f_id && !pr.id18.empty()) editor.add_lookup(LookupKind::id_number, pr.id18, pr.person_id);
      if (f == f_phone) editor.add_lookup(LookupKind::phone, v, pr.person_id);
    }
    if (pr.has_job) {
      Entity& job = editor.get_or_create(EntityType::job, pr.job_id, &created);
      report.jobs_created += created;
      for (auto& [f, v] : pr.job) editor.set(job, f, v);
    }
  }
  report.changes = editor.change_count();
  auto st = editor.commit(options.crash_point);
  if (!st) return st.error();
  if (!options.crash_after.empty()) crash_point(options.crash_after);
  report.written = true;
  return report;
}

}  // namespace tz::ops
