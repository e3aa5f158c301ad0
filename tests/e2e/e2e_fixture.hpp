// The end-to-end fixtures (tests/e2e): a county `sync-server` data folder driven as the real program
// (serving on a free loopback port read from its startup line), collectors' `field-cli` stores, and
// the offline bundle helpers. Shared by the e2e test files; the test process only reads the stores
// afterwards (digests, ids, sequences).
#pragma once

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <csignal>
#include <filesystem>
#include <random>
#include <set>

#include "cli_session.hpp"
#include "process.hpp"
#include "store_fixture.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/net/http.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"
#include "tz/util/bytes.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/encoding.hpp"
#include "tz/util/text.hpp"

using namespace tz;
using namespace tz::test;
using nlohmann::json;

namespace tz::test::e2e {

constexpr const char* kTownship = "522632001";        // 车民街道: every village of the sample roster
constexpr const char* kOutside = "522632101001";      // 忠诚社区: outside the township
constexpr const char* kSun = "522632196806187893";    // 孙毅杰, 522632001008, in the sample roster
constexpr const char* kFu = "522632196901092745";     // 付娟, same household
inline constexpr int64_t kDayMs = 86400000LL;

inline std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// The county server's data folder and, while it serves, the background process.
struct County {
  TempDir dir;
  std::string data = (dir / "server").string();
  std::map<std::string, std::string> env{{"TAIZHANG_CLOCK_MS", std::to_string(kNowMs)},
                                         {"TAIZHANG_DATA_DIR", source_dir().string()},
                                         {"TAIZHANG_SCHEMA_DIR", ""},
                                         {"TAIZHANG_SERVER_DATA", ""},
                                         {"TAIZHANG_LANG", ""}};
  std::unique_ptr<Background> server;
  std::string url;
  int port = 0;

  ProcessResult run(std::vector<std::string> args) const {
    args.push_back("--data");
    args.push_back(data);
    return run_process(SYNC_SERVER_PATH, args, env);
  }
  ProcessResult ok(std::vector<std::string> args) const {
    auto r = run(args);
    INFO("sync-server " << args.front() << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  json ok_json(std::vector<std::string> args) const {
    args.push_back("--json");
    return json::parse(ok(std::move(args)).out);
  }
  // init, the 2026 period and, unless told not to, the sample register.
  void init(bool with_register = true) const {
    ok({"init", "--county", "522632", "--name", "榕江县"});
    ok({"period", "set", "2026", "--as-of", "2026-11-30"});
    if (with_register) ok({"register", "import", (source_dir() / "data/samples/roster-522632.gb18030.csv").string()});
  }
  std::string token(const std::string& scope = kTownship, const std::string& collectors = "王芳,李强") const {
    return last_line(ok({"token", "create", "--scope", scope, "--collector", collectors}).out);
  }
  // serve on 127.0.0.1 (port 0 the first time, then the same port so enrolled devices find it).
  void serve(std::vector<std::string> extra = {}, std::map<std::string, std::string> extra_env = {}) {
    std::vector<std::string> args{"serve", "--listen", "127.0.0.1:" + std::to_string(port), "--json", "--data", data};
    args.insert(args.end(), extra.begin(), extra.end());
    auto e = env;
    for (auto& [k, v] : extra_env) e[k] = v;
    server = std::make_unique<Background>(SYNC_SERVER_PATH, args, e);
    auto line = server->wait_for_line("\"url\"");
    if (!line) FAIL("serve did not start: " << server->output() << server->stop().err);
    json j = json::parse(*line);
    url = j["url"];
    port = j["port"];
  }
  ProcessResult stop() {
    auto r = server->stop();
    server.reset();
    return r;
  }

  sync::ServerIdentity identity() const {
    auto s = sync::open_sqlite_server_store(data).take();
    return sync::load_server_identity(*s).take();
  }
  std::string digest(const sync::Scope& scope) const {
    auto s = sync::open_sqlite_server_store(data).take();
    sync::SyncServer srv(*s, resources().schema, ValidationContext{}, [] { return kNowMs; });
    return srv.scope_digest(scope);
  }
  uint64_t last_seq() const { return sync::open_sqlite_server_store(data).take()->last_seq(); }
  std::optional<sync::DeviceRecord> device(const DeviceId& id) const {
    return sync::open_sqlite_server_store(data).take()->device(id);
  }
  std::optional<EntityState> entity(const EntityId& id) const {
    auto e = sync::open_sqlite_server_store(data).take()->entity(id);
    if (!e) return std::nullopt;
    return e->state;
  }
  // The server's persons whose live 身份证号 is id_number.
  std::vector<EntityId> persons_with_id(const std::string& id_number) const {
    const FieldId f = resources().schema.entity(EntityType::person).require("id_number").id;
    std::vector<EntityId> out;
    sync::open_sqlite_server_store(data).take()->scan_entities([&](const sync::EntityRecord& r) {
      if (r.state.type != EntityType::person) return;
      auto it = r.state.fields.find(f);
      if (it == r.state.fields.end()) return;
      for (auto& v : it->second.live)
        if (v.value == id_number) {
          out.push_back(r.state.id);
          return;
        }
    });
    return out;
  }
};

// A collector's laptop: a field-cli store in its own folder.
struct Device : CliSession {
  ProcessResult cli(std::vector<std::string> args, const std::map<std::string, std::string>& extra = {}) const {
    args.push_back("--store");
    args.push_back(store);
    return run(args, extra);
  }
  ProcessResult ok(std::vector<std::string> args) const {
    auto r = cli(args);
    INFO("field-cli " << args.front() << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  json ok_json(std::vector<std::string> args) const {
    args.push_back("--json");
    return json::parse(ok(std::move(args)).out);
  }
  void enroll(const County& c, const std::string& token) const { ok({"enroll", c.url, token}); }
  // A new laptop: init, enrol with the token, first sync (each must succeed).
  void join(const County& c, const std::string& token) const {
    init();
    enroll(c, token);
    sync();
  }
  json sync() const { return ok_json({"sync"}); }
  json conflicts() const { return ok_json({"conflicts"}); }
  void edit(const std::string& id, const std::string& set) const { ok({"edit", id, "--set", set}); }

  DeviceId id() const { return open()->info().device; }
  uint64_t acked() const { return open()->info().acked_seq; }
  uint64_t last_own_seq() const { return open()->info().next_seq - 1; }
  std::string digest() const {
    auto s = open();
    return ops::device_scope_digest(*s, s->identity()->scope);
  }
  std::string everything() const { return store_digest(*open()); }
  EntityId person(const std::string& id_number) const { return open()->natural_keys().person(id_number); }
  std::string value(const std::string& id_number, const char* field) const {
    auto s = open();
    auto e = s->get(s->natural_keys().person(id_number));
    REQUIRE(e);
    return e->value_or(resources().schema.entity(EntityType::person).require(field).id);
  }
};

// PRAGMA integrity_check of one SQLite file answers "ok".
inline void integrity_ok(const std::filesystem::path& db) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const std::string verdict = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  INFO(db);
  CHECK(verdict == "ok");
}

inline std::string live_value(const EntityState& e, const char* field) {
  auto it = e.fields.find(resources().schema.entity(EntityType::person).require(field).id);
  if (it == e.fields.end() || it->second.live.size() != 1) return "";
  return it->second.live[0].value;
}

// The three digests of a scope equal: both devices and the server.
inline void converged(const County& c, const Device& a, const Device& b) {
  const std::string server = c.digest({kTownship});
  CHECK(a.digest() == server);
  CHECK(b.digest() == server);
  CHECK_FALSE(server.empty());
}

}  // namespace tz::test::e2e

// --- Offline bundles and token files (issue 6): the same programs, files only, no `serve` ---

namespace tz::test::e2e {

struct TokenFileMade {
  std::string path, code;
};
// token create --out: the file and the enrolment code the admin hands over apart.
inline TokenFileMade token_file(const County& c, const TempDir& where, const std::string& name,
                         const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"token", "create", "--scope", kTownship, "--collector", "王芳,李强", "--out", (where / name).string()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto j = c.ok_json(args);
  return {(where / name).string(), j["code"]};
}

struct BundleDevice : Device {
  void enroll_file(const TokenFileMade& t) const { ok({"enroll", "--token-file", t.path, "--code", t.code}); }
  // bundle export to a file named `name` in the device's folder; returns its path.
  std::string export_bundle(const std::string& name) const {
    const std::string path = (dir / name).string();
    ok({"bundle", "export", "--out", path});
    return path;
  }
  json import_response(const std::string& path) const { return ok_json({"bundle", "import", path}); }
};

// init, then enroll --token-file with a token file of its own.
inline void enrol_by_file(const County& c, const BundleDevice& d) {
  const auto t = token_file(c, d.dir, "own.token");
  d.init();
  d.enroll_file(t);
}

// sync-server bundle import: the response's path.
inline std::string import_bundle(const County& c, const std::string& bundle, const std::string& response) {
  c.ok({"bundle", "import", bundle, "--out", response});
  return response;
}

// One round trip through files: export, import at the county, import the response.
inline json round_trip(const County& c, const BundleDevice& d, const std::string& name) {
  auto b = d.export_bundle(name + ".bundle");
  return d.import_response(import_bundle(c, b, (d.dir / (name + ".response")).string()));
}

// A county with its register and one device enrolled from a token file, after its first round trip.
struct OneFileDevice {
  County c;
  BundleDevice a;
  OneFileDevice() {
    c.init();
    enrol_by_file(c, a);
    round_trip(c, a, "a1");
  }
};

// What a refusal must leave as it was on the server: the scope's digest, the log, the devices, the audit chain.
inline std::string server_state(const County& c) {
  auto s = sync::open_sqlite_server_store(c.data).take();
  std::string out = crypto::to_hex(crypto::sha256(c.digest({kTownship}))) + " log " + std::to_string(s->last_seq()) + " audit " +
                    std::to_string(s->audit_entries().size());
  for (auto& d : s->devices()) out += " " + d.id.hex() + ":" + std::to_string(d.acked_seq) + ":" + crypto::to_hex(d.sign_pub);
  return out;
}

inline std::string flip(std::string bytes, size_t at) {
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  return bytes;
}

}  // namespace tz::test::e2e

using namespace tz::test::e2e;
