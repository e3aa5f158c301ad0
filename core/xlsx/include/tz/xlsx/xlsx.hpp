// Excel workbooks (SPEC §9 "XLSX"): every cell is written as text, so ID numbers and other long
// digit strings stay exactly as given; the header row is bold and frozen, and each column is as wide
// as its widest cell (CJK characters count two). Built on libxlsxwriter; no libxlsxwriter type
// appears here.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tz/util/error.hpp"

namespace tz::xlsx {

struct Sheet {
  std::string name;  // at most 31 characters, none of []:*?/\ (Excel's rule)
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::string title;                   // when set: a merged bold title row above the headers
  std::vector<std::string> totals;     // when set: a bold last row (e.g. 合计)
  std::set<size_t> numeric_columns;    // cells written as numbers when they read as one; others text
};

struct WorkbookOptions {
  // The document's created date (seconds since the epoch, UTC); 0 = now. Set it from the as-of date
  // and the same data gives the same bytes (libxlsxwriter stamps the zip entries with it too).
  int64_t created_unix = 0;
};

// Writes the workbook to path (replacing it). io_error naming the path when it cannot be written.
Status write_workbook(const std::string& path, const std::vector<Sheet>& sheets, const WorkbookOptions& options = {});

}  // namespace tz::xlsx
