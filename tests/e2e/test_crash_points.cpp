// Every crash point (SPEC §12, docs/crash-points.md) walked with the real programs: one county
// scenario of register import, device import and enrolment, edits, network pushes and pulls, a
// conflict resolved, quarantine release and reject, merge and unmerge, verify, a review decision,
// offline bundles both ways, and a backup restored. Each step that reaches a point is run once with
// TAIZHANG_CRASH_AT naming it: the process must die there by SIGKILL (a point never reached fails),
// then the step is done again as a person would. At the end the devices and the server converge
// (SPEC §5 digests equal), every SQLite file passes PRAGMA integrity_check, and the county holds
// exactly what a run without any crash holds: nothing lost, nothing duplicated.
//
// A walk kills one process per step (the k-th point of each step in walk k), so every point is
// walked in as many walks as the busiest step has points, plus the run without crashes.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "e2e_fixture.hpp"

namespace fs = std::filesystem;

namespace {

using Crash = std::map<std::string, std::string>;  // {TAIZHANG_CRASH_AT: point}, or empty

ProcessResult county_run(const County& c, std::vector<std::string> args, const Crash& crash) {
  args.push_back("--data");
  args.push_back(c.data);
  auto e = c.env;
  for (auto& [k, v] : crash) e[k] = v;
  return run_process(SYNC_SERVER_PATH, args, e);
}

// A step of the scenario: the points it reaches, how it runs (with the crash, or none: then it must
// succeed) and, where doing it again is not simply running it again, what a person does instead.
struct Step {
  std::string what;
  std::vector<std::string> points;
  std::function<ProcessResult(const Crash&)> run;
  std::function<void()> again;
};

void must_succeed(const ProcessResult& r, const std::string& what) {
  INFO(what << ": " << r.out << r.err);
  REQUIRE(r.signal == 0);
  REQUIRE(r.exit_code == 0);
}

// Every SQLite file under `root` passes PRAGMA integrity_check.
void all_integrity_ok(const fs::path& root) {
  for (auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    char head[16] = {};
    in.read(head, 16);
    if (std::string(head, 15) == "SQLite format 3") integrity_ok(e.path());
  }
}

// A value that is an entity id (a link to a parent) differs between runs: the county's ids are keyed
// by its own secret.
std::string masked(const std::string& value) {
  static const std::regex id("[0-9a-f]{32}");
  return std::regex_match(value, id) ? "#" : value;
}

// What the county holds, without ids: one line per live entity, its live values sorted (a value
// held twice, or lost, changes it). A review decision names versions by device id: only its kind.
// (An entity's own id is left out: its values name it.)
std::string county_content(const County& c) {
  auto s = sync::open_sqlite_server_store(c.data).take();
  const FieldId review = resources().schema.entity(EntityType::person).require("review").id;
  std::vector<std::string> rows;
  s->scan_entities([&](const sync::EntityRecord& r) {
    std::vector<std::string> values;
    for (auto& [f, state] : r.state.fields)
      for (auto& v : state.live)
        values.push_back(std::to_string(f) + "=" + (f == review ? v.value.substr(0, v.value.find(':')) : masked(v.value)));
    if (values.empty()) return;
    std::sort(values.begin(), values.end());
    // How many versions of a link a merge and unmerge leave depends on which side survives, which
    // the random ids decide: a link counts once.
    values.erase(std::unique(values.begin(), values.end(),
                             [](const std::string& x, const std::string& y) { return x == y && x.size() > 1 && x.substr(x.size() - 2) == "=#"; }),
                 values.end());
    std::string row(entity_type_name(r.state.type));
    for (auto& v : values) row += " " + v;
    rows.push_back(row);
  });
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (auto& r : rows) out += r + "\n";
  return out;
}

// The crash points named in the sources: every "device.*.*" / "server.*.*" string literal.
std::set<std::string> points_in_code() {
  const std::regex name(R"re("((device|server)\.[a-z_]+\.[a-z_]+)")re");
  std::set<std::string> out;
  for (const char* dir : {"core", "sync-server", "field-cli", "cli", "net"})
    for (auto& e : fs::recursive_directory_iterator(source_dir() / dir)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
      const std::string text = read_file(e.path());
      for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) out.insert((*it)[1]);
    }
  return out;
}

// The names in the first column of docs/crash-points.md's table.
std::set<std::string> points_in_docs() {
  std::set<std::string> out;
  std::istringstream in(read_file(source_dir() / "docs/crash-points.md"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("| `device.", 0) == 0 || line.rfind("| `server.", 0) == 0)
      out.insert(line.substr(3, line.find('`', 3) - 3));
  return out;
}

// One run of the scenario; walk < 0 crashes nowhere. Returns the county's content at the end.
std::string walk_scenario(int walk, std::set<std::string>& walked, std::set<std::string>* all_points = nullptr,
                          size_t* busiest = nullptr) {
  County c;
  c.init(false);
  c.env["TAIZHANG_BACKUP_PASSPHRASE"] = "县里另外保管的口令";
  c.env["TAIZHANG_KDF_LOG2N"] = "10";
  c.env["TAIZHANG_CRASH_AT"] = "";
  const std::string roster = (source_dir() / "data/samples/roster-522632.gb18030.csv").string();
  Device a, b;
  BundleDevice f;
  // The device's own roster: the sample's header and first four rows (the county has them too).
  std::string slice;
  {
    std::istringstream in(read_file(roster));
    std::string line;
    for (int i = 0; i < 5 && std::getline(in, line); ++i) slice += line + "\n";
  }
  const std::string slice_file = a.file("slice.csv", slice);
  std::string bundle, response, backup = (c.dir / "county.backup").string();
  std::vector<std::string> held;  // quarantined change ids
  EntityId merged_away;

  auto serve_dies = [&](const Crash& crash, const std::function<void()>& then) {
    c.stop();
    c.serve({}, crash);
    then();
    auto r = c.stop();
    c.serve();
    return r;
  };
  auto quarantine_ids = [&] {
    std::vector<std::string> ids;
    const json listed = c.ok_json({"quarantine"});
    for (auto& q : listed["changes"])
      ids.push_back(q["device"].get<std::string>() + ":" + std::to_string(q["seq"].get<uint64_t>()));
    return ids;
  };
  // Released or rejected already when the kill came after the commit; else decided again.
  auto decide_again = [&](std::vector<std::string> args) {
    return [&, args] {
      auto ids = quarantine_ids();
      if (std::find(ids.begin(), ids.end(), args[2]) != ids.end()) must_succeed(county_run(c, args, {}), args[1]);
      ids = quarantine_ids();
      CHECK(std::find(ids.begin(), ids.end(), args[2]) == ids.end());
    };
  };

  std::vector<Step> steps;
  steps.push_back({"register import", {"server.register_import.before_commit", "server.register_import.after_commit"},
                   [&](const Crash& k) { return county_run(c, {"register", "import", roster}, k); }, {}});
  steps.push_back({"serve", {}, [&](const Crash&) {
                     c.serve();
                     return ProcessResult{0, 0, "", ""};
                   }, {}});
  steps.push_back({"device import before enrolment", {"device.import.before_commit", "device.import.after_commit"},
                   [&](const Crash& k) {
                     if (!fs::exists(a.store))
                       must_succeed(a.run({"init", "--store", a.store, "--county", "522632", "--collector", "王芳,李强",
                                           "--period", "2026", "--as-of", "2026-10-31"}),
                                    "init");
                     return a.cli({"import", slice_file}, k);
                   }, {}});
  // Enrolment: the token is spent once the server granted it, so doing it again takes a new one.
  steps.push_back({"enrol (re-keyed, the county's period)", {"device.rekey.before_commit", "device.config.before_commit"},
                   [&](const Crash& k) { return a.cli({"enroll", c.url, c.token()}, k); }, {}});
  steps.push_back({"first pull", {"device.pull.before_commit", "device.pull.after_commit"},
                   [&](const Crash& k) { return a.cli({"sync"}, k); }, {}});
  steps.push_back({"edit", {"device.edit.before_commit", "device.edit.after_commit"},
                   [&](const Crash& k) { return a.cli({"edit", kSun, "--set", "联系电话=13900001111"}, k); }, {}});
  steps.push_back({"push (the device dies)", {"device.push.before_commit", "device.push.after_commit"},
                   [&](const Crash& k) { return a.cli({"sync"}, k); }, {}});
  steps.push_back({"push (the server dies)", {"server.apply.before_commit", "server.apply.after_commit"},
                   [&](const Crash& k) {
                     if (a.value(kFu, "phone") != "13900001112") a.edit(kFu, "联系电话=13900001112");
                     if (k.empty()) return a.cli({"sync"});
                     // The device gives up after its own retries for a second: the server is gone.
                     return serve_dies(k, [&] { CHECK(a.cli({"sync", "--timeout", "1"}).exit_code != 0); });
                   }, {}});
  // b takes a's phone, then both change it offline: a conflict on b, resolved there.
  steps.push_back({"a second device, in conflict", {}, [&](const Crash&) {
                     b.join(c, c.token());
                     a.edit(kSun, "联系电话=13900004444");
                     a.sync();
                     b.edit(kSun, "联系电话=13900002222");
                     return b.cli({"sync"});
                   }, {}});
  steps.push_back({"resolve", {"device.resolve.before_commit"}, [&](const Crash& k) {
                     std::string pick;
                     auto j = b.conflicts();
                     REQUIRE(j["count"] == 1);
                     for (auto& v : j["conflicts"][0]["versions"])
                       if (v["value"] == "13900002222") pick = std::to_string(v["number"].get<int>());
                     return b.cli({"resolve", kSun, "联系电话", "--pick", pick}, k);
                   }, {}});
  steps.push_back({"both sync; a household outside the scope is held", {}, [&](const Crash&) {
                     b.sync();
                     a.ok({"add", "household", "--set", std::string("村代码=") + kOutside, "--set",
                           "户编号=5226321010019001", "--set", "户主姓名=吴外村"});
                     CHECK(a.sync()["quarantined"].get<uint64_t>() >= 2);
                     held = quarantine_ids();
                     REQUIRE(held.size() >= 2);
                     return ProcessResult{0, 0, "", ""};
                   }, {}});
  steps.push_back({"quarantine release", {"server.release.before_commit", "server.release.after_commit"},
                   [&](const Crash& k) { return county_run(c, {"quarantine", "release", held[0]}, k); },
                   [&] { decide_again({"quarantine", "release", held[0]})(); }});
  steps.push_back({"quarantine reject", {"server.reject.before_commit", "server.reject.after_commit"},
                   [&](const Crash& k) { return county_run(c, {"quarantine", "reject", held[1], "--reason", "不在范围内"}, k); },
                   [&] { decide_again({"quarantine", "reject", held[1], "--reason", "不在范围内"})(); }});
  steps.push_back({"merge", {"server.merge.before_commit", "server.merge.after_commit"},
                   [&](const Crash& k) { return county_run(c, {"merge", kSun, kFu}, k); },
                   [&] {
                     // Done already when the kill came after the commit: merging again is refused.
                     auto s = sync::open_sqlite_server_store(c.data).take();
                     sync::SyncServer srv(*s, resources().schema, ValidationContext{}, [] { return kNowMs; });
                     if (srv.merges().empty()) must_succeed(county_run(c, {"merge", kSun, kFu}, {}), "merge");
                   }});
  steps.push_back({"unmerge", {"server.unmerge.before_commit", "server.unmerge.after_commit"},
                   [&](const Crash& k) {
                     auto s = sync::open_sqlite_server_store(c.data).take();
                     sync::SyncServer srv(*s, resources().schema, ValidationContext{}, [] { return kNowMs; });
                     REQUIRE(srv.merges().size() == 1);
                     merged_away = srv.merges().front().first;
                     s.reset();
                     return county_run(c, {"unmerge", merged_away.hex()}, k);
                   },
                   [&] {
                     auto s = sync::open_sqlite_server_store(c.data).take();
                     sync::SyncServer srv(*s, resources().schema, ValidationContext{}, [] { return kNowMs; });
                     const bool merged = !srv.merges().empty();
                     s.reset();
                     if (merged) must_succeed(county_run(c, {"unmerge", merged_away.hex()}, {}), "unmerge");
                   }});
  steps.push_back({"verify", {"server.verify.before_commit", "server.verify.after_commit"},
                   [&](const Crash& k) { return county_run(c, {"verify"}, k); }, {}});
  steps.push_back({"review", {"server.review.before_commit", "server.review.after_commit"},
                   [&](const Crash& k) { return county_run(c, {"review", kSun, "--approve"}, k); }, {}});
  steps.push_back({"a device on files exports a bundle", {}, [&](const Crash&) {
                     enrol_by_file(c, f);
                     round_trip(c, f, "f0");  // registered, and the township's records on the device
                     f.edit("522632198503296995", "联系电话=13900003333");  // 杨明祥
                     bundle = f.export_bundle("f.bundle");
                     response = (f.dir / "f.response").string();
                     return ProcessResult{0, 0, "", ""};
                   }, {}});
  steps.push_back({"bundle import at the county", {"server.bundle_import.before_response"},
                   [&](const Crash& k) { return county_run(c, {"bundle", "import", bundle, "--out", response}, k); }, {}});
  steps.push_back({"bundle response import on the device",
                   {"device.bundle_import.after_pages", "device.bundle_import.before_commit", "device.bundle_import.after_commit"},
                   [&](const Crash& k) { return f.cli({"bundle", "import", response}, k); }, {}});
  steps.push_back({"backup while serving, then a change it lacks", {}, [&](const Crash&) {
                     a.sync();
                     b.sync();
                     c.ok({"backup", "--out", backup});
                     a.edit(kSun, "文化程度=大专及以上");
                     return a.cli({"sync"});
                   }, {}});
  steps.push_back({"restore", {"server.restore.before_commit", "server.restore.before_rename", "server.restore.between_renames"},
                   [&](const Crash& k) {
                     if (c.server) c.stop();
                     return county_run(c, {"restore", backup}, k);
                   }, {}});

  for (auto& s : steps) {
    if (all_points) all_points->insert(s.points.begin(), s.points.end());
    if (busiest) *busiest = std::max(*busiest, s.points.size());
    const bool crash = walk >= 0 && static_cast<size_t>(walk) < s.points.size();
    if (!crash) {
      INFO("walk " << walk << ", step '" << s.what << "'");
      must_succeed(s.run({}), s.what);
      continue;
    }
    const std::string& point = s.points[static_cast<size_t>(walk)];
    INFO("walk " << walk << ", step '" << s.what << "', crash point " << point);
    auto killed = s.run({{"TAIZHANG_CRASH_AT", point}});
    INFO(killed.out << killed.err);
    CHECK(killed.signal == SIGKILL);
    walked.insert(point);
    if (s.again)
      s.again();
    else
      must_succeed(s.run({}), s.what + " (again)");
  }

  // After the restore: everyone syncs until nothing moves (the devices re-push, pull from 0).
  c.serve();
  for (int i = 0; i < 2; ++i) {
    a.sync();
    b.sync();
    for (int n = 0; n < 4; ++n) {
      auto j = round_trip(c, f, "final" + std::to_string(i) + std::to_string(n));
      if (!j["more"].get<bool>()) break;
    }
  }
  c.stop();
  const std::string server = c.digest({kTownship});
  CHECK_FALSE(server.empty());
  CHECK(a.digest() == server);
  CHECK(b.digest() == server);
  CHECK(f.digest() == server);
  CHECK(a.conflicts()["count"] == 0);
  CHECK(live_value(*c.entity(a.person(kSun)), "education") == "06");  // made after the backup, re-pushed
  for (const fs::path& root : {c.dir.path(), a.dir.path(), b.dir.path(), f.dir.path()}) all_integrity_ok(root);
  return county_content(c);
}

}  // namespace

TEST_CASE("every crash point is reached and the operation done again loses and duplicates nothing", "[e2e][crash]") {
  std::set<std::string> walked, listed;
  size_t busiest = 0;
  const std::string clean = walk_scenario(-1, walked, &listed, &busiest);
  REQUIRE(walked.empty());
  REQUIRE_FALSE(clean.empty());
  // The points in the code, in docs/crash-points.md and in this scenario are one list: a new
  // point without a row and a step fails here.
  CHECK(points_in_code() == points_in_docs());
  CHECK(listed == points_in_docs());
  for (size_t w = 0; w < busiest; ++w) {
    const std::string content = walk_scenario(static_cast<int>(w), walked);
    INFO("walk " << w);
    CHECK(content == clean);
  }
  CHECK(walked == listed);
}
