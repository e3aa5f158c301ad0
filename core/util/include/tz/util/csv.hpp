// RFC 4180 CSV reading and Excel-friendly CSV writing (UTF-8 with BOM, CRLF, ="…" text guards for
// long digit strings), plus detection of ID numbers Excel has already turned into 5.22632E+17.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tz/util/error.hpp"

namespace tz::csv {

struct Row {
  size_t line = 0;                 // physical 1-based line on which the row's first character is
  std::vector<std::string> cells;  // cell texts, quotes removed and "" unescaped
};

// Parses UTF-8 CSV text (a leading UTF-8 BOM is skipped). Quoted cells may hold commas, "" and line
// breaks; lines end with CRLF, LF or a lone CR. Zero-length lines are skipped but counted, so a
// row's `line` is always its physical line in the file. A quote inside an unquoted cell, or text
// after a closing quote, is kept literally (Excel does the same). An unterminated quote is an
// Error(invalid_input, {"line N: unterminated quote"}) with N the line where the quoted cell began.
tz::Result<std::vector<Row>> parse(std::string_view utf8);

// `="0012"` (Excel's "keep this as text" formula, as a cell reads after CSV unquoting) → `0012`;
// "" inside the literal becomes ". The raw CSV form `"=""0012"""` is accepted too. Any other cell,
// including formulas that are not a single string literal, is returned unchanged.
std::string unwrap_excel_text(std::string_view cell);

// True for scientific notation such as 5.22632E+17, 5.22632e+17, 5.2E17 or 5E+17: what Excel
// shows, and saves, for an ID number or other long digit string it read as a number. Surrounding
// ASCII spaces are ignored; negative exponents are not counted.
bool looks_excel_damaged_number(std::string_view cell);

// True when Excel would damage the value if read as a number: 11 or more digits (phone and ID
// numbers), 15–20 characters of digits ending in X/x (ID numbers), or 2+ digits with a leading 0.
bool needs_text_guard(std::string_view value);

// Builds CSV text for Excel on Chinese Windows: optional UTF-8 BOM, CRLF row ends, cells needing a
// text guard (and cells starting with '=') written as ="…" inside CSV quotes; other cells quoted
// only when they hold a comma, quote, CR or LF. parse() + unwrap_excel_text() gives the cells back.
class Writer {
 public:
  explicit Writer(bool bom = true);
  void add_row(const std::vector<std::string>& cells);
  const std::string& str() const { return out_; }
  // Moves the text out; the writer is left empty (no BOM) and may be reused.
  std::string take();

 private:
  void add_cell(std::string_view cell);
  std::string out_;
};

}  // namespace tz::csv
