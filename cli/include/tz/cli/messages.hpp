// User-facing texts in Chinese and English, looked up by key: each program has its own catalogue
// laid over the shared one (texts of the option parser, import reports and lists), so the shared
// plumbing speaks with the program's words where it gives its own.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tz/util/error.hpp"

namespace tz::cli {

struct Text {
  std::string_view zh;
  std::string_view en;
};
using Catalogue = std::map<std::string_view, Text, std::less<>>;

// The texts of the shared plumbing ({0}, {1}, ... are arguments).
const Catalogue& common_texts();

// A program's catalogue over the shared one; immutable, so safe to share between threads.
class Messages {
 public:
  Messages(std::string program, const Catalogue& own) : program_(std::move(program)), own_(own) {}
  // The text for key in lang with {0}, {1}, ... replaced; the key itself when unknown (a test checks
  // every key has both languages).
  std::string tr(Lang lang, std::string_view key, const std::vector<std::string>& args = {}) const;
  std::vector<std::string_view> keys() const;  // own and shared
  bool has_both_languages(std::string_view key) const;
  const std::string& program() const { return program_; }

 private:
  const Text* find(std::string_view key) const;
  std::string program_;
  const Catalogue& own_;
};

}  // namespace tz::cli
