// The program boundary: runs a command and turns every failure (CliError, Failure, any exception)
// into one line in the user's language on stderr (and a JSON error object on stdout with --json)
// and the exit code of the error catalogue. Nothing internal reaches the user.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "tz/cli/messages.hpp"

namespace tz::cli {

int run_guarded(const std::vector<std::string>& args, const Messages& m, std::ostream& out, std::ostream& err,
                const std::function<int(Lang)>& body);

// Writes the prompt to err and reads one line from in, with echo off while standard input is a terminal.
std::string read_secret(std::istream& in, std::ostream& err, const std::string& prompt);

}  // namespace tz::cli
