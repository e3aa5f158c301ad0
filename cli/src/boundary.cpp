// The boundary shared by field-cli and sync-server.
#include "tz/cli/boundary.hpp"

#include <termios.h>
#include <unistd.h>

#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "tz/cli/args.hpp"

namespace tz::cli {

int run_guarded(const std::vector<std::string>& args, const Messages& m, std::ostream& out, std::ostream& err,
                const std::function<int(Lang)>& body) {
  Lang lang = scan_lang(args);
  bool json_mode = wants_json(args);
  auto report = [&](int code, const std::string& message, const std::string& name) {
    if (json_mode)
      out << nlohmann::json{{"ok", false}, {"error", {{"code", name}, {"message", message}}}}.dump(2) << "\n";
    err << m.tr(lang, "error_prefix") << message << "\n";
    return code;
  };
  try {
    return body(lang);
  } catch (const CliError& e) {
    return report(e.code, e.message, e.code == 2 ? "usage" : "error");
  } catch (const Failure& f) {
    return report(f.error().exit_code(), f.error().message(lang), std::string(f.error().name()));
  } catch (const std::exception& e) {
    return report(1, Error(ErrorCode::internal, {e.what()}).message(lang), "internal");
  }
}

std::string read_secret(std::istream& in, std::ostream& err, const std::string& prompt) {
  err << prompt << std::flush;
  termios old{};
  bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(in, line);
  if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &old);
  err << "\n";
  return line;
}

}  // namespace tz::cli
