// Excel workbooks (SPEC §9 "XLSX"): every cell is written as text, so ID numbers and other long
// digit strings stay exactly as given; the header row is bold and frozen, and each column is as wide
// as its widest cell (CJK characters count two). Built on libxlsxwriter; no libxlsxwriter type
// appears here.
#pragma once

#include <string>
#include <vector>

#include "tz/util/error.hpp"

namespace tz::xlsx {

struct Sheet {
  std::string name;  // at most 31 characters, none of []:*?/\ (Excel's rule)
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
};

// Writes the workbook to path (replacing it). io_error naming the path when it cannot be written.
Status write_workbook(const std::string& path, const std::vector<Sheet>& sheets);

}  // namespace tz::xlsx
