// CSV parsing (one pass over the bytes, table-driven scans, no per-character allocation) and the
// Excel-oriented writer with ="…" text guards.
#include "tz/util/csv.hpp"

#include <algorithm>
#include <array>

namespace tz::csv {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Bytes that end an unquoted run (kStopPlain) or a run inside quotes (kStopQuoted).
constexpr std::array<bool, 256> make_table(std::string_view stops) {
  std::array<bool, 256> t{};
  for (char c : stops) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kStopPlain = make_table(",\r\n");
constexpr auto kStopQuoted = make_table("\"\r\n");

inline const char* scan(const char* p, const char* end, const std::array<bool, 256>& stop) {
  while (p < end && !stop[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Removes one level of "" escaping; false if a lone quote is found.
bool unescape_quotes(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '"') {
      if (i + 1 >= in.size() || in[i + 1] != '"') return false;
      ++i;
    }
    out.push_back(in[i]);
  }
  return true;
}

// `="…"` → the literal's text, if the whole cell is one string literal.
bool unwrap_formula(std::string_view s, std::string& out) {
  if (s.size() < 3 || s.substr(0, 2) != "=\"" || s.back() != '"') return false;
  return unescape_quotes(s.substr(2, s.size() - 3), out);
}

}  // namespace

tz::Result<std::vector<Row>> parse(std::string_view in) {
  if (in.substr(0, kBom.size()) == kBom) in.remove_prefix(kBom.size());
  const char* p = in.data();
  const char* const end = p + in.size();

  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(std::count(p, end, '\n')) + 1);
  size_t line = 1;
  size_t width = 0;  // cells in the previous row: a good guess for the next one

  while (p < end) {
    if (*p == '\n') {  // empty line
      ++line;
      ++p;
      continue;
    }
    if (*p == '\r') {
      ++line;
      ++p;
      if (p < end && *p == '\n') ++p;
      continue;
    }
    Row& row = rows.emplace_back();
    row.line = line;
    row.cells.reserve(width);
    for (;;) {
      std::string& cell = row.cells.emplace_back();
      if (p < end && *p == '"') {
        const size_t start_line = line;
        ++p;
        for (;;) {
          const char* q = scan(p, end, kStopQuoted);
          cell.append(p, q);
          if (q == end) {
            return Error(ErrorCode::invalid_input,
                         {bilingual("第 " + std::to_string(start_line) + " 行：引号未闭合（文件可能被截断）",
                                    "line " + std::to_string(start_line) + ": unterminated quote (is the file cut short?)")});
          }
          if (*q == '"') {
            if (q + 1 < end && q[1] == '"') {
              cell.push_back('"');
              p = q + 2;
              continue;
            }
            p = q + 1;
            break;
          }
          ++line;  // a line break inside the quotes is kept as written
          if (*q == '\r' && q + 1 < end && q[1] == '\n') {
            cell.append("\r\n", 2);
            p = q + 2;
          } else {
            cell.push_back(*q);
            p = q + 1;
          }
        }
        const char* q = scan(p, end, kStopPlain);  // stray text after the closing quote
        cell.append(p, q);
        p = q;
      } else {
        const char* q = scan(p, end, kStopPlain);
        cell.assign(p, q);
        p = q;
      }
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      break;
    }
    if (p < end) {  // the row's line end
      if (*p == '\r' && p + 1 < end && p[1] == '\n') ++p;
      ++p;
      ++line;
    }
    width = row.cells.size();
  }
  return rows;
}

std::string unwrap_excel_text(std::string_view cell) {
  std::string out;
  if (unwrap_formula(cell, out)) return out;
  // The raw CSV form "=""…""" (a cell that was not unquoted by the CSV layer).
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"' && cell.substr(1, 1) == "=") {
    std::string unquoted;
    if (unescape_quotes(cell.substr(1, cell.size() - 2), unquoted) &&
        unwrap_formula(unquoted, out)) {
      return out;
    }
  }
  return std::string(cell);
}

bool looks_excel_damaged_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  size_t i = 0;
  const size_t n = s.size();
  const size_t int_start = i;
  while (i < n && is_digit(s[i])) ++i;
  if (i == int_start) return false;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i >= n || (s[i] != 'E' && s[i] != 'e')) return false;
  ++i;
  if (i < n && s[i] == '+') ++i;
  const size_t exp_start = i;
  while (i < n && is_digit(s[i])) ++i;
  return i > exp_start && i == n;
}

bool needs_text_guard(std::string_view v) {
  const size_t n = v.size();
  if (n < 2) return false;
  const bool x_end = v.back() == 'X' || v.back() == 'x';
  const size_t digits_end = x_end ? n - 1 : n;
  for (size_t i = 0; i < digits_end; ++i) {
    if (!is_digit(v[i])) return false;
  }
  if (x_end) return n >= 15 && n <= 20;
  return n >= 11 || v[0] == '0';
}

Writer::Writer(bool bom) {
  if (bom) out_.append(kBom);
}

void Writer::add_cell(std::string_view cell) {
  if (needs_text_guard(cell) || (!cell.empty() && cell.front() == '=')) {
    // Formula ="…" (quotes in the literal doubled), then CSV-quoted (every quote doubled again).
    out_.append("\"=\"\"");
    for (char c : cell) {
      if (c == '"') {
        out_.append("\"\"\"\"");
      } else {
        out_.push_back(c);
      }
    }
    out_.append("\"\"\"");
    return;
  }
  if (cell.find_first_of(",\"\r\n") == std::string_view::npos) {
    out_.append(cell);
    return;
  }
  out_.push_back('"');
  for (char c : cell) {
    if (c == '"') out_.push_back('"');
    out_.push_back(c);
  }
  out_.push_back('"');
}

void Writer::add_row(const std::vector<std::string>& cells) {
  if (cells.size() == 1 && cells[0].empty()) {
    out_.append("\"\"");  // a bare empty line would be skipped by parse()
  } else {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out_.push_back(',');
      add_cell(cells[i]);
    }
  }
  out_.append("\r\n");
}

std::string Writer::take() {
  std::string s = std::move(out_);
  out_.clear();
  return s;
}

}  // namespace tz::csv
