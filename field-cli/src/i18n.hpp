// The collector-facing texts of field-cli in Chinese and English, looked up by key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tz/cli/messages.hpp"
#include "tz/util/error.hpp"

namespace tz::cli {

// field-cli's texts over the shared ones.
const Messages& messages();
// The text for key in lang with {0}, {1}, ... replaced; the key itself when unknown (a test checks
// every key has both languages).
std::string tr(Lang lang, std::string_view key, const std::vector<std::string>& args = {});
std::vector<std::string_view> message_keys();
bool has_both_languages(std::string_view key);

}  // namespace tz::cli
