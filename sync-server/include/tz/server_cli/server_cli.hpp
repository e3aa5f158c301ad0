// sync-server as a library: run() parses the command line and does the work; main() only calls it.
// Tests start the real binary.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tz::server_cli {

// Exit codes: 0 success, 1 user error (one-line reason), 2 bad usage. Never prompts.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace tz::server_cli
