// `sync-server serve` and `token create`, as real processes: the server started in the background on
// a free port (--listen 127.0.0.1:0, the startup line read from its output, no sleeps), devices in
// this process talking to it over HTTPS pinned to the server's signing key.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "server_folder.hpp"
#include "store_fixture.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/crypto/natural_keys.hpp"
#include "tz/crypto/tls.hpp"
#include "tz/net/http.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/enrol.hpp"
#include "tz/ops/records.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/server.hpp"

using namespace tz;
using namespace tz::test;
using nlohmann::json;

namespace {

struct Folder : ServerFolder {
  sync::ServerIdentity identity() const {
    auto s = sync::open_sqlite_server_store(data).take();
    return sync::load_server_identity(*s).take();
  }
  std::unique_ptr<Background> serve(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0", "--json", "--data", data};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Background>(SYNC_SERVER_PATH, args, env);
  }
};

std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

std::string metric(const std::string& metrics, const std::string& name) {
  auto at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  auto start = at + name.size() + 2;
  return metrics.substr(start, metrics.find('\n', start) - start);
}

}  // namespace

TEST_CASE("sync-server serve answers healthz over HTTPS pinned to its signing key", "[server_cli][serve]") {
  Folder f;
  f.init();
  const auto id = f.identity();
  auto server = f.serve();
  json start = started(*server);
  CHECK(start["tls"] == true);
  CHECK(start["server_sign_pub"] == crypto::to_hex(id.sign.pub));
  CHECK(start["url"].get<std::string>().rfind("https://127.0.0.1:", 0) == 0);
  const std::string url = start["url"];

  net::HttpTransport t(url, id.sign.pub);
  auto health = t.get("/healthz");
  REQUIRE(health);
  json h = json::parse(*health);
  CHECK(h["status"] == "ok");
  CHECK(h["county"] == "522632");
  CHECK(h["last_seq"].get<uint64_t>() > 0);  // init's configuration is in the log
  CHECK_FALSE(h["epoch"].get<std::string>().empty());

  // A client pinned to another key refuses the server.
  net::HttpTransport other(url, crypto::ed25519_generate().pub);
  auto refused = other.get("/healthz");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::server_identity);

  auto metrics = t.get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->find("taizhang_requests_total{route=\"/healthz\",outcome=\"ok\"} 1") != std::string::npos);
  CHECK(metric(*metrics, "taizhang_last_seq") == std::to_string(h["last_seq"].get<uint64_t>()));
  CHECK(metric(*metrics, "taizhang_http_rejected_busy_total") == "0");
  CHECK(metrics->find("taizhang_uptime_seconds") != std::string::npos);

  auto stopped = server->stop();
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.err.find("GET /healthz 200") != std::string::npos);  // the request log

  // The TLS identity was kept (key 0600) and is reused by the next start.
  struct stat st {};
  REQUIRE(::stat((std::filesystem::path(f.data) / "tls/key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = f.serve();
  CHECK(started(*again)["cert_sha256"] == start["cert_sha256"]);
  CHECK(again->stop().exit_code == 0);
}

TEST_CASE("sync-server serve makes a new certificate when the stored one is not signed by its key", "[server_cli][serve]") {
  Folder f;
  f.init();
  auto first = f.serve();
  const json a = started(*first);
  CHECK(first->stop().exit_code == 0);
  auto foreign = crypto::make_tls_identity(crypto::ed25519_generate().priv, "127.0.0.1");
  write_file(std::filesystem::path(f.data) / "tls/cert.pem", foreign.cert_pem);
  write_file(std::filesystem::path(f.data) / "tls/key.pem", foreign.key_pem);
  auto second = f.serve();
  const json b = started(*second);
  CHECK(b["cert_sha256"] != a["cert_sha256"]);
  net::HttpTransport t(b["url"], f.identity().sign.pub);
  CHECK(t.get("/healthz"));
  CHECK(second->stop().exit_code == 0);
}

TEST_CASE("sync-server serve refuses a certificate not signed by the server key", "[server_cli][serve]") {
  Folder f;
  f.init();
  auto foreign = crypto::make_tls_identity(crypto::ed25519_generate().priv, "127.0.0.1");
  write_file(f.dir / "cert.pem", foreign.cert_pem);
  write_file(f.dir / "key.pem", foreign.key_pem);
  auto r = f.run({"serve", "--listen", "127.0.0.1:0", "--tls-cert", (f.dir / "cert.pem").string(), "--tls-key",
                  (f.dir / "key.pem").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("不是由本服务器的签名密钥签发的") != std::string::npos);
  CHECK(r.out.empty());

  // One signed by the server key is served.
  auto own = crypto::make_tls_identity(f.identity().sign.priv, "127.0.0.1");
  write_file(f.dir / "own.pem", own.cert_pem);
  write_file(f.dir / "own.key", own.key_pem);
  auto server = f.serve({"--tls-cert", (f.dir / "own.pem").string(), "--tls-key", (f.dir / "own.key").string()});
  net::HttpTransport t(started(*server)["url"], f.identity().sign.pub);
  CHECK(t.get("/healthz"));
  CHECK(server->stop().exit_code == 0);

  // Half a pair, or plain HTTP with a certificate, is a usage error.
  CHECK(f.run({"serve", "--tls-cert", (f.dir / "own.pem").string()}).exit_code == 2);
  CHECK(f.run({"serve", "--plain-http", "--tls-cert", "a", "--tls-key", "b"}).exit_code == 2);
  CHECK(f.run({"serve", "--listen", "localhost"}).exit_code == 2);
}

TEST_CASE("sync-server serve speaks plain HTTP only when asked and says so in English", "[server_cli][serve]") {
  Folder f;
  f.init();
  Background server(SYNC_SERVER_PATH, {"serve", "--listen", "127.0.0.1:0", "--plain-http", "--lang", "en", "--data", f.data},
                    f.env);
  auto line = server.wait_for_line("serving at");
  REQUIRE(line);
  auto url = line->substr(line->find("http://"), line->find(" (plain") - line->find("http://"));
  net::ClientOptions co;
  co.allow_plain = true;
  net::HttpTransport t(url, "", co);
  CHECK(t.get("/healthz"));
  CHECK(server.stop(2).exit_code == 0);  // SIGINT too
}

TEST_CASE("sync-server token create prints a token bound to the county and the server keys", "[server_cli][serve]") {
  Folder f;
  f.init();
  const auto id = f.identity();
  auto r = f.ok({"token", "create", "--scope", "522632", "--collector", "王芳,李强"});
  auto token = sync::decode_token(last_line(r.out));
  REQUIRE(token);
  CHECK(token->county == "522632");
  CHECK(token->server_sign_pub == id.sign.pub);
  CHECK(token->server_box_pub == id.box.pub);
  CHECK(token->expires_ms == kNowMs + 7 * 86400000LL);
  CHECK(r.out.find("王芳，李强") != std::string::npos);

  auto j = f.ok_json({"token", "create", "--scope", "522632", "--collector", "王芳", "--expires-days", "2"});
  CHECK(sync::decode_token(j["token"].get<std::string>())->expires_ms == kNowMs + 2 * 86400000LL);
  CHECK(j["scope"] == json::array({"522632"}));
  CHECK(j["collectors"] == json::array({"王芳"}));
  CHECK(j["expires"] == "2026-11-03 12:00");

  // A code outside the county's tree is named; so is a missing option.
  auto bad = f.run({"token", "create", "--scope", "522632,999999999999", "--collector", "王芳"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("999999999999") != std::string::npos);
  CHECK(f.run({"token", "create", "--scope", "522632"}).exit_code == 2);
  CHECK(f.run({"token", "create", "--scope", "522632", "--collector", "王芳", "--expires-days", "0"}).exit_code == 2);

  auto list = f.ok_json({"token", "list"});
  CHECK(list["count"] == 2);
  for (auto& t : list["tokens"]) CHECK(t["status"] == "unused");
}

TEST_CASE("sync-server serve enrols a device once per token and admin commands run beside it", "[server_cli][serve]") {
  Folder f;
  f.init();
  const auto id = f.identity();
  auto server = f.serve();
  const std::string url = started(*server)["url"];
  net::HttpTransport t(url, id.sign.pub);

  // A token for one village of the county's tree.
  auto tree = region::RegionTree::parse_csv(*resources().county_tree_csv("522632"), "t").take();
  const std::string village = tree.villages().front()->code;
  auto made = f.ok({"token", "create", "--scope", village, "--collector", "王芳"});
  const std::string token = last_line(made.out);

  auto first = make_store(f.dir / "a");
  auto outcome = ops::enrol_store(*first, token, url, [&](std::string_view frame) { return t.post("/api/v1/enrol", frame); });
  INFO((outcome ? std::string() : outcome.error().message(Lang::en)));
  REQUIRE(outcome);
  CHECK(outcome->grant.county == "522632");
  CHECK(outcome->grant.scope == std::vector<std::string>{village});

  // A second device with the same token is refused: token_used.
  auto second = make_store(f.dir / "b");
  auto start = ops::begin_enrol(*second, token, "").take();
  auto reply = t.post("/api/v1/enrol", start.request_frame);
  REQUIRE(reply);
  auto refusal = sync::decode_error_reply(*reply);
  REQUIRE(refusal);
  CHECK(refusal->code == "token_used");
  CHECK_FALSE(ops::finish_enrol(start, *reply));

  // The enrolled device syncs with signed requests.
  auto ident = first->identity();
  REQUIRE(ident);
  ops::DeviceSyncOptions so;
  so.signer = ops::RequestSigner{first->info().device, ident->sign_priv};
  ops::DeviceSync ds(*first, t, [] { return kNowMs; }, so);
  auto synced = ds.sync();
  INFO((synced ? std::string() : synced.error().message(Lang::en)));
  REQUIRE(synced);

  // Admin commands on the same folder while serve runs.
  auto devices = f.ok_json({"device", "list"})["devices"];
  bool found = false;
  for (auto& d : devices)
    if (d["id"] == first->info().device.hex()) {
      found = true;
      CHECK(d["enrolled"] == true);
      CHECK(d["collectors"] == json::array({"王芳"}));
      CHECK_FALSE(d["token"].is_null());
    } else {
      CHECK(d["enrolled"] == false);  // the admin replica, registered in process
    }
  CHECK(found);
  CHECK(f.ok_json({"conflicts"})["count"] == 0);
  auto tokens = f.ok_json({"token", "list"})["tokens"];
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0]["status"] == "used");
  CHECK(tokens[0]["device"] == first->info().device.hex());

  // An unknown device is refused and counted.
  auto stranger = sync::sign_request(crypto::random_device_id(), 1, "x", crypto::ed25519_generate().priv);
  auto unknown = t.exchange(sync::encode(stranger));
  REQUIRE(unknown);
  CHECK(sync::decode_error_reply(*unknown)->code == "unknown_device");

  auto metrics = t.get("/metrics").take();
  INFO(metrics);
  CHECK(metric(metrics, "taizhang_enrolments_total") == "1");
  CHECK(metrics.find("taizhang_refusals_total{code=\"token_used\"} 1") != std::string::npos);
  CHECK(metrics.find("taizhang_refusals_total{code=\"unknown_device\"} 1") != std::string::npos);
  CHECK(metrics.find("taizhang_requests_total{route=\"/api/v1/enrol\",outcome=\"ok\"} 1") != std::string::npos);
  CHECK(metrics.find("taizhang_requests_total{route=\"/api/v1/enrol\",outcome=\"refused\"} 1") != std::string::npos);
  CHECK(metric(metrics, "taizhang_pulls_total") != "0");
  CHECK(metric(metrics, "taizhang_pushes_total") != "");

  auto stopped = server->stop();
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.err.find("POST /api/v1/enrol 403") != std::string::npos);
}

TEST_CASE("more stalled clients than workers do not keep a device from syncing", "[server_cli][serve][load]") {
  Folder f;
  f.init();
  const auto id = f.identity();
  // Two workers started, a long read timeout: before decision 121 six stalled clients held both
  // workers (and every connection after them) for 120 s.
  auto server = f.serve({"--threads", "2", "--timeout", "120"});
  json start = started(*server);
  const std::string url = start["url"];
  const int port = start["port"];

  constexpr int kStalled = 6;
  std::vector<int> stalled;
  // Half start a TLS record, half send a record header and the start of a ClientHello: each is
  // accepted at once (TCP_DEFER_ACCEPT keeps only silent ones in the kernel) and waits in a handshake.
  const std::string record("\x16\x03\x01", 3), hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  for (int i = 0; i < kStalled; ++i) {
    stalled.push_back(open_stalled_client(port, i % 2 ? hello : record));
    REQUIRE(stalled.back() >= 0);
  }
  // Wait until the server serves all of them (its own gauge; each look is one more connection).
  std::string metrics;
  for (int i = 0; i < 10000; ++i) {
    net::HttpTransport look(url, id.sign.pub);
    auto m = look.get("/metrics");
    REQUIRE(m);  // answered while the stalled clients hold their workers
    metrics = *m;
    if (std::stoul(metric(metrics, "taizhang_http_connections_active")) >= kStalled + 1) break;
  }
  INFO(metrics);
  REQUIRE(std::stoul(metric(metrics, "taizhang_http_connections_active")) >= kStalled + 1);
  CHECK(std::stoul(metric(metrics, "taizhang_http_workers")) > kStalled);

  // A device enrols and syncs while they stall.
  auto tree = region::RegionTree::parse_csv(*resources().county_tree_csv("522632"), "t").take();
  const std::string token = last_line(f.ok({"token", "create", "--scope", tree.villages().front()->code, "--collector", "王芳"}).out);
  net::HttpTransport t(url, id.sign.pub);
  auto store = make_store(f.dir / "a");
  auto enrolled = ops::enrol_store(*store, token, url, [&](std::string_view frame) { return t.post("/api/v1/enrol", frame); });
  INFO((enrolled ? std::string() : enrolled.error().message(Lang::en)));
  REQUIRE(enrolled);
  ops::DeviceSyncOptions so;
  so.signer = ops::RequestSigner{store->info().device, store->identity()->sign_priv};
  ops::DeviceSync ds(*store, t, [] { return kNowMs; }, so);
  auto synced = ds.sync();
  INFO((synced ? std::string() : synced.error().message(Lang::en)));
  REQUIRE(synced);
  CHECK(store->info().sync.cursor > 0);
  CHECK(metric(t.get("/metrics").take(), "taizhang_http_rejected_busy_total") == "0");

  for (int fd : stalled) ::close(fd);
  CHECK(server->stop().exit_code == 0);
}
