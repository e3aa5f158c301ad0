// Excel workbooks over libxlsxwriter.
#include "tz/xlsx/xlsx.hpp"

#include <xlsxwriter.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "tz/util/text.hpp"

namespace tz::xlsx {

namespace {

// A plain decimal (what the report's counts and ratios-free columns hold), as Excel would read it.
bool number_of(const std::string& cell, double* out) {
  if (cell.empty() || cell.size() > 15) return false;
  size_t dots = 0;
  for (size_t i = 0; i < cell.size(); ++i) {
    char ch = cell[i];
    if (ch == '.') ++dots;
    else if (ch < '0' || ch > '9') return false;
  }
  if (dots > 1 || cell.front() == '.' || cell.back() == '.' || (cell.size() > 1 && cell[0] == '0' && cell[1] != '.')) return false;
  *out = std::strtod(cell.c_str(), nullptr);
  return true;
}

}  // namespace

Status write_workbook(const std::string& path, const std::vector<Sheet>& sheets, const WorkbookOptions& options) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) return Error(ErrorCode::io_error, {path});
  if (options.created_unix > 0) {
    lxw_doc_properties props{};
    props.created = static_cast<time_t>(options.created_unix);
    workbook_set_properties(wb, &props);
  }
  lxw_format* number = workbook_add_format(wb);
  lxw_format* title = workbook_add_format(wb);
  format_set_bold(title);
  format_set_font_size(title, 14);
  lxw_format* text = workbook_add_format(wb);
  format_set_num_format(text, "@");  // a cell the user edits later stays text too
  lxw_format* head = workbook_add_format(wb);
  format_set_bold(head);
  format_set_num_format(head, "@");
  for (auto& s : sheets) {
    lxw_worksheet* ws = workbook_add_worksheet(wb, s.name.c_str());
    if (!ws) {
      workbook_close(wb);
      return Error(ErrorCode::internal, {"worksheet " + s.name});
    }
    std::vector<size_t> width(s.headers.size(), 4);
    auto put = [&](lxw_row_t r, const std::vector<std::string>& cells, lxw_format* f) {
      for (size_t c = 0; c < cells.size(); ++c) {
        if (c >= width.size()) width.resize(c + 1, 4);
        width[c] = std::max(width[c], text::display_width(cells[c]));
        worksheet_write_string(ws, r, static_cast<lxw_col_t>(c), cells[c].c_str(), f);
      }
    };
    lxw_row_t first = 0;
    if (!s.title.empty()) {
      if (s.headers.size() > 1)
        worksheet_merge_range(ws, 0, 0, 0, static_cast<lxw_col_t>(s.headers.size() - 1), s.title.c_str(), title);
      else
        worksheet_write_string(ws, 0, 0, s.title.c_str(), title);
      first = 1;
    }
    put(first, s.headers, head);
    for (size_t r = 0; r < s.rows.size(); ++r) {
      const lxw_row_t row = static_cast<lxw_row_t>(first + 1 + r);
      put(row, s.rows[r], text);
      for (size_t c : s.numeric_columns) {
        double v = 0;
        if (c < s.rows[r].size() && number_of(s.rows[r][c], &v))
          worksheet_write_number(ws, row, static_cast<lxw_col_t>(c), v, number);
      }
    }
    if (!s.totals.empty()) put(static_cast<lxw_row_t>(first + 1 + s.rows.size()), s.totals, head);
    for (size_t c = 0; c < width.size(); ++c)
      worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                           static_cast<double>(std::min<size_t>(width[c], 60) + 2), s.numeric_columns.count(c) ? number : text);
    worksheet_freeze_panes(ws, first + 1, 0);
  }
  if (workbook_close(wb) != LXW_NO_ERROR) return Error(ErrorCode::io_error, {path});
  return ok_status();
}

}  // namespace tz::xlsx
