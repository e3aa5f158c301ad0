// bench_reports: the progress report and every list (SPEC §9; issue 9) on a county-sized store, as the
// server makes them (its county admin replica is a device store) and as a device does.
//   - targets: report + all lists on 275,000 persons <= 5 s (server); on 50,000 persons <= 1 s (device);
//   - each output is rendered as a user gets it (CSV; the lists also as XLSX), the store already open
//     (the key derivation is reported apart, as in bench_daily); work standards and subsidies reported
//     beside, outside the target.
//   - the store is read and decrypted once (ops::Population) for the report and the five lists, as one
//     program making them all does; each separate command pays that read again (the figure is printed).
// The baseline (last year's list) is every second person of the roster, so the person-by-person part
// of the report is county-sized too.
//
//   bench_reports [--persons N] [--seed S] [--runs R] [--target-ms T] [--data DIR]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "roster_gen.hpp"
#include "tz/ops/baseline.hpp"
#include "tz/ops/lists.hpp"
#include "tz/ops/policy.hpp"
#include "tz/ops/population.hpp"
#include "tz/ops/report.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/xlsx/xlsx.hpp"

#ifndef TZ_SOURCE_DATA_DIR
#define TZ_SOURCE_DATA_DIR "."
#endif

namespace fs = std::filesystem;
using tz::bench::Clock;
using tz::bench::ms_since;

int main(int argc, char** argv) {
  size_t persons = 275000;
  uint64_t seed = 1;
  int runs = 3;
  double target_ms = -1;
  std::string data = TZ_SOURCE_DATA_DIR;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--persons") persons = std::stoul(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--runs") runs = std::stoi(next());
    else if (a == "--target-ms") target_ms = std::stod(next());
    else if (a == "--data") data = next();
    else {
      std::cerr << "usage: bench_reports [--persons N] [--seed S] [--runs R] [--target-ms T] [--data DIR]\n";
      return 64;
    }
  }
  if (target_ms < 0) target_ms = persons > 50000 ? 5000 : 1000;
  const std::string load = tz::bench::load_average();
  auto res = tz::ops::load_resources(data).take();
  auto tree_csv = res->county_tree_csv("522632").value();
  auto tree = tz::region::RegionTree::parse_csv(tree_csv, "shipped").take();
  tz::bench::RosterSpec spec;
  spec.seed = seed;
  spec.persons = persons;
  spec.rich = true;  // organised out-migration, fares, contracts: the subsidies have work to do
  spec.villages = tz::bench::villages_of_tree(tree_csv);
  auto roster = tz::bench::generate_roster(spec);

  fs::path dir = fs::temp_directory_path() / ("tz-bench-reports-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string pass = "bench passphrase 台账";
  auto t_fill = Clock::now();
  {
    auto store = tz::create_device_store(dir, pass, res->schema, tz::bench::bench_store_config(tree_csv), tz::ScryptCost{1ULL << 10, 8, 1})
                     .take();
    std::string csv = tz::bench::roster_csv(roster);
    auto fill = tz::bench::fill_bench_store(*store, csv, *res, tree, tz::china_midnight_ms({2026, 11, 1}), seed, false);
    if (!fill.ok) {
      std::cerr << "import failed\n";
      return 1;
    }
    std::string baseline = "村代码,姓名,身份证号\n";
    for (size_t i = 0; i < roster.persons.size(); i += 2)
      baseline += roster.persons[i].village + "," + roster.persons[i].name + "," + roster.persons[i].id_number + "\n";
    auto b = tz::ops::parse_baseline_csv(baseline, "522632", &tree, {2026, 11, 30}, &res->counties).take();
    tz::WriteBatch wb;
    wb.configs.push_back({tz::ops::kConfigBaseline, {1, tz::ops::baseline_config_value(b.baseline)}});
    if (!store->write(wb)) return 1;
  }
  const double fill_ms = ms_since(t_fill);

  auto t_open = Clock::now();
  auto store = tz::open_device_store(dir, pass, res->schema).take();
  const double open_ms = ms_since(t_open);
  const fs::path xlsx_path = dir / "list.xlsx";

  std::vector<double> load_t, report_t, lists_t, xlsx_t, standards_t, subsidies_t;
  size_t regions = 0, list_rows = 0, not_gone = 0, standard_rows = 0, subsidy_lines = 0;
  size_t bytes = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    const auto pop = tz::ops::Population::load(*store);
    load_t.push_back(ms_since(t0));
    t0 = Clock::now();  // the report apart from the load (the total adds the three)
    auto rep = tz::ops::make_report(*store, pop, &tree, {}).take();
    bytes = tz::ops::render_report_csv(rep, tz::ops::ReportUnit::person, tz::Lang::zh).size();
    report_t.push_back(ms_since(t0));
    regions = rep.regions.size();
    not_gone = rep.not_gone_out.size();

    t0 = Clock::now();
    list_rows = 0;
    std::vector<tz::ops::Table> tables;
    for (auto& kind : tz::ops::list_kinds()) {
      tables.push_back(tz::ops::make_list(*store, pop, *res, &tree, {kind, "", false, tz::Lang::zh}).take());
      bytes += tz::ops::render_csv(tables.back()).size();
      list_rows += tables.back().rows.size();
    }
    lists_t.push_back(ms_since(t0));

    t0 = Clock::now();
    for (auto& t : tables) {
      tz::xlsx::Sheet s{"清单", t.headers, t.rows};
      s.title = t.title;
      if (!tz::xlsx::write_workbook(xlsx_path.string(), {s}, {1796054400})) return 1;
    }
    xlsx_t.push_back(ms_since(t0));

    auto policy = tz::ops::load_policy(*res).take();
    t0 = Clock::now();
    auto ws = tz::ops::work_standards(*store, policy, "").take();
    tz::ops::render_tables_csv(tz::ops::work_standards_tables(ws, policy, &tree, tz::Lang::zh));
    standards_t.push_back(ms_since(t0));
    standard_rows = ws.size();
    t0 = Clock::now();
    auto lines = tz::ops::compute_subsidies(*store, policy, "").take();
    tz::ops::render_tables_csv(tz::ops::subsidy_tables(lines, store->schema(), &tree, tz::Lang::zh));
    subsidies_t.push_back(ms_since(t0));
    subsidy_lines = lines.size();
  }
  store.reset();
  fs::remove_all(dir);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double load_ms = median(load_t), report_ms = median(report_t), lists_ms = median(lists_t);
  const double total = load_ms + report_ms + lists_ms;

  std::printf("== bench_reports: progress report and lists (issue 9) ==\n");
  std::printf("configuration\n");
  std::printf("  persons (N)              %zu (seed %llu, rich roster), 522632 villages %zu; baseline %zu persons\n", persons,
              static_cast<unsigned long long>(seed), spec.villages.size(), (persons + 1) / 2);
  std::printf("  store                    encrypted device store (the server's county admin replica is one), opened before timing\n");
  std::printf("  CPUs                     %u; load average at start %s; median of %d runs\n", std::thread::hardware_concurrency(),
              load.c_str(), runs);
  std::printf("  fill (import + baseline) %.1f s; open with passphrase (KDF 2^10) %.0f ms, apart\n", fill_ms / 1000, open_ms);
  std::printf("results\n");
  std::printf("  read and decrypt everyone %.0f ms (ops::Population::load, once for the report and the lists)\n", load_ms);
  std::printf("  report (CSV)             %.0f ms: %zu regions, %zu not gone out this year\n", report_ms, regions, not_gone);
  std::printf("  5 lists (CSV)            %.0f ms: %zu rows\n", lists_ms, list_rows);
  std::printf("  report + all lists       %.0f ms   target %.0f ms  ratio %.2f  %s  (%.1f MB of CSV)\n", total, target_ms,
              total / target_ms, total <= target_ms ? "MEETS" : "ABOVE TARGET", bytes / 1e6);
  std::printf("  5 lists as XLSX          %.0f ms more (libxlsxwriter), reported apart\n", median(xlsx_t));
  std::printf("  work standards           %.0f ms (with its own load): %zu employed persons\n", median(standards_t), standard_rows);
  std::printf("  subsidies                %.0f ms (with its own load): %zu amounts\n", median(subsidies_t), subsidy_lines);
  return 0;
}
