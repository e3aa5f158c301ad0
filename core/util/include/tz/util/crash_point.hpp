// Named crash points, present in every build and inert unless TAIZHANG_CRASH_AT names one: the
// process then sends itself SIGKILL there, so kill tests are exact, never timed. docs/crash-points.md
// lists every name.
#pragma once

#include <string_view>

namespace tz {

void crash_point(std::string_view name);

}  // namespace tz
