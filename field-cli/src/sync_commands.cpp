// Talking to the county server: enroll (register this device with a one-time token, pin the server's
// key, receive the county secret, scope and configuration) and sync (push then pull over HTTPS, with a
// progress bar on a terminal, retried until a bounded time has passed, resumable).
#include <unistd.h>

#include <thread>

#include "command.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/net/http.hpp"
#include "tz/ops/conflicts.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/bundle.hpp"
#include "tz/ops/enrol.hpp"
#include "tz/ops/resources.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/crypto/keys.hpp"

namespace tz::cli {

namespace {

bool plain_url(const std::string& url) { return url.rfind("http://", 0) == 0; }

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A one-line bar redrawn in place on a terminal: "上传 [#####-----] 1200/2400".
std::string bar(uint64_t done, uint64_t total) {
  const int width = 24;
  int filled = total ? static_cast<int>(width * std::min(done, total) / total) : width;
  return "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '-') + "]";
}

}  // namespace

int Command::cmd_enroll() {
  if (args_.has("token-file")) return cmd_enroll_file();
  expect_words(3, tr(lang_, "arg_enroll"));
  const std::string url = args_.words[1];
  const std::string token = args_.words[2];
  if (plain_url(url) && !args_.flags.count("plain-http")) throw CliError{1, tr(lang_, "plain_http_needs_flag", {url})};
  auto store = open_store();
  auto info = sync::decode_token(token);
  if (!info) fail(info.error());
  net::ClientOptions copt;
  copt.allow_plain = plain_url(url);
  // A bad URL or a missing pin is reported by the transport's first request.
  auto transport = std::make_unique<net::HttpTransport>(url, copt.allow_plain ? std::string() : info->server_sign_pub, copt);
  auto outcome = ops::enrol_store(*store, token, url, [&](std::string_view frame) {
    return transport->post("/api/v1/enrol", frame);
  });
  if (!outcome) fail(outcome.error());
  const auto& g = outcome->grant;
  std::string scope, collectors;
  for (auto& s : g.scope) scope += (scope.empty() ? "" : "、") + s;
  for (auto& c : store->info().config.collectors) collectors += (collectors.empty() ? "" : "、") + c;
  if (json_) {
    print_json({{"ok", true},
                {"device_id", store->info().device.hex()},
                {"server", url},
                {"county", g.county},
                {"county_name", g.county_name},
                {"scope", g.scope},
                {"collectors", store->info().config.collectors},
                {"rekeyed", outcome->rekeyed},
                {"period", period_key(store->info().config.period)}});
  } else {
    out_ << tr(lang_, "enrolled", {url, g.county_name, g.county, scope, collectors}) << "\n";
    if (outcome->rekeyed) out_ << tr(lang_, "enrol_rekeyed", {std::to_string(outcome->rekeyed)}) << "\n";
    out_ << tr(lang_, "enrol_next") << "\n";
  }
  return 0;
}

int Command::cmd_sync() {
  expect_words(1, "");
  int timeout_s = 30;
  if (args_.has("timeout")) {
    std::string t = args_.get("timeout");
    if (!text::all_digits(t) || t.empty() || t.size() > 5 || std::stoi(t) < 1)
      throw CliError{2, tr(lang_, "bad_option_value", {"--timeout", t, tr(lang_, "seconds_hint")})};
    timeout_s = std::stoi(t);
  }
  auto store = open_store();
  auto id = store->identity();
  if (!id) throw CliError{1, tr(lang_, "not_enrolled")};
  net::ClientOptions copt;
  copt.allow_plain = plain_url(id->server_url);
  copt.connect_timeout_s = std::min(5, timeout_s);
  copt.read_timeout_s = std::max(timeout_s, 30);
  auto transport =
      std::make_unique<net::HttpTransport>(id->server_url, copt.allow_plain ? std::string() : id->server_sign_pub, copt);
  const bool tty = !json_ && isatty(STDERR_FILENO);
  ops::DeviceSyncOptions opt;
  opt.signer = ops::RequestSigner{store->info().device, id->sign_priv, id->server_sign_pub};
  uint64_t last_line_pushed = 0, last_line_pages = 0;
  opt.progress = [&](const ops::SyncProgress& p) {
    if (json_) return;
    if (tty) {
      if (p.pulling)
        err_ << "\r" << tr(lang_, "progress_pull", {std::to_string(p.pulled_records), std::to_string(p.pages)}) << "      ";
      else
        err_ << "\r" << tr(lang_, "progress_push", {bar(p.pushed, p.to_push), std::to_string(p.pushed), std::to_string(p.to_push)});
      err_ << std::flush;
      return;
    }
    // Plain lines (a log file, a script): one per push batch and one per pull page.
    if (!p.pulling && p.pushed != last_line_pushed) {
      err_ << tr(lang_, "progress_push_line", {std::to_string(p.pushed), std::to_string(p.to_push)}) << "\n";
      last_line_pushed = p.pushed;
    } else if (p.pulling && p.pages != last_line_pages) {
      err_ << tr(lang_, "progress_pull", {std::to_string(p.pulled_records), std::to_string(p.pages)}) << "\n";
      last_line_pages = p.pages;
    }
  };
  ops::DeviceSync ds(*store, *transport, now_ms, opt);
  ops::RetryPolicy policy;
  policy.timeout_ms = int64_t{timeout_s} * 1000;
  ops::RetryHooks hooks;
  hooks.steady_ms = steady_ms;
  hooks.sleep = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  hooks.on_retry = [&](const Error& e, int64_t wait_ms) {
    if (tty) err_ << "\r" << std::string(60, ' ') << "\r" << std::flush;
    if (!json_) err_ << tr(lang_, "sync_retry", {e.message(lang_), std::to_string((wait_ms + 999) / 1000)}) << "\n";
  };
  auto retried = ops::sync_with_retry(ds, store->info().device, policy, hooks);
  if (tty) err_ << "\r" << std::string(60, ' ') << "\r" << std::flush;
  std::optional<ops::SyncReport> report;
  std::optional<Error> last_error;
  if (retried.result) report = *retried.result;
  else last_error = retried.result.error();
  if (!report) {
    std::string why = last_error->message(lang_);
    if (last_error->code() == ErrorCode::network) throw CliError{1, tr(lang_, "sync_gave_up", {std::to_string(timeout_s), why})};
    fail(*last_error);
  }
  auto conflicts = ops::list_conflicts(*store);
  auto notices = ops::list_notices(*store);
  if (json_) {
    // The SPEC §5 digest of this device's scope (its SHA-256, hex): equal to the server's for the scope (sync-server
    // device list --json) once everyone pushed and pulled.
    const std::string digest = crypto::to_hex(crypto::sha256(ops::device_scope_digest(*store, id->scope)));
    print_json({{"ok", true},
                {"pushed", report->pushed},
                {"applied", report->applied},
                {"conflicts", report->conflicts},
                {"quarantined", report->quarantined},
                {"duplicates", report->duplicates},
                {"restamped", report->restamped},
                {"pulled_records", report->pulled_records},
                {"pages", report->pages},
                {"exchanges", report->exchanges},
                {"tries", retried.tries},
                {"open_conflicts", conflicts.size()},
                {"notices", notices.size()},
                {"bytes_sent", transport->bytes_sent()},
                {"bytes_received", transport->bytes_received()},
                {"handshakes", transport->handshakes()},
                {"period", period_key(store->info().config.period)},
                {"rolled_back_recovered", report->rolled_back_recovered},
                {"new_server_epoch", report->new_server_epoch},
                {"scope", id->scope},
                {"digest", digest}});
    return 0;
  }
  out_ << tr(lang_, "sync_done", {std::to_string(report->pushed), std::to_string(report->applied),
                                   std::to_string(report->conflicts), std::to_string(report->quarantined),
                                   std::to_string(report->pulled_records)})
       << "\n";
  if (report->rolled_back_recovered) out_ << tr(lang_, "sync_rolled_back") << "\n";
  if (report->new_server_epoch) out_ << tr(lang_, "sync_new_epoch") << "\n";
  if (report->period_changed) out_ << tr(lang_, "sync_period", {period_key(store->info().config.period)}) << "\n";
  if (!conflicts.empty()) out_ << tr(lang_, "sync_conflicts", {std::to_string(conflicts.size())}) << "\n";
  if (!notices.empty()) out_ << tr(lang_, "sync_notices", {std::to_string(notices.size())}) << "\n";
  return 0;
}

// enroll --token-file FILE [--code CODE]: no network (SPEC §6). The code comes from --code,
// TAIZHANG_ENROL_CODE or a prompt on a terminal.
int Command::cmd_enroll_file() {
  expect_words(1, "");
  const std::string path = args_.get("token-file");
  auto bytes = ops::read_file(path);
  if (!bytes) throw CliError{1, tr(lang_, "read_failed", {path})};
  auto store = open_store();
  std::string code = args_.get("code");
  if (code.empty())
    if (const char* v = std::getenv("TAIZHANG_ENROL_CODE"); v && *v) code = v;
  if (code.empty()) {
    if (!isatty(STDIN_FILENO)) throw CliError{1, tr(lang_, "enrol_code_missing")};
    code = read_secret(tr(lang_, "enrol_code_prompt"));
  }
  auto outcome = ops::enrol_from_token_file(*store, *bytes, code, now_ms());
  if (!outcome) throw CliError{outcome.error().exit_code(), tr(lang_, "token_file_refused", {path, outcome.error().message(lang_)})};
  const auto& g = outcome->grant;
  std::string scope, collectors;
  for (auto& sc : g.scope) scope += (scope.empty() ? "" : "、") + sc;
  for (auto& c : store->info().config.collectors) collectors += (collectors.empty() ? "" : "、") + c;
  if (json_) {
    print_json({{"ok", true},
                {"device_id", store->info().device.hex()},
                {"token_file", path},
                {"county", g.county},
                {"county_name", g.county_name},
                {"scope", g.scope},
                {"collectors", store->info().config.collectors},
                {"rekeyed", outcome->rekeyed},
                {"period", period_key(store->info().config.period)}});
    return 0;
  }
  out_ << tr(lang_, "enrolled_file", {g.county_name, g.county, scope, collectors}) << "\n";
  if (outcome->rekeyed) out_ << tr(lang_, "enrol_rekeyed", {std::to_string(outcome->rekeyed)}) << "\n";
  out_ << tr(lang_, "enrol_file_next") << "\n";
  return 0;
}

// bundle export --out FILE (SPEC §7).
int Command::cmd_bundle_export() {
  expect_words(2, "");
  if (!args_.has("out")) throw CliError{2, tr(lang_, "missing_option", {"--out"})};
  const std::string path = args_.get("out");
  auto store = open_store();
  if (!store->enrolled()) throw CliError{1, tr(lang_, "not_enrolled")};
  auto made = ops::export_bundle(*store, now_ms);
  if (!made) fail(made.error());
  io().write_file(path, made->file);
  if (json_) {
    print_json({{"ok", true},
                {"file", path},
                {"bundle", made->number},
                {"changes", made->changes},
                {"first_seq", made->first_seq},
                {"last_seq", made->last_seq},
                {"registration", made->registration},
                {"cursor", made->cursor},
                {"bytes", made->file.size()}});
    return 0;
  }
  out_ << tr(lang_, "bundle_exported", {path, std::to_string(made->changes), std::to_string(made->number)}) << "\n";
  if (made->registration) out_ << tr(lang_, "bundle_has_registration") << "\n";
  out_ << tr(lang_, "bundle_export_next") << "\n";
  return 0;
}

// bundle import RESPONSE (SPEC §7): the server's answer, applied as a network pull.
int Command::cmd_bundle_import() {
  expect_words(3, tr(lang_, "arg_file"));
  const std::string path = args_.words[2];
  auto bytes = ops::read_file(path);
  if (!bytes) throw CliError{1, tr(lang_, "read_failed", {path})};
  auto store = open_store();
  if (!store->enrolled()) throw CliError{1, tr(lang_, "not_enrolled")};
  auto r = ops::import_response(*store, *bytes, now_ms);
  if (!r) throw CliError{r.error().exit_code(), tr(lang_, "bundle_refused", {path, r.error().message(lang_)})};
  auto conflicts = ops::list_conflicts(*store);
  auto notices = ops::list_notices(*store);
  if (json_) {
    auto id = store->identity();
    const std::string digest = crypto::to_hex(crypto::sha256(ops::device_scope_digest(*store, id->scope)));
    print_json({{"ok", true},
                {"already", r->already},
                {"registered", r->registered},
                {"applied", r->applied},
                {"conflicts", r->conflicts},
                {"quarantined", r->quarantined},
                {"duplicates", r->duplicates},
                {"restamped", r->restamped},
                {"acked_seq", r->acked_seq},
                {"acks_skipped", r->acks_skipped},
                {"rolled_back", r->rolled_back},
                {"highest_seq_held", r->highest_seq_held},
                {"pulled_records", r->pulled_records},
                {"pages", r->pages},
                {"pages_skipped", r->pages_skipped},
                {"more", r->more},
                {"audit_head", r->audit_head_seq},
                {"open_conflicts", conflicts.size()},
                {"notices", notices.size()},
                {"last_seq", store->info().next_seq - 1},
                {"scope", id->scope},
                {"digest", digest}});
    return 0;
  }
  if (r->already) {
    out_ << tr(lang_, "bundle_already") << "\n";
    return 0;
  }
  out_ << tr(lang_, "bundle_imported", {std::to_string(r->applied + r->conflicts + r->quarantined + r->duplicates),
                                        std::to_string(r->applied), std::to_string(r->conflicts),
                                        std::to_string(r->quarantined), std::to_string(r->duplicates),
                                        std::to_string(r->pulled_records)})
       << "\n";
  if (r->rolled_back) out_ << tr(lang_, "bundle_rolled_back", {std::to_string(r->highest_seq_held)}) << "\n";
  if (r->acks_skipped) out_ << tr(lang_, "bundle_acks_skipped") << "\n";
  if (r->pages_skipped) out_ << tr(lang_, "bundle_pages_skipped") << "\n";
  if (r->more) out_ << tr(lang_, "bundle_more") << "\n";
  if (r->period_changed) out_ << tr(lang_, "sync_period", {period_key(store->info().config.period)}) << "\n";
  if (!conflicts.empty()) out_ << tr(lang_, "sync_conflicts", {std::to_string(conflicts.size())}) << "\n";
  if (!notices.empty()) out_ << tr(lang_, "sync_notices", {std::to_string(notices.size())}) << "\n";
  return 0;
}

// recover --export FILE | recover KEYFILE (SPEC §6): a store whose passphrase is forgotten is opened
// with its data key, escrowed at enrolment and returned by the server (sync-server device recover)
// sealed to a one-time key whose private half waits beside the store.
int Command::cmd_recover() {
  const auto key_path = store_dir_ / "recovery.key";
  auto& res = resources();
  if (!device_store_exists(store_dir_)) fail(Error(ErrorCode::store_missing, {store_dir_.string()}));
  auto locked = open_device_store_locked(store_dir_, res.schema);
  if (!locked) fail(locked.error());
  const DeviceId device = (*locked)->info().device;
  if (args_.has("export")) {
    expect_words(1, "");
    const std::string path = args_.get("export");
    auto pair = crypto::x25519_generate();
    io().write_file(key_path.string(), pair.priv);
    std::filesystem::permissions(key_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace);
    io().write_file(path, sync::encode(sync::RecoveryRequest{device, pair.pub}));
    if (json_)
      print_json({{"ok", true}, {"device_id", device.hex()}, {"request", path}});
    else
      out_ << tr(lang_, "recover_exported", {path, device.hex()}) << "\n";
    return 0;
  }
  expect_words(2, tr(lang_, "arg_keyfile"));
  const std::string path = args_.words[1];
  auto bytes = ops::read_file(path);
  if (!bytes) throw CliError{1, tr(lang_, "read_failed", {path})};
  auto priv = ops::read_file(key_path);
  if (!priv) throw CliError{1, tr(lang_, "recover_no_request", {key_path.string()})};
  auto keyfile = sync::decode_recovery_key_file(*bytes);
  if (!keyfile) fail(keyfile.error());
  if (keyfile->device != device) throw CliError{1, tr(lang_, "recover_other_device", {keyfile->device.hex(), device.hex()})};
  auto data_key = crypto::open_sealed(*priv, keyfile->sealed, sync::kRecoverContext);
  if (!data_key) throw CliError{1, tr(lang_, "recover_not_for_request")};
  auto store = open_device_store_with_key(store_dir_, *data_key, res.schema);
  if (!store) throw CliError{1, tr(lang_, "recover_not_for_request")};
  auto id = (*store)->identity();
  if (!id || !crypto::ed25519_verify(id->server_sign_pub, sync::recovery_signature_input(keyfile->device, keyfile->sealed),
                                     keyfile->signature))
    throw CliError{1, tr(lang_, "recover_not_signed")};
  const uint64_t pending = (*store)->pending_change_count();
  store->reset();
  std::string pass = new_passphrase();
  if (auto st = set_store_passphrase(store_dir_, *data_key, pass, res.schema, kdf_cost()); !st) fail(st.error());
  std::filesystem::remove(key_path);
  if (json_)
    print_json({{"ok", true}, {"device_id", device.hex()}, {"pending_changes", pending}});
  else
    out_ << tr(lang_, "recovered", {std::to_string(pending)}) << "\n";
  return 0;
}

}  // namespace tz::cli
