// field-cli's entry: run() turns every failure into one line in the user's language and an exit
// code; nothing internal is printed to a collector. The commands live in command.hpp (plumbing,
// init, import, list) and records_commands.cpp (add, edit, show, find, validate, status).
#include "tz/cli/cli.hpp"

#include "command.hpp"
#include "tz/cli/boundary.hpp"

namespace tz::cli {

int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
  return run_guarded(args, messages(), out, err, [&](Lang lang) {
    Command c(parse_args(args, program_spec(), messages(), lang), lang, in, out, err);
    return c.dispatch();
  });
}

}  // namespace tz::cli
