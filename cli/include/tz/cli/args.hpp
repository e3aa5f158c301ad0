// Command lines as both programs read them: options may come before or after the command words;
// each command accepts the global options and its own; the language comes from --lang or
// TAIZHANG_LANG. A user-facing failure carries its exit code (1 user error, 2 bad usage).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tz/cli/messages.hpp"

namespace tz::cli {

// A user-facing failure with its exit code (1 user error, 2 usage) and one line of text.
struct CliError {
  int code;
  std::string message;
};

struct OptionSpec {
  std::string_view name;
  bool takes_value = false;
  bool repeated = false;  // every occurrence kept, in order (field-cli --set)
};

// What a program accepts. A command is named by its first word, or by its first two words
// ("device list") when the program declares it so.
struct ProgramSpec {
  std::vector<OptionSpec> options;
  std::set<std::string, std::less<>> global;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> commands;  // command -> its options
};

struct Args {
  std::map<std::string, std::string> values;
  std::map<std::string, std::vector<std::string>> repeated;
  std::set<std::string> flags;
  std::vector<std::string> words;
  bool has(const std::string& k) const { return values.count(k) || flags.count(k) || repeated.count(k); }
  bool flag(const std::string& k) const { return flags.count(k) > 0; }
  std::string get(const std::string& k, std::string fallback = {}) const {
    auto it = values.find(k);
    return it == values.end() ? fallback : it->second;
  }
  const std::vector<std::string>& all(const std::string& k) const;
};

// The language asked for on the raw command line (before parsing, so that parse errors are in it).
Lang scan_lang(const std::vector<std::string>& args);
bool wants_json(const std::vector<std::string>& args);

// Splits options from words; an option the program does not know is a usage error.
Args parse_args(const std::vector<std::string>& raw, const ProgramSpec& spec, const Messages& m, Lang lang);

// The command the words name (one or two words, as the spec declares), after checking that every
// option given is global or the command's own and that --lang is zh or en. Usage errors throw.
std::string command_of(const Args& a, const ProgramSpec& spec, const Messages& m, Lang lang);

// Exactly n words (the command's and its arguments), else a usage error naming what is missing
// (what) or the first extra word.
void expect_words(const Args& a, size_t n, const std::string& what, const Messages& m, Lang lang);

// "a,b，c、d" -> {a, b, c, d}: trimmed, empty parts and repeats dropped (Chinese separators too).
std::vector<std::string> split_names(std::string raw);

// The wall clock in ms; TAIZHANG_CLOCK_MS pins it (training sessions and tests; never in the field).
int64_t now_ms();

}  // namespace tz::cli
