// Hybrid logical clock: physical milliseconds plus a counter, with the device id as tie-break when
// versions are ordered. The clock never reads time itself; the caller passes the physical reading.
#pragma once

#include <compare>
#include <cstdint>

namespace tz {

struct Hlc {
  int64_t ms = 0;
  uint32_t counter = 0;
  auto operator<=>(const Hlc&) const = default;
};

// Not thread-safe; one per store, guarded by its owner.
class HybridClock {
 public:
  explicit HybridClock(Hlc last = {}) : last_(last) {}
  // A timestamp for a new local event, strictly after every timestamp seen so far.
  Hlc tick(int64_t physical_ms);
  // Raises the clock to a timestamp received from elsewhere (pull): later ticks come after it.
  void observe(Hlc remote);
  Hlc last() const { return last_; }

 private:
  Hlc last_;
};

}  // namespace tz
