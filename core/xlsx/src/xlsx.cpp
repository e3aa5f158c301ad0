// Excel workbooks over libxlsxwriter.
#include "tz/xlsx/xlsx.hpp"

#include <xlsxwriter.h>

#include <algorithm>

#include "tz/util/text.hpp"

namespace tz::xlsx {

Status write_workbook(const std::string& path, const std::vector<Sheet>& sheets) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) return Error(ErrorCode::io_error, {path});
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
    put(0, s.headers, head);
    for (size_t r = 0; r < s.rows.size(); ++r) put(static_cast<lxw_row_t>(r + 1), s.rows[r], text);
    for (size_t c = 0; c < width.size(); ++c)
      worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                           static_cast<double>(std::min<size_t>(width[c], 60) + 2), text);
    worksheet_freeze_panes(ws, 1, 0);
  }
  if (workbook_close(wb) != LXW_NO_ERROR) return Error(ErrorCode::io_error, {path});
  return ok_status();
}

}  // namespace tz::xlsx
