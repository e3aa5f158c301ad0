// Derived employment status per person for the period (SPEC §3 "Reporting period").
#include "tz/model/derive.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "tz/util/text.hpp"

namespace tz {

namespace {

const std::string kNone;

// The shown value of a field, or an empty string, without a copy: derive runs for everyone in a
// county for every report and list.
const std::string& shown(const Entity& e, FieldId f) {
  const std::string* v = e.value(f);
  return v ? *v : kNone;
}

}  // namespace

Deriver::Deriver(const Schema& schema, const Period& period) : schema_(schema), period_(period) {
  auto& hh = schema.entity(EntityType::household);
  auto& p = schema.entity(EntityType::person);
  auto& j = schema.entity(EntityType::job);
  auto& v = schema.entity(EntityType::visit);
  hh_village_ = hh.require("village_code").id;
  p_labour_ = p.require("labour_ability").id;
  p_declared_ = p.require("declared_status").id;
  p_willing_ = p.require("willing_to_go_out").id;
  p_returned_ = p.require("returned").id;
  p_life_ = p.require("life_event").id;
  p_student_ = p.require("student").id;
  j_start_ = j.require("start_month").id;
  j_end_ = j.require("end_month").id;
  j_months_ = j.require("months_in_period").id;
  j_place_ = j.require("work_place").id;
  j_bucket_ = j.require("place_bucket").id;
  j_source_ = j.require("source").id;
  j_income_ = j.require("monthly_income").id;
  v_date_ = v.require("date").id;
  start_ms_ = period.start_ms();
  end_ms_ = period.end_ms();
  declared_prefix_ = std::to_string(period.year) + ":";
}

std::string Deriver::job_bucket(const Entity& job, const std::string& home_village) const {
  // A region code for the place of work decides, compared with the person's home county.
  std::string place = text::remove_spaces(shown(job, j_place_));
  if ((place.size() == 6 || place.size() == 9 || place.size() == 12) && text::all_digits(place) &&
      home_village.size() >= 6) {
    if (place.compare(0, 6, home_village, 0, 6) == 0) return "in_county";
    if (place.compare(0, 2, home_village, 0, 2) == 0) return "in_province";
    return "out_province";
  }
  return shown(job, j_bucket_);
}

bool Deriver::job_counts(const Entity& job) const {
  if (schema_.settings().farming_counts_as_employment) return true;
  return shown(job, j_source_) != "07";
}

bool Deriver::job_overlaps(const Entity& job) const {
  auto start = parse_year_month(shown(job, j_start_));
  auto end = parse_year_month(shown(job, j_end_));
  if (start && *start > period_.last_month()) return false;
  if (end && *end < period_.first_month()) return false;
  return true;
}

int Deriver::job_months(const Entity& job) const {
  auto start = parse_year_month(shown(job, j_start_));
  auto end = parse_year_month(shown(job, j_end_));
  YearMonth from = start ? std::max(*start, period_.first_month()) : period_.first_month();
  YearMonth to = end ? std::min(*end, period_.last_month()) : period_.last_month();
  int overlap = std::max(0, to.index() - from.index() + 1);
  const std::string* recorded = job.value(j_months_);
  if (recorded && text::all_digits(*recorded)) {
    int m = std::stoi(*recorded);
    // The recorded months are the collector's answer; the overlap only caps it when dates are known.
    return (start || end) ? std::min(m, overlap) : std::min(m, period_.months());
  }
  return overlap;
}

DerivedStatus Deriver::derive(const PersonFacts& f) const {
  DerivedStatus d;
  const Entity& p = *f.person;
  const std::string& labour = shown(p, p_labour_);
  d.able = labour.empty() || labour == "01" || labour == "02";
  d.labour_recorded = !labour.empty();
  d.life_event = !shown(p, p_life_).empty();
  d.student = shown(p, p_student_) == "1";
  d.in_labour_count = d.able && !d.life_event && !d.student;
  const std::string& willing = shown(p, p_willing_);
  d.willing_recorded = !willing.empty();
  d.willing = willing == "1";
  d.returned = shown(p, p_returned_) == "1";

  const std::string& home = f.household ? shown(*f.household, hh_village_) : kNone;

  // A visit within the period confirms everything about the person.
  bool visited = false;
  for (auto* v : f.visits)
    if (auto date = parse_date(shown(*v, v_date_)); date && period_.contains_date(*date)) visited = true;

  // Jobs that count: overlapping the period, and confirmed within it (by an edit or a visit).
  struct Counted {
    const Entity* job;
    int months;
    std::optional<YearMonth> start;
    bool confirmed;
  };
  std::vector<Counted> counted;
  bool any_confirmed_job = false;
  for (auto* j : f.jobs) {
    if (!job_counts(*j) || !job_overlaps(*j)) continue;
    bool confirmed = visited;
    for (auto& [field, versions] : j->fields)
      for (auto& v : versions.live)
        if (v.ts.ms >= start_ms_ && v.ts.ms < end_ms_) confirmed = true;
    any_confirmed_job = any_confirmed_job || confirmed;
    counted.push_back(Counted{j, job_months(*j), parse_year_month(shown(*j, j_start_)), confirmed});
  }

  const std::string& declared = shown(p, p_declared_);
  const std::string& prefix = declared_prefix_;
  if (declared.rfind(prefix, 0) == 0) {
    d.declared = true;
    d.status_confirmed = true;
    d.employed = declared.compare(prefix.size(), std::string::npos, "01") == 0;
  } else {
    d.employed = any_confirmed_job;
    // Known for the period: a job confirmed within it, or a visit within it (which settles "not
    // employed" too). A register import alone does not confirm anyone's status.
    d.status_confirmed = any_confirmed_job || visited;
  }
  if (!d.employed) return d;

  // Months, income and the bucket job. A declared status vouches for the person's jobs of the
  // period; a derived one only for the confirmed jobs.
  const Counted* best = nullptr;
  for (auto& c : counted) {
    if (!d.declared && !c.confirmed) continue;
    d.months += c.months;
    if (auto* inc = c.job->value(j_income_)) {
      char* end = nullptr;
      double v = std::strtod(inc->c_str(), &end);
      if (end && *end == '\0' && !inc->empty()) d.income += v * c.months;
    }
    // The bucket job: most months in the period; ties go to the latest start.
    if (!best || c.months > best->months || (c.months == best->months && c.start > best->start)) best = &c;
  }
  d.months = std::min(d.months, period_.months());
  if (best) {
    d.bucket_job = best->job;
    d.bucket = job_bucket(*best->job, home);
  }
  return d;
}

FourClears four_clears(const DerivedStatus& d, bool identity_ok) {
  FourClears c;
  c.identity = identity_ok;
  c.labour = d.labour_recorded;
  c.status = d.status_confirmed;
  c.willingness = d.employed || !d.in_labour_count || d.willing_recorded;
  return c;
}

}  // namespace tz
