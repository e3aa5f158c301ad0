// `sync-server serve`: routes, TLS identity, metrics, request log, clean stop on SIGTERM/SIGINT.
#include "serve.hpp"

#include "api.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "tz/cli/args.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/crypto/tls.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/net/http.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/ops/resources.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::server_cli {

namespace fs = std::filesystem;
using cli::CliError;
using nlohmann::json;

bool parse_listen(const std::string& text, std::string& host, int& port) {
  std::string h, p;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string::npos) return false;  // a bare IPv6 address needs brackets
  }
  if (h.empty()) h = "0.0.0.0";
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  int n = std::stoi(p);
  if (n > 65535) return false;
  host = h;
  port = n;
  return true;
}

namespace {

const std::string kRouteEnrol = "/api/v1/enrol";
const std::string kRouteSync = "/api/v1/sync";
const std::string kRouteBundle = "/api/v1/bundle";

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<std::unique_ptr<ServeLock>> ServeLock::acquire(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return std::unique_ptr<ServeLock>(new ServeLock(-1));
  const fs::path p = dir / "serve.lock";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error(ErrorCode::io_error, {p.string()});
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::unique_ptr<ServeLock>();
  }
  return std::unique_ptr<ServeLock>(new ServeLock(fd));
}

ServeLock::~ServeLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

namespace {

// UTC, to the millisecond: the request log's time stamp.
std::string log_time(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

bool write_file_mode(const fs::path& p, const std::string& bytes, mode_t mode) {
  const fs::path tmp = p.string() + ".new";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  ::fchmod(fd, mode);
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (ok) fs::rename(tmp, p, ec);
  return ok && !ec;
}

std::string tls_name_for(const std::string& host) {
  if (host != "0.0.0.0" && host != "::" && !host.empty()) return host;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0]) return name;
  return "localhost";
}

// Prometheus counters. Guarded by their own mutex (handlers update them outside the server lock).
class Metrics {
 public:
  void request(const std::string& route, const std::string& outcome, size_t in, size_t out) {
    std::lock_guard lock(mu_);
    ++requests_[{route, outcome}];
    bytes_in_ += in;
    bytes_out_ += out;
  }
  void change(const char* outcome, uint64_t n) {
    std::lock_guard lock(mu_);
    changes_[outcome] += n;
  }
  void push() { std::lock_guard lock(mu_); ++pushes_; }
  void pull() { std::lock_guard lock(mu_); ++pulls_; }
  void enrolment() { std::lock_guard lock(mu_); ++enrolments_; }
  void refusal(const std::string& code) { std::lock_guard lock(mu_); ++refusals_[code]; }

  std::string render(uint64_t busy, size_t active, size_t workers, double uptime_s, uint64_t last_seq) const {
    std::lock_guard lock(mu_);
    std::ostringstream o;
    o << "# HELP taizhang_requests_total Requests answered by route and outcome (ok, refused, error).\n"
         "# TYPE taizhang_requests_total counter\n";
    for (auto& [k, n] : requests_)
      o << "taizhang_requests_total{route=\"" << k.first << "\",outcome=\"" << k.second << "\"} " << n << "\n";
    o << "# HELP taizhang_request_bytes_total Request bodies received.\n# TYPE taizhang_request_bytes_total counter\n"
      << "taizhang_request_bytes_total " << bytes_in_ << "\n"
      << "# HELP taizhang_response_bytes_total Response bodies sent.\n# TYPE taizhang_response_bytes_total counter\n"
      << "taizhang_response_bytes_total " << bytes_out_ << "\n"
      << "# HELP taizhang_changes_total Pushed changes by outcome.\n# TYPE taizhang_changes_total counter\n";
    for (const char* k : {"applied", "conflict", "quarantined", "duplicate"}) {
      auto it = changes_.find(k);
      o << "taizhang_changes_total{outcome=\"" << k << "\"} " << (it == changes_.end() ? 0 : it->second) << "\n";
    }
    o << "# HELP taizhang_pushes_total Push requests processed.\n# TYPE taizhang_pushes_total counter\n"
      << "taizhang_pushes_total " << pushes_ << "\n"
      << "# HELP taizhang_pulls_total Pull pages served.\n# TYPE taizhang_pulls_total counter\n"
      << "taizhang_pulls_total " << pulls_ << "\n"
      << "# HELP taizhang_refusals_total Requests refused by the sync server, by error code.\n"
         "# TYPE taizhang_refusals_total counter\n";
    for (auto& [k, n] : refusals_) o << "taizhang_refusals_total{code=\"" << k << "\"} " << n << "\n";
    o << "# HELP taizhang_enrolments_total Devices enrolled (grants sent).\n# TYPE taizhang_enrolments_total counter\n"
      << "taizhang_enrolments_total " << enrolments_ << "\n"
      << "# HELP taizhang_http_rejected_busy_total Connections answered 503 because the task queue was full.\n"
         "# TYPE taizhang_http_rejected_busy_total counter\n"
      << "taizhang_http_rejected_busy_total " << busy << "\n"
      << "# HELP taizhang_http_connections_active Connections a worker is serving now (a stalled client counts).\n"
         "# TYPE taizhang_http_connections_active gauge\n"
      << "taizhang_http_connections_active " << active << "\n"
      << "# HELP taizhang_http_workers Worker threads started (--threads at start, up to --max-threads).\n"
         "# TYPE taizhang_http_workers gauge\n"
      << "taizhang_http_workers " << workers << "\n"
      << "# HELP taizhang_uptime_seconds Seconds since serve started.\n# TYPE taizhang_uptime_seconds gauge\n"
      << "taizhang_uptime_seconds " << static_cast<uint64_t>(uptime_s) << "\n"
      << "# HELP taizhang_last_seq The server log's last sequence number.\n# TYPE taizhang_last_seq gauge\n"
      << "taizhang_last_seq " << last_seq << "\n";
    return o.str();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;
  std::map<std::string, uint64_t> changes_, refusals_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0, pushes_ = 0, pulls_ = 0, enrolments_ = 0;
};

const char* refusal_name(sync::PushReply::Refusal r) {
  switch (r) {
    case sync::PushReply::Refusal::none: return "none";
    case sync::PushReply::Refusal::rolled_back: return "rolled_back";
    case sync::PushReply::Refusal::unknown_device: return "unknown_device";
    case sync::PushReply::Refusal::revoked: return "device_revoked";
    case sync::PushReply::Refusal::stale_counter: return "stale_counter";
    case sync::PushReply::Refusal::malformed: return "invalid_input";
  }
  return "other";
}

// The HTTP status of an ErrorReply (its body is the frame whatever the status; the client reads the
// frame by its Content-Type).
int status_of_code(const std::string& code) {
  if (code == "stale_counter") return 409;
  if (code == "unknown_device" || code == "device_revoked" || code == "bad_signature" || code == "token_unknown" ||
      code == "token_expired" || code == "token_used")
    return 403;
  if (code == "internal" || code == "io_error" || code == "store_busy") return 500;
  // A full disk or read-only storage at the county: 507, the server goes on serving.
  if (code == "disk_full" || code == "read_only") return 507;
  return 400;
}

// The folder's server store and one SyncServer per request, serialised.
class Service {
 public:
  Service(std::unique_ptr<sync::ServerStore> store, const ops::Resources& res) : store_(std::move(store)), res_(res) {}

  template <typename Fn>
  auto with_server(Fn&& fn) {
    std::lock_guard lock(mu_);
    const int64_t now = cli::now_ms();
    refresh_tree();
    ValidationContext ctx;
    ctx.today = china_date_of(now);
    std::optional<Period> period;
    if (auto v = store_->config(ops::kConfigPeriod)) period = ops::parse_period_config(v->second);
    ctx.period_year = period ? period->year : ctx.today.year;
    ctx.settings = &res_.schema.settings();
    ctx.counties = &res_.counties;
    ctx.tree = tree_ ? &*tree_ : nullptr;
    sync::SyncServer server(*store_, res_.schema, ctx, [] { return cli::now_ms(); });
    return fn(server);
  }
  // The same, with the store too (the review API's users and sessions; api.hpp).
  template <typename Fn>
  auto with_store(Fn&& fn) {
    return with_server([&](sync::SyncServer& s) { return fn(*store_, s); });
  }

  // The store as of now (epoch and last sequence are re-read in a transaction).
  std::pair<std::string, uint64_t> epoch_and_last_seq() {
    std::lock_guard lock(mu_);
    // A read transaction: a probe never competes with pushes and admin commands for the write lock.
    store_->begin_read();
    std::pair<std::string, uint64_t> out{store_->epoch(), store_->last_seq()};
    store_->end_read();
    return out;
  }

 private:
  // The region tree, parsed again only when the stored configuration's version changed.
  void refresh_tree() {
    auto v = store_->config(ops::kConfigRegionTree);
    const uint64_t version = v ? v->first : 0;
    if (have_tree_version_ && version == tree_version_) return;
    tree_.reset();
    if (v)
      if (auto t = ops::parse_region_tree_config(v->second, v->first))
        if (auto tree = region::RegionTree::parse_csv(t->csv, t->version)) tree_ = std::move(*tree);
    tree_version_ = version;
    have_tree_version_ = true;
  }

  std::mutex mu_;
  std::unique_ptr<sync::ServerStore> store_;
  const ops::Resources& res_;
  std::optional<region::RegionTree> tree_;
  uint64_t tree_version_ = 0;
  bool have_tree_version_ = false;
};

void log_request(const net::HttpRequest& rq, const net::HttpResponse& rs, int64_t started_ms,
                 std::chrono::steady_clock::time_point t0) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::ostringstream line;
  line << log_time(started_ms) << ' ' << rq.method << ' ' << rq.path << ' ' << rs.status << " in=" << rq.body.size()
       << " out=" << rs.body.size() << ' ' << ms << "ms " << rq.remote_addr << '\n';
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fputs(line.str().c_str(), stderr);
}

// The TLS certificate and key to serve with: the given files (refused unless the certificate is
// signed by the server's signing key), else DIR/tls/{cert,key}.pem, made on first start and made
// again when the stored one is not signed by the key.
crypto::TlsIdentity tls_identity(const ServeOptions& o, const sync::ServerIdentity& id, const cli::Io& io) {
  if (!o.cert_file.empty()) {
    auto cert = ops::read_file(o.cert_file);
    if (!cert) throw CliError{1, io.tr("read_failed", {o.cert_file})};
    auto key = ops::read_file(o.key_file);
    if (!key) throw CliError{1, io.tr("read_failed", {o.key_file})};
    if (!crypto::certificate_signed_by(*cert, id.sign.pub)) throw CliError{1, io.tr("cert_not_signed", {o.cert_file})};
    return {*cert, *key};
  }
  const fs::path tls = o.dir / "tls", cert_path = tls / "cert.pem", key_path = tls / "key.pem";
  auto cert = ops::read_file(cert_path);
  auto key = ops::read_file(key_path);
  if (cert && key && !key->empty() && crypto::certificate_signed_by(*cert, id.sign.pub)) return {*cert, *key};
  auto made = crypto::make_tls_identity(id.sign.priv, tls_name_for(o.host));
  std::error_code ec;
  fs::create_directories(tls, ec);
  ::chmod(tls.c_str(), 0700);
  if (ec || !write_file_mode(key_path, made.key_pem, 0600) || !write_file_mode(cert_path, made.cert_pem, 0644))
    throw CliError{1, io.tr("write_failed", {tls.string()})};
  return made;
}

std::string url_host(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

}  // namespace

int serve(const ServeOptions& o, const ops::Resources& res, const cli::Io& io) {
  if (!fs::exists(o.dir / "server.db"))
    throw CliError{1, io.tr("no_server", {o.dir.string()})};
  auto serve_lock = ServeLock::acquire(o.dir);
  if (!serve_lock) throw CliError{1, serve_lock.error().message(io.lang)};
  if (!*serve_lock) throw CliError{1, io.tr("serve_already_running", {o.dir.string()})};
  auto opened = sync::open_sqlite_server_store(o.dir);
  if (!opened) throw CliError{opened.error().exit_code(), opened.error().message(io.lang)};
  auto identity = sync::load_server_identity(**opened);
  if (!identity) throw CliError{1, io.tr("no_server", {o.dir.string()})};
  Service service(std::move(*opened), res);
  Metrics metrics;

  net::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.tls = !o.plain_http;
  std::string cert_sha256;
  if (so.tls) {
    auto tls = tls_identity(o, *identity, io);
    so.cert_pem = tls.cert_pem;
    so.key_pem = tls.key_pem;
    cert_sha256 = crypto::to_hex(crypto::certificate_sha256(tls.cert_pem));
  }
  so.threads = o.threads;
  so.max_threads = o.max_threads;
  so.max_body = o.max_body;
  so.read_timeout_s = so.write_timeout_s = o.timeout_s;
  net::HttpServer http(so);
  const auto started = std::chrono::steady_clock::now();

  // Wraps a handler with the request log and the request counters.
  auto logged = [&](const std::string& route, auto&& fn) {
    return [&metrics, route, fn](const net::HttpRequest& rq) {
      const auto t0 = std::chrono::steady_clock::now();
      const int64_t at = wall_ms();
      net::HttpResponse rs;
      std::string outcome = "ok";
      try {
        rs = fn(rq, outcome);
      } catch (...) {
        metrics.request(route, "error", rq.body.size(), 0);
        net::HttpResponse err{500, "application/json", R"({"error":"internal error","status":500})"};
        log_request(rq, err, at, t0);
        throw;
      }
      metrics.request(route, outcome, rq.body.size(), rs.body.size());
      log_request(rq, rs, at, t0);
      return rs;
    };
  };

  // A reply frame: counted, and given the HTTP status of what it says.
  auto frame_reply = [&metrics](std::string reply, std::string& outcome) {
    net::HttpResponse rs;
    rs.content_type = "application/octet-stream";
    auto type = reply.empty() ? 0 : static_cast<uint8_t>(reply[0]);
    // A push or pull reply with the audit head: counted by what it carries.
    std::string inner;
    if (type == static_cast<uint8_t>(sync::MessageType::signed_reply))
      if (auto sr = sync::decode_signed_reply(reply); sr && !sr->body.empty()) {
        inner = std::move(sr->body);
        type = static_cast<uint8_t>(inner[0]);
      }
    const std::string& counted = inner.empty() ? reply : inner;
    if (type == static_cast<uint8_t>(sync::MessageType::error_reply)) {
      auto e = sync::decode_error_reply(reply);
      std::string code = e ? e->code : "invalid_input";
      metrics.refusal(code);
      rs.status = status_of_code(code);
      outcome = "refused";
    } else if (type == static_cast<uint8_t>(sync::MessageType::push_reply)) {
      metrics.push();
      if (auto p = sync::decode_push_reply(counted)) {
        if (p->refusal != sync::PushReply::Refusal::none) {
          metrics.refusal(refusal_name(p->refusal));
          outcome = "refused";
        }
        uint64_t n[4] = {0, 0, 0, 0};
        for (auto& c : p->outcomes) ++n[static_cast<size_t>(c.kind) & 3];
        metrics.change("applied", n[0]);
        metrics.change("conflict", n[1]);
        metrics.change("quarantined", n[2]);
        metrics.change("duplicate", n[3]);
      }
    } else if (type == static_cast<uint8_t>(sync::MessageType::pull_page)) {
      metrics.pull();
    } else if (type == static_cast<uint8_t>(sync::MessageType::enrol_reply)) {
      metrics.enrolment();
    }
    rs.body = std::move(reply);
    return rs;
  };

  http.post(kRouteEnrol, logged(kRouteEnrol, [&](const net::HttpRequest& rq, std::string& outcome) {
              return frame_reply(service.with_server([&](sync::SyncServer& s) { return s.handle_enrol(rq.body); }), outcome);
            }));
  http.post(kRouteSync, logged(kRouteSync, [&](const net::HttpRequest& rq, std::string& outcome) {
              return frame_reply(service.with_server([&](sync::SyncServer& s) { return s.handle_signed(rq.body); }), outcome);
            }));
  // An offline bundle uploaded (SPEC §7): the reply is the response bundle, or a JSON refusal.
  http.post(kRouteBundle, logged(kRouteBundle, [&](const net::HttpRequest& rq, std::string& outcome) {
              auto r = service.with_server([&](sync::SyncServer& s) { return s.import_bundle(rq.body); });
              if (r) return net::HttpResponse{200, "application/octet-stream", std::move(r->response)};
              outcome = "refused";
              metrics.refusal(std::string(r.error().name()));
              json j{{"error", r.error().message(Lang::en)},
                     {"error_zh", r.error().message(Lang::zh)},
                     {"code", r.error().name()},
                     {"status", status_of_code(std::string(r.error().name()))}};
              return net::HttpResponse{status_of_code(std::string(r.error().name())), "application/json", j.dump()};
            }));
  ApiEnv api;
  api.with_store = [&service](const std::function<void(sync::ServerStore&, sync::SyncServer&)>& fn) { service.with_store(fn); };
  api.res = &res;
  api.dir = o.dir;
  api.policy.session_ms = o.session_ms;
  add_api_routes(http, api, [&logged](const std::string& route, CountedHandler h) -> net::Handler { return logged(route, std::move(h)); });
  http.get("/healthz", logged("/healthz", [&](const net::HttpRequest&, std::string&) {
             auto [epoch, last_seq] = service.epoch_and_last_seq();
             json j{{"status", "ok"}, {"county", identity->county}, {"epoch", epoch}, {"last_seq", last_seq}};
             return net::HttpResponse{200, "application/json", j.dump()};
           }));
  http.get("/metrics", logged("/metrics", [&](const net::HttpRequest&, std::string&) {
             auto last_seq = service.epoch_and_last_seq().second;
             double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
             return net::HttpResponse{200, "text/plain; version=0.0.4", metrics.render(http.rejected_busy(), http.active(), http.workers(), up, last_seq)};
           }));

  // SIGTERM and SIGINT are taken by sigwait below: blocked before the server's threads start, so
  // every thread inherits the mask and none is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto port = http.start();
  if (!port) throw CliError{1, io.tr("serve_failed", {url_host(o.host) + ":" + std::to_string(o.port), port.error().message(io.lang)})};
  const std::string url = std::string(so.tls ? "https://" : "http://") + url_host(o.host) + ":" + std::to_string(*port);
  if (io.as_json) {
    json j{{"url", url},
           {"port", *port},
           {"tls", so.tls},
           {"cert_sha256", so.tls ? json(cert_sha256) : json(nullptr)},
           {"server_sign_pub", crypto::to_hex(identity->sign.pub)},
           {"county", identity->county}};
    io.out << j.dump() << std::endl;
  } else {
    io.out << io.tr(so.tls ? "serving" : "serving_plain", {url}) << std::endl;
  }
  io.out.flush();

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  http.stop();
  std::fprintf(stderr, "%s\n", io.tr("stopped", {sig == SIGINT ? "SIGINT" : "SIGTERM"}).c_str());
  return 0;
}

}  // namespace tz::server_cli
