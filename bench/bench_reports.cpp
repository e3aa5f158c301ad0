// bench_reports: the progress report and every list (SPEC §9; issue 9) on a county-sized store, as the
// server makes them (its county admin replica is a device store) and as a device does.
//   - targets: report + all lists on 275,000 persons <= 5 s (server); on 50,000 persons <= 1 s (device);
//   - the target figure is `export` (decision 430) as the command runs it, tz::cli::write_export: the
//     store opened cold (the passphrase's key derivation timed apart), everyone read and decrypted
//     once, the report and the five lists made side by side on worker_threads() threads and written
//     as CSV files (XLSX timed beside it);
//   - the six separate commands (`report`, `list KIND`), each reading everyone again, are timed
//     beside it, and their bytes must equal the export's files;
//   - work standards and subsidies are reported apart, outside the target.
// The baseline (last year's list) is every second person of the roster, so the person-by-person part
// of the report is county-sized too.
//
//   bench_reports [--device | --server] [--persons N] [--seed S] [--runs R] [--target-ms T] [--data DIR]
//                 [--store DIR] [--quick]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "roster_gen.hpp"
#include "tz/cli/output.hpp"
#include "tz/ops/baseline.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/ops/lists.hpp"
#include "tz/ops/policy.hpp"
#include "tz/ops/population.hpp"
#include "tz/ops/report.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/util/parallel.hpp"

#ifndef TZ_SOURCE_DATA_DIR
#define TZ_SOURCE_DATA_DIR "."
#endif

namespace fs = std::filesystem;
using tz::bench::Clock;
using tz::bench::ms_since;

namespace {

// Wall and CPU time of one timed section (CPU: the process's, so waits for other processes on a
// shared machine are left out).
struct Timing {
  std::vector<double> wall, cpu;
  double peak_kb = 0;
  void add(Clock::time_point t0, double cpu0) {
    wall.push_back(ms_since(t0));
    cpu.push_back(tz::bench::cpu_ms() - cpu0);
  }
};

// Runs a program with its output thrown away; its wall time and its CPU time (every thread, user +
// system, from the kernel's accounting of the finished child) are added to `timing`. False when it
// could not run or did not exit 0.
bool run_timed(Timing& timing, const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  auto t0 = Clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) return false;
  timing.wall.push_back(ms_since(t0));
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  timing.cpu.push_back(ms(ru.ru_utime) + ms(ru.ru_stime));
  timing.peak_kb = std::max<double>(timing.peak_kb, static_cast<double>(ru.ru_maxrss));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t persons = 50000;
  uint64_t seed = 1;
  int runs = 3;
  double target_ms = -1;
  bool quick = false;
  const char* scenario = "device";
  std::string data = TZ_SOURCE_DATA_DIR;
  std::string keep;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--persons") persons = std::stoul(next());
    else if (a == "--device") persons = 50000, scenario = "device";
    else if (a == "--server") persons = 275000, scenario = "server";
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--runs") runs = std::max(1, std::stoi(next()));
    else if (a == "--target-ms") target_ms = std::stod(next());
    else if (a == "--data") data = next();
    else if (a == "--store") keep = next();
    else if (a == "--quick") quick = true;
    else {
      std::cerr << "usage: bench_reports [--device | --server] [--persons N] [--seed S] [--runs R] [--target-ms T]\n"
                   "                     [--data DIR] [--store DIR] [--quick]\n";
      return 64;
    }
  }
  if (persons > 50000) scenario = "server";
  if (target_ms < 0) target_ms = persons > 50000 ? 5000 : 1000;
  const std::string load = tz::bench::load_average();
  auto res = tz::ops::load_resources(data).take();
  auto tree_csv = res->county_tree_csv("522632").value();
  auto tree = tz::region::RegionTree::parse_csv(tree_csv, "shipped").take();

  // The store: generated and filled, in a temporary folder removed at exit, or kept in --store DIR
  // (and used again when it is there: the fill takes longer than the figures at 275,000 persons).
  const fs::path dir = keep.empty() ? fs::temp_directory_path() / ("tz-bench-reports-" + std::to_string(::getpid())) : fs::path(keep);
  const std::string pass = "bench passphrase 台账";
  double fill_ms = -1;
  if (keep.empty() || !tz::device_store_exists(dir)) {
    fs::remove_all(dir);
    tz::bench::RosterSpec spec;
    spec.seed = seed;
    spec.persons = persons;
    spec.rich = true;  // organised out-migration, fares, contracts: the subsidies have work to do
    spec.villages = tz::bench::villages_of_tree(tree_csv);
    auto roster = tz::bench::generate_roster(spec);
    auto t_fill = Clock::now();
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
    fill_ms = ms_since(t_fill);
  }
  auto open = [&] { return tz::open_device_store(dir, pass, res->schema).take(); };
  size_t stored_persons = 0, stored_entities = 0;
  {
    auto s = open();
    stored_persons = s->entity_count(tz::EntityType::person);
    for (auto t : {tz::EntityType::household, tz::EntityType::person, tz::EntityType::job, tz::EntityType::visit})
      stored_entities += s->entity_count(t);
  }
  const auto kinds = tz::ops::list_kinds();
  const tz::cli::Messages messages("bench_reports", tz::cli::common_texts());
  std::ostringstream sink;
  const tz::cli::Io io{messages, tz::Lang::zh, false, sink, sink};

  // 1. The target: `export` as field-cli / sync-server run it (tz::cli::write_export): the store
  //    opened cold (the passphrase's key derivation timed apart), the region tree read from it, then
  //    the report and the five lists made from one read and written as files, on worker_threads()
  //    threads. CSV is the figure; XLSX is timed beside it.
  // 2. Each of the six as its own command (`report`, `list KIND`): each opens the store and reads
  //    everyone again. Their bytes must equal the export's files.
  Timing process_t, process_xlsx_t, open_t, export_t, cmd_report_t, cmd_lists_t, standards_t, subsidies_t;
  std::vector<Timing> cmd_list_t(kinds.size());
  size_t regions = 0, list_rows = 0, not_gone = 0, standard_rows = 0, subsidy_lines = 0, bytes = 0;
  std::string first_bytes;
  const fs::path out_dir = dir / "export";
  for (int r = 0; r < runs; ++r) {
    // One command: the store opened cold (timed apart), then its work.
    auto command = [&](Timing& timing, const auto& work) {
      auto t0 = Clock::now();
      double c0 = tz::bench::cpu_ms();
      auto store = open();
      open_t.add(t0, c0);
      t0 = Clock::now(), c0 = tz::bench::cpu_ms();
      auto t = tz::ops::region_tree_of(*store);
      auto out = work(*store, t ? &*t : nullptr);
      timing.add(t0, c0);
      return out;
    };
    auto export_as = [&](const std::string& format) {
      return [&, format](const tz::DeviceStore& store, const tz::region::RegionTree* t) {
        tz::cli::ExportRequest req;
        req.format = format;
        req.out = out_dir.string();
        return tz::cli::write_export(io, store, *res, t, req, tz::ops::ReportOptions{});
      };
    };
    // The program itself: `field-cli export` (sync-server export runs the same tz::cli::write_export
    // on its county admin replica, which is a device store like this one).
    const fs::path proc_dir = dir / "export-process", proc_xlsx = dir / "export-process-xlsx";
    fs::remove_all(proc_dir);
    fs::remove_all(proc_xlsx);
    const std::vector<std::string> env = {"TAIZHANG_DATA_DIR=" + data, "TAIZHANG_PASSPHRASE=" + pass};
    if (!run_timed(process_t, {TZ_FIELD_CLI, "export", "--store", dir.string(), "--out", proc_dir.string()}, env) ||
        !run_timed(process_xlsx_t, {TZ_FIELD_CLI, "export", "--store", dir.string(), "--out", proc_xlsx.string(), "--format", "xlsx"}, env)) {
      std::cerr << "field-cli export failed\n";
      return 1;
    }
    fs::remove_all(out_dir);
    const auto files = command(export_t, export_as("csv"));
    for (auto& f : files)
      if (tz::ops::read_file(f.path).value() != tz::ops::read_file(proc_dir / fs::path(f.path).filename()).value()) {
        std::cerr << "field-cli export wrote other bytes than write_export in this process: " << f.path << "\n";
        return 2;
      }
    std::string exported;  // the export's files in the separate commands' order: report, then lists
    for (auto& kind : std::vector<std::string>{"report", "employed", "unemployed", "willing", "returned", "flagged"})
      for (auto& f : files)
        if (f.kind == kind) exported += tz::ops::read_file(f.path).value();
    regions = list_rows = 0;
    for (auto& f : files) (f.kind == "report" ? regions : list_rows) += f.rows;

    std::string all;
    all += command(cmd_report_t, [&](const tz::DeviceStore& store, const tz::region::RegionTree* t) {
      auto rep = tz::ops::make_report(store, t, {}).take();
      not_gone = rep.not_gone_out.size();
      return tz::ops::render_report_csv(rep, tz::ops::ReportUnit::person, tz::Lang::zh);
    });
    double lists_wall = 0, lists_cpu = 0;
    for (size_t k = 0; k < kinds.size(); ++k) {
      all += command(cmd_list_t[k], [&](const tz::DeviceStore& store, const tz::region::RegionTree* t) {
        return tz::ops::render_csv(tz::ops::make_list(store, *res, t, {kinds[k], "", false, tz::Lang::zh}).take());
      });
      lists_wall += cmd_list_t[k].wall.back();
      lists_cpu += cmd_list_t[k].cpu.back();
    }
    cmd_lists_t.wall.push_back(lists_wall);
    cmd_lists_t.cpu.push_back(lists_cpu);
    if (exported != all || (r > 0 && all != first_bytes)) {
      std::cerr << "outputs differ between runs or between export and the separate commands\n";
      return 2;
    }
    if (r == 0) first_bytes = all;
    bytes = all.size();
    if (quick) continue;

    auto store = open();
    auto policy = tz::ops::load_policy(*res).take();
    auto t0 = Clock::now();
    double c0 = tz::bench::cpu_ms();
    auto ws = tz::ops::work_standards(*store, policy, "").take();
    tz::ops::render_tables_csv(tz::ops::work_standards_tables(ws, policy, &tree, tz::Lang::zh));
    standards_t.add(t0, c0);
    standard_rows = ws.size();
    t0 = Clock::now(), c0 = tz::bench::cpu_ms();
    auto lines = tz::ops::compute_subsidies(*store, policy, "").take();
    tz::ops::render_tables_csv(tz::ops::subsidy_tables(lines, store->schema(), &tree, tz::Lang::zh));
    subsidies_t.add(t0, c0);
    subsidy_lines = lines.size();
  }
  if (keep.empty()) fs::remove_all(dir);
  else fs::remove_all(out_dir);

  auto fig = [](const Timing& t) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%6.0f ms (CPU %.0f)", median(t.wall), median(t.cpu));
    return std::string(buf);
  };
  const double exp = median(process_t.wall);
  const double cmds = median(cmd_report_t.wall) + median(cmd_lists_t.wall);
  const double cmds_cpu = median(cmd_report_t.cpu) + median(cmd_lists_t.cpu);

  std::printf("== bench_reports: progress report and lists (issue 9), %s case ==\n", scenario);
  std::printf("configuration\n");
  std::printf("  persons (N)              %zu in the store (%zu entities: households, persons, jobs, visits; seed %llu, rich roster),\n"
              "                           522632's 252 villages; baseline of every second person\n",
              stored_persons, stored_entities, static_cast<unsigned long long>(seed));
  std::printf("  store                    encrypted device store (%s), %s\n",
              std::string(scenario) == "server" ? "the server's county admin replica is one: sync-server export / report / list make them from it"
                                                : "field-cli export / report / list",
              fill_ms < 0 ? ("reused from " + dir.string()).c_str() : ("filled in " + std::to_string(static_cast<int>(fill_ms / 1000)) + " s").c_str());
  std::printf("  CPUs                     %u, %u worker threads (TZ_THREADS overrides); load average at start %s;\n"
              "                           median of %d runs; wall time (process CPU time, all threads)\n",
              std::thread::hardware_concurrency(), tz::worker_threads(), load.c_str(), runs);
  std::printf("results: `field-cli export` as a user runs it, a process from start to exit (the store opened with\n"
              "         its passphrase, everyone read and decrypted once, the report and five lists made side by side\n"
              "         and written as files)\n");
  std::printf("  export, CSV              %s  target %.0f ms  ratio %.2f  %s  (%.1f MB, %zu regions, %zu list rows)\n",
              fig(process_t).c_str(), target_ms, exp / target_ms, exp <= target_ms ? "MEETS" : "ABOVE TARGET", bytes / 1e6, regions,
              list_rows);
  std::printf("  export, XLSX             %s (libxlsxwriter)\n", fig(process_xlsx_t).c_str());
  std::printf("  peak memory              %.0f MB (the CSV run)\n", process_t.peak_kb / 1024);
  std::printf("the same inside this process (tz::cli::write_export; same bytes checked)\n");
  std::printf("  open with passphrase     %s each command, apart (KDF scrypt 2^10 here)\n", fig(open_t).c_str());
  std::printf("  export, CSV              %s\n", fig(export_t).c_str());
  std::printf("the same as six separate commands (each reads everyone again; identical bytes checked)\n");
  std::printf("  report                   %s: %zu not gone out this year\n", fig(cmd_report_t).c_str(), not_gone);
  for (size_t k = 0; k < kinds.size(); ++k) std::printf("  list %-19s %s\n", kinds[k].c_str(), fig(cmd_list_t[k]).c_str());
  std::printf("  report + all lists       %6.0f ms (CPU %.0f)  ratio %.2f to the target\n", cmds, cmds_cpu, cmds / target_ms);
  if (!quick) {
    std::printf("apart, outside the target\n");
    std::printf("  work standards           %s (with its own load): %zu employed persons\n", fig(standards_t).c_str(), standard_rows);
    std::printf("  subsidies                %s (with its own load): %zu amounts\n", fig(subsidies_t).c_str(), subsidy_lines);
  }
  return 0;
}
