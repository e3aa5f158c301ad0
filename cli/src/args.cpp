// Option parsing shared by field-cli and sync-server.
#include "tz/cli/args.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "tz/util/text.hpp"

namespace tz::cli {

const std::vector<std::string>& Args::all(const std::string& k) const {
  static const std::vector<std::string> kNone;
  auto it = repeated.find(k);
  return it == repeated.end() ? kNone : it->second;
}

Lang scan_lang(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--lang" && i + 1 < args.size()) return args[i + 1] == "en" ? Lang::en : Lang::zh;
    if (args[i] == "--lang=en") return Lang::en;
  }
  if (const char* v = std::getenv("TAIZHANG_LANG"); v && std::string(v) == "en") return Lang::en;
  return Lang::zh;
}

bool wants_json(const std::vector<std::string>& args) { return std::find(args.begin(), args.end(), "--json") != args.end(); }

Args parse_args(const std::vector<std::string>& raw, const ProgramSpec& spec, const Messages& m, Lang lang) {
  Args a;
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& s = raw[i];
    if (s.size() > 2 && s.rfind("--", 0) == 0) {
      std::string name = s.substr(2), value;
      bool inline_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      const OptionSpec* o = nullptr;
      for (auto& x : spec.options)
        if (x.name == name) o = &x;
      if (!o) throw CliError{2, m.tr(lang, "unknown_option", {m.program(), "--" + name})};
      if (o->takes_value) {
        if (!inline_value) {
          if (i + 1 >= raw.size()) throw CliError{2, m.tr(lang, "option_needs_value", {"--" + name})};
          value = raw[++i];
        }
        if (o->repeated)
          a.repeated[name].push_back(value);
        else
          a.values[name] = value;
      } else {
        a.flags.insert(name);
      }
    } else if (s == "-h") {
      a.flags.insert("help");
    } else {
      a.words.push_back(s);
    }
  }
  return a;
}

std::string command_of(const Args& a, const ProgramSpec& spec, const Messages& m, Lang lang) {
  if (a.words.empty()) throw CliError{2, m.tr(lang, "missing_command", {m.program()})};
  std::string cmd = a.words[0];
  if (a.words.size() > 1 && spec.commands.count(cmd + " " + a.words[1])) cmd += " " + a.words[1];
  auto allowed = spec.commands.find(cmd);
  if (allowed == spec.commands.end()) {
    // A group of two-word commands named by its first word alone (or with a wrong second word).
    std::string subs;
    for (auto& [name, _] : spec.commands)
      if (name.rfind(a.words[0] + " ", 0) == 0) subs += (subs.empty() ? "" : ", ") + name.substr(a.words[0].size() + 1);
    if (!subs.empty()) throw CliError{2, m.tr(lang, "missing_subcommand", {a.words[0], subs, m.program()})};
    throw CliError{2, m.tr(lang, "unknown_command", {cmd, m.program()})};
  }
  auto check = [&](const std::string& k) {
    if (!spec.global.count(k) && !allowed->second.count(k)) throw CliError{2, m.tr(lang, "unknown_option", {cmd, "--" + k})};
  };
  for (auto& [k, _] : a.values) check(k);
  for (auto& [k, _] : a.repeated) check(k);
  for (auto& k : a.flags) check(k);
  if (a.values.count("lang") && a.get("lang") != "zh" && a.get("lang") != "en")
    throw CliError{2, m.tr(lang, "bad_option_value", {"--lang", a.get("lang"), "zh | en"})};
  return cmd;
}

void expect_words(const Args& a, size_t n, const std::string& what, const Messages& m, Lang lang) {
  if (a.words.size() < n) throw CliError{2, m.tr(lang, "missing_argument", {what})};
  if (a.words.size() > n) throw CliError{2, m.tr(lang, "extra_argument", {a.words[n]})};
}

std::vector<std::string> split_names(std::string raw) {
  for (auto& sep : {"，", "、"})
    for (size_t p; (p = raw.find(sep)) != std::string::npos;) raw.replace(p, std::string(sep).size(), ",");
  std::vector<std::string> out;
  for (auto& part : text::split(raw, ','))
    if (auto t = text::trim(part); !t.empty() && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  return out;
}

int64_t now_ms() {
  if (const char* v = std::getenv("TAIZHANG_CLOCK_MS"); v && *v) return std::stoll(v);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace tz::cli
