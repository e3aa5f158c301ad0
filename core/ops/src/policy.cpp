// Work standards and subsidies from the period's derived status and the jobs behind it.
#include "tz/ops/policy.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tz/model/derive.hpp"
#include "tz/model/id_number.hpp"
#include "tz/ops/population.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

using nlohmann::json;

Result<Policy> parse_policy(std::string_view text) {
  auto bad = [](const std::string& what) { return Error(ErrorCode::schema_error, {"policy.json: " + what}); };
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Policy p;
  try {
    const json& ws = j.at("work_standards");
    for (auto [key, target] : {std::pair{"in_county", &p.in_county}, {"outside_county", &p.outside_county}}) {
      target->min_months = ws.at(key).at("min_months").get<int>();
      target->min_income = ws.at(key).at("min_income").get<double>();
    }
    const json& s = j.at("subsidies");
    const json& t = s.at("transport");
    p.transport_rule = t.at("rule").get<std::string>();
    p.transport_max = t.at("max_amount").get<double>();
    const json& r = s.at("referral");
    p.referral_rule = r.at("rule").get<std::string>();
    p.referral_from = r.at("from_month").get<int>();
    p.referral_to = r.at("to_month").get<int>();
    p.referral_min_contract = r.at("min_contract_months").get<int>();
    for (auto& [bucket, v] : r.at("amounts").items()) p.referral_amounts[bucket] = v.get<double>();
    const json& k = s.at("job_keeping");
    p.keeping_rule = k.at("rule").get<std::string>();
    p.keeping_from = k.at("from_month").get<int>();
    p.keeping_to = k.at("to_month").get<int>();
    p.keeping_per_month = k.at("per_month").get<double>();
    for (auto& src : k.at("local_sources")) p.keeping_local_sources.insert(src.get<std::string>());
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  auto month_ok = [](int m) { return m >= 1 && m <= 12; };
  if (!month_ok(p.referral_from) || !month_ok(p.referral_to) || p.referral_from > p.referral_to || !month_ok(p.keeping_from) ||
      !month_ok(p.keeping_to) || p.keeping_from > p.keeping_to)
    return bad("a window's months must be 1-12, from <= to");
  if (p.transport_max < 0 || p.keeping_per_month < 0 || p.in_county.min_months < 0 || p.outside_county.min_months < 0)
    return bad("an amount or threshold is negative");
  return p;
}

Result<Policy> load_policy(const Resources& res) {
  auto text = read_file(schema_dir(res) / "policy.json");
  if (!text) return text.error();
  return parse_policy(*text);
}

namespace {

double number_or_zero(const std::string& s) {
  if (s.empty()) return 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  return end && *end == '\0' ? v : 0;
}

// Everyone employed in the period within the region, with the person's counted jobs (the jobs of
// the period that count as employment), earliest start first.
struct Employed {
  const Entity* person;
  std::string village;
  DerivedStatus d;
  std::vector<const Entity*> jobs;
};

template <typename Fn>
Status for_each_employed(const DeviceStore& store, const std::string& region, Fn&& fn) {
  if (auto st = check_region(region); !st) return st;
  const Period& period = store.info().config.period;
  if (!period.is_set()) return Error(ErrorCode::period_unset);
  const FieldId j_start = store.schema().entity(EntityType::job).require("start_month").id;
  Deriver deriver(store.schema(), period);
  auto pop = Population::load(store);
  for (const Entity* p : pop.persons()) {
    const std::string& village = pop.village_of(*p);
    if (!region.empty() && village.rfind(region, 0) != 0) continue;
    PersonFacts facts = pop.facts(*p);
    DerivedStatus d = deriver.derive(facts);
    if (!d.employed) continue;
    std::vector<const Entity*> jobs;
    for (auto* j : facts.jobs)
      if (deriver.job_counts(*j) && deriver.job_overlaps(*j)) jobs.push_back(j);
    std::stable_sort(jobs.begin(), jobs.end(), [&](const Entity* a, const Entity* b) {
      return std::make_pair(a->value_or(j_start), a->id.hex()) < std::make_pair(b->value_or(j_start), b->id.hex());
    });
    fn(Employed{p, village, d, std::move(jobs)}, deriver);
  }
  return ok_status();
}

std::string translate(Lang lang, const char* zh, const char* en) { return lang == Lang::zh ? zh : en; }
std::string village_name(const region::RegionTree* tree, const std::string& code) {
  if (tree)
    if (auto* r = tree->find(code)) return r->name;
  return "";
}
std::string yes_no(bool b, Lang lang) { return b ? translate(lang, "是", "yes") : translate(lang, "否", "no"); }

}  // namespace

Result<std::vector<PersonStandard>> work_standards(const DeviceStore& store, const Policy& policy, const std::string& region) {
  const auto& ps = store.schema().entity(EntityType::person);
  const FieldId f_name = ps.require("name").id, f_id = ps.require("id_number").id;
  const FieldId f_income = store.schema().entity(EntityType::job).require("monthly_income").id;
  std::vector<PersonStandard> out;
  auto st = for_each_employed(store, region, [&](const Employed& e, const Deriver& deriver) {
    PersonStandard s{e.village, e.person->value_or(f_name), idn::mask_id(e.person->value_or(f_id))};
    for (auto* j : e.jobs) {
      const int months = deriver.job_months(*j);
      const double income = number_or_zero(j->value_or(f_income)) * months;
      if (deriver.job_bucket(*j, e.village) == "in_county") {
        s.months_in += months;
        s.income_in += income;
      } else {
        s.months_out += months;
        s.income_out += income;
      }
    }
    s.time_ok = (s.months_in > 0 && s.months_in >= policy.in_county.min_months) ||
                (s.months_out > 0 && s.months_out >= policy.outside_county.min_months);
    s.income_ok = (s.income_in > 0 && s.income_in >= policy.in_county.min_income) ||
                  (s.income_out > 0 && s.income_out >= policy.outside_county.min_income);
    out.push_back(std::move(s));
  });
  if (!st) return st.error();
  return out;
}

std::vector<Table> work_standards_tables(const std::vector<PersonStandard>& people, const Policy& policy,
                                         const region::RegionTree* tree, Lang lang) {
  Table villages;
  char buf[256];
  std::snprintf(buf, sizeof buf, lang == Lang::zh ? "务工标准达标情况（县内 %d 个月或 %s 元、县外 %d 个月或 %s 元）"
                                                  : "Work standards (in the county %d months or %s yuan; outside %d months or %s yuan)",
                policy.in_county.min_months, money_text(policy.in_county.min_income).c_str(), policy.outside_county.min_months,
                money_text(policy.outside_county.min_income).c_str());
  villages.title = buf;
  villages.rows_are_persons = false;
  villages.headers = {translate(lang, "村代码", "Village code"), translate(lang, "村名称", "Village"),
                      translate(lang, "已就业人数", "Employed"), translate(lang, "务工时间达标", "Time standard met"),
                      translate(lang, "务工收入达标", "Income standard met"), translate(lang, "均达标", "Both met")};
  std::map<std::string, std::array<size_t, 4>> by_village;
  for (auto& p : people) {
    auto& c = by_village[p.village];
    c[0] += 1;
    c[1] += p.time_ok;
    c[2] += p.income_ok;
    c[3] += p.time_ok && p.income_ok;
  }
  std::array<size_t, 4> total{};
  for (auto& [code, c] : by_village) {
    villages.rows.push_back({code, village_name(tree, code), std::to_string(c[0]), std::to_string(c[1]), std::to_string(c[2]),
                             std::to_string(c[3])});
    for (size_t i = 0; i < 4; ++i) total[i] += c[i];
  }
  villages.rows.push_back({translate(lang, "合计", "Total"), "", std::to_string(total[0]), std::to_string(total[1]),
                           std::to_string(total[2]), std::to_string(total[3])});

  Table persons;
  persons.title = translate(lang, "务工标准（逐人）", "Work standards, person by person");
  persons.headers = {translate(lang, "序号", "No."), translate(lang, "村代码", "Village code"), translate(lang, "村名称", "Village"),
                     translate(lang, "姓名", "Name"), translate(lang, "身份证号", "ID number"),
                     translate(lang, "县内务工月数", "Months in the county"), translate(lang, "县外务工月数", "Months outside"),
                     translate(lang, "县内务工收入(元)", "Income in the county (yuan)"),
                     translate(lang, "县外务工收入(元)", "Income outside (yuan)"), translate(lang, "时间达标", "Time met"),
                     translate(lang, "收入达标", "Income met")};
  for (auto& p : people)
    persons.rows.push_back({std::to_string(persons.rows.size() + 1), p.village, village_name(tree, p.village), p.name,
                            p.masked_id, std::to_string(p.months_in), std::to_string(p.months_out), money_text(p.income_in),
                            money_text(p.income_out), yes_no(p.time_ok, lang), yes_no(p.income_ok, lang)});
  return {villages, persons};
}

Result<std::vector<SubsidyLine>> compute_subsidies(const DeviceStore& store, const Policy& policy, const std::string& region) {
  const Schema& schema = store.schema();
  const auto& ps = schema.entity(EntityType::person);
  const auto& js = schema.entity(EntityType::job);
  const FieldId f_name = ps.require("name").id, f_id = ps.require("id_number").id;
  const FieldId f_start = js.require("start_month").id, f_end = js.require("end_month").id;
  const FieldId f_organised = js.require("organised").id, f_fare = js.require("fare").id;
  const FieldId f_contract = js.require("contract").id, f_contract_months = js.require("contract_months").id;
  const FieldId f_agency = js.require("placing_agency").id, f_source = js.require("source").id;
  const Period& period = store.info().config.period;
  std::vector<SubsidyLine> out;
  auto st = for_each_employed(store, region, [&](const Employed& e, const Deriver& deriver) {
    const std::string name = e.person->value_or(f_name);
    auto line = [&](const char* kind, double amount, const std::string& rule, const std::string& payee, std::string zh, std::string en) {
      out.push_back(SubsidyLine{e.person->id, e.village, name, idn::mask_id(e.person->value_or(f_id)), kind, amount, rule, payee, std::move(zh),
                                std::move(en)});
    };
    // Transport: the first organised job with a fare, once.
    for (auto* j : e.jobs) {
      if (j->value_or(f_organised) != "1") continue;
      const double fare = number_or_zero(j->value_or(f_fare));
      if (fare <= 0) continue;
      const double amount = std::min(fare, policy.transport_max);
      line("transport", amount, policy.transport_rule, name,
           "有组织输出，交通费用 " + money_text(fare) + " 元，上限 " + money_text(policy.transport_max) + " 元",
           "organised out-migration, fare " + money_text(fare) + " yuan, at most " + money_text(policy.transport_max));
      break;
    }
    // Referral: the first job placed within the window with a long enough contract and an agency.
    const YearMonth ref_from{period.year, policy.referral_from}, ref_to{period.year, policy.referral_to};
    for (auto* j : e.jobs) {
      auto start = parse_year_month(j->value_or(f_start));
      if (!start || *start < ref_from || ref_to < *start) continue;
      const std::string& cm = j->value_or(f_contract_months);
      if (j->value_or(f_contract) != "1" || !text::all_digits(cm) || cm.empty() || std::stoi(cm) < policy.referral_min_contract)
        continue;
      const std::string agency = text::trim(j->value_or(f_agency));
      if (agency.empty()) continue;
      const std::string bucket = deriver.job_bucket(*j, e.village);
      auto amount = policy.referral_amounts.find(bucket);
      if (amount == policy.referral_amounts.end()) continue;
      auto* opt = js.require("place_bucket").option(bucket);
      line("referral", amount->second, policy.referral_rule, agency,
           (opt ? opt->label(Lang::zh) : bucket) + "，" + j->value_or(f_start) + " 就业，劳动合同 " + cm + " 个月",
           (opt ? opt->label(Lang::en) : bucket) + ", placed " + j->value_or(f_start) + ", contract of " + cm + " months");
      break;
    }
    // Job-keeping: each month of the window worked outside the county or locally at a listed source.
    const YearMonth keep_from{period.year, policy.keeping_from};
    const YearMonth keep_to = std::min(YearMonth{period.year, policy.keeping_to}, period.last_month());
    std::set<int> months;
    for (auto* j : e.jobs) {
      const std::string bucket = deriver.job_bucket(*j, e.village);
      const bool outside = bucket == "in_province" || bucket == "out_province" || bucket == "abroad";
      const bool local = bucket == "in_county" && policy.keeping_local_sources.count(j->value_or(f_source));
      if (!outside && !local) continue;
      auto start = parse_year_month(j->value_or(f_start));
      auto end = parse_year_month(j->value_or(f_end));
      YearMonth from = start ? std::max(*start, keep_from) : keep_from;
      YearMonth to = end ? std::min(*end, keep_to) : keep_to;
      for (int m = from.index(); m <= to.index(); ++m) months.insert(m);
    }
    if (!months.empty()) {
      const double amount = policy.keeping_per_month * static_cast<double>(months.size());
      line("job_keeping", amount, policy.keeping_rule, name,
           std::to_string(months.size()) + " 个月 × " + money_text(policy.keeping_per_month) + " 元",
           std::to_string(months.size()) + " months × " + money_text(policy.keeping_per_month) + " yuan");
    }
  });
  if (!st) return st.error();
  return out;
}

std::vector<Table> subsidy_tables(const std::vector<SubsidyLine>& lines, const Schema& schema, const region::RegionTree* tree,
                                  Lang lang) {
  const FieldDef& kind = schema.entity(EntityType::subsidy).require("kind");
  auto kind_label = [&](const std::string& code) {
    auto* o = kind.option(code);
    return o ? o->label(lang) : code;
  };
  Table items;
  items.title = translate(lang, "政策落实（应享补贴）", "Subsidies (entitled)");
  items.headers = {translate(lang, "序号", "No."), translate(lang, "村代码", "Village code"), translate(lang, "村名称", "Village"),
                   translate(lang, "姓名", "Name"), translate(lang, "身份证号", "ID number"), translate(lang, "补贴类型", "Kind"),
                   translate(lang, "金额(元)", "Amount (yuan)"), translate(lang, "依据规则", "Rule"),
                   translate(lang, "领取人或机构", "Payee"), translate(lang, "计算依据", "Basis")};
  std::map<std::string, std::map<std::string, double>> by_village;  // village -> kind -> yuan
  std::map<std::string, std::pair<size_t, double>> by_agency;       // referral payee -> (persons, yuan)
  for (auto& l : lines) {
    items.rows.push_back({std::to_string(items.rows.size() + 1), l.village, village_name(tree, l.village), l.name, l.masked_id,
                          kind_label(l.kind), money_text(l.amount), l.rule, l.payee, lang == Lang::zh ? l.basis_zh : l.basis_en});
    by_village[l.village][l.kind] += l.amount;
    if (l.kind == "referral") {
      by_agency[l.payee].first += 1;
      by_agency[l.payee].second += l.amount;
    }
  }
  items.rows_are_persons = false;

  Table villages;
  villages.title = translate(lang, "补贴合计（按村）", "Subsidy totals per village");
  villages.rows_are_persons = false;
  const std::vector<std::string> kinds = {"transport", "referral", "job_keeping"};
  villages.headers = {translate(lang, "村代码", "Village code"), translate(lang, "村名称", "Village")};
  for (auto& k : kinds) villages.headers.push_back(kind_label(k));
  villages.headers.push_back(translate(lang, "合计(元)", "Total (yuan)"));
  std::map<std::string, double> all;
  for (auto& [code, sums] : by_village) {
    std::vector<std::string> row = {code, village_name(tree, code)};
    double total = 0;
    for (auto& k : kinds) {
      double v = sums.count(k) ? sums.at(k) : 0;
      row.push_back(money_text(v));
      total += v;
      all[k] += v;
    }
    row.push_back(money_text(total));
    villages.rows.push_back(std::move(row));
  }
  std::vector<std::string> total_row = {translate(lang, "合计", "Total"), ""};
  double grand = 0;
  for (auto& k : kinds) {
    total_row.push_back(money_text(all[k]));
    grand += all[k];
  }
  total_row.push_back(money_text(grand));
  villages.rows.push_back(std::move(total_row));

  Table agencies;
  agencies.title = translate(lang, "职业介绍补贴合计（按输出机构）", "Job-referral subsidy totals per placing agency");
  agencies.rows_are_persons = false;
  agencies.headers = {translate(lang, "输出机构", "Placing agency"), translate(lang, "人数", "Persons"),
                      translate(lang, "金额(元)", "Amount (yuan)")};
  for (auto& [agency, v] : by_agency) agencies.rows.push_back({agency, std::to_string(v.first), money_text(v.second)});
  return {items, villages, agencies};
}

}  // namespace tz::ops
