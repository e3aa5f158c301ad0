// Validation: turns typed input into the canonical stored form of each field type, and checks a
// record against every rule of its schema, returning every problem (never just the first).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tz/model/schema.hpp"
#include "tz/util/flat_map.hpp"
#include "tz/util/civil_time.hpp"

namespace tz {

namespace region {
class CountyList;
class RegionTree;
}  // namespace region

struct ValidationContext {
  CivilDate today;                           // "not in the future" and ages are judged on this date
  int period_year = 0;                       // the reporting period (for period_enum fields)
  const Settings* settings = nullptr;
  const region::CountyList* counties = nullptr;  // national county list (unknown county part)
  const region::RegionTree* tree = nullptr;      // the county's region tree, when the store has one
  std::optional<CivilDate> person_birth;     // for a job: its person's birth date
};

struct Problem {
  std::string rule_id;
  Severity severity = Severity::error;
  std::string field;  // schema name of the field reported on
  std::string message_zh;
  std::string message_en;
  const std::string& message(Lang lang) const { return lang == Lang::zh ? message_zh : message_en; }
};

// The canonical form of an input, or why it has none.
struct Normalized {
  bool ok = false;
  std::string value;      // canonical when ok; the cleaned input otherwise
  std::string detail_zh;  // what is wrong, when !ok
  std::string detail_en;
};

// Canonical forms: enum and bool -> option code (input may be code, label or alias);
// period_enum -> "YEAR:code"; date -> YYYY-MM-DD; year_month -> YYYY-MM; int/money -> plain decimal;
// id_number -> 18 (or 20) characters; phone -> 11 digits; text -> trimmed.
Normalized normalize_value(const FieldDef& f, std::string_view raw, const ValidationContext& ctx);

// How a stored value is shown to a person (enum labels instead of codes).
std::string display_value(const FieldDef& f, const std::string& stored, Lang lang);

// A record's values by field id.
using FieldValues = FlatMap<FieldId, std::string>;

// Every problem of one record (its shown values): format problems first (in field order), then the
// schema's other rules in their order.
// check_format = false skips re-checking values already known canonical (an import has checked
// every cell it normalised with format_problem()).
std::vector<Problem> validate_record(const EntitySchema& es, const FieldValues& values, const ValidationContext& ctx,
                                     bool check_format = true);

// The format problem of a value that did not normalise: the schema's declared format rule for the
// field, or a generic error.
Problem format_problem(const EntitySchema& es, const FieldDef& f, const Normalized& n);

// Whether a condition holds on a record's values; period_enum values count only for period_year.
bool condition_holds(const EntitySchema& es, const FieldValues& values, const Condition& c, int period_year);

// True when any problem is an error (the record cannot be saved at entry).
bool has_error(const std::vector<Problem>& problems);

// The birth date carried by a stored ID number (18 or 20 characters), if it has one.
std::optional<CivilDate> birth_of_id(std::string_view id);
char gender_of_id(std::string_view id);  // 'M', 'F' or 0

}  // namespace tz
