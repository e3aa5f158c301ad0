// Reading an XLSX workbook back in tests, with the system's unzip (no spreadsheet library): a
// member's text, and a sheet as rows of cell texts (shared strings resolved), whether each cell is a
// string cell, and the frozen pane's ySplit. Header-only.
#pragma once

#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include "process.hpp"

namespace tz::test {

inline std::string unzip(const std::string& xlsx, const std::string& member) {
  auto r = run_process("/usr/bin/unzip", {"-p", xlsx, member});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// The first sheet of a workbook as rows of cell texts (shared strings resolved), with whether every
// cell is a string cell, and the frozen pane's ySplit.
struct SheetRead {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<bool>> is_text;  // per cell: a string cell (t="s")
  bool all_text = true;
  std::string frozen_rows;
};
inline SheetRead read_sheet(const std::string& xlsx, int n = 1) {
  std::vector<std::string> strings;
  const std::string sst = unzip(xlsx, "xl/sharedStrings.xml");
  static const std::regex si("<si><t[^>]*>([^<]*)</t></si>");
  for (auto it = std::sregex_iterator(sst.begin(), sst.end(), si); it != std::sregex_iterator(); ++it) strings.push_back((*it)[1]);
  const std::string sheet = unzip(xlsx, "xl/worksheets/sheet" + std::to_string(n) + ".xml");
  SheetRead out;
  static const std::regex pane("<pane [^>]*ySplit=\"([0-9]+)\"");
  std::smatch m;
  if (std::regex_search(sheet, m, pane)) out.frozen_rows = m[1];
  static const std::regex row("<row [^>]*>(.*?)</row>");
  static const std::regex cell("<c r=\"[A-Z]+[0-9]+\"([^>]*)>(?:<v>([^<]*)</v>)?</c>");
  for (auto r = std::sregex_iterator(sheet.begin(), sheet.end(), row); r != std::sregex_iterator(); ++r) {
    const std::string body = (*r)[1];
    std::vector<std::string> cells;
    std::vector<bool> texts;
    for (auto c = std::sregex_iterator(body.begin(), body.end(), cell); c != std::sregex_iterator(); ++c) {
      const std::string attrs = (*c)[1], v = (*c)[2];
      if (attrs.find("t=\"s\"") == std::string::npos) out.all_text = false;
      texts.push_back(attrs.find("t=\"s\"") != std::string::npos);
      cells.push_back(attrs.find("t=\"s\"") != std::string::npos ? strings.at(std::stoul(v)) : v);
    }
    out.rows.push_back(cells);
    out.is_text.push_back(texts);
  }
  return out;
}

}  // namespace tz::test
