// Kill tests of sync (SPEC §12): a real process dies at each crash point of a push or a pull, then
// syncs again; the SPEC §5 digests of devices and server are equal, every change the devices made is
// held exactly once, and PRAGMA integrity_check is ok on every store. Exact, never timed.
#include <catch2/catch.hpp>

#include <csignal>
#include <sstream>

#include "process.hpp"
#include "temp_dir.hpp"

namespace {

std::map<std::string, std::string> report(const std::filesystem::path& dir, const std::string& who) {
  auto r = tz::test::run_process(SYNC_PROBE_PATH, {"report", dir.string(), who});
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> out;
  std::istringstream in(r.out);
  std::string line, key;
  // Digests span several lines: a key starts a line that begins with one of the known words.
  for (std::string cur; std::getline(in, line);) {
    auto sp = line.find(' ');
    std::string first = line.substr(0, sp);
    if (first == "device" || first == "server" || first == "made" || first == "held" || first == "quarantined" ||
        first == "integrity") {
      key = first;
      out[key] = sp == std::string::npos ? "" : line.substr(sp + 1);
    } else {
      out[key] += "\n" + line;
    }
  }
  return out;
}

void run_ok(const std::vector<std::string>& args) {
  auto r = tz::test::run_process(SYNC_PROBE_PATH, args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("A process killed at each sync crash point loses and duplicates nothing", "[sync][crash]") {
  for (std::string point : {"server.apply.before_commit", "server.apply.after_commit", "device.pull.before_commit"}) {
    INFO(point);
    tz::test::TempDir dir;
    auto d = dir.path().string();
    run_ok({"init", d});
    run_ok({"sync", d, "a"});
    run_ok({"edit", d, "a", "12"});
    run_ok({"edit", d, "b", "0"});
    run_ok({"sync", d, "b"});
    auto killed = tz::test::run_process(SYNC_PROBE_PATH, {"sync", d, "a"}, {{"TAIZHANG_CRASH_AT", point}});
    CHECK(killed.signal == SIGKILL);
    auto killed_b = tz::test::run_process(SYNC_PROBE_PATH, {"sync", d, "b"}, {{"TAIZHANG_CRASH_AT", point}});
    CHECK(killed_b.signal == SIGKILL);
    for (const char* who : {"a", "b", "a", "b"}) run_ok({"sync", d, who});
    auto a = report(dir.path(), "a");
    auto b = report(dir.path(), "b");
    CHECK(a["integrity"] == "ok ok");
    CHECK(b["integrity"] == "ok ok");
    CHECK(a["device"] == a["server"]);
    CHECK(b["device"] == b["server"]);
    CHECK(a["device"] == b["device"]);
    CHECK(a["made"] == a["held"]);
    CHECK(a["quarantined"] == "0");
    CHECK(a["device"].find("13910000011") != std::string::npos);  // the last of the 12 edits arrived
  }
}
