// The hybrid logical clock's two rules.
#include "tz/model/hlc.hpp"

#include <cstdint>

namespace tz {

Hlc HybridClock::tick(int64_t physical_ms) {
  if (physical_ms > last_.ms) {
    last_ = Hlc{physical_ms, 0};
  } else if (last_.counter == UINT32_MAX) {
    last_ = Hlc{last_.ms + 1, 0};  // never wrap: a wrapped counter would order before earlier ticks
  } else {
    ++last_.counter;
  }
  return last_;
}

void HybridClock::observe(Hlc remote) {
  if (remote > last_) last_ = remote;
}

}  // namespace tz
