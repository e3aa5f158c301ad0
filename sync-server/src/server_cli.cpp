// sync-server's admin commands (SPEC §11). Each command opens the data folder (taking the admin
// lock), brings the county admin replica up to date when it reads or writes county data, does its
// work through the same paths a device or the server uses, and prints text or --json.
// `serve` (serve.cpp) shares the server store; its review API (api.cpp) opens the admin folder only
// to reconcile (decision 301).
#include "tz/server_cli/server_cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <tuple>

#include "admin_folder.hpp"
#include "review_json.hpp"
#include "serve.hpp"
#include "tz/server_cli/messages.hpp"
#include "tz/cli/args.hpp"
#include "tz/cli/boundary.hpp"
#include "tz/cli/conflicts.hpp"
#include "tz/cli/output.hpp"
#include "tz/ops/backup.hpp"
#include "tz/ops/baseline.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/ops/dedup.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/reconcile.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/review.hpp"
#include "tz/ops/verify.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/ops/subsidy_records.hpp"
#include "tz/model/id_number.hpp"
#include "tz/util/crash_point.hpp"
#include "tz/util/text.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/sync/audit.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/xlsx/xlsx.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/users.hpp"

namespace tz::server_cli {

namespace fs = std::filesystem;
using cli::CliError;
using nlohmann::json;

namespace {

const cli::ProgramSpec& program_spec() {
  static const cli::ProgramSpec kSpec{
      {{"data", true},   {"lang", true},   {"json", false}, {"full-ids", false}, {"help", false},
       {"county", true}, {"name", true},   {"as-of", true}, {"version", true},   {"format", true},
       {"out", true},    {"region", true}, {"at", true},    {"pick", true},      {"value", true},
       {"reason", true}, {"listen", true}, {"tls-cert", true}, {"tls-key", true}, {"plain-http", false},
       {"threads", true}, {"max-threads", true}, {"max-body", true}, {"timeout", true}, {"scope", true}, {"collector", true},
       {"expires-days", true}, {"role", true}, {"agency", true}, {"kind", true}, {"session-hours", true}, {"approve", false}, {"send-back", true}, {"head", true}, {"unit", true}},
      {"data", "lang", "json", "full-ids", "help"},
      {{"init", {"county", "name"}},
       {"regions import", {"version"}},
       {"period set", {"as-of"}},
       {"register import", {}},
       {"device list", {}},
       {"device retire", {"at"}},
       {"device revoke", {}},
       {"device recover", {"out"}},
       {"conflicts", {"region"}},
       {"resolve", {"pick", "value"}},
       {"quarantine", {}},
       {"quarantine release", {}},
       {"quarantine reject", {"reason"}},
       {"list", {"format", "out", "region"}},
       {"report", {"format", "out", "region", "unit"}},
       {"export", {"format", "out", "region", "unit"}},
       {"baseline import", {}},
       {"standards", {"format", "out", "region"}},
       {"subsidies", {"format", "out", "region"}},
       {"subsidies record", {"region"}},
       {"subsidies paid", {"kind"}},
       {"serve", {"listen", "tls-cert", "tls-key", "plain-http", "threads", "max-threads", "max-body", "timeout", "session-hours"}},
       {"token create", {"scope", "collector", "expires-days", "out"}},
       {"bundle import", {"out"}},
       {"token list", {}},
       {"audit verify", {"head"}},
       {"backup", {"out"}},
       {"restore", {}},
       {"user add", {"role", "agency", "scope"}},
       {"user list", {}},
       {"user disable", {}},
       {"user enable", {}},
       {"reconcile", {"out", "kind", "region"}},
       {"verify", {}},
       {"review", {"approve", "send-back"}},
       {"duplicates", {}},
       {"dismiss", {}},
       {"merge", {}},
       {"unmerge", {}}}};
  return kSpec;
}

// The data folder: --data, else TAIZHANG_SERVER_DATA, else the per-user data folder (decision 61).
fs::path default_data_dir() {
  if (const char* v = std::getenv("TAIZHANG_SERVER_DATA"); v && *v) return v;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::path(x) / "taizhang-server";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".local/share/taizhang-server";
  return "taizhang-server";
}

std::string lower_ascii(std::string s) {
  for (auto& ch : s)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return s;
}

std::string time_or(int64_t ms, const std::string& none) { return ms > 0 ? format_china_time(ms) : none; }

class Command {
 public:
  Command(cli::Args args, Lang lang, std::ostream& out, std::ostream& err)
      : args_(std::move(args)), lang_(lang), io_{messages(), lang_, args_.flag("json"), out, err} {}

  int dispatch() {
    if (args_.flag("help") || (args_.words.size() == 1 && args_.words[0] == "help")) {
      io_.out << tr("usage") << "\n";
      return 0;
    }
    const std::string cmd = cli::command_of(args_, program_spec(), messages(), lang_);
    dir_ = args_.has("data") ? fs::path(args_.get("data")) : default_data_dir();
    now_ = cli::now_ms();
    using Handler = int (Command::*)();
    static const std::map<std::string, Handler, std::less<>> kHandlers = {
        {"init", &Command::cmd_init},
        {"regions import", &Command::cmd_regions_import},
        {"period set", &Command::cmd_period_set},
        {"register import", &Command::cmd_register_import},
        {"device list", &Command::cmd_device_list},
        {"device retire", &Command::cmd_device_retire},
        {"device revoke", &Command::cmd_device_revoke},
        {"device recover", &Command::cmd_device_recover},
        {"conflicts", &Command::cmd_conflicts},
        {"resolve", &Command::cmd_resolve},
        {"quarantine", &Command::cmd_quarantine},
        {"quarantine release", &Command::cmd_quarantine_decide},
        {"quarantine reject", &Command::cmd_quarantine_decide},
        {"list", &Command::cmd_list},
        {"report", &Command::cmd_report},
        {"export", &Command::cmd_export},
        {"baseline import", &Command::cmd_baseline_import},
        {"standards", &Command::cmd_policy},
        {"subsidies", &Command::cmd_policy},
        {"subsidies record", &Command::cmd_subsidies_record},
        {"subsidies paid", &Command::cmd_subsidies_paid},
        {"serve", &Command::cmd_serve},
        {"token create", &Command::cmd_token_create},
        {"token list", &Command::cmd_token_list},
        {"duplicates", &Command::cmd_duplicates},
        {"dismiss", &Command::cmd_dismiss},
        {"merge", &Command::cmd_merge},
        {"unmerge", &Command::cmd_unmerge},
        {"backup", &Command::cmd_backup},
        {"restore", &Command::cmd_restore},
        {"audit verify", &Command::cmd_audit_verify},
        {"bundle import", &Command::cmd_bundle_import},
        {"user add", &Command::cmd_user_add},
        {"user list", &Command::cmd_user_list},
        {"user disable", &Command::cmd_user_enable},
        {"user enable", &Command::cmd_user_enable},
        {"reconcile", &Command::cmd_reconcile},
        {"verify", &Command::cmd_verify},
        {"review", &Command::cmd_review},
    };
    return (this->*kHandlers.at(cmd))();
  }

 private:
  std::string tr(std::string_view key, const std::vector<std::string>& a = {}) const { return io_.tr(key, a); }
  [[noreturn]] void fail(const Error& e) const { throw CliError{e.exit_code(), e.message(lang_)}; }
  template <typename T>
  T take(Result<T> r) const {
    if (!r) fail(r.error());
    return std::move(*r);
  }
  void check(const Status& s) const {
    if (!s) fail(s.error());
  }
  void expect_words(size_t n, const std::string& what) const { cli::expect_words(args_, n, what, messages(), lang_); }
  void need_option(const char* name) const {
    if (!args_.has(name)) throw CliError{2, tr("missing_option", {std::string("--") + name})};
  }

  // An admin action in the audit chain (SPEC §6): the command and a summary of ids, hashes and counts.
  void audit(const std::string& command, std::initializer_list<std::pair<std::string_view, sync::AuditValue>> extra = {}) {
    std::string summary = sync::audit_summary(extra);
    summary = "{\"command\":\"" + command + "\"" + (summary.size() > 2 ? "," + summary.substr(1) : "}");
    check(sync::record_audit(folder().store(), now_, "admin", sync::kCountyAdminActor, summary));
  }

  const ops::Resources& resources() {
    if (!res_) res_ = take(ops::load_resources(ops::default_data_dir(TZ_SOURCE_DATA_DIR)));
    return *res_;
  }
  AdminFolder& folder() {
    if (!folder_) folder_ = take(AdminFolder::open(dir_, resources(), [this] { return now_; }));
    return *folder_;
  }
  DeviceStore& replica() { return *take(folder().replica()); }
  void require_period() {
    if (!folder().period()) throw CliError{1, tr("period_needed")};
  }
  std::string read_input(const std::string& path) {
    auto bytes = ops::read_file(path);
    if (!bytes) throw CliError{1, tr("read_failed", {path})};
    return *bytes;
  }
  ValidationContext validation(const region::RegionTree* tree) {
    ValidationContext ctx;
    ctx.today = china_date_of(now_);
    auto p = folder().period();
    ctx.period_year = p ? p->year : ctx.today.year;
    ctx.settings = &resources().schema.settings();
    ctx.counties = &resources().counties;
    ctx.tree = tree;
    return ctx;
  }

  // --- init ---

  int cmd_init() {
    expect_words(1, "");
    need_option("county");
    need_option("name");
    std::string county = text::trim(args_.get("county")), name = text::trim(args_.get("name"));
    const region::County* c = resources().counties.find(county);
    if (!c) throw CliError{1, tr("unknown_county", {county})};
    if (name.empty()) throw CliError{2, tr("missing_option", {"--name"})};
    folder_ = take(AdminFolder::create(dir_, resources(), [this] { return now_; }, county, name));
    auto tree = folder_->region_tree();
    size_t villages = tree ? tree->villages().size() : 0;
    const auto admin = folder_->admin_device();
    audit("init", {{"county", county}, {"admin_device", admin ? admin->hex() : ""}});
    if (io_.as_json) {
      io_.print_json({{"ok", true},
                      {"data", dir_.string()},
                      {"county", county},
                      {"name", name},
                      {"county_full_name", c->province_name + c->city_name + c->name},
                      {"admin_device", admin ? admin->hex() : ""},
                      {"region_tree_villages", villages}});
    } else {
      io_.out << tr("init_done", {dir_.string(), county, name, c->province_name + c->city_name + c->name}) << "\n";
      io_.out << (villages ? tr("init_tree", {std::to_string(villages)}) : tr("init_no_tree")) << "\n";
    }
    return 0;
  }

  // --- regions import FILE ---

  int cmd_regions_import() {
    expect_words(3, tr("arg_county_file"));
    const std::string path = args_.words[2];
    std::string bytes = read_input(path);
    std::string version = args_.get("version", fs::path(path).filename().string());
    auto parsed = region::RegionTree::parse_csv(bytes, version);
    if (!parsed) throw CliError{1, tr("bad_tree", {path, parsed.error().message(lang_)})};
    auto& f = folder();
    if (parsed->county_code() != f.identity().county)
      throw CliError{1, tr("tree_other_county", {parsed->county_code(), f.identity().county})};
    auto old = f.region_tree();
    region::RegionTree merged = old ? old->merged_with(*parsed) : std::move(*parsed);
    std::string value = ops::region_tree_config_value({merged.version(), merged.to_csv()});
    auto before = f.store().config(ops::kConfigRegionTree);
    const bool same = before && before->second == value;
    check(f.set_config(ops::kConfigRegionTree, value));
    take(f.sync_replica());
    size_t live = merged.villages().size(), all = merged.villages(true).size();
    audit("regions import", {{"version", merged.version()}, {"file_sha256", crypto::to_hex(crypto::sha256(bytes))},
                             {"villages", uint64_t{live}}, {"changed", std::string(same ? "no" : "yes")}});
    if (io_.as_json) {
      io_.print_json({{"ok", true}, {"version", merged.version()}, {"villages", live}, {"retired_villages", all - live},
                      {"changed", !same}});
    } else {
      io_.out << (same ? tr("regions_same") : tr("regions_done", {merged.version(), std::to_string(all), std::to_string(all - live)}))
              << "\n";
    }
    return 0;
  }

  // --- period set YEAR --as-of DATE ---

  int cmd_period_set() {
    expect_words(3, tr("arg_year"));
    need_option("as-of");
    std::optional<Period> period;
    auto as_of = parse_date(args_.get("as-of"));
    const std::string year = args_.words[2];
    if (as_of && text::all_digits(year) && year.size() == 4) period = make_period(std::stoi(year), *as_of);
    if (!period) throw CliError{1, tr("bad_period")};
    auto& f = folder();
    check(f.set_config(ops::kConfigPeriod, ops::period_config_value(*period)));
    take(f.sync_replica());
    audit("period set", {{"period", ops::period_config_value(*period)}});
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"period", period->year}, {"as_of", format_date(period->as_of)}});
    else
      io_.out << tr("period_done", {std::to_string(period->year), format_date(period->as_of)}) << "\n";
    return 0;
  }

  // --- register import FILE ---

  int cmd_register_import() {
    expect_words(3, tr("arg_file"));
    std::string bytes = read_input(args_.words[2]);
    require_period();
    DeviceStore& store = replica();
    auto tree = ops::region_tree_of(store);
    ops::ImportEnv env;
    env.resources = &resources();
    env.tree = tree ? &*tree : nullptr;
    env.today = china_date_of(now_);
    env.edit = ops::EditContext{kAdminCollector, now_};
    ops::ImportOptions options;
    options.crash_point = "server.register_import.before_commit";
    options.crash_after = "server.register_import.after_commit";
    auto rep = take(ops::import_roster(store, bytes, env, options));
    if (rep.error_count() > 0) return cli::print_import(io_, rep, false);
    auto pushed = take(folder().sync_replica());
    audit("register import", {{"file_sha256", crypto::to_hex(crypto::sha256(bytes))}, {"changes", pushed.pushed},
                              {"applied", pushed.applied}, {"conflicts", pushed.conflicts}, {"quarantined", pushed.quarantined}});
    if (io_.as_json) {
      json j = cli::import_report_json(rep, false, lang_);
      j["pushed"] = {{"changes", pushed.pushed}, {"applied", pushed.applied}, {"conflicts", pushed.conflicts},
                     {"quarantined", pushed.quarantined}};
      io_.print_json(j);
      return 0;
    }
    int code = cli::print_import(io_, rep, false);
    io_.out << tr("register_pushed", {std::to_string(pushed.pushed), std::to_string(pushed.applied),
                                      std::to_string(pushed.conflicts), std::to_string(pushed.quarantined)})
            << "\n";
    return code;
  }

  // --- device list | retire | revoke ---

  sync::DeviceRecord find_device(const std::string& ref) {
    std::string want = lower_ascii(text::trim(ref));
    std::vector<sync::DeviceRecord> hits;
    for (auto& d : folder().store().devices())
      if (!want.empty() && d.id.hex().rfind(want, 0) == 0) hits.push_back(d);
    if (hits.empty()) throw CliError{1, tr("no_device", {ref})};
    if (hits.size() > 1) throw CliError{1, tr("ambiguous_device", {ref})};
    return hits.front();
  }
  std::string status_of(const sync::DeviceRecord& d) const {
    return d.revoked ? "revoked" : d.retired ? "retired" : "active";
  }
  std::string scope_text(const sync::Scope& s) const {
    std::string out;
    for (auto& c : s) out += (out.empty() ? "" : ",") + c;
    return out;
  }

  int cmd_device_list() {
    expect_words(2, "");
    auto& f = folder();
    auto admin = f.admin_device();
    auto devices = f.store().devices();
    if (io_.as_json) {
      // The SPEC §5 digest of each enrolled device's scope, SHA-256 in hex (one scan per distinct scope): equal to the
      // device's own (field-cli sync --json) once everyone pushed and pulled.
      std::map<sync::Scope, std::string> digests;
      auto digest_of = [&](const sync::DeviceRecord& d) -> json {
        if (d.sign_pub.empty()) return nullptr;
        auto it = digests.find(d.scope);
        if (it == digests.end()) it = digests.emplace(d.scope, crypto::to_hex(crypto::sha256(f.server().scope_digest(d.scope)))).first;
        return it->second;
      };
      json arr = json::array();
      for (auto& d : devices)
        arr.push_back({{"id", d.id.hex()},
                       {"digest", digest_of(d)},
                       {"scope", d.scope},
                       {"acked_seq", d.acked_seq},
                       {"status", status_of(d)},
                       {"retired_after", d.retired ? json(d.retired_after) : json(nullptr)},
                       {"last_push_ms", d.last_push_ms},
                       {"last_push", d.last_push_ms > 0 ? json(format_china_time(d.last_push_ms)) : json(nullptr)},
                       {"county_admin", admin && *admin == d.id},
                       {"enrolled", !d.sign_pub.empty()},
                       {"collectors", d.collectors},
                       {"token", d.token.empty() ? json(nullptr) : json(d.token)}});
      io_.print_json({{"ok", true}, {"count", devices.size()}, {"devices", arr}});
      return 0;
    }
    ops::Table t;
    t.title = tr("devices_title", {std::to_string(devices.size())});
    t.rows_are_persons = false;
    t.headers = {tr("col_device"), tr("col_scope"), tr("col_acked"), tr("col_status"), tr("col_last_push"),
                 tr("col_keys"), tr("col_token_used")};
    for (auto& d : devices)
      t.rows.push_back({d.id.hex() + (admin && *admin == d.id ? tr("admin_mark") : ""), scope_text(d.scope),
                        std::to_string(d.acked_seq), tr("status_" + status_of(d)), time_or(d.last_push_ms, tr("never")),
                        tr(d.sign_pub.empty() ? "keys_none" : "keys_enrolled"), d.token.substr(0, 12)});
    io_.out << ops::render_table(t, lang_);
    return 0;
  }

  int cmd_device_retire() {
    expect_words(3, tr("arg_device"));
    auto& f = folder();
    auto d = find_device(args_.words[2]);
    if (f.admin_device() == d.id) throw CliError{1, tr("admin_device", {d.id.hex(), tr("verb_retired")})};
    std::optional<uint64_t> at;
    if (args_.has("at")) {
      // Retired at a chosen sequence: changes up to it are accepted, later ones quarantined.
      std::string v = args_.get("at");
      if (!text::all_digits(v) || v.empty() || v.size() > 18 || std::stoull(v) < d.acked_seq)
        throw CliError{1, tr("bad_seq", {std::to_string(d.acked_seq)})};
      at = std::stoull(v);
    }
    check(f.server().retire_device(d.id, at));
    auto now = *f.store().device(d.id);
    audit("device retire", {{"device", d.id.hex()}, {"retired_after", now.retired_after}});
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"id", d.id.hex()}, {"status", status_of(now)}, {"retired_after", now.retired_after}});
    else
      io_.out << tr("device_retired", {d.id.hex(), std::to_string(now.retired_after)}) << "\n";
    return 0;
  }

  int cmd_device_revoke() {
    expect_words(3, tr("arg_device"));
    auto& f = folder();
    auto d = find_device(args_.words[2]);
    if (f.admin_device() == d.id) throw CliError{1, tr("admin_device", {d.id.hex(), tr("verb_revoked")})};
    check(f.server().revoke_device(d.id));
    audit("device revoke", {{"device", d.id.hex()}});
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"id", d.id.hex()}, {"status", "revoked"}});
    else
      io_.out << tr("device_revoked", {d.id.hex()}) << "\n";
    return 0;
  }

  // device recover FILE --out KEYFILE (audited by SyncServer::recover_device).
  int cmd_device_recover() {
    expect_words(3, tr("arg_file"));
    need_option("out");
    std::string bytes = read_input(args_.words[2]);
    std::string keyfile = take(folder().server().recover_device(bytes));
    io_.write_file(args_.get("out"), keyfile);
    auto req = sync::decode_recovery_request(bytes);
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"device", req->device.hex()}, {"key_file", args_.get("out")}});
    else
      io_.out << tr("device_recovered", {req->device.hex(), args_.get("out")}) << "\n";
    return 0;
  }

  // --- conflicts / resolve (tz/ops/conflicts.hpp over the replica: field-cli's numbering) ---

  int cmd_conflicts() {
    expect_words(1, "");
    DeviceStore& store = replica();
    auto listed = ops::list_conflicts(store, text::trim(args_.get("region")));
    cli::print_conflicts(io_, store.schema(), listed, args_.flag("full-ids"));
    if (args_.flag("full-ids")) audit("conflicts --full-ids", {{"conflicts", uint64_t{listed.size()}}});
    return 0;
  }

  int cmd_resolve() {
    if (args_.words.size() < 3) throw CliError{2, tr("missing_argument", {tr("arg_resolve")})};
    expect_words(3, tr("arg_resolve"));
    if (args_.has("pick") == args_.has("value")) throw CliError{2, tr("resolve_how")};
    DeviceStore& store = replica();
    const std::string ref = args_.words[1], field_ref = args_.words[2];
    auto tree = ops::region_tree_of(store);
    ValidationContext ctx = validation(tree ? &*tree : nullptr);
    auto located = ops::locate(store, ref, ctx.today);
    if (!located) fail(located.error());
    ops::Resolution how;
    if (args_.has("pick")) how.pick = args_.get("pick");
    if (args_.has("value")) how.value = args_.get("value");
    auto r = take(ops::resolve_conflict(store, *located, field_ref, how, ops::EditContext{kAdminCollector, now_}, ctx));
    take(folder().sync_replica());
    const EntityType type = store.get_row(*located)->entity.type;
    const FieldDef* f = store.schema().entity(type).find_field(text::trim(field_ref));
    audit("resolve", {{"entity", located->hex()}, {"field", f ? f->name : std::string("deleted")}});
    const std::string value = cli::shown_value(f, r.value, lang_, args_.flag("full-ids"));
    if (io_.as_json)
      io_.print_json(cli::resolved_json(type, *located, f, value, r, kAdminCollector));
    else
      io_.out << tr("resolved", {ref, f ? f->label(lang_) : tr("deletion_field"), value}) << "\n";
    return 0;
  }

  // --- quarantine ---

  int cmd_quarantine() {
    expect_words(1, "");
    auto held = folder().server().quarantine();
    const Schema& schema = resources().schema;
    if (io_.as_json) {
      json arr = json::array();
      for (auto& q : held) arr.push_back(quarantined_json(q, schema, lang_));
      io_.print_json({{"ok", true}, {"count", held.size()}, {"changes", arr}});
      return 0;
    }
    if (held.empty()) {
      io_.out << tr("quarantine_empty") << "\n";
      return 0;
    }
    io_.out << tr("quarantine_title", {std::to_string(held.size())}) << "\n";
    for (auto& q : held) {
      const FieldDef* def = schema.entity(q.change.type).field(q.change.field);
      io_.out << tr("quarantine_line", {q.change.version.str(), std::string(entity_type_name(q.change.type)),
                                        q.change.entity.hex(), def ? def->label(lang_) : std::to_string(q.change.field),
                                        q.change.value, q.change.collector, in_lang(q.reason, lang_)})
              << "\n";
    }
    return 0;
  }

  int cmd_quarantine_decide() {
    expect_words(3, tr("arg_change"));
    const bool reject = args_.words[1] == "reject";
    if (reject) need_option("reason");
    const std::string ref = lower_ascii(text::trim(args_.words[2]));
    auto colon = ref.find(':');
    if (colon == std::string::npos || !text::all_digits(ref.substr(colon + 1)) || colon + 1 == ref.size() ||
        ref.size() - colon > 19)
      throw CliError{1, tr("bad_change_id", {args_.words[2]})};
    auto dev = find_device(ref.substr(0, colon));
    VersionId id{dev.id, Seq{std::stoull(ref.substr(colon + 1))}};
    auto& server = folder().server();
    check(reject ? server.reject(id, args_.get("reason")) : server.release(id));
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"id", id.str()}, {"decision", reject ? "rejected" : "released"}});
    else
      io_.out << (reject ? tr("rejected", {id.str(), args_.get("reason")}) : tr("released", {id.str()})) << "\n";
    return 0;
  }

  // --- serve ---

  size_t number_option(const char* name, size_t fallback, size_t lo, size_t hi) const {
    if (!args_.has(name)) return fallback;
    const std::string v = args_.get(name);
    if (v.empty() || v.size() > 12 || !text::all_digits(v) || std::stoull(v) < lo || std::stoull(v) > hi)
      throw CliError{2, tr("bad_option_value", {std::string("--") + name, v, tr("range", {std::to_string(lo), std::to_string(hi)})})};
    return std::stoull(v);
  }

  int cmd_serve() {
    expect_words(1, "");
    ServeOptions o;
    o.dir = dir_;
    if (args_.has("listen") && !parse_listen(args_.get("listen"), o.host, o.port))
      throw CliError{2, tr("bad_option_value", {"--listen", args_.get("listen"), tr("listen_form")})};
    if (args_.has("tls-cert") != args_.has("tls-key")) throw CliError{2, tr("tls_pair")};
    o.plain_http = args_.flag("plain-http");
    if (o.plain_http && args_.has("tls-cert")) throw CliError{2, tr("plain_and_cert")};
    o.cert_file = args_.get("tls-cert");
    o.key_file = args_.get("tls-key");
    o.threads = number_option("threads", o.threads, 1, 256);
    o.max_threads = std::max(o.threads, number_option("max-threads", o.max_threads, 1, 4096));
    o.max_body = number_option("max-body", o.max_body, 1024, size_t{1} << 32);
    o.timeout_s = static_cast<int>(number_option("timeout", o.timeout_s, 1, 3600));
    o.session_ms = static_cast<int64_t>(number_option("session-hours", 8, 1, 168)) * 3600 * 1000;
    return serve(o, resources(), io_);
  }

  // --- token create | list ---

  // --- backup --out FILE, restore FILE (decision 89) ---

  // scrypt N = 2^15 (TAIZHANG_KDF_LOG2N lowers it in tests, as for device stores).
  static crypto::ScryptParams backup_kdf() {
    crypto::ScryptParams p;
    if (const char* n = std::getenv("TAIZHANG_KDF_LOG2N"); n && *n && text::all_digits(n)) {
      int v = std::stoi(n);
      if (v >= 10 && v <= 20) p.n = 1ULL << v;
    }
    return p;
  }

  std::string backup_passphrase() const {
    const char* v = std::getenv("TAIZHANG_BACKUP_PASSPHRASE");
    if (!v || !*v) throw CliError{2, tr("backup_passphrase_needed")};
    return v;
  }

  int cmd_backup() {
    expect_words(1, "");
    need_option("out");
    const std::string pass = backup_passphrase();
    folder();  // an initialised folder, and the admin lock: no admin command writes the replica meanwhile
    auto info = take(ops::write_backup(dir_, args_.get("out"), pass, now_, backup_kdf()));
    if (io_.as_json) {
      io_.print_json({{"ok", true}, {"out", args_.get("out")}, {"county", info.county}, {"files", info.entries.size()},
                      {"bytes", info.bytes}, {"last_seq", info.last_seq}, {"epoch", info.server_epoch}});
    } else {
      io_.out << tr("backup_done", {dir_.string(), info.county, args_.get("out"), std::to_string(info.entries.size()),
                                    std::to_string(info.bytes), std::to_string(info.last_seq)})
              << "\n";
    }
    return 0;
  }

  int cmd_restore() {
    expect_words(2, tr("arg_file"));
    const std::string pass = backup_passphrase();
    const fs::path file = args_.words[1];
    fs::path target = dir_;
    while (!target.empty() && target.filename().empty()) target = target.parent_path();  // "DIR/" names DIR
    // Not while serve runs on the folder: it would go on writing the store being replaced.
    auto lock = take(ServeLock::acquire(target));
    if (!lock) throw CliError{1, tr("serve_running", {target.string()})};
    const std::string stamp = std::to_string(now_);
    const fs::path staging = target.parent_path() / (target.filename().string() + ".restoring-" + stamp);
    std::error_code ec;
    fs::remove_all(staging, ec);  // left by a restore that died at this same moment (a pinned clock)
    auto info = take(ops::unpack_backup(file, pass, staging));
    std::string epoch;
    {
      auto store = take(sync::open_sqlite_server_store(staging));
      store->begin();
      store->new_epoch();
      epoch = store->epoch();
      store->commit("server.restore.before_commit", nullptr);
    }
    crash_point("server.restore.before_rename");
    fs::path kept;
    if (fs::exists(target, ec)) {
      kept = target.parent_path() / (target.filename().string() + ".before-restore-" + stamp);
      lock.reset();  // the lock file moves with the folder
      fs::rename(target, kept, ec);
      if (ec) throw CliError{1, tr("read_failed", {target.string()}) + ": " + ec.message()};
      crash_point("server.restore.between_renames");
    }
    fs::rename(staging, target, ec);
    if (ec) throw CliError{1, tr("read_failed", {staging.string()}) + ": " + ec.message()};
    if (io_.as_json) {
      io_.print_json({{"ok", true}, {"file", file.string()}, {"county", info.county}, {"last_seq", info.last_seq},
                      {"backup_epoch", info.server_epoch}, {"epoch", epoch}, {"kept", kept.empty() ? json(nullptr) : json(kept.string())}});
    } else {
      io_.out << tr("restore_done", {file.string(), info.county, format_china_time(info.created_ms), std::to_string(info.last_seq),
                                     target.string(), epoch})
              << "\n";
      if (!kept.empty()) io_.out << tr("restore_kept_old", {kept.string()}) << "\n";
    }
    return 0;
  }

  // --scope CODE[,CODE…]: the county's code or live townships and villages of its tree, with their names.
  std::pair<sync::Scope, std::vector<std::string>> scope_option() {
    auto& f = folder();
    const std::string county = f.identity().county;
    auto tree = f.region_tree();
    sync::Scope scope;
    std::vector<std::string> names;
    for (auto& code : cli::split_names(args_.get("scope"))) {
      if (code == county) {
        scope.push_back(code);
        names.push_back(resources().counties.find(county) ? resources().counties.find(county)->name : code);
        continue;
      }
      const region::Region* r = tree ? tree->find(code) : nullptr;
      if (!r || r->level == region::Level::county) throw CliError{1, tr(tree ? "unknown_scope" : "unknown_scope_no_tree", {code, county})};
      if (r->retired) throw CliError{1, tr("retired_scope", {code, r->successor})};
      scope.push_back(code);
      names.push_back(r->name);
    }
    if (scope.empty()) throw CliError{2, tr("missing_option", {"--scope"})};
    return {scope, names};
  }

  int cmd_token_create() {
    expect_words(2, "");
    need_option("scope");
    need_option("collector");
    auto& f = folder();
    auto [scope, names] = scope_option();
    auto collectors = cli::split_names(args_.get("collector"));
    if (collectors.empty()) throw CliError{2, tr("missing_option", {"--collector"})};
    const int64_t days = static_cast<int64_t>(number_option("expires-days", 7, 1, 365));
    const int64_t expires = now_ + days * 86400000LL;
    std::optional<sync::SyncServer::TokenFileMade> file;
    if (args_.has("out")) file = take(f.server().create_token_file(scope, collectors, expires));
    std::string token = file ? file->token : take(f.server().create_token(scope, collectors, expires));
    if (file) io_.write_file(args_.get("out"), file->file);
    audit("token create", {{"token", sync::token_id(sync::decode_token(token)->secret)}, {"scope", scope_text(scope)},
                           {"collectors", uint64_t{collectors.size()}}, {"expires_ms", static_cast<uint64_t>(expires)},
                           {"file", std::string(file ? "yes" : "no")}});
    std::string scope_shown, who;
    for (size_t i = 0; i < scope.size(); ++i) scope_shown += (i ? "，" : "") + scope[i] + " " + names[i];
    for (auto& c : collectors) who += (who.empty() ? "" : "，") + c;
    if (io_.as_json) {
      io_.print_json({{"ok", true},
                      {"token", token},
                      {"id", sync::token_id(sync::decode_token(token)->secret)},
                      {"expires", format_china_time(expires)},
                      {"expires_ms", expires},
                      {"scope", scope},
                      {"collectors", collectors},
                      {"file", file ? json(args_.get("out")) : json(nullptr)},
                      {"code", file ? json(file->code) : json(nullptr)}});
      return 0;
    }
    io_.out << tr("token_made", {scope_shown, who, format_china_time(expires)}) << "\n";
    if (file) io_.out << tr("token_file_made", {args_.get("out"), file->code}) << "\n";
    io_.out << tr("token_note") << "\n";
    io_.out << token << "\n";
    return 0;
  }

  std::string token_status(const sync::TokenRecord& t) const {
    return t.used_by ? "used" : t.expires_ms <= now_ ? "expired" : "unused";
  }

  int cmd_token_list() {
    expect_words(2, "");
    auto tokens = folder().server().tokens();
    if (io_.as_json) {
      json arr = json::array();
      for (auto& t : tokens)
        arr.push_back({{"id", t.id},
                       {"scope", t.scope},
                       {"collectors", t.collectors},
                       {"created", time_or(t.created_ms, "")},
                       {"expires", format_china_time(t.expires_ms)},
                       {"expires_ms", t.expires_ms},
                       {"status", token_status(t)},
                       {"device", t.used_by ? json(t.used_by->hex()) : json(nullptr)},
                       {"used", t.used_by ? json(format_china_time(t.used_ms)) : json(nullptr)}});
      io_.print_json({{"ok", true}, {"count", tokens.size()}, {"tokens", arr}});
      return 0;
    }
    ops::Table t;
    t.title = tr("tokens_title", {std::to_string(tokens.size())});
    t.rows_are_persons = false;
    t.headers = {tr("col_token"), tr("col_scope"), tr("col_collectors"), tr("col_expires"), tr("col_status"), tr("col_device")};
    for (auto& k : tokens) {
      std::string who;
      for (auto& c : k.collectors) who += (who.empty() ? "" : ",") + c;
      t.rows.push_back({k.id.substr(0, 12), scope_text(k.scope), who, format_china_time(k.expires_ms),
                        tr("token_" + token_status(k)), k.used_by ? k.used_by->hex() : ""});
    }
    io_.out << ops::render_table(t, lang_);
    return 0;
  }

  // --- bundle import FILE --out RESPONSE ---

  int cmd_bundle_import() {
    expect_words(3, tr("arg_file"));
    need_option("out");
    const std::string path = args_.words[2], out_path = args_.get("out");
    std::string bytes = read_input(path);
    auto r = f_import(bytes);
    if (!r) throw CliError{r.error().exit_code(), tr("bundle_refused", {path, r.error().message(lang_)})};
    crash_point("server.bundle_import.before_response");
    io_.write_file(out_path, r->response);
    if (io_.as_json) {
      io_.print_json({{"ok", true},
                      {"device", r->device.hex()},
                      {"bundle", r->number},
                      {"response", out_path},
                      {"registered_now", r->registered_now},
                      {"changes", r->changes},
                      {"applied", r->applied},
                      {"conflicts", r->conflicts},
                      {"quarantined", r->quarantined},
                      {"duplicates", r->duplicates},
                      {"restamped", r->restamped},
                      {"rolled_back", r->rolled_back},
                      {"highest_seq_held", r->highest_seq_held},
                      {"pulled_records", r->pulled_records},
                      {"more", r->more}});
      return 0;
    }
    io_.out << tr("bundle_done", {path, r->device.hex(), std::to_string(r->changes), std::to_string(r->applied),
                                  std::to_string(r->conflicts), std::to_string(r->quarantined), std::to_string(r->duplicates)})
            << "\n";
    if (r->registered_now) io_.out << tr("bundle_registered", {r->device.hex()}) << "\n";
    if (r->rolled_back) io_.out << tr("bundle_rolled_back", {std::to_string(r->highest_seq_held)}) << "\n";
    io_.out << tr("bundle_response", {out_path, std::to_string(r->pulled_records)}) << "\n";
    return 0;
  }
  Result<sync::SyncServer::BundleImport> f_import(const std::string& bytes) {
    auto& f = folder();
    auto r = f.server().import_bundle(bytes);
    // What the device sent is in the county's records now: the admin replica catches up.
    if (r) take(f.sync_replica());
    return r;
  }

  // --- audit verify ---

  int cmd_audit_verify() {
    expect_words(2, "");
    auto c = sync::verify_audit_chain(folder().store());
    // --head SEQ:HASH (what `field-cli audit head` prints): the chain must hold that entry unchanged.
    // A device has seen it signed by this server, so a chain without it was truncated or rewritten.
    if (args_.has("head") && c.ok) {
      const std::string given = text::trim(args_.get("head"));
      const auto colon = given.find(':');
      const std::string seq_text = given.substr(0, colon), hash = colon == std::string::npos ? "" : given.substr(colon + 1);
      if (colon == std::string::npos || !text::all_digits(seq_text) || seq_text.empty() || seq_text.size() > 18 || hash.size() != 64)
        throw CliError{2, tr("bad_option_value", {"--head", given, "SEQ:HASH"})};
      const uint64_t seq = std::stoull(seq_text);
      std::optional<std::string> held;
      for (auto& e : folder().store().audit_entries())
        if (e.seq == seq) held = e.hash;
      if (!held) {
        c.ok = false;
        c.broken_seq = seq;
        c.problem = bilingual("设备见过的第 " + seq_text + " 条记录不在审计链中（链有 " + std::to_string(c.count) + " 条）：审计链被截断",
                              "entry " + seq_text + ", which a device has seen, is not in the chain (" + std::to_string(c.count) +
                                  " entries): the chain was truncated");
      } else if (*held != hash) {
        c.ok = false;
        c.broken_seq = seq;
        c.problem = bilingual("第 " + seq_text + " 条记录与设备见过的不同：审计链被改写",
                              "entry " + seq_text + " differs from the one a device has seen: the chain was rewritten");
      }
    }
    if (io_.as_json) {
      io_.print_json({{"ok", c.ok},
                      {"count", c.count},
                      {"head_seq", c.head_seq},
                      {"head_hash", c.head_hash},
                      {"broken_entry", c.ok ? json(nullptr) : json(c.broken_seq)},
                      {"problem", c.ok ? json(nullptr) : json(in_lang(c.problem, lang_))}});
      return c.ok ? 0 : 1;
    }
    if (!c.ok) throw CliError{1, tr("audit_broken", {in_lang(c.problem, lang_)})};
    io_.out << tr("audit_ok", {std::to_string(c.count), std::to_string(c.head_seq), c.head_hash}) << "\n";
    return 0;
  }

  // --- user add | list | disable | enable (users of the HTTP API; decision 300) ---

  // The new user's password: TAIZHANG_USER_PASSWORD, else asked twice on a terminal; never an option.
  std::string new_password() {
    if (const char* v = std::getenv("TAIZHANG_USER_PASSWORD"); v && *v) return v;
    if (!isatty(STDIN_FILENO)) throw CliError{1, tr("password_missing")};
    std::string p = cli::read_secret(std::cin, io_.err, tr("password_prompt"));
    if (cli::read_secret(std::cin, io_.err, tr("password_again")) != p) throw CliError{1, tr("password_mismatch")};
    return p;
  }

  json user_json(const sync::UserRecord& u) const {
    return {{"name", u.name},
            {"role", u.role},
            {"agency", u.agency},
            {"agency_name", sync::agency_label(u.agency, Lang::zh)},
            {"scope", u.scope},
            {"disabled", u.disabled},
            {"created", time_or(u.created_ms, "")}};
  }

  int cmd_user_add() {
    expect_words(3, tr("arg_user"));
    need_option("role");
    need_option("agency");
    need_option("scope");
    auto role = sync::parse_role(text::trim(args_.get("role")));
    if (!role) throw CliError{2, tr("bad_option_value", {"--role", args_.get("role"), "reviewer | admin"})};
    auto agency = sync::parse_agency(text::trim(args_.get("agency")));
    if (!agency) throw CliError{2, tr("bad_option_value", {"--agency", args_.get("agency"), "人社局 (rsj) | 扶贫办 (fpb)"})};
    auto [scope, names] = scope_option();
    const std::string name = text::trim(args_.words[2]);
    const std::string password = new_password();
    auto u = take(sync::add_user(folder().store(), name, *role, *agency, scope, password, now_));
    audit("user add", {{"user", u.name}, {"role", std::string(args_.get("role"))}, {"scope", scope_text(scope)}});
    if (io_.as_json) {
      json j = user_json(u);
      j["ok"] = true;
      io_.print_json(j);
      return 0;
    }
    std::string scope_shown;
    for (size_t i = 0; i < scope.size(); ++i) scope_shown += (i ? "，" : "") + scope[i] + " " + names[i];
    io_.out << tr("user_added", {u.name, sync::role_label(u.role, lang_), sync::agency_label(u.agency, lang_), scope_shown})
            << "\n";
    return 0;
  }

  int cmd_user_list() {
    expect_words(2, "");
    auto users = folder().store().users();
    if (io_.as_json) {
      json arr = json::array();
      for (auto& u : users) arr.push_back(user_json(u));
      io_.print_json({{"ok", true}, {"count", users.size()}, {"users", arr}});
      return 0;
    }
    ops::Table t;
    t.title = tr("users_title", {std::to_string(users.size())});
    t.rows_are_persons = false;
    t.headers = {tr("col_user"), tr("col_role"), tr("col_agency"), tr("col_scope"), tr("col_status")};
    for (auto& u : users)
      t.rows.push_back({u.name, sync::role_label(u.role, lang_), sync::agency_label(u.agency, lang_), scope_text(u.scope),
                        tr(u.disabled ? "user_disabled_mark" : "status_active")});
    io_.out << ops::render_table(t, lang_);
    return 0;
  }

  int cmd_user_enable() {
    expect_words(3, tr("arg_user"));
    const bool disable = args_.words[1] == "disable";
    const std::string name = text::trim(args_.words[2]);
    check(sync::set_user_disabled(folder().store(), name, disable));
    audit(disable ? "user disable" : "user enable", {{"user", name}});
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"name", name}, {"disabled", disable}});
    else
      io_.out << tr(disable ? "user_disabled" : "user_enabled", {name}) << "\n";
    return 0;
  }

  // --- reconcile FILE [--out PREFIX] [--kind K] [--region CODE] (decision 301) ---

  int cmd_reconcile() {
    expect_words(2, tr("arg_file"));
    const std::string path = args_.words[1];
    auto kind = ops::parse_reconcile_kind(text::trim(args_.get("kind")));
    if (!kind) throw CliError{2, tr("bad_option_value", {"--kind", args_.get("kind"), "社保 | 用工备案 | 国家系统"})};
    std::string bytes = read_input(path);
    require_period();
    ops::ReconcileOptions o;
    o.kind = *kind;
    o.region = text::trim(args_.get("region"));
    if (!o.region.empty() && !(text::all_digits(o.region) && (o.region.size() == 6 || o.region.size() == 9 || o.region.size() == 12)))
      throw CliError{2, tr("bad_option_value", {"--region", o.region, tr("region_form")})};
    o.today = china_date_of(now_);
    auto rep = take(ops::reconcile(replica(), bytes, o));
    const bool full = args_.flag("full-ids");
    if (!rep.problems.empty()) {
      if (io_.as_json) {
        io_.print_json({{"ok", false},
                        {"error", {{"code", "invalid_input"}, {"message", tr("reconcile_refused", {std::to_string(rep.problems.size())})}}},
                        {"problems", problems_json(rep.problems, lang_)}});
        return 1;
      }
      for (auto& p : rep.problems) io_.err << tr("reconcile_problem", {p.column, p.message(lang_)}) << "\n";
      throw CliError{1, tr("reconcile_refused", {std::to_string(rep.problems.size())})};
    }
    const std::string prefix = args_.has("out") ? args_.get("out") : fs::path(path).stem().string() + tr("reconcile_suffix");
    ops::Table table = ops::reconcile_table(rep, lang_, full), summary = ops::reconcile_summary_table(rep, lang_);
    // Both files are made before either is written: a failure leaves neither half-made.
    const std::string csv_path = prefix + ".csv", xlsx_path = prefix + ".xlsx";
    const std::string tmp_xlsx = xlsx_path + ".new";
    if (auto st = xlsx::write_workbook(tmp_xlsx, {{tr("sheet_reconcile"), table.headers, table.rows},
                                                  {tr("sheet_summary"), summary.headers, summary.rows}});
        !st) {
      std::error_code ec;
      fs::remove(tmp_xlsx, ec);
      throw CliError{1, tr("write_failed", {xlsx_path})};
    }
    std::error_code ec;
    try {
      io_.write_file(csv_path, ops::render_csv(table));
    } catch (const CliError&) {
      fs::remove(tmp_xlsx, ec);
      throw;
    }
    fs::rename(tmp_xlsx, xlsx_path, ec);
    if (ec) throw CliError{1, tr("write_failed", {xlsx_path})};
    // A 用工备案 list is the county's record of filed headcounts: verify's employer rule reads it.
    const bool filed = take(ops::keep_filed_headcounts(folder().store(), rep));
    audit(full ? "reconcile --full-ids" : "reconcile",
          {{"file_sha256", crypto::to_hex(crypto::sha256(bytes))}, {"kind", std::string(args_.get("kind"))}});
    if (io_.as_json) {
      json j = reconcile_json(rep, lang_, full, false);
      if (filed) j["filed_headcounts"] = rep.employer_headcounts;
      j["ok"] = true;
      j["csv"] = csv_path;
      j["xlsx"] = xlsx_path;
      io_.print_json(j);
      return 0;
    }
    io_.out << ops::render_table(summary, lang_);
    io_.out << tr("reconcile_written", {csv_path, xlsx_path}) << "\n";
    return 0;
  }

  // --- verify (SPEC §8; decision 302) ---

  // Runs every verification rule over the county (the admin replica) and sends each finding as a
  // notice to the devices whose scope holds the record; a finding already sent to a device is not
  // sent again.
  int cmd_verify() {
    expect_words(1, "");
    require_period();
    // Exact duplicates first (merged), so the rules below see one person where there were two.
    json exact;
    const size_t refused_merges = verify_exact_duplicates(exact);
    auto thresholds = take(ops::load_verification_thresholds(resources()));
    DeviceStore& store = replica();
    auto& f = folder();
    const auto admin = f.admin_device();
    const auto devices = f.store().devices();
    ops::VerifyInput in;
    in.store = &store;
    in.thresholds = thresholds;
    in.excluded_collectors = {kAdminCollector};
    in.filed_headcounts = ops::filed_headcounts(f.store());
    for (auto& d : devices)
      if (!d.revoked && !d.retired && d.id != admin)
        for (auto& c : d.collectors) {
          auto& scope = in.collector_scopes[c];
          scope.insert(scope.end(), d.scope.begin(), d.scope.end());
        }
    std::set<std::tuple<std::string, std::string, std::string>> sent;  // (device, entity, reason) already told
    for (auto& [target, n] : f.server().notices())
      if (n.kind == sync::NoticeRecord::Kind::flagged) sent.insert({target.hex(), n.entity.hex(), n.reason_zh});
    const auto pop = ops::Population::load(store);
    json rules = json::array(), findings = json::array();
    ops::Table t;
    t.title = tr("verify_title");
    t.rows_are_persons = false;
    t.headers = {tr("col_rule"), tr("col_severity"), tr("col_findings"), tr("col_notices")};
    std::vector<std::string> lines;
    size_t total_sent = 0, total_found = 0;
    for (auto& rule : ops::verification_rules()) {
      const std::string severity = thresholds.severity.count(rule.id) ? thresholds.severity.at(rule.id) : "warning";
      std::vector<sync::SyncServer::Flag> flags;
      auto found = rule.run(in, pop);
      for (auto& fd : found) {
        for (auto& d : devices) {
          if (d.revoked || d.retired || d.id == admin || !sync::scope_holds_any(d.scope, fd.villages)) continue;
          if (!sent.insert({d.id.hex(), fd.entity.hex(), fd.zh}).second) continue;
          flags.push_back(sync::SyncServer::Flag{d.id, fd.type, fd.entity, fd.field, fd.zh, fd.en});
        }
        findings.push_back({{"rule", rule.id},
                            {"severity", severity},
                            {"type", std::string(entity_type_name(fd.type))},
                            {"entity", fd.entity.hex()},
                            {"villages", fd.villages},
                            {"message", lang_ == Lang::zh ? fd.zh : fd.en}});
        lines.push_back((lang_ == Lang::zh ? rule.title_zh : rule.title_en) + tr("verify_sep") + (lang_ == Lang::zh ? fd.zh : fd.en));
      }
      check(f.server().flag(flags));
      audit("verify", {{"rule", rule.id}, {"findings", uint64_t{found.size()}}, {"notices", uint64_t{flags.size()}}});
      total_sent += flags.size();
      total_found += found.size();
      rules.push_back({{"id", rule.id},
                       {"title", lang_ == Lang::zh ? rule.title_zh : rule.title_en},
                       {"severity", severity},
                       {"findings", found.size()},
                       {"notices", flags.size()}});
      t.rows.push_back({lang_ == Lang::zh ? rule.title_zh : rule.title_en, tr("severity_" + severity), std::to_string(found.size()),
                        std::to_string(flags.size())});
    }
    if (io_.as_json) {
      io_.print_json({{"ok", refused_merges == 0}, {"findings", total_found}, {"notices_sent", total_sent}, {"rules", rules},
                      {"details", findings}, {"duplicates", exact}});
      return refused_merges == 0 ? 0 : 1;
    }
    io_.out << ops::render_table(t, lang_);
    for (auto& l : lines) io_.out << l << "\n";
    io_.out << tr("verify_done", {std::to_string(total_found), std::to_string(total_sent)}) << "\n";
    return refused_merges == 0 ? 0 : 1;
  }

  // --- review RECORD [--approve | --send-back REASON] (SPEC §8; decisions 303, 312): a person or a household ---

  int cmd_review() {
    expect_words(2, tr("arg_record"));
    if (args_.flag("approve") && args_.has("send-back")) throw CliError{2, tr("review_how")};
    require_period();
    DeviceStore& store = replica();
    auto tree = ops::region_tree_of(store);
    ValidationContext ctx = validation(tree ? &*tree : nullptr);
    auto located = ops::locate(store, args_.words[1], ctx.today);
    if (!located) fail(located.error());
    const bool decide = args_.flag("approve") || args_.has("send-back");
    ReviewStatus status;
    if (decide) {
      const std::string reason = text::trim(args_.get("send-back"));
      status = take(ops::decide_review(store, *located, args_.flag("approve"), reason, ops::EditContext{kAdminCollector, now_}));
      take(folder().sync_replica());
      // The decision, never the reason's text (it may name a person): its hash.
      audit(args_.flag("approve") ? "review approve" : "review send-back",
            {{"entity", located->hex()}, {"type", std::string(entity_type_name(store.get_row(*located)->entity.type))}, {"approved_versions", uint64_t{status.approved.size()}},
             {"reason_sha256", reason.empty() ? std::string() : crypto::to_hex(crypto::sha256(reason))}});
    } else {
      status = ops::review_status_of(store, *located);
    }
    const std::string label = review_state_label(status.state, lang_);
    if (io_.as_json) {
      io_.print_json({{"ok", true},
                      {"id", located->hex()},
                      {"state", review_state_label(status.state, Lang::en)},
                      {"label", label},
                      {"reason", status.reason},
                      {"approved_versions", status.approved.size()}});
      return 0;
    }
    io_.out << tr("review_state", {args_.words[1], label}) << (status.reason.empty() ? "" : tr("verify_sep") + status.reason) << "\n";
    return 0;
  }

  // --- list KIND ---

  int cmd_list() {
    expect_words(2, tr("arg_kind"));
    auto req = cli::list_request(io_, args_);
    require_period();
    DeviceStore& store = replica();
    auto tree = ops::region_tree_of(store);
    auto t = take(ops::make_list(store, resources(), tree ? &*tree : nullptr, req.options));
    const int code = cli::emit_list(io_, t, req, store.info().config.period);
    // A list with full ID numbers is recorded (SPEC §6): what, how many rows, where; never the IDs.
    if (code == 0 && req.options.full_ids)
      audit("list --full-ids", {{"kind", args_.words[1]}, {"rows", uint64_t{t.rows.size()}}, {"format", req.format},
                                {"out", req.out}, {"region", text::trim(args_.get("region"))}});
    return code;
  }

  // --- report [--region CODE] (the county admin replica, as a device would make it: decision 402) ---

  int cmd_report() {
    expect_words(1, "");
    auto req = cli::report_request(io_, args_);
    require_period();
    DeviceStore& store = replica();
    auto tree = ops::region_tree_of(store);
    return cli::emit_report(io_, take(ops::make_report(store, tree ? &*tree : nullptr, report_options(req.region))), req);
  }

  // The report's regions: --region, else the whole county.
  ops::ReportOptions report_options(const std::string& region) const {
    ops::ReportOptions o;
    o.lang = lang_;
    if (!region.empty()) o.roots = {region};
    return o;
  }

  // --- export --out DIR [--region CODE]: the report and all five lists from one read (decision 430) ---

  int cmd_export() {
    expect_words(1, "");
    auto req = cli::export_request(io_, args_);
    require_period();
    DeviceStore& store = replica();
    auto tree = ops::region_tree_of(store);
    return cli::emit_export(io_, store, resources(), tree ? &*tree : nullptr, req, report_options(req.region));
  }

  // --- standards | subsidies [--region CODE] (schemas/policy.json over the admin replica) ---

  int cmd_policy() {
    expect_words(1, "");
    auto req = cli::tables_request(io_, args_);
    require_period();
    DeviceStore& store = replica();
    auto tree = ops::region_tree_of(store);
    return args_.words[0] == "standards" ? cli::emit_standards(io_, store, resources(), tree ? &*tree : nullptr, req)
                                         : cli::emit_subsidies(io_, store, resources(), tree ? &*tree : nullptr, req);
  }

  // --- subsidies record [--region CODE] | subsidies paid PERSON --kind KIND (decision 420) ---

  int cmd_subsidies_record() {
    expect_words(2, "");
    require_period();
    const std::string region = text::trim(args_.get("region"));
    DeviceStore& store = replica();
    const auto policy = take(ops::load_policy(resources()));
    const auto lines = take(ops::compute_subsidies(store, policy, region));
    const auto n = take(ops::record_subsidies(store, lines, region, ops::EditContext{kAdminCollector, now_}));
    take(folder().sync_replica());
    audit("subsidies record", {{"region", region}, {"added", uint64_t{n.added}}, {"updated", uint64_t{n.updated}},
                               {"withdrawn", uint64_t{n.withdrawn}}});
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"added", n.added}, {"updated", n.updated}, {"unchanged", n.unchanged},
                      {"withdrawn", n.withdrawn}, {"paid", n.paid}});
    else
      io_.out << tr("subsidies_recorded", {std::to_string(n.added), std::to_string(n.updated), std::to_string(n.unchanged),
                                           std::to_string(n.withdrawn), std::to_string(n.paid)})
              << "\n";
    return 0;
  }

  int cmd_subsidies_paid() {
    expect_words(3, tr("arg_record"));
    need_option("kind");
    require_period();
    DeviceStore& store = replica();
    const auto policy = take(ops::load_policy(resources()));
    const EntityId person = take(ops::locate(store, args_.words[2], china_date_of(now_)));
    const auto paid = take(ops::mark_subsidy_paid(store, policy, person, text::trim(args_.get("kind")),
                                                  ops::EditContext{kAdminCollector, now_}));
    if (paid.changed) {
      take(folder().sync_replica());
      audit("subsidies paid", {{"person", person.hex()}, {"kind", paid.kind}});
    }
    const std::string label = display_value(store.schema().entity(EntityType::subsidy).require("kind"), paid.kind, lang_);
    const std::string year = std::to_string(store.info().config.period.year);
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"person", person.hex()}, {"kind", paid.kind}, {"changed", paid.changed}});
    else
      io_.out << tr(paid.changed ? "subsidy_paid" : "subsidy_already_paid", {args_.words[2], label, year}) << "\n";
    return 0;
  }

  // --- baseline import FILE (SPEC §9: last year's count, sent to devices as configuration) ---

  int cmd_baseline_import() {
    expect_words(3, tr("arg_file"));
    std::string bytes = read_input(args_.words[2]);
    auto& f = folder();
    auto tree = f.region_tree();
    auto parsed = take(ops::parse_baseline_csv(bytes, f.identity().county, tree ? &*tree : nullptr, china_date_of(now_),
                                               &resources().counties));
    if (parsed.report.error_count() > 0) return cli::print_import(io_, parsed.report, false);
    const std::string value = ops::baseline_config_value(parsed.baseline);
    auto before = f.store().config(ops::kConfigBaseline);
    const bool same = before && before->second == value;
    check(f.set_config(ops::kConfigBaseline, value));
    take(f.sync_replica());
    const size_t people = parsed.baseline.entries.size();
    audit("baseline import", {{"file_sha256", crypto::to_hex(crypto::sha256(bytes))}, {"persons", uint64_t{people}},
                              {"changed", std::string(same ? "no" : "yes")}});
    if (io_.as_json) {
      json j = cli::import_report_json(parsed.report, false, lang_);
      j["persons"] = people;
      j["changed"] = !same;
      io_.print_json(j);
      return 0;
    }
    for (auto& p : parsed.report.problems)
      io_.out << tr("severity_warning") << (lang_ == Lang::zh ? "：" : ": ")
              << tr("problem_line", {std::to_string(p.line), p.column, p.message(lang_), p.rule_id}) << "\n";
    io_.out << (same ? tr("baseline_same", {std::to_string(people)}) : tr("baseline_done", {std::to_string(people)})) << "\n";
    return 0;
  }

  // --- duplicates / dismiss / verify (tz/ops/dedup.hpp over the replica; decisions in the server store) ---

  ops::DuplicateReport duplicate_report(bool with_dismissed) {
    DeviceStore& store = replica();
    const dedup::PairSet dismissed = with_dismissed ? ops::dismissed_pairs(folder().store()) : dedup::PairSet{};
    return ops::find_duplicates(store, dismissed, china_date_of(now_), 2);
  }
  std::string shown_id(const std::string& id) const {
    if (id.empty()) return tr("no_id");
    return args_.flag("full-ids") ? id : idn::mask_id(id);
  }
  json person_json(const ops::DuplicateReport& r, const EntityId& id) const {
    auto it = r.persons.find(id);
    if (it == r.persons.end()) return {{"id", id.hex()}};
    const auto& p = it->second;
    return {{"id", id.hex()},
            {"name", p.name},
            {"id_number", p.id_number.empty() ? json(nullptr) : json(shown_id(p.id_number))},
            {"village", p.village},
            {"household", p.household.is_zero() ? json(nullptr) : json(p.household.hex())}};
  }
  std::string person_text(const ops::DuplicateReport& r, const EntityId& id) const {
    auto it = r.persons.find(id);
    if (it == r.persons.end()) return id.hex();
    return tr("dup_person", {id.hex(), it->second.name, shown_id(it->second.id_number)});
  }

  int cmd_duplicates() {
    expect_words(1, "");
    const auto r = duplicate_report(true);
    if (io_.as_json) {
      json arr = json::array();
      for (auto& p : r.probable) {
        json reasons = json::array();
        for (auto reason : p.reasons) reasons.push_back(std::string(dedup::reason_code(reason)));
        arr.push_back({{"a", person_json(r, p.a)}, {"b", person_json(r, p.b)}, {"score", p.score}, {"reasons", reasons}});
      }
      io_.print_json({{"ok", true}, {"persons", r.persons_checked}, {"count", r.probable.size()},
                      {"exact_groups", r.exact.size()}, {"pairs", arr}});
      return 0;
    }
    io_.out << tr("dup_title", {std::to_string(r.probable.size()), std::to_string(r.persons_checked)}) << "\n";
    size_t n = 0;
    for (auto& p : r.probable) {
      std::string why;
      for (auto reason : p.reasons) why += (why.empty() ? "" : tr("list_sep")) + tr("reason_" + std::string(dedup::reason_code(reason)));
      io_.out << tr("dup_line", {std::to_string(++n), std::to_string(p.score), person_text(r, p.a), person_text(r, p.b), why})
              << "\n";
    }
    if (!r.probable.empty()) io_.out << tr("dup_hint") << "\n";
    if (!r.exact.empty()) io_.out << tr("dup_exact_hint", {std::to_string(r.exact.size())}) << "\n";
    return 0;
  }

  int cmd_dismiss() {
    expect_words(3, tr("arg_pair"));
    DeviceStore& store = replica();
    const CivilDate today = china_date_of(now_);
    EntityId ids[2];
    for (int i = 0; i < 2; ++i) {
      auto located = ops::locate(store, args_.words[1 + i], today);
      if (!located) fail(located.error());
      auto row = store.get_row(*located);
      if (!row || row->entity.type != EntityType::person) throw CliError{1, tr("not_a_person", {args_.words[1 + i]})};
      ids[i] = *located;
    }
    if (ids[0] == ids[1]) throw CliError{1, tr("same_person", {args_.words[1]})};
    ops::DedupDecision d;
    d.kind = ops::DedupDecision::Kind::dismiss;
    d.a = ids[0];
    d.b = ids[1];
    d.by = kAdminCollector;
    d.server_ms = now_;
    check(ops::record_dedup_decision(folder().store(), d, sync::kCountyAdminActor));
    auto [a, b] = dedup::ordered(ids[0], ids[1]);
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"decision", "dismissed"}, {"a", a.hex()}, {"b", b.hex()}});
    else
      io_.out << tr("dismissed", {a.hex(), b.hex()}) << "\n";
    return 0;
  }

  // The first step of verify: every exact group merged into its smallest id (SPEC §8), then listed
  // (into `out` with --json, else printed). Returns how many merges were refused.
  size_t verify_exact_duplicates(json& out) {
    const auto r = duplicate_report(false);
    std::vector<std::string> failed, apart;
    std::set<std::string> apart_groups;  // by shown ID
    size_t merged = 0;
    for (auto& g : r.exact)
      for (size_t i = 1; i < g.ids.size(); ++i) {
        // A pair a reviewer unmerged stays apart, as on apply and in merge_exact (one rule).
        if (folder().server().unmerged_before(g.ids.front(), g.ids[i])) {
          apart.push_back(tr("verify_kept_apart", {g.ids[i].hex(), g.ids.front().hex()}));
          apart_groups.insert(g.id18);
          continue;
        }
        auto m = folder().server().merge(g.ids.front(), g.ids[i]);
        if (m) ++merged;
        else failed.push_back(tr("verify_failed", {g.ids[i].hex(), m.error().message(lang_)}));
      }
    // Households with one 村代码 + 户编号 (and any person group the replica did not show), from the
    // server's match keys.
    size_t households = 0;
    if (auto more = folder().server().merge_exact()) households = more->size();
    else failed.push_back(more.error().message(lang_));
    if (merged || households) take(folder().sync_replica());
    if (io_.as_json) {
      json arr = json::array();
      for (auto& g : r.exact) {
        json members = json::array();
        for (auto& id : g.ids) members.push_back(person_json(r, id));
        arr.push_back({{"id_number", shown_id(g.id18)}, {"survivor", g.ids.front().hex()}, {"persons", members},
                       {"merged", failed.empty() && !apart_groups.count(g.id18)}});
      }
      out = {{"persons", r.persons_checked}, {"exact_groups", arr.size()}, {"merged", merged}, {"households_merged", households},
             {"failed", failed}, {"kept_apart", apart}, {"groups", arr}};
      return failed.size();
    }
    io_.out << tr("dedup_verify_title", {std::to_string(r.persons_checked), std::to_string(r.exact.size())}) << "\n";
    for (auto& g : r.exact) {
      io_.out << tr("verify_group", {shown_id(g.id18), g.ids.front().hex()}) << "\n";
      for (auto& id : g.ids) io_.out << "  " << person_text(r, id) << "\n";
    }
    io_.out << tr("verify_merged", {std::to_string(merged), std::to_string(r.exact.size())}) << "\n";
    io_.out << tr("verify_households", {std::to_string(households)}) << "\n";
    for (auto& a : apart) io_.out << a << "\n";
    for (auto& f : failed) io_.err << f << "\n";
    return failed.size();
  }

  // merge A B: persons or households, by entity id, 身份证号 or 村代码/户编号; the smaller id survives.
  int cmd_merge() {
    expect_words(3, tr("arg_pair"));
    DeviceStore& store = replica();
    const CivilDate today = china_date_of(now_);
    EntityId ids[2];
    for (int i = 0; i < 2; ++i) ids[i] = take(ops::locate(store, args_.words[1 + i], today));
    if (ids[0] == ids[1]) throw CliError{1, tr("same_person", {args_.words[1]})};
    auto [keep, away] = dedup::ordered(ids[0], ids[1]);
    auto m = take(folder().server().merge(keep, away));
    take(folder().sync_replica());
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"decision", "merged"}, {"survivor", keep.hex()}, {"merged_away", away.hex()},
                      {"versions", m.versions}, {"children", m.children}, {"conflicts", m.conflicts}});
    else
      io_.out << tr("merged", {away.hex(), keep.hex(), std::to_string(m.versions), std::to_string(m.children),
                               std::to_string(m.conflicts)})
              << "\n";
    return 0;
  }

  // unmerge ID: the merged-away entity id, or a survivor of exactly one merge (id, 身份证号, ...).
  int cmd_unmerge() {
    expect_words(2, tr("arg_record"));
    const std::string& ref = args_.words[1];
    auto& server = folder().server();
    std::optional<EntityId> away;
    if (auto id = EntityId::from_hex(text::trim(ref)); id && server.merged_into(*id)) away = *id;
    if (!away) {
      auto located = ops::locate(replica(), ref, china_date_of(now_));
      if (located) {
        std::vector<EntityId> into;
        for (auto& [a, s] : server.merges())
          if (s == *located) into.push_back(a);
        if (into.size() == 1) away = into.front();
      }
    }
    if (!away) throw CliError{1, tr("not_merged_away", {ref})};
    auto m = take(server.unmerge(*away));
    take(folder().sync_replica());
    if (io_.as_json)
      io_.print_json({{"ok", true}, {"decision", "unmerged"}, {"survivor", m.survivor.hex()}, {"merged_away", away->hex()},
                      {"versions", m.versions}, {"children", m.children}});
    else
      io_.out << tr("unmerged", {away->hex(), m.survivor.hex(), std::to_string(m.versions), std::to_string(m.children)})
              << "\n";
    return 0;
  }

  cli::Args args_;
  Lang lang_;
  cli::Io io_;
  fs::path dir_;
  int64_t now_ = 0;
  std::shared_ptr<ops::Resources> res_;
  std::unique_ptr<AdminFolder> folder_;
};

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return cli::run_guarded(args, messages(), out, err, [&](Lang lang) {
    Command c(cli::parse_args(args, program_spec(), messages(), lang), lang, out, err);
    return c.dispatch();
  });
}

}  // namespace tz::server_cli
