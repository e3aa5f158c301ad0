// A sync-server data folder in a temp folder, driven as the real program (SYNC_SERVER_PATH) with the
// environment the tests share: the pinned clock, the source tree's data, nothing inherited from the
// user's server folder or language. For the server_cli suite.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.hpp"
#include "store_fixture.hpp"
#include "temp_dir.hpp"

namespace tz::test {

// The environment of a test's sync-server run.
inline std::map<std::string, std::string> server_test_env() {
  return {{"TAIZHANG_CLOCK_MS", std::to_string(kNowMs)},
          {"TAIZHANG_DATA_DIR", source_dir().string()},
          {"TAIZHANG_SCHEMA_DIR", ""},
          {"TAIZHANG_SERVER_DATA", ""},
          {"TAIZHANG_LANG", ""},
          {"TAIZHANG_CRASH_AT", ""}};
}

struct ServerFolder {
  TempDir dir;
  std::string data = (dir / "data").string();
  std::map<std::string, std::string> env = server_test_env();

  // Runs with --data DATA; more overrides the environment for this run.
  ProcessResult run(std::vector<std::string> args, const std::map<std::string, std::string>& more = {}) const {
    args.push_back("--data");
    args.push_back(data);
    auto e = env;
    for (auto& [k, v] : more) e[k] = v;
    return run_process(SYNC_SERVER_PATH, args, e);
  }
  ProcessResult ok(std::vector<std::string> args) const {
    auto r = run(std::move(args));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  nlohmann::json ok_json(std::vector<std::string> args) const {
    args.push_back("--json");
    return nlohmann::json::parse(ok(std::move(args)).out);
  }
  // init for 榕江县 and the 2026 period.
  void init() const {
    ok({"init", "--county", "522632", "--name", "榕江县人社局"});
    ok({"period", "set", "2026", "--as-of", "2026-11-30"});
  }
};

// The startup line of a server started with --json.
inline nlohmann::json started(Background& b) {
  auto line = b.wait_for_line("\"url\"");
  INFO(b.output());
  REQUIRE(line);
  return nlohmann::json::parse(*line);
}

}  // namespace tz::test
