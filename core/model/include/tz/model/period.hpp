// The reporting period: a year and an as-of date (截至日期), set by the server's configuration and
// never read from a device's clock. It runs from 1 January to the as-of date, China time (UTC+8).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tz/util/civil_time.hpp"

namespace tz {

struct Period {
  int year = 0;
  CivilDate as_of;

  bool is_set() const { return year > 0; }
  CivilDate first_day() const { return {year, 1, 1}; }
  YearMonth first_month() const { return {year, 1}; }
  YearMonth last_month() const { return {as_of.year, as_of.month}; }
  // [start_ms, end_ms): 00:00 China time on 1 January to 24:00 China time on the as-of date.
  int64_t start_ms() const { return china_midnight_ms(first_day()); }
  int64_t end_ms() const { return china_midnight_ms(as_of) + 86400000LL; }
  bool contains_ms(int64_t ms) const { return ms >= start_ms() && ms < end_ms(); }
  bool contains_date(const CivilDate& d) const { return d >= first_day() && d <= as_of; }
  int months() const { return last_month().index() - first_month().index() + 1; }
};

// A period is valid when the as-of date lies in its year.
std::optional<Period> make_period(int year, const CivilDate& as_of);

}  // namespace tz
