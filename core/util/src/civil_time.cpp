// Civil-date arithmetic (Howard Hinnant's days_from_civil) and China-time formatting.
#include "tz/util/civil_time.hpp"

#include <cstdio>

namespace tz {

bool is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

bool is_valid_date(int y, int m, int d) {
  return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

int64_t days_from_civil(const CivilDate& cd) {
  int64_t y = cd.year;
  const int64_t m = cd.month;
  const int64_t d = cd.day;
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  return CivilDate{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

namespace {

// Reads up to max_digits digits at pos; returns -1 when there are fewer than min_digits.
int read_number(std::string_view s, size_t& pos, size_t min_digits, size_t max_digits) {
  size_t start = pos;
  int v = 0;
  while (pos < s.size() && pos - start < max_digits && s[pos] >= '0' && s[pos] <= '9') {
    v = v * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos - start < min_digits) return -1;
  return v;
}

bool digits_only(std::string_view v) {
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

bool skip_separator(std::string_view s, size_t& pos) {
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '/' || s[pos] == '.')) {
    ++pos;
    return true;
  }
  static constexpr std::string_view kYear = "年";
  static constexpr std::string_view kMonth = "月";
  if (s.substr(pos, kYear.size()) == kYear) {
    pos += kYear.size();
    return true;
  }
  if (s.substr(pos, kMonth.size()) == kMonth) {
    pos += kMonth.size();
    return true;
  }
  return false;
}

}  // namespace

std::optional<CivilDate> parse_date(std::string_view s) {
  size_t pos = 0;
  if (s.size() == 8 && digits_only(s)) {
    int y = std::stoi(std::string(s.substr(0, 4)));
    int m = std::stoi(std::string(s.substr(4, 2)));
    int d = std::stoi(std::string(s.substr(6, 2)));
    if (!is_valid_date(y, m, d)) return std::nullopt;
    return CivilDate{y, m, d};
  }
  int y = read_number(s, pos, 4, 4);
  if (y < 0 || !skip_separator(s, pos)) return std::nullopt;
  int m = read_number(s, pos, 1, 2);
  if (m < 0 || !skip_separator(s, pos)) return std::nullopt;
  int d = read_number(s, pos, 1, 2);
  if (d < 0) return std::nullopt;
  if (pos < s.size() && s.substr(pos) == "日") pos = s.size();
  if (pos != s.size() || !is_valid_date(y, m, d)) return std::nullopt;
  return CivilDate{y, m, d};
}

std::optional<YearMonth> parse_year_month(std::string_view s) {
  size_t pos = 0;
  if (s.size() == 6 && digits_only(s)) {
    int y = std::stoi(std::string(s.substr(0, 4)));
    int m = std::stoi(std::string(s.substr(4, 2)));
    if (y < 1 || m < 1 || m > 12) return std::nullopt;
    return YearMonth{y, m};
  }
  int y = read_number(s, pos, 4, 4);
  if (y < 1 || !skip_separator(s, pos)) return std::nullopt;
  int m = read_number(s, pos, 1, 2);
  if (m < 1 || m > 12) return std::nullopt;
  if (pos < s.size() && s.substr(pos) == "月") pos = s.size();
  if (pos != s.size()) return std::nullopt;
  return YearMonth{y, m};
}

std::string format_date(const CivilDate& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::string format_year_month(const YearMonth& m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", m.year, m.month);
  return buf;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

CivilDate china_date_of(int64_t epoch_ms) {
  return civil_from_days(floor_div(epoch_ms + kChinaOffsetMs, 86400000LL));
}

int64_t china_midnight_ms(const CivilDate& d) { return days_from_civil(d) * 86400000LL - kChinaOffsetMs; }

std::string format_china_time(int64_t epoch_ms) {
  int64_t local = epoch_ms + kChinaOffsetMs;
  int64_t days = floor_div(local, 86400000LL);
  int64_t ms_of_day = local - days * 86400000LL;
  CivilDate d = civil_from_days(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", d.year, d.month, d.day,
                static_cast<int>(ms_of_day / 3600000), static_cast<int>(ms_of_day / 60000 % 60));
  return buf;
}

int age_on(const CivilDate& birth, const CivilDate& on) {
  int age = on.year - birth.year;
  if (on.month < birth.month || (on.month == birth.month && on.day < birth.day)) --age;
  return age;
}

}  // namespace tz
