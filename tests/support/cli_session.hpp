// A field-cli session for end-to-end tests: a temporary store folder, the environment that pins the
// clock, a cheap KDF and the project's data, and helpers to run the real binary. Header-only: the cli
// suite defines FIELD_CLI_PATH.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "process.hpp"
#include "store_fixture.hpp"

namespace tz::test {

class CliSession {
 public:
  TempDir dir;
  std::string store = (dir / "store").string();
  std::map<std::string, std::string> env{{"TAIZHANG_PASSPHRASE", "correct horse"},
                                         {"TAIZHANG_KDF_LOG2N", "10"},
                                         {"TAIZHANG_CLOCK_MS", std::to_string(kNowMs)},
                                         {"TAIZHANG_DATA_DIR", source_dir().string()},
                                         {"TAIZHANG_SCHEMA_DIR", ""},
                                         {"TAIZHANG_STORE", ""},
                                         {"TAIZHANG_COLLECTOR", ""},
                                         {"TAIZHANG_LANG", ""},
                                         {"TAIZHANG_CRASH_AT", ""}};

  // Runs field-cli; `extra` overrides the session's environment (an empty value unsets).
  ProcessResult run(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra = {},
                    const std::string& stdin_text = {}) const {
    auto e = env;
    for (auto& [k, v] : extra) e[k] = v;
    return run_process(FIELD_CLI_PATH, args, e, stdin_text);
  }
  // init for 522632 with collectors 王芳 and 李强, period 2026 as of 2026-11-30.
  void init() const {
    auto r = run({"init", "--store", store, "--county", "522632", "--collector", "王芳,李强", "--period", "2026",
                  "--as-of", "2026-11-30"});
    REQUIRE(r.exit_code == 0);
  }
  std::string file(const std::string& name, const std::string& content) const {
    write_file(dir / name, content);
    return (dir / name).string();
  }
  std::unique_ptr<DeviceStore> open() const {
    return open_device_store(store, "correct horse", resources().schema).take();
  }
};

}  // namespace tz::test
