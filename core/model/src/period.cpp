// Checks on the reporting period.
#include "tz/model/period.hpp"

namespace tz {

std::optional<Period> make_period(int year, const CivilDate& as_of) {
  if (year < 2000 || year > 2100 || as_of.year != year || !is_valid_date(as_of.year, as_of.month, as_of.day))
    return std::nullopt;
  return Period{year, as_of};
}

}  // namespace tz
