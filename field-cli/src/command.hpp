// field-cli's command plumbing: options (before or after the command words), the store, the
// passphrase and the collector, shared by the commands in cli.cpp and records_commands.cpp.
#pragma once

#include <termios.h>
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
#include "tz/ops/lists.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/util/text.hpp"

namespace tz::cli {

using nlohmann::json;

// A user-facing failure with its exit code (1 user error, 2 usage).
struct CliError {
  int code;
  std::string message;
};

struct OptionSpec {
  std::string_view name;
  bool takes_value;
};

inline const OptionSpec kOptions[] = {
    {"store", true}, {"collector", true}, {"lang", true},    {"json", false},   {"full-ids", false},
    {"help", false}, {"county", true},    {"period", true},  {"as-of", true},   {"dry-run", false},
    {"format", true}, {"out", true},      {"region", true},  {"set", true},     {"for", true},
    {"pick", true},   {"value", true},
};

inline const std::set<std::string_view> kGlobal = {"store", "collector", "lang", "json", "full-ids", "help"};

inline const std::map<std::string_view, std::set<std::string_view>> kCommandOptions = {
    {"init", {"county", "period", "as-of"}},
    {"import", {"dry-run"}},
    {"list", {"format", "out", "region"}},
    {"add", {"set", "for"}},
    {"edit", {"set"}},
    {"show", {}},
    {"find", {}},
    {"validate", {}},
    {"status", {}},
    {"conflicts", {}},
    {"resolve", {"pick", "value"}},
    {"notices", {}},
};

struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> sets;  // every --set field=value, in order
  std::set<std::string> flags;
  std::vector<std::string> words;
  bool has(const std::string& k) const { return values.count(k) || flags.count(k); }
  std::string get(const std::string& k, std::string fallback = {}) const {
    auto it = values.find(k);
    return it == values.end() ? fallback : it->second;
  }
};

inline Lang scan_lang(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--lang" && i + 1 < args.size()) return args[i + 1] == "en" ? Lang::en : Lang::zh;
    if (args[i] == "--lang=en") return Lang::en;
  }
  if (const char* v = std::getenv("TAIZHANG_LANG"); v && std::string(v) == "en") return Lang::en;
  return Lang::zh;
}

inline Args parse_args(const std::vector<std::string>& raw, Lang lang) {
  Args a;
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& s = raw[i];
    if (s.size() > 2 && s.rfind("--", 0) == 0) {
      std::string name = s.substr(2), value;
      bool inline_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      const OptionSpec* spec = nullptr;
      for (auto& o : kOptions)
        if (o.name == name) spec = &o;
      if (!spec) throw CliError{2, tr(lang, "unknown_option", {"field-cli", "--" + name})};
      if (spec->takes_value) {
        if (!inline_value) {
          if (i + 1 >= raw.size()) throw CliError{2, tr(lang, "option_needs_value", {"--" + name})};
          value = raw[++i];
        }
        if (name == "set")
          a.sets.push_back(value);
        else
          a.values[name] = value;
      } else {
        a.flags.insert(name);
      }
    } else if (s == "-h") {
      a.flags.insert("help");
    } else {
      a.words.push_back(s);
    }
  }
  return a;
}

inline int64_t now_ms() {
  // TAIZHANG_CLOCK_MS pins the device clock (training sessions and tests); never set in the field.
  if (const char* v = std::getenv("TAIZHANG_CLOCK_MS"); v && *v) return std::stoll(v);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
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
    if (args_.words.empty()) throw CliError{2, tr(lang_, "missing_command")};
    const std::string cmd = args_.words[0];
    auto allowed = kCommandOptions.find(cmd);
    if (allowed == kCommandOptions.end()) throw CliError{2, tr(lang_, "unknown_command", {cmd})};
    for (auto& [k, _] : args_.values)
      if (!kGlobal.count(k) && !allowed->second.count(k)) throw CliError{2, tr(lang_, "unknown_option", {cmd, "--" + k})};
    if (!args_.sets.empty() && !allowed->second.count("set")) throw CliError{2, tr(lang_, "unknown_option", {cmd, "--set"})};
    for (auto& k : args_.flags)
      if (!kGlobal.count(k) && !allowed->second.count(k)) throw CliError{2, tr(lang_, "unknown_option", {cmd, "--" + k})};
    if (args_.values.count("lang") && args_.get("lang") != "zh" && args_.get("lang") != "en")
      throw CliError{2, tr(lang_, "bad_option_value", {"--lang", args_.get("lang"), "zh | en"})};
    store_dir_ = args_.has("store") ? std::filesystem::path(args_.get("store")) : default_store_dir();
    if (cmd == "init") return cmd_init();
    if (cmd == "import") return cmd_import();
    if (cmd == "list") return cmd_list();
    if (cmd == "add") return cmd_add();
    if (cmd == "edit") return cmd_edit();
    if (cmd == "show") return cmd_show();
    if (cmd == "find") return cmd_find();
    if (cmd == "validate") return cmd_validate();
    if (cmd == "status") return cmd_status();
    if (cmd == "conflicts") return cmd_conflicts();
    if (cmd == "resolve") return cmd_resolve();
    if (cmd == "notices") return cmd_notices();
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

  void expect_words(size_t n, const char* what) {
    if (args_.words.size() < n) throw CliError{2, tr(lang_, "missing_argument", {what})};
    if (args_.words.size() > n) throw CliError{2, tr(lang_, "extra_argument", {args_.words[n]})};
  }

  std::string read_secret(const std::string& prompt) {
    err_ << prompt << std::flush;
    termios old{};
    bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(in_, line);
    if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &old);
    err_ << "\n";
    return line;
  }

  std::string passphrase(bool confirm) {
    if (const char* v = std::getenv("TAIZHANG_PASSPHRASE"); v && *v) return v;
    if (!isatty(STDIN_FILENO)) throw CliError{1, tr(lang_, "passphrase_missing")};
    std::string p = read_secret(tr(lang_, "passphrase_prompt"));
    if (confirm && read_secret(tr(lang_, "passphrase_again")) != p) throw CliError{1, tr(lang_, "passphrase_mismatch")};
    return p;
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

  std::optional<region::RegionTree> tree_of(const DeviceStore& store) {
    const auto& cfg = store.info().config;
    if (cfg.region_tree_csv.empty()) return std::nullopt;
    auto t = region::RegionTree::parse_csv(cfg.region_tree_csv, cfg.region_tree_version);
    if (!t) return std::nullopt;
    return std::move(*t);
  }

  void print_json(const json& j) { out_ << j.dump(2) << "\n"; }

  void write_output(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << bytes;
    f.close();
    if (!f) throw CliError{1, tr(lang_, "write_failed", {path})};
  }

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
    std::vector<std::string> collectors;
    std::string raw = args_.get("collector");
    for (auto& sep : {"，", "、"})
      for (size_t p; (p = raw.find(sep)) != std::string::npos;) raw.replace(p, std::string(sep).size(), ",");
    for (auto& part : text::split(raw, ','))
      if (auto t = text::trim(part); !t.empty() && std::find(collectors.begin(), collectors.end(), t) == collectors.end())
        collectors.push_back(t);
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
    std::string pass = passphrase(true);
    if (text::utf8_to_u32(pass).size() < 8) throw CliError{1, tr(lang_, "passphrase_short")};
    ScryptCost cost;
    if (const char* n = std::getenv("TAIZHANG_KDF_LOG2N"); n && *n) cost.n = 1ULL << std::stoi(n);
    auto store = create_device_store(store_dir_, pass, res.schema, cfg, cost);
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
    expect_words(2, tr(lang_, "arg_file").c_str());
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
    const auto& rep = *r;
    bool refused = rep.error_count() > 0;
    if (json_) {
      json problems = json::array();
      for (auto& p : rep.problems)
        problems.push_back({{"line", p.line},
                            {"column", p.column},
                            {"rule", p.rule_id},
                            {"severity", p.severity == Severity::error ? "error" : "warning"},
                            {"message", p.message(lang_)}});
      print_json({{"ok", !refused},
                  {"written", rep.written},
                  {"dry_run", opt.dry_run},
                  {"encoding", rep.encoding},
                  {"rows", rep.rows},
                  {"households_created", rep.households_created},
                  {"persons_created", rep.persons_created},
                  {"jobs_created", rep.jobs_created},
                  {"changes", rep.changes},
                  {"extra_columns", rep.extra_columns},
                  {"errors", rep.error_count()},
                  {"warnings", rep.warning_count()},
                  {"problems", problems}});
      return refused ? 1 : 0;
    }
    // Errors on stderr, every one, one per line; warnings on stdout, the first kMaxWarningLines of
    // them (a county register can raise thousands: the rest are in --json and `validate`).
    constexpr size_t kMaxWarningLines = 50;
    size_t warnings_shown = 0;
    for (auto& p : rep.problems) {
      const bool error = p.severity == Severity::error;
      if (!error && warnings_shown++ >= kMaxWarningLines) continue;
      std::string line = tr(lang_, "problem_line", {std::to_string(p.line), p.column, p.message(lang_), p.rule_id});
      std::string sev = tr(lang_, error ? "severity_error" : "severity_warning");
      (error ? err_ : out_) << sev << (lang_ == Lang::zh ? "：" : ": ") << line << "\n";
    }
    if (warnings_shown > kMaxWarningLines)
      out_ << tr(lang_, "more_warnings", {std::to_string(warnings_shown - kMaxWarningLines)}) << "\n";
    if (!rep.extra_columns.empty()) {
      std::string cols;
      for (auto& c : rep.extra_columns) cols += (cols.empty() ? "" : "、") + c;
      out_ << tr(lang_, "import_extra_columns", {cols}) << "\n";
    }
    if (opt.dry_run) {
      out_ << tr(lang_, "import_dry_run", {std::to_string(rep.rows), std::to_string(rep.error_count()),
                                           std::to_string(rep.warning_count())})
           << "\n";
      return refused ? 1 : 0;
    }
    if (refused) throw CliError{1, tr(lang_, "import_rejected", {std::to_string(rep.error_count())})};
    out_ << tr(lang_, "import_summary", {std::to_string(rep.rows), rep.encoding, std::to_string(rep.households_created),
                                         std::to_string(rep.persons_created), std::to_string(rep.jobs_created),
                                         std::to_string(rep.changes)})
         << "\n";
    if (rep.warning_count()) out_ << tr(lang_, "import_warnings", {std::to_string(rep.warning_count())}) << "\n";
    return 0;
  }

  int cmd_list() {
    expect_words(2, tr(lang_, "arg_kind").c_str());
    std::string out_path = args_.get("out");
    bool csv_name = out_path.size() > 4 && text::to_upper_ascii(out_path.substr(out_path.size() - 4)) == ".CSV";
    std::string format = args_.get("format", csv_name ? "csv" : "table");
    if (format != "table" && format != "csv") throw CliError{2, tr(lang_, "bad_format", {"table, csv"})};
    auto store = open_store();
    auto tree = tree_of(*store);
    ops::ListOptions o;
    o.kind = args_.words[1];
    o.region = args_.get("region");
    o.full_ids = args_.flags.count("full-ids") > 0;
    o.lang = lang_;
    auto t = ops::make_list(*store, resources(), tree ? &*tree : nullptr, o);
    if (!t) fail(t.error());
    std::string bytes = format == "csv" ? ops::render_csv(*t) : ops::render_table(*t, lang_);
    if (json_ && !args_.has("out")) {
      json rows = json::array();
      for (auto& r : t->rows) {
        json row = json::object();
        for (size_t i = 0; i < r.size() && i < t->headers.size(); ++i) row[t->headers[i]] = r[i];
        rows.push_back(row);
      }
      print_json({{"ok", true}, {"kind", o.kind}, {"title", t->title}, {"count", t->rows.size()}, {"rows", rows}});
      return 0;
    }
    if (args_.has("out")) {
      write_output(args_.get("out"), bytes);
      if (json_)
        print_json({{"ok", true}, {"kind", o.kind}, {"out", args_.get("out")}, {"count", t->rows.size()}});
      else
        out_ << tr(lang_, "list_written", {args_.get("out"), t->title, std::to_string(t->rows.size())}) << "\n";
    } else {
      out_ << bytes;
    }
    if (o.full_ids) err_ << tr(lang_, "full_ids_note") << "\n";
    return 0;
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
