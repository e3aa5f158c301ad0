// Runs a real program (fork + exec) with extra environment variables and stdin text, and returns its
// exit status and output. Output goes through temporary files, so large output cannot deadlock.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tz::test {

struct ProcessResult {
  int exit_code = -1;   // when it exited
  int signal = 0;       // when a signal ended it
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::string& path, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env = {}, const std::string& stdin_text = {});

}  // namespace tz::test
