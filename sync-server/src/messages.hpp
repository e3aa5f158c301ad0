// sync-server's texts in Chinese and English, over the shared ones (tz/cli/messages.hpp).
#pragma once

#include "tz/cli/messages.hpp"

namespace tz::server_cli {

const cli::Messages& messages();

}  // namespace tz::server_cli
