// Rendering tables for a terminal and as Excel-safe CSV.
#include <algorithm>

#include "tz/ops/lists.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

std::string render_table(const Table& t, Lang lang) {
  std::vector<size_t> width(t.headers.size(), 0);
  for (size_t c = 0; c < t.headers.size(); ++c) width[c] = text::display_width(t.headers[c]);
  for (auto& r : t.rows)
    for (size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], text::display_width(r[c]));
  std::string out = t.title;
  if (t.rows_are_persons)
    out += lang == Lang::zh ? "（共 " + std::to_string(t.rows.size()) + " 人）" : " (" + std::to_string(t.rows.size()) + " persons)";
  out += "\n";
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < width.size(); ++c) {
      std::string cell = c < cells.size() ? cells[c] : "";
      l += c + 1 == width.size() ? cell : text::pad_right(cell, width[c]) + "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(t.headers);
  std::vector<std::string> rule;
  for (auto w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (auto& r : t.rows) line(r);
  return out;
}

std::string render_csv(const Table& t) {
  csv::Writer w(true);
  w.add_row(t.headers);
  for (auto& r : t.rows) w.add_row(r);
  return w.take();
}

std::string render_tables_text(const std::vector<Table>& tables, Lang lang) {
  std::string out;
  for (auto& t : tables) {
    if (!out.empty()) out += "\n";
    out += render_table(t, lang);
  }
  return out;
}

std::string render_tables_csv(const std::vector<Table>& tables) {
  csv::Writer w(true);
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i > 0) {
      w.add_row({});
      w.add_row({tables[i].title});
    }
    w.add_row(tables[i].headers);
    for (auto& row : tables[i].rows) w.add_row(row);
  }
  return w.take();
}

}  // namespace tz::ops
