// Reads TAIZHANG_CRASH_AT once and kills the process at the matching point.
#include "tz/util/crash_point.hpp"

#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace tz {

void crash_point(std::string_view name) {
  static const std::string kTarget = [] {
    const char* v = std::getenv("TAIZHANG_CRASH_AT");
    return std::string(v ? v : "");
  }();
  if (!kTarget.empty() && kTarget == name) ::kill(::getpid(), SIGKILL);
}

}  // namespace tz
