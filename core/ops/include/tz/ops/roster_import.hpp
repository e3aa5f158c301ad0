// The roster import contract (SPEC §9): a county's flat 台账 (one row per person) into household,
// person and current-job entities. A file is imported whole or not at all; every bad row is reported
// with its physical line, column and rule; re-importing the same data changes nothing.
#pragma once

#include <string>
#include <vector>

#include "tz/ops/editor.hpp"
#include "tz/ops/resources.hpp"
#include "tz/store/device_store.hpp"
#include "tz/util/csv.hpp"

namespace tz::ops {

struct ImportProblem {
  size_t line = 0;       // physical line; the header is line 1
  std::string column;    // the header as written in the file
  std::string rule_id;
  Severity severity = Severity::error;
  std::string message_zh;
  std::string message_en;
  const std::string& message(Lang lang) const { return lang == Lang::zh ? message_zh : message_en; }
};

struct ImportReport {
  std::string encoding;            // utf8, utf8_bom, gb18030, utf16le_bom
  size_t rows = 0;
  size_t households_created = 0;
  size_t persons_created = 0;
  size_t jobs_created = 0;
  size_t changes = 0;              // field changes recorded
  std::vector<std::string> extra_columns;  // reported and ignored
  std::vector<ImportProblem> problems;     // errors and warnings, by line
  bool written = false;
  size_t error_count() const;
  size_t warning_count() const;
};

struct ImportEnv {
  const Resources* resources = nullptr;
  const region::RegionTree* tree = nullptr;  // the store's county tree, if any
  CivilDate today;
  EditContext edit;
};

struct ImportOptions {
  bool dry_run = false;
  // The crash points (SPEC §12, docs/crash-points.md) just before and just after the commit.
  std::string crash_point = "device.import.before_commit";
  std::string crash_after = "device.import.after_commit";
};

// Ok with written=false when rows were refused (the report says why) or on a dry run; an Error when
// the file as a whole cannot be read (encoding, no header, missing required columns, store failure).
Result<ImportReport> import_roster(DeviceStore& store, std::string_view file_bytes, const ImportEnv& env,
                                   const ImportOptions& options = {});

// The rows of a county file as the roster import reads them: UTF-8 (with or without BOM), GB18030 or
// UTF-16LE with BOM, detected and recorded in report.encoding. An Error when the file cannot be read
// or is empty.
Result<std::vector<csv::Row>> read_roster_rows(std::string_view file_bytes, ImportReport& report);

// An ID cell Excel has damaged: 5.22632E+17, or an 18-digit ID whose last three digits came back as 000.
bool excel_damaged_id_cell(const std::string& cell, const CivilDate& today);

}  // namespace tz::ops
