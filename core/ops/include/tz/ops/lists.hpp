// The lists of SPEC §9 (就业人员清单, 失业人员清单, 有意愿外出务工人员清单, 返乡回流人员台账, 待核实),
// one row per person, columns from the schema's list specs plus every field marked "list": true.
#pragma once

#include <string>
#include <vector>

#include "tz/model/region_tree.hpp"
#include "tz/ops/population.hpp"
#include "tz/ops/resources.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

struct Table {
  std::string title;
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  bool rows_are_persons = true;  // the title counts rows as persons
};

struct ListOptions {
  std::string kind;    // employed, unemployed, willing, returned, flagged
  std::string region;  // village, township or county code; empty = the whole store
  bool full_ids = false;
  Lang lang = Lang::zh;
};

std::vector<std::string> list_kinds();

// A --region value: empty, or a 6-, 9- or 12-digit code; invalid_input naming it otherwise.
Status check_region(const std::string& code);
// Yuan as shown: up to two decimals, no trailing zeros ("4500", "12.5").
std::string money_text(double v);

Result<Table> make_list(const DeviceStore& store, const Resources& resources, const region::RegionTree* tree,
                        const ListOptions& options);
// The same from a population already loaded from the store (several outputs, one decryption pass).
Result<Table> make_list(const DeviceStore& store, const Population& pop, const Resources& resources,
                        const region::RegionTree* tree, const ListOptions& options);

// Aligned by display width (CJK counts two columns), a title line first.
std::string render_table(const Table& t, Lang lang);
// UTF-8 with BOM, one header line, long digit strings guarded as ="…" so Excel keeps them as text.
std::string render_csv(const Table& t);
// Several tables: each as render_table, an empty line between them.
std::string render_tables_text(const std::vector<Table>& tables, Lang lang);
// Several tables in one CSV (UTF-8 with BOM): the first table's header row and rows, then each other
// table after an empty line, as its title row, its header row and its rows.
std::string render_tables_csv(const std::vector<Table>& tables);

}  // namespace tz::ops
