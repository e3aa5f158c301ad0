// The verification rules of SPEC §8 (verify.hpp; decision 302).
#include "tz/ops/verify.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "tz/model/derive.hpp"
#include "tz/model/id_number.hpp"
#include "tz/ops/reconcile.hpp"
#include "tz/util/civil_time.hpp"
#include "tz/util/text.hpp"
#include "tz/util/sorted.hpp"

namespace tz::ops {

using nlohmann::json;

Result<VerificationThresholds> parse_verification_thresholds(std::string_view text) {
  auto bad = [](const std::string& what) {
    return Error(ErrorCode::schema_error, {"verification.json: " + what});
  };
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("rules") || !j["rules"].is_object()) return bad("not a JSON object with \"rules\"");
  VerificationThresholds t;
  try {
    const json& r = j["rules"];
    for (auto& [id, rule] : r.items()) {
      const std::string sev = rule.value("severity", "warning");
      if (sev != "warning" && sev != "info") return bad(id + ".severity must be warning or info");
      t.severity[id] = sev;
    }
    auto at = [&](const char* rule) -> const json& {
      if (!r.contains(rule) || !r[rule].is_object()) throw std::runtime_error(std::string(rule) + " missing");
      return r[rule];
    };
    t.phone_max_households = at("shared_phone").at("max_households").get<size_t>();
    t.phone_flag_different_villages = at("shared_phone").value("flag_different_villages", true);
    t.employer_min_persons = at("employer_crowd").at("min_persons").get<size_t>();
    t.employer_min_arranged_share = at("employer_crowd").at("min_arranged_share").get<double>();
    for (auto& [bucket, v] : at("implausible_income").at("min_monthly_income").items()) t.min_monthly_income[bucket] = v.get<double>();
    t.max_monthly_income = at("implausible_income").at("max_monthly_income").get<double>();
    at("implausible_months");
    for (auto& s : at("employed_without_employer").value("exempt_sources", json::array())) t.exempt_sources.insert(s.get<std::string>());
    t.max_visits_per_day = at("visits_per_day").at("max_visits").get<size_t>();
    at("household_outside_scope");
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  if (t.phone_max_households < 1 || t.employer_min_persons < 2 || t.max_visits_per_day < 1) return bad("a threshold is out of range");
  return t;
}

Result<VerificationThresholds> load_verification_thresholds(const Resources& res) {
  auto text = read_file(schema_dir(res) / "verification.json");
  if (!text) return text.error();
  return parse_verification_thresholds(*text);
}

namespace {

std::string money(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

// Who a finding names: a person by name and masked ID.
std::string who(const Entity& p, const Schema& schema) {
  const auto& ps = schema.entity(EntityType::person);
  const std::string id = p.value_or(ps.require("id_number").id);
  return p.value_or(ps.require("name").id) + (id.empty() ? "" : "（" + idn::mask_id(id) + "）");
}

// The collector of the shown version of a field ("" when it has none).
std::string collector_of(const Entity& e, FieldId f) {
  auto it = e.fields.find(f);
  if (it == e.fields.end()) return {};
  const Version* v = it->second.shown();
  return v ? v->collector : std::string();
}

Finding finding(const char* rule, const Entity& e, FieldId field, std::vector<std::string> villages, std::string zh, std::string en) {
  Finding f;
  f.rule = rule;
  f.type = e.type;
  f.entity = e.id;
  f.field = field;
  sort_unique(villages);
  f.villages = std::move(villages);
  f.zh = std::move(zh);
  f.en = std::move(en);
  return f;
}

// One phone on the people of more than N households, or of different villages. Households split from
// one family (分户) share a phone within a village and stay under N.
std::vector<Finding> shared_phone(const VerifyInput& in, const Population& pop) {
  const Schema& schema = in.store->schema();
  const FieldId f_phone = schema.entity(EntityType::person).require("phone").id;
  std::map<std::string, std::vector<const Entity*>> by_phone;
  for (const Entity* p : pop.persons())
    if (auto* v = p->value(f_phone); v && !v->empty()) by_phone[*v].push_back(p);
  std::vector<Finding> out;
  for (auto& [phone, people] : by_phone) {
    std::set<EntityId> households;
    std::set<std::string> villages;
    for (auto* p : people) {
      if (auto* h = pop.household_of(*p)) households.insert(h->id);
      if (!pop.village_of(*p).empty()) villages.insert(pop.village_of(*p));
    }
    const bool many = households.size() > in.thresholds.phone_max_households;
    const bool spread = in.thresholds.phone_flag_different_villages && villages.size() > 1;
    if (!many && !spread) continue;
    const std::string masked = phone.size() > 7 ? phone.substr(0, 3) + "****" + phone.substr(7) : phone;
    const std::string n_hh = std::to_string(households.size()), n_v = std::to_string(villages.size());
    for (auto* p : people)
      out.push_back(finding("shared_phone", *p, f_phone, {pop.village_of(*p)},
                            who(*p, schema) + " 的联系电话 " + masked + " 同时登记在 " + n_hh + " 户、" + n_v + " 个村的 " +
                                std::to_string(people.size()) + " 人名下，请核实是否本人电话",
                            who(*p, schema) + ": phone " + masked + " is recorded for " + std::to_string(people.size()) +
                                " people of " + n_hh + " households in " + n_v + " villages; check it is theirs"));
  }
  return out;
}

// Jobs that count now: the bucket job of each employed person.
struct Employed {
  const Entity* person;
  const Entity* job;  // nullptr when employed by declaration with no job recorded
  DerivedStatus d;
};
std::vector<Employed> employed_people(const VerifyInput& in, const Population& pop) {
  Deriver deriver(in.store->schema(), in.store->info().config.period);
  std::vector<Employed> out;
  for (const Entity* p : pop.persons()) {
    DerivedStatus d = deriver.derive(pop.facts(*p));
    if (d.employed) out.push_back(Employed{p, d.bucket_job, d});
  }
  return out;
}

// An employer claimed by many people, few of them placed by organised out-migration or point-to-point
// transport: 劳务协作 placements (有组织 / 点对点) explain a crowd at one employer; self-reported ones less so.
// An employer whose 用工备案 filing (the last one reconciled) counts as many people is not flagged.
std::vector<Finding> employer_crowd(const VerifyInput& in, const Population& pop) {
  const Schema& schema = in.store->schema();
  const auto& js = schema.entity(EntityType::job);
  const FieldId f_employer = js.require("employer").id, f_org = js.require("organised").id, f_p2p = js.require("point_to_point").id;
  std::map<std::string, std::vector<Employed>> by_employer;
  for (auto& e : employed_people(in, pop))
    if (e.job)
      if (auto* v = e.job->value(f_employer); v && !employer_key(*v).empty()) by_employer[employer_key(*v)].push_back(e);
  std::vector<Finding> out;
  for (auto& [key, people] : by_employer) {
    if (people.size() < in.thresholds.employer_min_persons) continue;
    size_t arranged = 0;
    for (auto& e : people) arranged += e.job->value_or(f_org) == "1" || e.job->value_or(f_p2p) == "1";
    const double share = static_cast<double>(arranged) / static_cast<double>(people.size());
    if (share >= in.thresholds.employer_min_arranged_share) continue;
    // The employer's 用工备案 filing holds at least as many people: the crowd is on record.
    if (auto filed = in.filed_headcounts.find(key); filed != in.filed_headcounts.end() && filed->second >= people.size())
      continue;
    const std::string name = people.front().job->value_or(f_employer);
    const std::string pct = std::to_string(static_cast<int>(share * 100 + 0.5)) + "%";
    for (auto& e : people)
      out.push_back(finding("employer_crowd", *e.job, f_employer, {pop.village_of(*e.person)},
                            who(*e.person, schema) + " 的务工单位“" + name + "”共有 " + std::to_string(people.size()) +
                                " 人填报，其中有组织输出或点对点输送的仅占 " + pct + "，请核实是否确在该单位务工",
                            who(*e.person, schema) + ": employer \"" + name + "\" is given by " + std::to_string(people.size()) +
                                " people, only " + pct + " of them placed by organised out-migration or point-to-point transport; "
                                "check the person works there"));
  }
  return out;
}

// Monthly income outside what the place makes plausible.
std::vector<Finding> implausible_income(const VerifyInput& in, const Population& pop) {
  const Schema& schema = in.store->schema();
  const auto& js = schema.entity(EntityType::job);
  const FieldId f_income = js.require("monthly_income").id;
  const FieldDef& f_bucket = js.require("place_bucket");
  std::vector<Finding> out;
  for (auto& e : employed_people(in, pop)) {
    if (!e.job) continue;
    auto* v = e.job->value(f_income);
    if (!v || v->empty()) continue;
    const double income = std::strtod(v->c_str(), nullptr);
    auto it = in.thresholds.min_monthly_income.find(e.d.bucket);
    const double lo = it == in.thresholds.min_monthly_income.end() ? 0 : it->second;
    if (income >= lo && income <= in.thresholds.max_monthly_income) continue;
    auto* opt = f_bucket.option(e.d.bucket);
    const std::string place_zh = opt ? opt->zh : "地点不详", place_en = opt ? opt->en : "place unknown";
    const bool low = income < lo;
    out.push_back(finding("implausible_income", *e.job, f_income, {pop.village_of(*e.person)},
                          who(*e.person, schema) + " 的月收入 " + *v + " 元" +
                              (low ? "低于" + place_zh + "务工的下限 " + money(lo) + " 元" : "高于上限 " + money(in.thresholds.max_monthly_income) + " 元") +
                              "，请核实",
                          who(*e.person, schema) + ": monthly income " + *v + " yuan is " +
                              (low ? "below " + money(lo) + " yuan, the least plausible for work " + place_en
                                   : "above the " + money(in.thresholds.max_monthly_income) + " yuan ceiling") +
                              "; check it"));
  }
  return out;
}

// More months worked in the period than have passed since the job began (or since January).
std::vector<Finding> implausible_months(const VerifyInput& in, const Population& pop) {
  const Schema& schema = in.store->schema();
  const auto& js = schema.entity(EntityType::job);
  const FieldId f_months = js.require("months_in_period").id, f_start = js.require("start_month").id;
  const Period& period = in.store->info().config.period;
  std::vector<Finding> out;
  for (auto& e : employed_people(in, pop)) {
    for (const Entity* job : pop.jobs_of(e.person->id)) {
      auto* m = job->value(f_months);
      if (!m || m->empty() || !text::all_digits(*m)) continue;
      YearMonth from = period.first_month();
      if (auto s = parse_year_month(job->value_or(f_start)); s && *s > from) from = *s;
      const int possible = std::max(0, period.last_month().index() - from.index() + 1);
      const int months = std::stoi(*m);
      if (months <= possible) continue;
      out.push_back(finding("implausible_months", *job, f_months, {pop.village_of(*e.person)},
                            who(*e.person, schema) + " 填报务工 " + *m + " 个月，但从 " + std::to_string(from.year) + "-" +
                                (from.month < 10 ? "0" : "") + std::to_string(from.month) + " 到截至日期只有 " +
                                std::to_string(possible) + " 个月，请核实",
                            who(*e.person, schema) + ": " + *m + " months worked, but only " + std::to_string(possible) +
                                " months passed from the job's start (or January) to the as-of date; check it"));
    }
  }
  return out;
}

// Employed with no employer, unless the job is of a kind that has none (灵活就业, 自主创业, 务农).
std::vector<Finding> employed_without_employer(const VerifyInput& in, const Population& pop) {
  const Schema& schema = in.store->schema();
  const auto& js = schema.entity(EntityType::job);
  const FieldId f_employer = js.require("employer").id, f_source = js.require("source").id;
  std::vector<Finding> out;
  for (auto& e : employed_people(in, pop)) {
    if (e.job && (!e.job->value_or(f_employer).empty() || in.thresholds.exempt_sources.count(e.job->value_or(f_source)))) continue;
    const Entity& subject = e.job ? *e.job : *e.person;
    out.push_back(finding("employed_without_employer", subject, e.job ? f_employer : 0, {pop.village_of(*e.person)},
                          who(*e.person, schema) + (e.job ? " 登记为已就业，但务工经历没有填写务工单位，请补充或核实"
                                                          : " 登记为已就业，但没有任何务工经历，请补充务工单位或核实"),
                          who(*e.person, schema) + (e.job ? " is recorded as employed but the job names no employer; add it or check"
                                                          : " is recorded as employed but has no job recorded; add the employer or check")));
  }
  return out;
}

// Many visits on one date by one collector: more doors than a day allows. Grouped by the visit's own
// date, so typing up a week of paper forms in one evening is judged by the dates on the forms; the
// county admin's records (imports) are not visits by a collector.
std::vector<Finding> visits_per_day(const VerifyInput& in, const Population& pop) {
  const Schema& schema = in.store->schema();
  const auto& vs = schema.entity(EntityType::visit);
  const FieldId f_date = vs.require("date").id, f_visitor = vs.require("visitor").id;
  struct Group {
    std::vector<const Entity*> visits;
    std::vector<std::string> villages;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;  // (collector, date)
  in.store->scan(EntityType::visit, [&](EntityRow&& row) {
    const Entity* v = pop.find(row.entity.id);
    if (!v) return;
    const std::string date = v->value_or(f_date);
    std::string collector = v->value_or(f_visitor);
    if (collector.empty()) collector = collector_of(*v, f_date);
    if (date.empty() || collector.empty() || in.excluded_collectors.count(collector)) return;
    auto& g = groups[{collector, date}];
    g.visits.push_back(v);
    g.villages.push_back(row.village);
  });
  std::vector<Finding> out;
  for (auto& [key, g] : groups) {
    if (g.visits.size() <= in.thresholds.max_visits_per_day) continue;
    std::sort(g.visits.begin(), g.visits.end(), [](const Entity* a, const Entity* b) { return a->id < b->id; });
    const std::string n = std::to_string(g.visits.size()), cap = std::to_string(in.thresholds.max_visits_per_day);
    out.push_back(finding("visits_per_day", *g.visits.front(), f_date, g.villages,
                          "采集员 " + key.first + " 在 " + key.second + " 一天登记了 " + n + " 次摸查（超过 " + cap +
                              " 次），请核实是否都已入户或电话核实",
                          "collector " + key.first + " recorded " + n + " visits dated " + key.second + " (more than " + cap +
                              "); check each took place"));
  }
  return out;
}

// A household in a village outside the scope of the collector who entered it (a device moved to
// another village since, or a shared device's collector typing for another village).
std::vector<Finding> household_outside_scope(const VerifyInput& in, const Population&) {
  const auto& hs = in.store->schema().entity(EntityType::household);
  const FieldId f_village = hs.require("village_code").id, f_no = hs.require("household_no").id;
  std::vector<Finding> out;
  in.store->scan(EntityType::household, [&](EntityRow&& row) {
    const Entity& h = row.entity;
    const std::string village = h.value_or(f_village), collector = collector_of(h, f_village);
    if (village.empty() || collector.empty() || in.excluded_collectors.count(collector)) return;
    auto it = in.collector_scopes.find(collector);
    if (it == in.collector_scopes.end()) return;
    for (auto& code : it->second)
      if (village.rfind(code, 0) == 0) return;
    std::string scope;
    for (auto& c : it->second) scope += (scope.empty() ? "" : ",") + c;
    out.push_back(finding("household_outside_scope", h, f_village, {village},
                          "户 " + h.value_or(f_no) + " 在村 " + village + "，不在登记它的采集员 " + collector + " 的范围（" + scope +
                              "）内，请核实",
                          "household " + h.value_or(f_no) + " is in village " + village + ", outside the scope (" + scope +
                              ") of collector " + collector + " who entered it; check it"));
  });
  return out;
}

}  // namespace

const std::vector<VerificationRule>& verification_rules() {
  static const std::vector<VerificationRule> kRules = {
      {"shared_phone", "一个电话多户或跨村使用", "one phone on many households or villages", shared_phone},
      {"employer_crowd", "同一务工单位人数多而有组织输出少", "a crowded employer with few arranged placements", employer_crowd},
      {"implausible_income", "月收入与务工地域不符", "income implausible for the place", implausible_income},
      {"implausible_months", "务工月数超过可能", "more months worked than have passed", implausible_months},
      {"employed_without_employer", "已就业但无务工单位", "employed with no employer", employed_without_employer},
      {"visits_per_day", "一人一天摸查次数过多", "too many visits by one collector in a day", visits_per_day},
      {"household_outside_scope", "户不在采集员范围内", "a household outside its collector's scope", household_outside_scope},
  };
  return kRules;
}

}  // namespace tz::ops
