// Calendar dates and months without time zones, and the conversions to and from epoch
// milliseconds in China time (UTC+8), which the reporting period is defined in. No clock reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tz {

struct CivilDate {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  auto operator<=>(const CivilDate&) const = default;
};

struct YearMonth {
  int year = 0;
  int month = 0;
  auto operator<=>(const YearMonth&) const = default;
  int index() const { return year * 12 + (month - 1); }  // months since year 0
};

constexpr int64_t kChinaOffsetMs = 8LL * 3600 * 1000;

bool is_leap_year(int y);
int days_in_month(int y, int m);
bool is_valid_date(int y, int m, int d);

// Days since 1970-01-01 for a civil date (proleptic Gregorian), and back.
int64_t days_from_civil(const CivilDate& d);
CivilDate civil_from_days(int64_t days);

// "YYYY-MM-DD" (also YYYYMMDD and YYYY/MM/DD, YYYY.MM.DD); nullopt when not a valid date.
std::optional<CivilDate> parse_date(std::string_view s);
// "YYYY-MM" (also YYYYMM, YYYY/MM, YYYY.MM, YYYY年M月); nullopt when invalid.
std::optional<YearMonth> parse_year_month(std::string_view s);
std::string format_date(const CivilDate& d);        // YYYY-MM-DD
std::string format_year_month(const YearMonth& m);  // YYYY-MM

// China-time civil date of an epoch-millisecond instant.
CivilDate china_date_of(int64_t epoch_ms);
// Epoch ms of 00:00 China time on a date.
int64_t china_midnight_ms(const CivilDate& d);
// "YYYY-MM-DD HH:MM" in China time.
std::string format_china_time(int64_t epoch_ms);

// Whole years between a birth date and a date (age on that date).
int age_on(const CivilDate& birth, const CivilDate& on);

}  // namespace tz
