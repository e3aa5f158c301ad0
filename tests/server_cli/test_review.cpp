// County review as real processes: `sync-server user`, the review API of `serve` (sessions, roles and
// region scopes on every endpoint; expiry and lockout across restarts), and `reconcile` with its CSV
// and XLSX (read back with unzip). The server is started on a free port (--listen 127.0.0.1:0, the
// startup line read from its output, no sleeps) with --plain-http, and spoken to over a socket.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "../sync/server_fixture.hpp"
#include "process.hpp"
#include "server_folder.hpp"
#include "store_fixture.hpp"
#include "tz/net/http.hpp"
#include "tz/ops/conflicts.hpp"
#include "tz/ops/dedup.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/reconcile.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/transport.hpp"
#include "tz/util/encoding.hpp"
#include "xlsx_read.hpp"

using namespace tz;
using namespace tz::test;
using nlohmann::json;

namespace {

constexpr int64_t kHour = 3600 * 1000;
const std::string kPassword = "correct horse";
const std::string kHeldVillage = "522632100001";  // 古州镇: the held change's household

struct HttpReply {
  int status = 0;
  std::string body;
  json j() const { return json::parse(body); }
};

// One request on a fresh loopback connection (Connection: close), read to the end.
HttpReply call(int port, const std::string& method, const std::string& target, const std::string& body = {},
               const std::vector<std::string>& headers = {}) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::string rq = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n";
  for (auto& h : headers) rq += h + "\r\n";
  rq += "\r\n" + body;
  size_t sent = 0;
  while (sent < rq.size()) {
    auto n = ::write(fd, rq.data() + sent, rq.size() - sent);
    REQUIRE(n > 0);
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[8192];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  HttpReply r;
  REQUIRE(in.rfind("HTTP/1.1 ", 0) == 0);
  r.status = std::stoi(in.substr(9, 3));
  auto split = in.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  r.body = in.substr(split + 4);
  return r;
}

struct Review : ServerFolder {
  Review() { env["TAIZHANG_USER_PASSWORD"] = kPassword; }
  static std::string data_file(const std::string& name) { return (source_dir() / "tests/data/reconcile" / name).string(); }

  // The county with the hand-made roster (6 people: 4 in 古州镇 522632100, 2 in 忠诚镇 522632101),
  // four users, and one change held in quarantine (a device of 忠诚镇 wrote a household of 古州镇).
  void setup() {
    init();
    ok({"register", "import", data_file("roster.csv")});
    ok({"user", "add", "town", "--role", "reviewer", "--agency", "人社局", "--scope", "522632100"});
    ok({"user", "add", "zhongcheng", "--role", "reviewer", "--agency", "fpb", "--scope", "522632101"});
    ok({"user", "add", "county", "--role", "reviewer", "--agency", "扶贫办", "--scope", "522632"});
    ok({"user", "add", "boss", "--role", "admin", "--agency", "rsj", "--scope", "522632"});
    auto st = sync::open_sqlite_server_store(data).take();
    const auto tree = region::RegionTree::parse_csv(*resources().county_tree_csv("522632"), "shipped").take();
    auto server = std::make_unique<sync::SyncServer>(*st, resources().schema, ServerFixture::test_validation(&tree),
                                                     [] { return kNowMs; });
    FakeDevice d{test_device(7)};
    REQUIRE(server->register_device(d.id, {kVillageA}));
    d.add(EntityType::household, test_entity(50), "village_code", kHeldVillage);
    auto r = server->push(d.push(0));
    REQUIRE(r.outcomes.size() == 1);
    REQUIRE(r.outcomes[0].kind == sync::ChangeOutcome::Kind::quarantined);
    held = d.log[0].version.str();
    // Two devices of 古州镇's village give one household two numbers: a conflict there.
    FakeDevice x{test_device(8)}, y{test_device(9)};
    for (auto* dev : {&x, &y}) REQUIRE(server->register_device(dev->id, {kHeldVillage}));
    x.add(EntityType::household, test_entity(60), "village_code", kHeldVillage);
    x.add(EntityType::household, test_entity(60), "household_no", "0601");
    REQUIRE(server->push(x.push(0)).acked_seq == 2);
    y.add(EntityType::household, test_entity(60), "household_no", "0602");
    REQUIRE(server->push(y.push(0)).acked_seq == 1);
  }
  std::unique_ptr<Background> serve(int64_t clock = kNowMs) const {
    auto e = env;
    e["TAIZHANG_CLOCK_MS"] = std::to_string(clock);
    return std::make_unique<Background>(
        SYNC_SERVER_PATH, std::vector<std::string>{"serve", "--plain-http", "--listen", "127.0.0.1:0", "--json", "--data", data}, e);
  }
  std::string held;
};

int port_of(Background& b) { return started(b)["port"].get<int>(); }

std::string login(int port, const std::string& name) {
  auto r = call(port, "POST", "/api/v1/login", json{{"name", name}, {"password", kPassword}}.dump());
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.j()["token"];
}

std::string bearer(const std::string& token) { return "Authorization: Bearer " + token; }

struct Endpoint {
  std::string method, path, body;
  bool reviewer_only;
  bool takes_region;
};

std::vector<Endpoint> endpoints(const std::string& held) {
  return {{"GET", "/api/v1/me", "", false, false},
          {"GET", "/api/v1/notices", "", false, true},
          {"GET", "/api/v1/quarantine", "", false, true},
          {"GET", "/api/v1/conflicts", "", false, true},
          {"POST", "/api/v1/quarantine/release", json{{"id", held}}.dump(), true, false},
          {"POST", "/api/v1/quarantine/reject", json{{"id", held}, {"reason", "不是本村的户"}}.dump(), true, false},
          {"POST", "/api/v1/reconcile", "姓名,身份证号\r\n", true, true},
          {"POST", "/api/v1/review", json{{"id", "522632198001010010"}, {"decision", "approve"}}.dump(), true, false},
          {"POST", "/api/v1/review", json{{"id", "522632100001/5226321000010001"}, {"decision", "approve"}}.dump(), true, false},
          {"GET", "/api/v1/review", "", false, true},
          {"GET", "/api/v1/duplicates", "", false, true},
          {"GET", "/api/v1/report", "", false, true},
          {"GET", "/api/v1/lists/employed", "", false, true},
          {"GET", "/api/v1/lists/unemployed", "", false, true},
          {"GET", "/api/v1/lists/willing", "", false, true},
          {"GET", "/api/v1/lists/returned", "", false, true},
          {"GET", "/api/v1/lists/flagged", "", false, true},
          {"GET", "/api/v1/standards", "", false, true},
          {"GET", "/api/v1/subsidies", "", false, true},
          {"POST", "/api/v1/merge", json{{"a", "522632198001010010"}, {"b", "522632198001010029"}}.dump(), true, false},
          {"POST", "/api/v1/dismiss", json{{"a", "522632198001010010"}, {"b", "522632198001010029"}}.dump(), true, false},
          {"POST", "/api/v1/unmerge", json{{"id", std::string(32, '0')}}.dump(), true, false},
          {"POST", "/api/v1/logout", "", false, false}};
}

}  // namespace

TEST_CASE("sync-server user add takes the password from the environment never the command line", "[server_cli][review]") {
  Review s;
  s.ok({"init", "--county", "522632", "--name", "榕江县人社局"});
  auto j = s.ok_json({"user", "add", "wang", "--role", "reviewer", "--agency", "人社局", "--scope", "522632100,522632101"});
  CHECK(j["agency"] == "rsj");
  CHECK(j["scope"] == json::array({"522632100", "522632101"}));
  // No password given and no terminal: refused, nothing added.
  auto no_pw = s.run({"user", "add", "li", "--role", "reviewer", "--agency", "fpb", "--scope", "522632"},
                     {{"TAIZHANG_USER_PASSWORD", ""}});
  CHECK(no_pw.exit_code == 1);
  CHECK_THAT(no_pw.err, Catch::Contains("TAIZHANG_USER_PASSWORD"));
  auto bad = s.run({"user", "add", "li", "--role", "boss", "--agency", "fpb", "--scope", "522632"});
  CHECK(bad.exit_code == 2);
  auto out_of_county = s.run({"user", "add", "li", "--role", "reviewer", "--agency", "fpb", "--scope", "513431"});
  CHECK(out_of_county.exit_code == 1);
  auto again = s.run({"user", "add", "wang", "--role", "admin", "--agency", "fpb", "--scope", "522632"});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.err, Catch::Contains("已存在"));
  auto list = s.ok_json({"user", "list"});
  REQUIRE(list["count"] == 1);
  CHECK(list["users"][0]["name"] == "wang");
  CHECK(list["users"][0].dump().find(kPassword) == std::string::npos);
  CHECK(s.ok_json({"user", "disable", "wang"})["disabled"] == true);
  CHECK(s.ok_json({"user", "list"})["users"][0]["disabled"] == true);
  CHECK(s.run({"user", "disable", "nobody"}).exit_code == 1);
}

TEST_CASE("Every review endpoint answers 401 without a valid session in Chinese or English", "[server_cli][review]") {
  Review s;
  s.setup();
  auto server = s.serve();
  const int port = port_of(*server);
  for (auto& e : endpoints(s.held)) {
    INFO(e.method << " " << e.path);
    auto none = call(port, e.method, e.path, e.body);
    CHECK(none.status == 401);
    CHECK(none.j()["code"] == "unauthenticated");
    CHECK_THAT(none.j()["error"].get<std::string>(), Catch::Contains("未登录"));
    auto en = call(port, e.method, e.path + "?lang=en", e.body);
    CHECK(en.status == 401);
    CHECK_THAT(en.j()["error"].get<std::string>(), Catch::Contains("not logged in"));
    auto header_en = call(port, e.method, e.path, e.body, {"Accept-Language: en-US,en;q=0.9"});
    CHECK_THAT(header_en.j()["error"].get<std::string>(), Catch::Contains("not logged in"));
    auto forged = call(port, e.method, e.path, e.body, {bearer(std::string(64, 'a'))});
    CHECK(forged.status == 401);
  }
  auto bad_login = call(port, "POST", "/api/v1/login", json{{"name", "town"}, {"password", "wrong"}}.dump());
  CHECK(bad_login.status == 401);
  CHECK_THAT(bad_login.j()["error"].get<std::string>(), Catch::Contains("用户名或密码错误"));
  CHECK(call(port, "POST", "/api/v1/login", "not json").status == 400);
}

TEST_CASE("Review endpoints refuse the wrong role and regions outside the user's scope", "[server_cli][review]") {
  Review s;
  s.setup();
  auto server = s.serve();
  const int port = port_of(*server);
  const std::string boss = login(port, "boss"), zc = login(port, "zhongcheng"), town = login(port, "town");

  SECTION("the admin reads but does not review") {
    auto q = call(port, "GET", "/api/v1/quarantine", "", {bearer(boss)}).j();
    CHECK(q["count"] == 1);  // the county scope sees the held change
    // (logout, the last endpoint, ends the admin's session)
    for (auto& e : endpoints(s.held)) {
      INFO(e.method << " " << e.path);
      auto r = call(port, e.method, e.path, e.body, {bearer(boss)});
      if (e.reviewer_only) {
        CHECK(r.status == 403);
        CHECK(r.j()["code"] == "forbidden");
        CHECK_THAT(r.j()["error"].get<std::string>(), Catch::Contains("只限审核员"));
        auto en = call(port, e.method, e.path, e.body, {bearer(boss), "Accept-Language: en"});
        CHECK_THAT(en.j()["error"].get<std::string>(), Catch::Contains("only reviewers"));
      } else {
        CHECK(r.status == 200);
      }
    }
  }

  SECTION("a reviewer of 忠诚镇 is refused 古州镇 and does not see its records") {
    for (auto& e : endpoints(s.held)) {
      if (!e.takes_region) continue;
      INFO(e.method << " " << e.path);
      auto r = call(port, e.method, e.path + "?region=522632100", e.body, {bearer(zc)});
      CHECK(r.status == 403);
      CHECK_THAT(r.j()["error"].get<std::string>(), Catch::Contains("不在用户 zhongcheng 的管辖范围内"));
      auto en = call(port, e.method, e.path + "?region=522632100&lang=en", e.body, {bearer(zc)});
      CHECK_THAT(en.j()["error"].get<std::string>(), Catch::Contains("outside the scope"));
    }
    CHECK(call(port, "GET", "/api/v1/quarantine", "", {bearer(zc)}).j()["count"] == 0);
    for (auto& e : endpoints(s.held)) {
      if (e.path.find("/quarantine/") == std::string::npos) continue;
      auto r = call(port, e.method, e.path, e.body, {bearer(zc)});
      CHECK(r.status == 403);
      CHECK_THAT(r.j()["error"].get<std::string>(), Catch::Contains("不在用户 zhongcheng 的管辖范围内"));
    }
    CHECK(call(port, "GET", "/api/v1/quarantine?region=522632101", "", {bearer(zc)}).status == 200);
    CHECK(call(port, "GET", "/api/v1/conflicts", "", {bearer(zc)}).j()["count"] == 0);
  }

  SECTION("a reviewer of 古州镇 sees the conflict of its village") {
    auto c = call(port, "GET", "/api/v1/conflicts?region=522632100001", "", {bearer(town)});
    REQUIRE(c.status == 200);
    REQUIRE(c.j()["count"] == 1);
    auto conflict = c.j()["conflicts"][0];
    CHECK(conflict["field"] == "household_no");
    CHECK(conflict["label"] == "户编号");
    CHECK(conflict["values"].size() == 2);
    CHECK(call(port, "GET", "/api/v1/conflicts?lang=en", "", {bearer(town)}).j()["conflicts"][0]["label"] == "Household number");
  }

  SECTION("a reviewer of 古州镇 sees the held change and rejects it") {
    auto q = call(port, "GET", "/api/v1/quarantine?region=522632100", "", {bearer(town)});
    REQUIRE(q.status == 200);
    REQUIRE(q.j()["count"] == 1);
    CHECK(q.j()["changes"][0]["id"] == s.held);
    CHECK(call(port, "POST", "/api/v1/quarantine/reject", json{{"id", s.held}}.dump(), {bearer(town)}).status == 400);
    auto r = call(port, "POST", "/api/v1/quarantine/reject", json{{"id", s.held}, {"reason", "不是本村的户"}}.dump(), {bearer(town)});
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.j()["decision"] == "rejected");
    CHECK(call(port, "GET", "/api/v1/quarantine", "", {bearer(town)}).j()["count"] == 0);
    CHECK(call(port, "POST", "/api/v1/quarantine/release", json{{"id", s.held}}.dump(), {bearer(town)}).status == 404);
    // The notices sent to the device about it (held, then rejected) are the 古州镇 reviewer's to see, not 忠诚镇's.
    auto n = call(port, "GET", "/api/v1/notices", "", {bearer(town)}).j();
    REQUIRE(n["count"] == 2);
    CHECK(n["notices"][0]["kind"] == "quarantined");
    CHECK(n["notices"][1]["kind"] == "rejected");
    CHECK_THAT(n["notices"][1]["reason"].get<std::string>(), Catch::Contains("不是本村的户"));
    CHECK(call(port, "GET", "/api/v1/notices", "", {bearer(zc)}).j()["count"] == 0);
  }

  SECTION("a reviewer of 古州镇 releases the held change") {
    auto r = call(port, "POST", "/api/v1/quarantine/release", json{{"id", s.held}}.dump(), {bearer(town)});
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.j()["decision"] == "released");
    CHECK(r.j()["by"] == "town");
    CHECK(call(port, "GET", "/api/v1/quarantine", "", {bearer(boss)}).j()["count"] == 0);
    auto n = call(port, "GET", "/api/v1/notices?region=522632100001", "", {bearer(town)}).j();
    REQUIRE(n["count"] == 2);
    CHECK(n["notices"][1]["kind"] == "released");
  }

  SECTION("a reviewer decides on people and households of the scope only") {
    struct Case {
      std::string ref;  // as a reviewer gives it: a 身份证号, a household's 村代码/户编号
      EntityType type;
      std::string listed_as, reason;
    };
    const std::vector<Case> cases{{"522632198001010010", EntityType::person, "people", "单位名称有误"},  // 张三, 古州镇
                                  {"522632100001/5226321000010001", EntityType::household, "households", "户主姓名有误"}};  // his household
    for (auto& k : cases) {
      INFO(k.ref);
      auto other = call(port, "POST", "/api/v1/review", json{{"id", k.ref}, {"decision", "send_back"}, {"reason", "x"}}.dump(),
                        {bearer(zc)});
      CHECK(other.status == 403);
      CHECK_THAT(other.j()["error"].get<std::string>(), Catch::Contains("不在用户 zhongcheng 的管辖范围内"));
      auto other_en = call(port, "POST", "/api/v1/review?lang=en", json{{"id", k.ref}, {"decision", "approve"}}.dump(), {bearer(zc)});
      CHECK(other_en.status == 403);
      CHECK_THAT(other_en.j()["error"].get<std::string>(), Catch::Contains("outside the scope of user zhongcheng"));
      CHECK(s.ok_json({"review", k.ref})["state"] == "not reviewed");  // the refusals wrote nothing
      auto ok = call(port, "POST", "/api/v1/review", json{{"id", k.ref}, {"decision", "approve"}}.dump(), {bearer(town)});
      INFO(ok.body);
      REQUIRE(ok.status == 200);
      CHECK(ok.j()["type"] == std::string(entity_type_name(k.type)));
      CHECK(ok.j()["state"] == "approved");
      CHECK(ok.j()["label"] == "已通过");
      CHECK(s.ok_json({"review", k.ref})["state"] == "approved");
      CHECK(call(port, "POST", "/api/v1/review", json{{"id", k.ref}, {"decision", "send_back"}}.dump(), {bearer(town)}).status == 400);
      auto back = call(port, "POST", "/api/v1/review", json{{"id", k.ref}, {"decision", "send_back"}, {"reason", k.reason}}.dump(),
                       {bearer(town)});
      REQUIRE(back.status == 200);
      CHECK(back.j()["state"] == "sent back");
      auto listed = call(port, "GET", "/api/v1/review", "", {bearer(town)}).j();
      REQUIRE(listed[k.listed_as].size() == 1);
      CHECK(listed[k.listed_as][0]["reason"] == k.reason);
      CHECK(listed[k.listed_as][0]["village"] == "522632100001");
      CHECK(call(port, "GET", "/api/v1/review", "", {bearer(zc)}).j()["count"] == 0);
      CHECK(call(port, "GET", "/api/v1/review?region=522632101", "", {bearer(zc)}).j()["count"] == 0);
      CHECK(s.ok_json({"review", k.ref})["state"] == "sent back");
      // The decision is the record's field, attributed to the reviewer as any edit to its collector.
      auto record = sync::open_sqlite_server_store(s.data).take()->entity(*EntityId::from_hex(back.j()["id"].get<std::string>()));
      REQUIRE(record);
      CHECK(record->state.type == k.type);
      const auto& review = record->state.fields.at(resources().schema.entity(k.type).require("review").id);
      REQUIRE(review.live.size() == 1);
      CHECK(review.live[0].collector == "town");
      CHECK(review.live[0].value == "return:" + k.reason);
    }
    CHECK(call(port, "GET", "/api/v1/review", "", {bearer(town)}).j()["count"] == 2);
    // An unknown record is 404, not a decision.
    auto unknown = call(port, "POST", "/api/v1/review", json{{"id", std::string(32, 'f')}, {"decision", "approve"}}.dump(),
                        {bearer(town)});
    CHECK(unknown.status == 404);
  }

  SECTION("logout ends the session") {
    CHECK(call(port, "POST", "/api/v1/logout", "", {bearer(town)}).status == 200);
    CHECK(call(port, "GET", "/api/v1/me", "", {bearer(town)}).status == 401);
    CHECK(call(port, "GET", "/api/v1/me", "", {bearer(zc)}).status == 200);
  }
}

TEST_CASE("The report and list endpoints give the commands' bytes for the user's scope", "[server_cli][review][report]") {
  Review s;
  s.setup();
  auto server = s.serve();
  const int port = port_of(*server);
  const std::string zc = login(port, "zhongcheng"), county = login(port, "county");
  // Without region=: the user's scope (忠诚镇), as `sync-server report --region 522632101` makes it.
  auto report = call(port, "GET", "/api/v1/report?format=csv", "", {bearer(zc)});
  REQUIRE(report.status == 200);
  CHECK(report.body == s.ok({"report", "--region", "522632101", "--format", "csv"}).out);
  auto j = call(port, "GET", "/api/v1/report?unit=wan&lang=en", "", {bearer(county)}).j();
  CHECK(j["regions"][0]["code"] == "522632");
  CHECK(j["regions"][0]["persons"] == 6);
  auto list = call(port, "GET", "/api/v1/lists/employed?format=csv", "", {bearer(zc)});
  REQUIRE(list.status == 200);
  CHECK(list.body == s.ok({"list", "employed", "--region", "522632101", "--format", "csv"}).out);
  auto subsidies = call(port, "GET", "/api/v1/subsidies?region=522632100&format=csv", "", {bearer(county)});
  CHECK(subsidies.body == s.ok({"subsidies", "--region", "522632100", "--format", "csv"}).out);
  CHECK(call(port, "GET", "/api/v1/standards", "", {bearer(county)}).j()["tables"].size() == 2);
  // Bad parameters name themselves.
  auto bad = call(port, "GET", "/api/v1/report?unit=kg", "", {bearer(zc)});
  CHECK(bad.status == 400);
  CHECK_THAT(bad.j()["error"].get<std::string>(), Catch::Contains("unit=kg"));
  auto bad_format = call(port, "GET", "/api/v1/lists/willing?format=xml&lang=en", "", {bearer(zc)});
  CHECK(bad_format.status == 400);
  CHECK_THAT(bad_format.j()["error"].get<std::string>(), Catch::Contains("format=xml"));
  server->stop();
}

TEST_CASE("A session expires after its hours and a lockout outlives a server restart", "[server_cli][review]") {
  Review s;
  s.setup();
  std::string token;
  {
    auto server = s.serve();
    const int port = port_of(*server);
    token = login(port, "town");
    CHECK(call(port, "GET", "/api/v1/me", "", {bearer(token)}).status == 200);
    for (int i = 0; i < 5; ++i)
      CHECK(call(port, "POST", "/api/v1/login", json{{"name", "county"}, {"password", "guess" + std::to_string(i)}}.dump()).status == 401);
    auto locked = call(port, "POST", "/api/v1/login", json{{"name", "county"}, {"password", kPassword}}.dump());
    CHECK(locked.status == 429);
    CHECK(locked.j()["code"] == "locked_out");
    CHECK_THAT(locked.j()["error"].get<std::string>(), Catch::Contains("已暂时锁定"));
    server->stop();
  }
  {
    // Restarted 7 hours 59 minutes later: the session holds, the lockout is over (15 minutes).
    auto server = s.serve(kNowMs + 8 * kHour - 60 * 1000);
    const int port = port_of(*server);
    CHECK(call(port, "GET", "/api/v1/me", "", {bearer(token)}).status == 200);
    server->stop();
  }
  {
    // Restarted at once: still locked.
    auto server = s.serve(kNowMs + 60 * 1000);
    const int port = port_of(*server);
    CHECK(call(port, "POST", "/api/v1/login", json{{"name", "county"}, {"password", kPassword}}.dump()).status == 429);
    server->stop();
  }
  {
    auto server = s.serve(kNowMs + 8 * kHour);
    const int port = port_of(*server);
    auto expired = call(port, "GET", "/api/v1/me", "", {bearer(token)});
    CHECK(expired.status == 401);
    CHECK_THAT(expired.j()["error"].get<std::string>(), Catch::Contains("过期"));
    CHECK(call(port, "POST", "/api/v1/login", json{{"name", "county"}, {"password", kPassword}}.dump()).status == 200);
    server->stop();
  }
}

namespace {

std::string slurp(const std::string& path) {
  auto b = ops::read_file(path);
  REQUIRE(b);
  return *b;
}

}  // namespace

TEST_CASE("sync-server reconcile lists ours only theirs only and field differences in CSV and XLSX", "[server_cli][review][reconcile]") {
  Review s;
  s.setup();
  const std::string out = (s.dir / "r").string();
  auto j = s.ok_json({"reconcile", Review::data_file("shebao.csv"), "--kind", "社保", "--out", out});
  CHECK(j["ours"] == 4);  // the insured: 张三, 李四, 赵六, 孙八 (王五 is not insured, 钱七 not employed)
  CHECK(j["theirs"] == 5);
  CHECK(j["matched"] == 4);  // 孙八's 15-digit ID is his 18-digit one
  CHECK(j["ours_only"] == 1);
  CHECK(j["theirs_only"] == 1);
  CHECK(j["field_differences"] == 3);
  CHECK(j["persons_with_field_differences"] == 3);
  CHECK(j["encoding"] == "utf8_bom");
  CHECK(j["csv"] == out + ".csv");

  const std::string csv = slurp(out + ".csv");
  CHECK(csv ==
        "\xEF\xBB\xBF序号,类别,姓名,身份证号,村代码,字段,我方,对方,对方行号\r\n"
        "1,仅我方有,赵六,522632********0049,\"=\"\"522632100001\"\"\",,,,\r\n"
        "2,字段不一致,李四,522632********0023,\"=\"\"522632100001\"\"\",务工地域,省内县外,省外,3\r\n"
        "3,字段不一致,王五,522632********0036,\"=\"\"522632100001\"\"\",参保,否,是,4\r\n"
        "4,字段不一致,孙八,522632********1234,\"=\"\"522632101001\"\"\",务工单位,深圳华强电子有限公司,深圳某电子厂,5\r\n"
        "5,仅对方有,周九,522632********0099,,,,,6\r\n");

  auto sheet = read_sheet(out + ".xlsx");
  CHECK(sheet.frozen_rows == "1");
  CHECK(sheet.all_text);
  REQUIRE(sheet.rows.size() == 6);
  CHECK(sheet.rows[0] == std::vector<std::string>{"序号", "类别", "姓名", "身份证号", "村代码", "字段", "我方", "对方", "对方行号"});
  CHECK(sheet.rows[2] == std::vector<std::string>{"2", "字段不一致", "李四", "522632********0023", "522632100001", "务工地域",
                                                  "省内县外", "省外", "3"});
  auto summary = read_sheet(out + ".xlsx", 2);
  REQUIRE(summary.rows.size() >= 4);
  CHECK(summary.rows[3] == std::vector<std::string>{"双方都有", "4"});

  // --full-ids: whole IDs, as text in both files.
  s.ok({"reconcile", Review::data_file("shebao.csv"), "--kind", "社保", "--out", out, "--full-ids"});
  CHECK_THAT(slurp(out + ".csv"), Catch::Contains("\"=\"\"522632198304040049\"\"\""));
  CHECK(read_sheet(out + ".xlsx").rows[1][3] == "522632198304040049");

  // The terminal summary.
  auto text = s.ok({"reconcile", Review::data_file("shebao.csv"), "--kind", "社保", "--out", out});
  CHECK_THAT(text.out, Catch::Contains("仅对方有"));
  CHECK_THAT(text.out, Catch::Contains(out + ".xlsx"));

  // --region narrows ours to 忠诚镇: 孙八 only; the rows of 古州镇's people are counted, not listed.
  auto town = s.ok_json({"reconcile", Review::data_file("shebao.csv"), "--kind", "社保", "--region", "522632101", "--out", out});
  CHECK(town["ours"] == 1);
  CHECK(town["matched"] == 1);
  CHECK(town["outside_scope"] == 3);
  CHECK(town["field_differences"] == 1);

  // The national system's export is expected to hold everyone: 赵六 and 钱七 are ours only.
  auto national = s.ok_json({"reconcile", Review::data_file("shebao.csv"), "--kind", "国家系统", "--out", out});
  CHECK(national["ours"] == 6);
  CHECK(national["ours_only"] == 2);
  CHECK(national["field_differences"] == 3);

  // A 用工备案 list keeps the filed headcount of each employer for verify's employer rule (names
  // compared as 务工单位 is: full-width folded, spaces dropped).
  auto filing = s.ok_json({"reconcile", Review::data_file("shebao.csv"), "--kind", "用工备案", "--out", out});
  CHECK(filing["filed_headcounts"].size() == 5);
  CHECK(filing["filed_headcounts"]["榕江县扶贫车间"] == 1);
}

TEST_CASE("sync-server reconcile reads a GB18030 list the same as UTF-8", "[server_cli][review][reconcile]") {
  Review s;
  s.setup();
  std::string utf8 = slurp(Review::data_file("shebao.csv")).substr(3);  // without the BOM
  write_file(s.dir / "gb.csv", encoding::utf8_to_gb18030(utf8));
  auto j = s.ok_json({"reconcile", (s.dir / "gb.csv").string(), "--kind", "社保", "--out", (s.dir / "g").string()});
  CHECK(j["encoding"] == "gb18030");
  CHECK(j["matched"] == 4);
  CHECK(j["field_differences"] == 3);
  CHECK(slurp((s.dir / "g.csv").string()).find("深圳某电子厂") != std::string::npos);
}

TEST_CASE("sync-server reconcile refuses a list without ID numbers or with a bad row and writes nothing", "[server_cli][review][reconcile]") {
  Review s;
  s.setup();
  const std::string out = (s.dir / "r").string();
  write_file(s.dir / "no_id.csv", "姓名,务工单位\r\n张三,厦门金诚服装有限公司\r\n");
  auto no_id = s.run({"reconcile", (s.dir / "no_id.csv").string(), "--out", out});
  CHECK(no_id.exit_code == 1);
  CHECK_THAT(no_id.err, Catch::Contains("缺少必需的列：身份证号"));
  auto no_id_en = s.run({"reconcile", (s.dir / "no_id.csv").string(), "--out", out, "--lang", "en"});
  CHECK_THAT(no_id_en.err, Catch::Contains("required columns missing"));

  write_file(s.dir / "bad_row.csv",
             "姓名,身份证号,参保\r\n张三,522632198001010010,是\r\n李四,522632198102020024,是\r\n王五,522632198203030036,也许\r\n"
             "赵六,5.22632E+17,是\r\n张三,522632198001010010,是\r\n");
  auto bad = s.run({"reconcile", (s.dir / "bad_row.csv").string(), "--out", out});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("列“身份证号”：第 3 行"));
  CHECK_THAT(bad.err, Catch::Contains("列“参保”：第 4 行"));
  CHECK_THAT(bad.err, Catch::Contains("第 5 行：5.22632E+17 已被 Excel 当作数字改写"));
  CHECK_THAT(bad.err, Catch::Contains("第 6 行与第 2 行的身份证号相同"));
  CHECK_THAT(bad.err, Catch::Contains("比对被拒绝：外部名单有 4 处问题，未写入任何文件"));
  auto bad_json = s.run({"reconcile", (s.dir / "bad_row.csv").string(), "--out", out, "--json"});
  CHECK(bad_json.exit_code == 1);
  auto j = json::parse(bad_json.out);
  REQUIRE(j["problems"].size() == 4);
  CHECK(j["problems"][0]["line"] == 3);
  CHECK(j["problems"][0]["column"] == "身份证号");
  CHECK_FALSE(std::filesystem::exists(out + ".csv"));
  CHECK_FALSE(std::filesystem::exists(out + ".xlsx"));
  CHECK(s.run({"reconcile", (s.dir / "bad_row.csv").string(), "--kind", "工资"}).exit_code == 2);
  CHECK(s.run({"reconcile", Review::data_file("shebao.csv"), "--region", "5226"}).exit_code == 2);
}

TEST_CASE("The reconcile endpoint compares only the reviewer's scope", "[server_cli][review][reconcile]") {
  Review s;
  s.setup();
  auto server = s.serve();
  const int port = port_of(*server);
  const std::string town = login(port, "town");
  const std::string body = slurp(Review::data_file("shebao.csv"));
  auto r = call(port, "POST", "/api/v1/reconcile?kind=%E7%A4%BE%E4%BF%9D", body, {bearer(town)});  // kind=社保
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto j = r.j();
  CHECK(j["ours"] == 3);           // 张三, 李四, 赵六 of 古州镇
  CHECK(j["matched"] == 3);        // 张三, 李四, 王五
  CHECK(j["outside_scope"] == 1);  // 孙八 lives in 忠诚镇: neither listed nor missing
  CHECK(j["ours_only"] == 1);
  CHECK(j["theirs_only"] == 1);
  CHECK(j["field_differences"] == 2);
  for (auto& row : j["rows"]) CHECK(row["id_number"].get<std::string>().find("********") != std::string::npos);
  auto bad = call(port, "POST", "/api/v1/reconcile", "姓名,身份证号\r\n张三,123\r\n", {bearer(town)});
  CHECK(bad.status == 422);
  CHECK(bad.j()["problems"][0]["line"] == 2);
}

TEST_CASE("Each department reconciles the lists of its own system over the API", "[server_cli][review][reconcile]") {
  Review s;
  s.setup();
  auto server = s.serve();
  const int port = port_of(*server);
  const std::string rsj = login(port, "town"), fpb = login(port, "county");  // 人社局 / 扶贫办
  const std::string body = slurp(Review::data_file("shebao.csv"));
  const std::string shebao = "/api/v1/reconcile?kind=%E7%A4%BE%E4%BF%9D";          // kind=社保
  const std::string national = "/api/v1/reconcile?kind=%E5%9B%BD%E5%AE%B6%E7%B3%BB%E7%BB%9F";  // kind=国家系统
  auto refused = call(port, "POST", shebao, body, {bearer(fpb)});
  CHECK(refused.status == 403);
  CHECK_THAT(refused.body, Catch::Contains("这类名单由人社局比对，扶贫办的账户不能比对"));
  auto refused_en = call(port, "POST", shebao + "&lang=en", body, {bearer(fpb)});
  CHECK_THAT(refused_en.body, Catch::Contains("reconciled by the human resources and social security bureau"));
  CHECK(call(port, "POST", national, body, {bearer(rsj)}).status == 403);
  // Each of its own, and a list of no stated kind, for both.
  CHECK(call(port, "POST", shebao, body, {bearer(rsj)}).status == 200);
  CHECK(call(port, "POST", national, body, {bearer(fpb)}).status == 200);
  CHECK(call(port, "POST", "/api/v1/reconcile", body, {bearer(fpb)}).status == 200);
}

TEST_CASE("A 用工备案 list posted over HTTPS keeps the filed headcounts and the employer rule then does not fire",
          "[server_cli][review][reconcile]") {
  Review s;
  s.init();
  // Ten people of 古州镇 at one employer, none placed by organised out-migration: the employer rule fires.
  std::string roster = "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态,务工地域,务工单位,务工开始年月,务工月数,月收入\n";
  std::string filing = "姓名,身份证号,务工单位\n";
  for (int i = 0; i < 10; ++i) {
    const std::string n = std::to_string(i), id = idc("5226321990010110" + n);
    roster += "522632100001,000" + n + ",工人" + n + "," + id + ",户主,1393333000" + n + ",普通劳动力,已就业,县内,榕江某建材公司,2026-03,8,3000\n";
    // The filing writes the employer with a space: the same employer (compared as reconciliation does).
    filing += "工人" + n + "," + id + ",榕江某建材 公司\n";
  }
  write_file(s.dir / "roster.csv", roster);
  s.ok({"register", "import", (s.dir / "roster.csv").string()});
  s.ok({"user", "add", "town", "--role", "reviewer", "--agency", "人社局", "--scope", "522632100"});
  auto crowd_findings = [&s] {
    const json verified = s.ok_json({"verify"});
    for (auto& r : verified["rules"])
      if (r["id"] == "employer_crowd") return r["findings"].get<int>();
    FAIL("verify has no employer_crowd rule");
    return -1;
  };
  REQUIRE(crowd_findings() == 10);

  auto server = std::make_unique<Background>(
      SYNC_SERVER_PATH, std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--json", "--data", s.data}, s.env);
  json start = started(*server);
  REQUIRE(start["tls"] == true);
  auto pin = sync::load_server_identity(*sync::open_sqlite_server_store(s.data).take()).take().sign.pub;
  net::HttpTransport t(start["url"].get<std::string>(), pin);
  auto logged_in = t.post("/api/v1/login", json{{"name", "town"}, {"password", kPassword}}.dump());
  REQUIRE(logged_in);
  t.set_bearer_token(json::parse(*logged_in)["token"].get<std::string>());
  const std::string filing_kind = "/api/v1/reconcile?kind=%E7%94%A8%E5%B7%A5%E5%A4%87%E6%A1%88";  // kind=用工备案
  auto stored = [&s] { return sync::open_sqlite_server_store(s.data).take()->meta_value(ops::kMetaFiledHeadcounts); };

  // Another kind of list keeps nothing; neither does a filing refused for a bad row.
  auto shebao = t.post("/api/v1/reconcile?kind=%E7%A4%BE%E4%BF%9D", filing);  // kind=社保
  REQUIRE(shebao);
  CHECK_FALSE(json::parse(*shebao).contains("filed_headcounts"));
  auto refused = t.post(filing_kind, filing + "坏行,123,榕江某建材公司\n");
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message(Lang::en), Catch::Contains("422"));
  CHECK_FALSE(stored());

  // Nine filed are fewer than the ten claiming the employer: kept, and the rule still fires.
  const std::string nine = filing.substr(0, filing.rfind("工人9"));
  auto partial = t.post(filing_kind, nine);
  REQUIRE(partial);
  CHECK(json::parse(*partial)["filed_headcounts"]["榕江某建材公司"] == 9);
  CHECK(crowd_findings() == 10);

  // The whole filing replaces it: ten filed, the crowd is on record, the rule is quiet.
  auto whole = t.post(filing_kind, filing);
  REQUIRE(whole);
  auto j = json::parse(*whole);
  CHECK(j["ok"] == true);
  CHECK(j["matched"] == 10);
  CHECK(j["filed_headcounts"] == json{{"榕江某建材公司", 10}});
  CHECK(stored() == std::optional<std::string>("10\t榕江某建材公司\n"));
  CHECK(crowd_findings() == 0);
  server->stop();

  // Each filing kept is in the audit chain under the reviewer's name (the file only as its hash).
  auto st = sync::open_sqlite_server_store(s.data).take();
  int filings = 0;
  for (auto& e : st->audit_entries())
    if (e.kind == "filed headcounts") {
      ++filings;
      CHECK(e.actor == "town");
      CHECK(e.summary.find("工人") == std::string::npos);
    }
  CHECK(filings == 2);
  CHECK(s.ok_json({"audit", "verify"})["ok"] == true);
}

namespace {

// A collector's device in this process with the given scope, syncing with the folder's server store.
struct ScopedDevice {
  std::unique_ptr<DeviceStore> store;
  ScopedDevice(const Review& s, const std::filesystem::path& dir, const sync::Scope& scope) {
    auto st = sync::open_sqlite_server_store(s.data).take();
    store = make_store(dir, *st->meta_value("county_secret"));
    with_server(*st, [&](sync::SyncServer& server) { REQUIRE(server.register_device(store->info().device, scope)); });
  }
  template <typename Fn>
  static void with_server(sync::ServerStore& st, Fn&& fn) {
    static const auto tree = region::RegionTree::parse_csv(*resources().county_tree_csv("522632"), "shipped").take();
    sync::SyncServer server(st, resources().schema, ServerFixture::test_validation(&tree), [] { return kNowMs; });
    fn(server);
  }
  void sync(const Review& s) {
    auto st = sync::open_sqlite_server_store(s.data).take();
    with_server(*st, [&](sync::SyncServer& server) {
      sync::LoopbackTransport t(server);
      ops::DeviceSync ds(*store, t, [] { return kNowMs; });
      REQUIRE(ds.sync());
    });
  }
};

}  // namespace

TEST_CASE("sync-server verify sends each finding once to the devices whose scope holds the record", "[server_cli][review][verify]") {
  Review s;
  s.init();
  // One phone in two villages (古州镇 and 忠诚镇).
  write_file(s.dir / "roster.csv",
             "村代码,户编号,姓名,身份证号,与户主关系,联系电话,劳动技能,就业状态\n"
             "522632100001,0001,张甲," + idc("52263219800101001") + ",户主,13933334444,普通劳动力,未就业\n"
             "522632101001,0001,张乙," + idc("52263219800101002") + ",户主,13933334444,普通劳动力,未就业\n");
  s.ok({"register", "import", (s.dir / "roster.csv").string()});
  s.ok({"user", "add", "town", "--role", "reviewer", "--agency", "人社局", "--scope", "522632100"});
  ScopedDevice a(s, s.dir / "a", {"522632100001"}), b(s, s.dir / "b", {"522632101"}), c(s, s.dir / "c", {"522632102"});

  auto j = s.ok_json({"verify"});
  CHECK(j["findings"] == 2);
  CHECK(j["notices_sent"] == 2);
  CHECK(j["rules"][0]["id"] == "shared_phone");
  CHECK(j["rules"][0]["findings"] == 2);
  // Run again: the same findings, nothing sent twice.
  auto again = s.ok_json({"verify"});
  CHECK(again["findings"] == 2);
  CHECK(again["notices_sent"] == 0);
  auto text = s.ok({"verify"});
  CHECK_THAT(text.out, Catch::Contains("一个电话多户或跨村使用"));
  CHECK_THAT(text.out, Catch::Contains("共发现 2 处疑点"));

  // What field-cli notices shows on each device.
  for (auto* d : {&a, &b, &c}) d->sync(s);
  auto na = ops::list_notices(*a.store);
  REQUIRE(na.size() == 1);
  CHECK(na[0].notice.kind == static_cast<uint8_t>(sync::NoticeRecord::Kind::flagged));
  CHECK(ops::notice_kind_label(na[0].notice.kind, Lang::zh) == "县里核查发现疑点，请核实");
  CHECK_THAT(na[0].notice.reason_zh, Catch::StartsWith("张甲"));
  CHECK_THAT(na[0].notice.reason_zh, Catch::Contains("2 个村"));
  auto nb = ops::list_notices(*b.store);
  REQUIRE(nb.size() == 1);
  CHECK_THAT(nb[0].notice.reason_zh, Catch::StartsWith("张乙"));
  CHECK(ops::list_notices(*c.store).empty());

  // The reviewer of 古州镇 sees the finding about 张甲 among the notices.
  auto server = s.serve();
  const int port = port_of(*server);
  auto n = call(port, "GET", "/api/v1/notices", "", {bearer(login(port, "town"))}).j();
  REQUIRE(n["count"] == 1);
  CHECK(n["notices"][0]["kind"] == "flagged");
  CHECK(n["notices"][0]["villages"] == json::array({"522632100001"}));
}

TEST_CASE("The review API is served over HTTPS beside sync", "[server_cli][review]") {
  Review s;
  s.init();
  s.ok({"user", "add", "town", "--role", "reviewer", "--agency", "人社局", "--scope", "522632100"});
  auto server = std::make_unique<Background>(
      SYNC_SERVER_PATH, std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--json", "--data", s.data}, s.env);
  json start = started(*server);
  REQUIRE(start["tls"] == true);
  auto st = sync::open_sqlite_server_store(s.data).take();
  net::HttpTransport t(start["url"].get<std::string>(), sync::load_server_identity(*st).take().sign.pub);
  auto reply = t.post("/api/v1/login", json{{"name", "town"}, {"password", kPassword}}.dump());
  REQUIRE(reply);
  auto j = json::parse(*reply);
  CHECK(j["user"]["scope"] == json::array({"522632100"}));
  CHECK(j["token"].get<std::string>().size() == 64);
  // Refusals come back as the transport's error naming the status.
  auto refused = t.get("/api/v1/notices");
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message(Lang::en), Catch::Contains("401"));
}

TEST_CASE("A reviewer merges unmerges and dismisses persons of their scope over the API and is refused others", "[server_cli][review]") {
  Review s;
  s.setup();
  auto server = s.serve();
  const int port = port_of(*server);
  const std::string town = login(port, "town"), zc = login(port, "zhongcheng");
  const std::string zhang = "522632198001010010", wang = "522632198203030036";  // both of 古州镇 522632100001
  auto dup = call(port, "GET", "/api/v1/duplicates", "", {bearer(town)});
  REQUIRE(dup.status == 200);
  CHECK(dup.j()["ok"] == true);
  // Not theirs: 忠诚镇's reviewer may not merge 古州镇's people.
  auto refused = call(port, "POST", "/api/v1/merge", json{{"a", zhang}, {"b", wang}}.dump(), {bearer(zc)});
  CHECK(refused.status == 403);
  CHECK_THAT(refused.j()["error"].get<std::string>(), Catch::Contains("不在用户 zhongcheng 的管辖范围内"));
  CHECK(s.ok_json({"audit", "verify"})["ok"] == true);

  auto merged = call(port, "POST", "/api/v1/merge", json{{"a", zhang}, {"b", wang}}.dump(), {bearer(town)});
  INFO(merged.body);
  REQUIRE(merged.status == 200);
  CHECK(merged.j()["decision"] == "merged");
  CHECK(merged.j()["by"] == "town");
  const std::string away = merged.j()["merged_away"];
  auto again = call(port, "POST", "/api/v1/merge", json{{"a", zhang}, {"b", wang}}.dump(), {bearer(town)});
  CHECK(again.status >= 400);  // already merged: refused, nothing changed
  auto unmerged = call(port, "POST", "/api/v1/unmerge", json{{"id", away}}.dump(), {bearer(town)});
  INFO(unmerged.body);
  REQUIRE(unmerged.status == 200);
  CHECK(unmerged.j()["merged_away"] == away);
  CHECK(call(port, "POST", "/api/v1/unmerge", json{{"id", away}}.dump(), {bearer(town)}).status == 404);
  auto dismissed = call(port, "POST", "/api/v1/dismiss", json{{"a", zhang}, {"b", wang}}.dump(), {bearer(town)});
  REQUIRE(dismissed.status == 200);
  CHECK(dismissed.j()["decision"] == "dismissed");
  // Dismissed again: remembered once.
  REQUIRE(call(port, "POST", "/api/v1/dismiss", json{{"a", wang}, {"b", zhang}}.dump(), {bearer(town)}).status == 200);
  CHECK(call(port, "POST", "/api/v1/dismiss", "not json", {bearer(town)}).status == 400);
  server->stop();

  // Each decision is in the audit chain under the reviewer's name, the dismissal too (once); the
  // chain verifies.
  auto st = sync::open_sqlite_server_store(s.data).take();
  std::map<std::string, int> by_town;
  for (auto& e : st->audit_entries())
    if (e.actor == "town") ++by_town[e.kind];
  CHECK(by_town["merge"] == 1);
  CHECK(by_town["unmerge"] == 1);
  CHECK(by_town["dismiss"] == 1);
  CHECK(ops::dedup_decisions(*st).size() == 1);
  CHECK(s.ok_json({"audit", "verify"})["ok"] == true);
}
