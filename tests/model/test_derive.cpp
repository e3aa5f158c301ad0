// Derived status per person for the reporting period (SPEC §3 "Reporting period"): hand-made
// households, people, jobs and visits built with apply_change, period 2026 as of 2026-06-30.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "tz/model/derive.hpp"
#include "tz/model/period.hpp"
#include "tz/model/record.hpp"
#include "tz/model/schema.hpp"

using tz::CivilDate;
using tz::DerivedStatus;
using tz::Entity;
using tz::EntityType;
using tz::PersonFacts;

namespace {

tz::Schema load_schema() {
  std::map<std::string, std::string> files;
  for (auto& entry : std::filesystem::directory_iterator(tz::test::source_dir() / "schemas"))
    if (entry.is_regular_file() && entry.path().extension() == ".json")
      files[entry.path().filename().string()] = tz::test::read_file(entry.path());
  auto r = tz::Schema::parse(files);
  if (!r.ok()) throw std::runtime_error("schema: " + r.error().message(tz::Lang::en));
  return r.value();
}

const tz::Period kPeriod = *tz::make_period(2026, CivilDate{2026, 6, 30});
const int64_t kIn = tz::china_midnight_ms({2026, 3, 1});    // inside the period
const int64_t kOut = tz::china_midnight_ms({2025, 12, 1});  // the previous period
const std::string kHome = "522632100002";                   // 榕江县 古州镇 梨子园社区

// Builds entities edit by edit, as the store would: each edit a FieldChange with a unique
// VersionId, the given HLC milliseconds, and the field's live versions as its base.
class Builder {
 public:
  explicit Builder(const tz::Schema& s) : schema_(s) { device_.bytes[0] = 0x42; }

  Entity make(EntityType t) {
    Entity e;
    e.type = t;
    ++entities_;
    e.id.bytes[0] = static_cast<uint8_t>(t);
    e.id.bytes[14] = static_cast<uint8_t>(entities_ >> 8);
    e.id.bytes[15] = static_cast<uint8_t>(entities_);
    return e;
  }

  void set(Entity& e, const std::string& field, const std::string& value, int64_t ts_ms) {
    const auto* f = schema_.entity(e.type).field(field);
    REQUIRE(f != nullptr);
    tz::FieldChange c;
    c.type = e.type;
    c.entity = e.id;
    c.field = f->id;
    c.value = value;
    c.version = tz::VersionId{device_, tz::Seq{++seq_}};
    c.ts = tz::Hlc{ts_ms, 0};
    c.collector = "王书记";
    c.device_ms = ts_ms;
    c.base = e.live_ids(f->id);
    c.schema_version = 1;
    tz::apply_change(e, c);
  }

  void set_all(Entity& e, const std::map<std::string, std::string>& values, int64_t ts_ms) {
    for (auto& [k, v] : values) set(e, k, v, ts_ms);
  }

  Entity household(const std::string& village = kHome, int64_t ts = kIn) {
    Entity h = make(EntityType::household);
    set_all(h, {{"village_code", village}, {"household_no", "0007"}}, ts);
    return h;
  }

  Entity person(const std::map<std::string, std::string>& extra = {}, int64_t ts = kIn) {
    Entity p = make(EntityType::person);
    set_all(p, {{"name", "杨阿妹"}, {"id_number", "522632199005151243"}}, ts);
    set_all(p, extra, ts);
    return p;
  }

  Entity job(const std::map<std::string, std::string>& values, int64_t ts = kIn) {
    Entity j = make(EntityType::job);
    set_all(j, values, ts);
    return j;
  }

  Entity visit(const std::string& date, int64_t ts = kIn) {
    Entity v = make(EntityType::visit);
    set_all(v, {{"date", date}, {"method", "01"}}, ts);
    return v;
  }

 private:
  const tz::Schema& schema_;
  tz::DeviceId device_;
  uint64_t seq_ = 0;
  uint32_t entities_ = 0;
};

struct Fixture {
  tz::Schema schema = load_schema();
  Builder b{schema};
  Entity hh = b.household();

  DerivedStatus derive(const Entity& person, std::vector<const Entity*> jobs = {},
                       std::vector<const Entity*> visits = {}, const Entity* household = nullptr) {
    tz::Deriver d(schema, kPeriod);
    PersonFacts f;
    f.person = &person;
    f.household = household ? household : &hh;
    f.jobs = std::move(jobs);
    f.visits = std::move(visits);
    return d.derive(f);
  }
};

// An open job with the given start month, bucket and income, edited inside the period.
std::map<std::string, std::string> open_job(const std::string& start, const std::string& bucket,
                                            const std::string& income = "4000") {
  return {{"start_month", start}, {"place_bucket", bucket}, {"employer", "某厂"}, {"source", "01"},
          {"monthly_income", income}};
}

std::map<std::string, std::string> with_end(std::map<std::string, std::string> job, const std::string& end) {
  job["end_month"] = end;
  return job;
}

}  // namespace

TEST_CASE("derive: the period is 2026 as of 2026-06-30 - China time", "[model]") {
  CHECK(kPeriod.year == 2026);
  CHECK(kPeriod.months() == 6);
  CHECK(kPeriod.contains_ms(kIn));
  CHECK_FALSE(kPeriod.contains_ms(kOut));
  CHECK(kPeriod.contains_ms(tz::china_midnight_ms({2026, 1, 1})));
  CHECK_FALSE(kPeriod.contains_ms(tz::china_midnight_ms({2026, 1, 1}) - 1));
  CHECK(kPeriod.contains_ms(tz::china_midnight_ms({2026, 7, 1}) - 1));
  CHECK_FALSE(kPeriod.contains_ms(tz::china_midnight_ms({2026, 7, 1})));
  CHECK_FALSE(tz::make_period(2026, CivilDate{2025, 12, 31}).has_value());
  CHECK_FALSE(tz::make_period(2026, CivilDate{2026, 2, 30}).has_value());
}

TEST_CASE("derive: an open job confirmed in the period makes the person employed", "[model]") {
  Fixture fx;
  Entity p = fx.b.person({{"labour_ability", "01"}});
  Entity j = fx.b.job(open_job("2025-03", "out_province", "4000"));
  auto d = fx.derive(p, {&j});
  CHECK(d.employed);
  CHECK_FALSE(d.declared);
  CHECK(d.status_confirmed);
  CHECK(d.bucket == "out_province");
  CHECK(d.bucket_job == &j);
  CHECK(d.months == 6);  // January to June
  CHECK(d.income == Approx(24000));
  CHECK(d.able);
  CHECK(d.in_labour_count);
  CHECK_FALSE(d.life_event);
  CHECK_FALSE(d.student);
}

TEST_CASE("derive: a job that ended before the period does not count", "[model]") {
  Fixture fx;
  Entity p = fx.b.person();
  Entity j = fx.b.job(with_end(open_job("2025-03", "out_province"), "2025-11"));
  auto d = fx.derive(p, {&j});
  CHECK_FALSE(d.employed);
  CHECK(d.bucket.empty());
  CHECK(d.bucket_job == nullptr);
  CHECK(d.months == 0);
  CHECK(d.income == 0);
  tz::Deriver der(fx.schema, kPeriod);
  CHECK_FALSE(der.job_overlaps(j));
  // Ending in the period's first month still overlaps.
  Entity j2 = fx.b.job(with_end(open_job("2025-03", "out_province"), "2026-01"));
  CHECK(der.job_overlaps(j2));
  CHECK(der.job_months(j2) == 1);
  auto d2 = fx.derive(p, {&j2});
  CHECK(d2.employed);
  CHECK(d2.months == 1);
  // Starting after the as-of month does not overlap.
  Entity j3 = fx.b.job(open_job("2026-07", "out_province"));
  CHECK_FALSE(der.job_overlaps(j3));
  CHECK_FALSE(fx.derive(p, {&j3}).employed);
}

TEST_CASE("derive: with two jobs the bucket is the job with the most months", "[model]") {
  Fixture fx;
  Entity p = fx.b.person();
  auto a_vals = open_job("2026-01", "in_county", "3000");
  a_vals["end_month"] = "2026-02";  // 2 months
  Entity a = fx.b.job(a_vals);
  Entity b = fx.b.job(open_job("2026-03", "out_province", "5000"));  // March..June: 4 months
  for (auto order : {std::vector<const Entity*>{&a, &b}, std::vector<const Entity*>{&b, &a}}) {
    auto d = fx.derive(p, order);
    CHECK(d.employed);
    CHECK(d.bucket == "out_province");
    CHECK(d.bucket_job == &b);
    CHECK(d.months == 6);
    CHECK(d.income == Approx(3000 * 2 + 5000 * 4));
  }
  // The longer job first in time: it still wins.
  Entity c = fx.b.job(with_end(open_job("2026-01", "in_province", "3000"), "2026-05"));  // 5 months
  Entity e = fx.b.job(open_job("2026-06", "out_province", "5000"));                       // 1 month
  auto d2 = fx.derive(p, {&e, &c});
  CHECK(d2.bucket == "in_province");
  CHECK(d2.bucket_job == &c);
}

TEST_CASE("derive: a tie in months goes to the job that started latest", "[model]") {
  Fixture fx;
  Entity p = fx.b.person();
  Entity early = fx.b.job(with_end(open_job("2026-01", "in_province"), "2026-03"));  // 3 months
  Entity late = fx.b.job(open_job("2026-04", "out_province"));                        // 3 months
  for (auto order : {std::vector<const Entity*>{&early, &late}, std::vector<const Entity*>{&late, &early}}) {
    auto d = fx.derive(p, order);
    CHECK(d.bucket == "out_province");
    CHECK(d.bucket_job == &late);
  }
}

TEST_CASE("derive: a declared status for the period overrides the jobs", "[model]") {
  Fixture fx;
  Entity j = fx.b.job(open_job("2025-03", "out_province"));
  SECTION("失业 declared: not employed despite a job") {
    Entity p = fx.b.person({{"declared_status", "2026:03"}});
    auto d = fx.derive(p, {&j});
    CHECK_FALSE(d.employed);
    CHECK(d.declared);
    CHECK(d.status_confirmed);
    CHECK(d.months == 0);
    CHECK(d.income == 0);
    CHECK(d.bucket.empty());
    CHECK(d.in_labour_count);  // still counted, as not employed
  }
  SECTION("未就业 declared: not employed") {
    Entity p = fx.b.person({{"declared_status", "2026:02"}});
    CHECK_FALSE(fx.derive(p, {&j}).employed);
  }
  SECTION("已就业 declared without any job: employed, bucket unknown") {
    Entity p = fx.b.person({{"declared_status", "2026:01"}});
    auto d = fx.derive(p);
    CHECK(d.employed);
    CHECK(d.declared);
    CHECK(d.bucket.empty());
    CHECK(d.months == 0);
  }
  SECTION("已就业 declared with a confirmed job: the job gives the bucket") {
    Entity p = fx.b.person({{"declared_status", "2026:01"}});
    auto d = fx.derive(p, {&j});
    CHECK(d.employed);
    CHECK(d.bucket == "out_province");
    CHECK(d.months == 6);
  }
  SECTION("a status declared for last year does not override") {
    Entity p = fx.b.person({{"declared_status", "2025:03"}});
    auto d = fx.derive(p, {&j});
    CHECK(d.employed);
    CHECK_FALSE(d.declared);
    Entity q = fx.b.person({{"declared_status", "2025:01"}}, kOut);
    auto d2 = fx.derive(q);
    CHECK_FALSE(d2.employed);
    CHECK_FALSE(d2.declared);
    CHECK_FALSE(d2.status_confirmed);
  }
}

TEST_CASE("derive: 务农 counts only when the schema setting says so", "[model]") {
  Fixture fx;
  Entity p = fx.b.person();
  auto vals = open_job("2025-05", "in_county", "1500");
  vals["source"] = "07";
  Entity farm = fx.b.job(vals);
  REQUIRE_FALSE(fx.schema.settings().farming_counts_as_employment);  // the default
  {
    tz::Deriver d(fx.schema, kPeriod);
    CHECK_FALSE(d.job_counts(farm));
    auto s = fx.derive(p, {&farm});
    CHECK_FALSE(s.employed);
    CHECK(s.months == 0);
  }
  fx.schema.mutable_settings().farming_counts_as_employment = true;
  {
    tz::Deriver d(fx.schema, kPeriod);
    CHECK(d.job_counts(farm));
    auto s = fx.derive(p, {&farm});
    CHECK(s.employed);
    CHECK(s.bucket == "in_county");
    CHECK(s.months == 6);
  }
  // With farming not counted, another job still does.
  fx.schema.mutable_settings().farming_counts_as_employment = false;
  Entity work = fx.b.job(open_job("2026-05", "in_province"));
  auto s = fx.derive(p, {&farm, &work});
  CHECK(s.employed);
  CHECK(s.bucket == "in_province");
  CHECK(s.months == 2);
}

TEST_CASE("derive: 境外 is its own bucket", "[model]") {
  Fixture fx;
  Entity p = fx.b.person();
  auto vals = open_job("2025-09", "abroad", "8000");
  vals["work_place"] = "新加坡";
  Entity j = fx.b.job(vals);
  auto d = fx.derive(p, {&j});
  CHECK(d.employed);
  CHECK(d.bucket == "abroad");
}

TEST_CASE("derive: students and people with a life event are outside the labour count", "[model]") {
  Fixture fx;
  Entity j = fx.b.job(open_job("2025-09", "out_province"));
  SECTION("在校生") {
    Entity p = fx.b.person({{"student", "1"}, {"labour_ability", "01"}});
    auto d = fx.derive(p);
    CHECK(d.student);
    CHECK(d.able);
    CHECK_FALSE(d.in_labour_count);
  }
  SECTION("not a student") {
    Entity p = fx.b.person({{"student", "0"}});
    auto d = fx.derive(p);
    CHECK_FALSE(d.student);
    CHECK(d.in_labour_count);
  }
  SECTION("死亡") {
    Entity p = fx.b.person({{"life_event", "01"}, {"life_event_date", "2026-02-01"}, {"labour_ability", "02"}});
    auto d = fx.derive(p, {&j});
    CHECK(d.life_event);
    CHECK_FALSE(d.in_labour_count);
  }
  SECTION("参军") {
    Entity p = fx.b.person({{"life_event", "05"}});
    CHECK_FALSE(fx.derive(p).in_labour_count);
  }
}

TEST_CASE("derive: labour ability 01/02 or blank is able - 03/04 is not", "[model]") {
  Fixture fx;
  for (auto code : {"01", "02"}) {
    Entity p = fx.b.person({{"labour_ability", code}});
    auto d = fx.derive(p);
    CHECK(d.able);
    CHECK(d.in_labour_count);
  }
  for (auto code : {"03", "04"}) {
    INFO(code);
    Entity p = fx.b.person({{"labour_ability", code}});
    auto d = fx.derive(p);
    CHECK_FALSE(d.able);
    CHECK_FALSE(d.in_labour_count);
  }
  Entity blank = fx.b.person();
  auto d = fx.derive(blank);
  CHECK(d.able);
  CHECK(d.in_labour_count);
}

TEST_CASE("derive: confirmation — edits and visits inside the period", "[model]") {
  Fixture fx;
  Entity p = fx.b.person({}, kOut);
  Entity old_job = fx.b.job(open_job("2025-03", "out_province"), kOut);  // every edit before the period

  SECTION("no edit and no visit in the period: not employed, not confirmed") {
    auto d = fx.derive(p, {&old_job});
    CHECK_FALSE(d.employed);
    CHECK_FALSE(d.status_confirmed);
    CHECK(d.bucket.empty());
    CHECK(d.months == 0);
  }
  SECTION("the same job and a visit in the period: employed") {
    Entity v = fx.b.visit("2026-04-10");
    auto d = fx.derive(p, {&old_job}, {&v});
    CHECK(d.employed);
    CHECK(d.status_confirmed);
    CHECK(d.bucket == "out_province");
    CHECK(d.months == 6);
  }
  SECTION("a visit on the period's first and last day confirms") {
    Entity first = fx.b.visit("2026-01-01");
    Entity last = fx.b.visit("2026-06-30");
    CHECK(fx.derive(p, {&old_job}, {&first}).employed);
    CHECK(fx.derive(p, {&old_job}, {&last}).employed);
  }
  SECTION("a visit dated in the previous period, or after the as-of date, does not confirm") {
    Entity prev = fx.b.visit("2025-12-20");
    Entity after = fx.b.visit("2026-07-01");
    auto d = fx.derive(p, {&old_job}, {&prev, &after});
    CHECK_FALSE(d.employed);
    CHECK_FALSE(d.status_confirmed);
  }
  SECTION("the visit's date decides, not when it was recorded") {
    Entity late_entry = fx.b.visit("2025-11-30", kIn);  // entered in March about November
    CHECK_FALSE(fx.derive(p, {&old_job}, {&late_entry}).employed);
    Entity back_dated = fx.b.visit("2026-02-02", kOut);
    CHECK(fx.derive(p, {&old_job}, {&back_dated}).employed);
  }
  SECTION("one edit of the job inside the period confirms it") {
    Entity j = old_job;
    fx.b.set(j, "monthly_income", "4500", kIn);
    auto d = fx.derive(p, {&j});
    CHECK(d.employed);
    CHECK(d.income == Approx(4500 * 6));
  }
  SECTION("an edit at the period's edges") {
    Entity at_start = old_job;
    fx.b.set(at_start, "employer", "新厂", tz::china_midnight_ms({2026, 1, 1}));
    CHECK(fx.derive(p, {&at_start}).employed);
    Entity just_before = old_job;
    fx.b.set(just_before, "employer", "新厂", tz::china_midnight_ms({2026, 1, 1}) - 1);
    CHECK_FALSE(fx.derive(p, {&just_before}).employed);
    Entity after_as_of = old_job;
    fx.b.set(after_as_of, "employer", "新厂", tz::china_midnight_ms({2026, 7, 1}));
    CHECK_FALSE(fx.derive(p, {&after_as_of}).employed);
  }
  SECTION("a visit in the period settles not employed too") {
    Entity v = fx.b.visit("2026-05-05");
    auto d = fx.derive(p, {}, {&v});
    CHECK_FALSE(d.employed);
    CHECK(d.status_confirmed);
  }
  SECTION("an edit of the person alone does not confirm the job") {
    Entity q = p;
    fx.b.set(q, "phone", "13812345678", kIn);
    auto d = fx.derive(q, {&old_job});
    CHECK_FALSE(d.employed);
    CHECK(d.bucket.empty());
  }
}

TEST_CASE("derive: the four clears", "[model]") {
  Fixture fx;
  Entity j = fx.b.job(open_job("2025-03", "out_province"));
  SECTION("employed with labour ability recorded") {
    Entity p = fx.b.person({{"labour_ability", "01"}});
    auto d = fx.derive(p, {&j});
    CHECK(d.labour_recorded);
    auto c = tz::four_clears(d, true);
    CHECK(c.identity);
    CHECK(c.labour);
    CHECK(c.status);
    CHECK(c.willingness);  // not asked of the employed
    CHECK(c.all());
    CHECK_FALSE(tz::four_clears(d, false).all());
  }
  SECTION("labour ability not recorded") {
    Entity p = fx.b.person();
    auto d = fx.derive(p, {&j});
    CHECK_FALSE(d.labour_recorded);
    auto c = tz::four_clears(d, true);
    CHECK_FALSE(c.labour);
    CHECK_FALSE(c.all());
  }
  SECTION("not employed and able: willingness must be recorded") {
    Entity p = fx.b.person({{"labour_ability", "01"}, {"declared_status", "2026:02"}});
    auto c = tz::four_clears(fx.derive(p), true);
    CHECK(c.status);
    CHECK_FALSE(c.willingness);
    Entity q = fx.b.person({{"labour_ability", "01"}, {"declared_status", "2026:02"}, {"willing_to_go_out", "0"}});
    CHECK(tz::four_clears(fx.derive(q), true).willingness);
  }
  SECTION("not able: willingness not asked") {
    Entity p = fx.b.person({{"labour_ability", "04"}, {"declared_status", "2026:02"}});
    CHECK(tz::four_clears(fx.derive(p), true).willingness);
  }
  SECTION("nobody has confirmed the status in the period") {
    Entity p = fx.b.person({{"labour_ability", "01"}}, kOut);
    Entity old_job = fx.b.job(open_job("2025-03", "out_province"), kOut);
    CHECK_FALSE(tz::four_clears(fx.derive(p, {&old_job}), true).status);
  }
}

TEST_CASE("derive: a region code for the place of work decides the bucket", "[model]") {
  Fixture fx;
  tz::Deriver der(fx.schema, kPeriod);
  Entity p = fx.b.person();
  auto job_at = [&](const std::string& place, const std::string& bucket = "other") {
    auto vals = open_job("2026-02", bucket);
    vals["work_place"] = place;
    return fx.b.job(vals);
  };
  Entity same_village = job_at("522632100002");
  Entity same_county = job_at("522632101001");
  Entity same_county_town = job_at("522632101");
  Entity same_county6 = job_at("522632");
  Entity same_province = job_at("520102000000");  // 贵阳 南明区
  Entity other_county_same_city = job_at("522601001002");
  Entity other_province = job_at("440306000000");  // 深圳 宝安区
  Entity spaced = job_at("4403 0600 0000");
  CHECK(der.job_bucket(same_village, kHome) == "in_county");
  CHECK(der.job_bucket(same_county, kHome) == "in_county");
  CHECK(der.job_bucket(same_county_town, kHome) == "in_county");
  CHECK(der.job_bucket(same_county6, kHome) == "in_county");
  CHECK(der.job_bucket(same_province, kHome) == "in_province");
  CHECK(der.job_bucket(other_county_same_city, kHome) == "in_province");
  CHECK(der.job_bucket(other_province, kHome) == "out_province");
  CHECK(der.job_bucket(spaced, kHome) == "out_province");
  // The code overrides a recorded bucket that disagrees.
  Entity disagree = job_at("522632101001", "out_province");
  CHECK(der.job_bucket(disagree, kHome) == "in_county");
  // A place name, or no known home, falls back to the recorded bucket.
  Entity named = job_at("广东省深圳市", "out_province");
  CHECK(der.job_bucket(named, kHome) == "out_province");
  CHECK(der.job_bucket(other_province, "") == "other");
  Entity odd_length = job_at("44030600", "in_province");
  CHECK(der.job_bucket(odd_length, kHome) == "in_province");

  // Through derive: the home comes from the household's village code.
  CHECK(fx.derive(p, {&same_county}).bucket == "in_county");
  CHECK(fx.derive(p, {&same_province}).bucket == "in_province");
  CHECK(fx.derive(p, {&other_province}).bucket == "out_province");
  Entity hh_sz = fx.b.household("440306001001");
  CHECK(fx.derive(p, {&other_province}, {}, &hh_sz).bucket == "in_county");
  CHECK(fx.derive(p, {&same_county}, {}, &hh_sz).bucket == "out_province");
  // No household at all: the recorded bucket.
  tz::PersonFacts f;
  f.person = &p;
  f.jobs = {&other_province};
  CHECK(der.derive(f).bucket == "other");
}

TEST_CASE("derive: months are capped by the period - income is monthly income times months", "[model]") {
  Fixture fx;
  tz::Deriver der(fx.schema, kPeriod);
  Entity p = fx.b.person();

  auto vals = open_job("2025-01", "out_province", "3500.5");
  vals["months_in_period"] = "12";
  Entity recorded12 = fx.b.job(vals);
  CHECK(der.job_months(recorded12) == 6);  // as of June: at most 6

  auto d = fx.derive(p, {&recorded12});
  CHECK(d.months == 6);
  CHECK(d.income == Approx(3500.5 * 6));

  // Recorded months without dates: capped by the period's months.
  Entity no_dates = fx.b.job({{"months_in_period", "9"}, {"place_bucket", "in_county"}, {"employer", "x"}});
  CHECK(der.job_months(no_dates) == 6);
  Entity three = fx.b.job({{"months_in_period", "3"}, {"place_bucket", "in_county"}, {"employer", "x"}});
  CHECK(der.job_months(three) == 3);

  // Fewer recorded months than the overlap: the collector's answer.
  auto v4 = open_job("2025-01", "out_province", "4000");
  v4["months_in_period"] = "4";
  Entity four = fx.b.job(v4);
  CHECK(der.job_months(four) == 4);
  auto d4 = fx.derive(p, {&four});
  CHECK(d4.months == 4);
  CHECK(d4.income == Approx(16000));

  // No recorded months: the overlap with the period.
  Entity april = fx.b.job(open_job("2026-04", "in_county", "2000"));
  CHECK(der.job_months(april) == 3);
  auto da = fx.derive(p, {&april});
  CHECK(da.months == 3);
  CHECK(da.income == Approx(6000));
  Entity closed = fx.b.job(with_end(open_job("2026-02", "in_county"), "2026-04"));
  CHECK(der.job_months(closed) == 3);

  // Two overlapping jobs: months never exceed the period.
  Entity x1 = fx.b.job(open_job("2026-01", "in_county", "1000"));
  Entity x2 = fx.b.job(open_job("2026-01", "in_province", "2000"));
  auto dx = fx.derive(p, {&x1, &x2});
  CHECK(dx.months == 6);

  // No income recorded: zero income, months still counted.
  Entity unpaid = fx.b.job({{"start_month", "2026-03"}, {"place_bucket", "in_county"}, {"employer", "x"}});
  auto du = fx.derive(p, {&unpaid});
  CHECK(du.employed);
  CHECK(du.months == 4);
  CHECK(du.income == 0);
}

TEST_CASE("derive: willingness and returned-home flags", "[model]") {
  Fixture fx;
  auto yes = fx.derive(fx.b.person({{"willing_to_go_out", "1"}, {"returned", "1"}}));
  CHECK(yes.willing);
  CHECK(yes.willing_recorded);
  CHECK(yes.returned);
  auto no = fx.derive(fx.b.person({{"willing_to_go_out", "0"}, {"returned", "0"}}));
  CHECK_FALSE(no.willing);
  CHECK(no.willing_recorded);
  CHECK_FALSE(no.returned);
  auto blank = fx.derive(fx.b.person());
  CHECK_FALSE(blank.willing);
  CHECK_FALSE(blank.willing_recorded);
  CHECK_FALSE(blank.returned);
}

TEST_CASE("derive: the shown value is the latest edit", "[model]") {
  Fixture fx;
  Entity p = fx.b.person({{"labour_ability", "03"}}, kOut);
  CHECK_FALSE(fx.derive(p).able);
  fx.b.set(p, "labour_ability", "01", kIn);  // replaces the earlier version
  CHECK(p.fields.at(fx.schema.entity(EntityType::person).require("labour_ability").id).live.size() == 1);
  CHECK(fx.derive(p).able);
  // A declared status set later in the period replaces an earlier one.
  fx.b.set(p, "declared_status", "2026:01", kIn);
  fx.b.set(p, "declared_status", "2026:03", kIn + 1000);
  CHECK_FALSE(fx.derive(p).employed);
}
