// field-cli as a library: run() parses the command line and does the work; main() only calls it.
// Tests call run() directly or start the real binary.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tz::cli {

// Exit codes: 0 success, 1 user error (one-line reason), 2 bad usage.
int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace tz::cli
