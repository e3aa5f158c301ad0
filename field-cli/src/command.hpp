// field-cli's command plumbing (over the shared tz/cli/args.hpp): the store, the passphrase and the
// collector, shared by the commands in cli.cpp and records_commands.cpp.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "i18n.hpp"
#include "tz/cli/args.hpp"
#include "tz/cli/boundary.hpp"
#include "tz/cli/output.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/ops/enrol.hpp"
#include "tz/ops/lists.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/util/text.hpp"

namespace tz::cli {

using nlohmann::json;

// What field-cli accepts (options may come before or after the command words).
inline const ProgramSpec& program_spec() {
  static const ProgramSpec kSpec{
      {{"store", true},  {"collector", true}, {"lang", true},   {"json", false}, {"full-ids", false},
       {"help", false},  {"county", true},    {"period", true}, {"as-of", true}, {"dry-run", false},
       {"format", true}, {"out", true},       {"region", true}, {"set", true, true}, {"for", true},
       {"pick", true},   {"value", true},     {"plain-http", false}, {"timeout", true}, {"token-file", true},
       {"code", true},   {"export", true},    {"unit", true}},
      {"store", "collector", "lang", "json", "full-ids", "help"},
      {{"init", {"county", "period", "as-of"}},
       {"import", {"dry-run"}},
       {"list", {"format", "out", "region"}},
       {"report", {"format", "out", "region", "unit"}},
       {"export", {"format", "out", "region", "unit"}},
       {"standards", {"format", "out", "region"}},
       {"subsidies", {"format", "out", "region"}},
       {"add", {"set", "for"}},
       {"edit", {"set"}},
       {"show", {}},
       {"find", {}},
       {"validate", {}},
       {"status", {}},
       {"conflicts", {"region"}},
       {"resolve", {"pick", "value"}},
       {"notices", {}},
       {"enroll", {"plain-http", "token-file", "code"}},
       {"sync", {"timeout"}},
       {"bundle export", {"out"}},
       {"bundle import", {}},
       {"recover", {"export"}},
       {"audit head", {}}}};
  return kSpec;
}

inline std::filesystem::path default_store_dir() {
  if (const char* v = std::getenv("TAIZHANG_STORE"); v && *v) return v;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::filesystem::path(x) / "taizhang";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".local/share/taizhang";
  return "taizhang-store";
}

class Command {
 public:
  Command(Args args, Lang lang, std::istream& in, std::ostream& out, std::ostream& err)
      : args_(std::move(args)), lang_(lang), json_(args_.flags.count("json") > 0), in_(in), out_(out), err_(err) {}

  int dispatch() {
    if (args_.flags.count("help") || (args_.words.size() == 1 && args_.words[0] == "help")) {
      out_ << tr(lang_, "usage") << "\n";
      return 0;
    }
    const std::string cmd = command_of(args_, program_spec(), messages(), lang_);
    store_dir_ = args_.has("store") ? std::filesystem::path(args_.get("store")) : default_store_dir();
    if (cmd == "init") return cmd_init();
    if (cmd == "import") return cmd_import();
    if (cmd == "list") return cmd_list();
    if (cmd == "report") return cmd_report();
    if (cmd == "export") return cmd_export();
    if (cmd == "standards" || cmd == "subsidies") return cmd_policy(cmd);
    if (cmd == "add") return cmd_add();
    if (cmd == "edit") return cmd_edit();
    if (cmd == "show") return cmd_show();
    if (cmd == "find") return cmd_find();
    if (cmd == "validate") return cmd_validate();
    if (cmd == "status") return cmd_status();
    if (cmd == "conflicts") return cmd_conflicts();
    if (cmd == "resolve") return cmd_resolve();
    if (cmd == "notices") return cmd_notices();
    if (cmd == "enroll") return cmd_enroll();
    if (cmd == "sync") return cmd_sync();
    if (cmd == "bundle export") return cmd_bundle_export();
    if (cmd == "bundle import") return cmd_bundle_import();
    if (cmd == "recover") return cmd_recover();
    if (cmd == "audit head") return cmd_audit_head();
    throw CliError{2, tr(lang_, "unknown_command", {cmd})};
  }

 private:
  // --- shared plumbing ---

  const ops::Resources& resources() {
    if (!res_) {
      auto r = ops::load_resources(ops::default_data_dir(TZ_SOURCE_DATA_DIR));
      if (!r) fail(r.error());
      res_ = *r;
    }
    return *res_;
  }

  [[noreturn]] void fail(const Error& e) { throw CliError{e.exit_code(), e.message(lang_)}; }

  void expect_words(size_t n, const std::string& what) { cli::expect_words(args_, n, what, messages(), lang_); }

  std::string read_secret(const std::string& prompt) { return cli::read_secret(in_, err_, prompt); }

  std::string passphrase(bool confirm) {
    if (const char* v = std::getenv("TAIZHANG_PASSPHRASE"); v && *v) return v;
    if (!isatty(STDIN_FILENO)) throw CliError{1, tr(lang_, "passphrase_missing")};
    std::string p = read_secret(tr(lang_, "passphrase_prompt"));
    if (confirm && read_secret(tr(lang_, "passphrase_again")) != p) throw CliError{1, tr(lang_, "passphrase_mismatch")};
    return p;
  }

  // A new passphrase (init, recover): asked twice on a terminal, at least 8 characters.
  std::string new_passphrase() {
    std::string pass = passphrase(true);
    if (text::utf8_to_u32(pass).size() < 8) throw CliError{1, tr(lang_, "passphrase_short")};
    return pass;
  }
  static ScryptCost kdf_cost() {
    ScryptCost cost;
    if (const char* n = std::getenv("TAIZHANG_KDF_LOG2N"); n && *n) cost.n = 1ULL << std::stoi(n);
    return cost;
  }

  std::unique_ptr<DeviceStore> open_store() {
    auto& res = resources();
    if (!device_store_exists(store_dir_)) fail(Error(ErrorCode::store_missing, {store_dir_.string()}));
    auto s = open_device_store(store_dir_, passphrase(false), res.schema);
    if (!s) fail(s.error());
    return std::move(*s);
  }

  std::string collector(const DeviceStore& store) {
    std::string c = args_.get("collector");
    if (c.empty())
      if (const char* v = std::getenv("TAIZHANG_COLLECTOR"); v && *v) c = v;
    const auto& cfg = store.info().config;
    if (c.empty()) c = cfg.default_collector;
    if (std::find(cfg.collectors.begin(), cfg.collectors.end(), c) == cfg.collectors.end()) {
      std::string all;
      for (auto& x : cfg.collectors) all += (all.empty() ? "" : "、") + x;
      throw CliError{1, tr(lang_, "bad_collector", {c, all})};
    }
    return c;
  }

  std::optional<region::RegionTree> tree_of(const DeviceStore& store) { return ops::region_tree_of(store); }

  void print_json(const json& j) { out_ << j.dump(2) << "\n"; }

  Io io() const { return Io{messages(), lang_, json_, out_, err_}; }

  // --- commands ---

  int cmd_add();
  int cmd_edit();
  int cmd_show();
  int cmd_find();
  int cmd_validate();
  int cmd_status();
  // What sync brought back (review_commands.cpp).
  int cmd_conflicts();
  int cmd_resolve();
  int cmd_notices();
  int cmd_audit_head();
  // The county server (sync_commands.cpp).
  int cmd_enroll();
  int cmd_sync();
  int cmd_enroll_file();
  int report_enrolment(const DeviceStore& store, const ops::EnrolOutcome& outcome, const std::string& url);
  int report_pulled(const DeviceStore& store, bool period_changed, size_t conflicts, size_t notices);
  int cmd_bundle_export();
  int cmd_bundle_import();
  int cmd_recover();
  std::string describe_entity(const DeviceStore& store, EntityType type, const EntityId& id, int depth = 0);
  std::string shown_field_value(const FieldDef* f, const std::string& v);
  // Helpers of the record commands (records_commands.cpp).
  ValidationContext validation_context(const DeviceStore& store, const region::RegionTree* tree, const CivilDate& today);
  std::string person_summary(const DeviceStore& store, const EntityId& id);
  int save_and_report(DeviceStore& store, const std::vector<ops::Draft>& drafts, const std::string& collector,
                      int64_t now, const ValidationContext& ctx, const std::string& what);

  int cmd_init() {
    expect_words(1, "");
    for (auto* need : {"county", "collector", "period", "as-of"})
      if (!args_.has(need)) throw CliError{2, tr(lang_, "missing_option", {std::string("--") + need})};
    auto& res = resources();
    std::string county = text::trim(args_.get("county"));
    const region::County* c = res.counties.find(county);
    if (!c) throw CliError{1, tr(lang_, "unknown_county", {county})};
    std::vector<std::string> collectors = split_names(args_.get("collector"));
    if (collectors.empty()) throw CliError{2, tr(lang_, "missing_option", {"--collector"})};
    std::optional<Period> period;
    auto as_of = parse_date(args_.get("as-of"));
    std::string year = args_.get("period");
    if (as_of && text::all_digits(year) && year.size() == 4) period = make_period(std::stoi(year), *as_of);
    if (!period) throw CliError{1, tr(lang_, "bad_period")};
    StoreConfig cfg;
    cfg.county = county;
    cfg.collectors = collectors;
    cfg.default_collector = collectors.front();
    cfg.period = *period;
    size_t villages = 0;
    if (auto tree_csv = res.county_tree_csv(county)) {
      auto tree = region::RegionTree::parse_csv(*tree_csv, "shipped");
      if (tree) {
        cfg.region_tree_csv = *tree_csv;
        cfg.region_tree_version = "shipped";
        villages = tree->villages().size();
      }
    }
    if (device_store_exists(store_dir_)) fail(Error(ErrorCode::already_exists, {store_dir_.string()}));
    std::string pass = new_passphrase();
    auto store = create_device_store(store_dir_, pass, res.schema, cfg, kdf_cost());
    if (!store) fail(store.error());
    std::string all;
    for (auto& x : collectors) all += (all.empty() ? "" : "、") + x;
    if (json_) {
      print_json({{"ok", true},
                  {"store", store_dir_.string()},
                  {"device_id", (*store)->info().device.hex()},
                  {"county", county},
                  {"collectors", collectors},
                  {"period", period->year},
                  {"as_of", format_date(period->as_of)},
                  {"region_tree_villages", villages}});
    } else {
      out_ << tr(lang_, "init_done", {store_dir_.string(), county, c->province_name + c->city_name + c->name, all,
                                      std::to_string(period->year), format_date(period->as_of)})
           << "\n";
      out_ << (villages ? tr(lang_, "init_tree", {std::to_string(villages)}) : tr(lang_, "init_no_tree")) << "\n";
    }
    return 0;
  }

  int cmd_import() {
    expect_words(2, tr(lang_, "arg_file"));
    const std::string path = args_.words[1];
    auto bytes = ops::read_file(path);
    if (!bytes) throw CliError{1, tr(lang_, "read_failed", {path})};
    auto store = open_store();
    auto tree = tree_of(*store);
    ops::ImportEnv env;
    env.resources = &resources();
    env.tree = tree ? &*tree : nullptr;
    int64_t now = now_ms();
    env.today = china_date_of(now);
    env.edit = ops::EditContext{collector(*store), now};
    ops::ImportOptions opt;
    opt.dry_run = args_.flags.count("dry-run") > 0;
    auto r = ops::import_roster(*store, *bytes, env, opt);
    if (!r) fail(r.error());
    return print_import(io(), *r, opt.dry_run);
  }

  int cmd_list() {
    expect_words(2, tr(lang_, "arg_kind"));
    ListRequest req = list_request(io(), args_);
    auto store = open_store();
    auto tree = tree_of(*store);
    auto t = ops::make_list(*store, resources(), tree ? &*tree : nullptr, req.options);
    if (!t) fail(t.error());
    const int code = emit_list(io(), *t, req, store->info().config.period);
    // A list with full ID numbers is recorded and pushed to the county's audit chain (SPEC §6):
    // what, how many rows, where; never the IDs.
    if (code == 0 && req.options.full_ids) {
      const json summary = {{"kind", args_.words[1]}, {"rows", t->rows.size()}, {"format", req.format}, {"out", req.out}};
      if (auto st = ops::record_device_audit(*store, now_ms(), "list --full-ids", summary.dump()); !st) fail(st.error());
    }
    return code;
  }

  // The progress report for --region, else for the device's scope (what the server makes for the
  // same region: decision 402).
  int cmd_report() {
    expect_words(1, "");
    ReportRequest req = report_request(io(), args_);
    auto store = open_store();
    auto tree = tree_of(*store);
    auto r = ops::make_report(*store, tree ? &*tree : nullptr, report_options(*store, req.region));
    if (!r) fail(r.error());
    return emit_report(io(), *r, req);
  }

  // The report and all five lists into one folder, from one read of the store (decision 430).
  int cmd_export() {
    expect_words(1, "");
    ExportRequest req = export_request(io(), args_);
    auto store = open_store();
    auto tree = tree_of(*store);
    return emit_export(io(), *store, resources(), tree ? &*tree : nullptr, req, report_options(*store, req.region));
  }

  ops::ReportOptions report_options(const DeviceStore& store, const std::string& region) const {
    ops::ReportOptions o;
    o.lang = lang_;
    if (!region.empty())
      o.roots = {region};
    else if (auto id = store.identity())
      o.roots = id->scope;
    return o;
  }

  // Work standards or subsidies for --region, else the whole store (decision 406).
  int cmd_policy(const std::string& cmd) {
    expect_words(1, "");
    TablesRequest req = tables_request(io(), args_);
    auto store = open_store();
    auto tree = tree_of(*store);
    if (!store->info().config.period.is_set()) fail(Error(ErrorCode::period_unset));
    return cmd == "standards" ? emit_standards(io(), *store, resources(), tree ? &*tree : nullptr, req)
                              : emit_subsidies(io(), *store, resources(), tree ? &*tree : nullptr, req);
  }

  Args args_;
  Lang lang_;
  bool json_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  std::filesystem::path store_dir_;
  std::shared_ptr<ops::Resources> res_;
};


}  // namespace tz::cli
