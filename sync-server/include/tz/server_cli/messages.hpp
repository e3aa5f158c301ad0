// sync-server's texts in Chinese and English, over the shared ones (tz/cli/messages.hpp); public so
// that a test can check every text has both languages.
#pragma once

#include "tz/cli/messages.hpp"

namespace tz::server_cli {

const cli::Messages& messages();

}  // namespace tz::server_cli
