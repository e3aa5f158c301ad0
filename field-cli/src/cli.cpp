// field-cli's entry: run() turns every failure into one line in the user's language and an exit
// code; nothing internal is printed to a collector. The commands live in command.hpp (plumbing,
// init, import, list) and records_commands.cpp (add, edit, show, find, validate, status).
#include "tz/cli/cli.hpp"

#include "command.hpp"

namespace tz::cli {

int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
  Lang lang = scan_lang(args);
  bool json_mode = std::find(args.begin(), args.end(), "--json") != args.end();
  auto report = [&](int code, const std::string& message, const std::string& name) {
    if (json_mode)
      out << json{{"ok", false}, {"error", {{"code", name}, {"message", message}}}}.dump(2) << "\n";
    err << (lang == Lang::zh ? "错误：" : "error: ") << message << "\n";
    return code;
  };
  try {
    Command c(parse_args(args, lang), lang, in, out, err);
    return c.dispatch();
  } catch (const CliError& e) {
    return report(e.code, e.message, e.code == 2 ? "usage" : "error");
  } catch (const Failure& f) {
    return report(f.error().exit_code(), f.error().message(lang), std::string(f.error().name()));
  } catch (const std::exception& e) {
    return report(1, Error(ErrorCode::internal, {e.what()}).message(lang), "internal");
  }
}

}  // namespace tz::cli
