// The progress report from each person's derived status for the period and last year's baseline.
#include "tz/ops/report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <unordered_map>

#include "tz/model/derive.hpp"
#include "tz/ops/baseline.hpp"
#include "tz/ops/population.hpp"
#include "tz/ops/status.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/parallel.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

namespace {

// The codes a village is counted under, from the root that holds it down to the village itself;
// empty when no root holds it.
std::vector<std::string> rows_of(const std::string& village, const std::vector<std::string>& roots) {
  size_t from = 0;
  for (auto& r : roots)
    if (village.size() == 12 && village.compare(0, r.size(), r) == 0 && (from == 0 || r.size() < from)) from = r.size();
  std::vector<std::string> out;
  if (from == 0) return out;
  for (size_t len : {size_t{6}, size_t{9}, size_t{12}})
    if (len >= from) out.push_back(village.substr(0, len));
  return out;
}

std::string translate(Lang lang, const char* zh, const char* en) { return lang == Lang::zh ? zh : en; }

std::string level_text(region::Level l, Lang lang) {
  switch (l) {
    case region::Level::province: return translate(lang, "省", "province");
    case region::Level::city: return translate(lang, "市", "city");
    case region::Level::county: return translate(lang, "县", "county");
    case region::Level::township: return translate(lang, "乡镇", "township");
    case region::Level::village: break;
  }
  return translate(lang, "村", "village");
}

std::string as_of_text(const Period& p, Lang lang) {
  char buf[64];
  if (lang == Lang::zh)
    std::snprintf(buf, sizeof buf, "截至%d年%d月%d日", p.as_of.year, p.as_of.month, p.as_of.day);
  else
    std::snprintf(buf, sizeof buf, "as of %04d-%02d-%02d", p.as_of.year, p.as_of.month, p.as_of.day);
  return buf;
}

}  // namespace

std::string report_count(size_t n, ReportUnit unit) {
  if (unit == ReportUnit::person) return std::to_string(n);
  char buf[32];
  // Integer arithmetic, half up: 万人 to two decimals as in the annex.
  const size_t hundredths = (n + 50) / 100;
  std::snprintf(buf, sizeof buf, "%zu.%02zu", hundredths / 100, hundredths % 100);
  return buf;
}

std::string report_ratio(size_t part, size_t whole) {
  if (whole == 0) return "";
  // Percent to two decimals, half up, in integers so every machine prints the same digits.
  const unsigned long long basis = (static_cast<unsigned long long>(part) * 100000ULL / whole + 5) / 10;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llu.%02llu%%", basis / 100, basis % 100);
  return buf;
}

Result<ProgressReport> make_report(const DeviceStore& store, const region::RegionTree* tree, const ReportOptions& o) {
  return make_report(store, Population::load(store), tree, o);
}

Result<ProgressReport> make_report(const DeviceStore& store, const Population& pop, const region::RegionTree* tree,
                                   const ReportOptions& o) {
  const Period& period = store.info().config.period;
  if (!period.is_set()) return Error(ErrorCode::period_unset);
  std::vector<std::string> roots;
  for (auto& r : o.roots) {
    std::string code = text::trim(r);
    if (code.empty()) continue;
    if (auto st = check_region(code); !st) return st.error();
    roots.push_back(code);
  }
  const std::string& county = store.info().config.county;
  if (roots.empty()) roots.push_back(county);

  const Schema& schema = store.schema();
  const auto& ps = schema.entity(EntityType::person);
  const auto& js = schema.entity(EntityType::job);
  const FieldId f_id = ps.require("id_number").id, f_name = ps.require("name").id;
  const FieldDef& f_life = ps.require("life_event");
  const FieldId f_declared = ps.require("declared_status").id, f_p2p = js.require("point_to_point").id;

  ProgressReport rep;
  rep.period = period;
  std::map<std::string, RegionFigures> figures;
  // The rows a village counts under, worked out once per village (std::map keeps the pointers valid).
  std::unordered_map<std::string, std::vector<RegionFigures*>> rows_by_village;
  auto rows_for = [&](const std::string& village) -> const std::vector<RegionFigures*>& {
    auto [cached, fresh] = rows_by_village.try_emplace(village);
    if (!fresh) return cached->second;
    for (auto& code : rows_of(village, roots)) {
      auto [it, inserted] = figures.try_emplace(code);
      if (inserted) {
        it->second.code = code;
        it->second.level = *region::level_of_code(code);
        if (tree)
          if (auto* reg = tree->find(code)) it->second.name = reg->name;
      }
      cached->second.push_back(&it->second);
    }
    return cached->second;
  };

  // Everyone in scope: this year's figures, and the key that finds a baseline row's person.
  struct Found {
    const Entity* person;
    const DerivedStatus* d;
  };
  std::unordered_map<std::string, Found> by_key;
  by_key.reserve(pop.people().size());
  const IdentityCheck identity(schema);
  const auto& derived = pop.derived(schema, period);
  // The costly parts for each person (the ID check, the baseline key's hash) are worked out side by
  // side first; the figures are then added up in order.
  const size_t n = pop.people().size();
  std::vector<char> id_ok(n);
  std::vector<std::string> keys(n);
  parallel_ranges(n, pop.threads(), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const Population::Person& person = pop.people()[i];
      id_ok[i] = identity_ok(store, identity, person);
      const std::string* id = person.facts.person->value(f_id);
      if (id && !id->empty()) keys[i] = baseline_key(county, *id);
    }
  });
  for (size_t i = 0; i < n; ++i) {
    const Population::Person& person = pop.people()[i];
    const Entity* p = person.facts.person;
    const auto& rows = rows_for(*person.village);
    if (rows.empty()) continue;
    const DerivedStatus& d = derived[i];
    const FourClears c = four_clears(d, id_ok[i] != 0);
    const bool gone = d.employed && !d.life_event;
    const bool p2p = gone && d.bucket == "out_province" && d.bucket_job && d.bucket_job->view(f_p2p) == "1";
    for (RegionFigures* f : rows) {
      if (gone) {
        if (d.bucket == "out_province") ++f->out_province;
        else if (d.bucket == "in_province") ++f->in_province;
        else if (d.bucket == "in_county") ++f->in_county;
        else if (d.bucket == "abroad") ++f->abroad;
        else ++f->other;
      }
      f->p2p += p2p;
      f->willing += d.in_labour_count && !d.employed && d.willing;
      ++f->persons;
      f->identity += c.identity;
      f->labour += c.labour;
      f->status += c.status;
      f->willingness += c.willingness;
      f->all_clear += c.all();
    }
    if (!keys[i].empty()) by_key.emplace(std::move(keys[i]), Found{p, &d});
  }

  // Last year's people: counted per region, and each one looked for this year.
  if (auto baseline = baseline_of(store)) {
    rep.has_baseline = true;
    for (auto& e : baseline->entries) {
      const auto& rows = rows_for(e.village);
      if (rows.empty()) continue;
      for (RegionFigures* f : rows) ++f->baseline;
      BaselinePerson bp{e.village, rows.back()->name, "", e.masked_id, ""};
      auto it = by_key.find(e.key);
      if (it == by_key.end()) {
        bp.situation = translate(o.lang, "不在台账中", "not in the roster");
        rep.not_gone_out.push_back(std::move(bp));
        continue;
      }
      const Entity& p = *it->second.person;
      const DerivedStatus& d = *it->second.d;
      bp.name = p.value_or(f_name);
      if (d.life_event) {
        const std::string& code = p.value_or(f_life.id);
        auto* opt = f_life.option(code);
        bp.situation = opt ? opt->label(o.lang) : code;
        rep.life_events.push_back(std::move(bp));
      } else if (!d.employed) {
        const std::string& declared = p.value_or(f_declared);
        const bool unemployed = d.declared && declared.size() > 3 && declared.substr(declared.size() - 2) == "03";
        bp.situation = unemployed ? translate(o.lang, "失业", "unemployed") : translate(o.lang, "未就业", "not employed");
        rep.not_gone_out.push_back(std::move(bp));
      }
    }
  }
  auto person_order = [](const BaselinePerson& a, const BaselinePerson& b) {
    return std::tie(a.village, a.name, a.masked_id, a.situation) < std::tie(b.village, b.name, b.masked_id, b.situation);
  };
  std::sort(rep.not_gone_out.begin(), rep.not_gone_out.end(), person_order);
  std::sort(rep.life_events.begin(), rep.life_events.end(), person_order);

  for (auto& [code, f] : figures) {
    f.total = f.out_province + f.in_province + f.in_county;
    rep.regions.push_back(f);
  }
  if (rep.has_baseline)
    for (size_t i = 0; i < rep.regions.size(); ++i) {
      const auto& f = rep.regions[i];
      if (f.level != region::Level::county && f.total < f.baseline) rep.below.push_back(i);
    }
  return rep;
}

std::vector<Table> report_tables(const ProgressReport& r, ReportUnit unit, Lang lang) {
  const bool zh = lang == Lang::zh;
  const std::string y = std::to_string(r.period.year), ly = std::to_string(r.period.year - 1);
  const std::string gone = zh ? y + "年已外出务工人数·" : "Gone out in " + y + " · ";
  std::vector<Table> out;

  Table regions;
  regions.title = (zh ? "贫困劳动力外出务工情况（" : "Poor labourers working away from home (") + as_of_text(r.period, lang) +
                  (zh ? "；单位：" : "; unit: ") + (unit == ReportUnit::wan ? (zh ? "万人" : "10,000 persons") : (zh ? "人" : "persons")) +
                  (zh ? "）" : ")");
  regions.rows_are_persons = false;
  regions.headers = {translate(lang, "代码", "Code"),
                     translate(lang, "名称", "Name"),
                     translate(lang, "级别", "Level"),
                     zh ? ly + "年外出务工人数" : "Gone out in " + ly,
                     gone + translate(lang, "共计", "total"),
                     gone + (zh ? "占" + ly + "年外出务工数比例" : "ratio to " + ly),
                     gone + translate(lang, "省外务工人数", "outside the province"),
                     gone + translate(lang, "省内县外务工人数", "in the province, outside the county"),
                     gone + translate(lang, "县内务工人数", "in the county"),
                     gone + translate(lang, "跨省点对点输送人数", "point-to-point across provinces"),
                     zh ? y + "年未外出但有意愿外出务工人数" : "Not gone out in " + y + " but willing",
                     zh ? y + "年境外务工人数" : "Abroad in " + y,
                     zh ? y + "年其他或地点不详务工人数" : "Other or unknown place in " + y,
                     translate(lang, "台账人数", "Persons in the roster"),
                     translate(lang, "人员底数清", "Identity clear"),
                     translate(lang, "劳动能力清", "Labour ability clear"),
                     translate(lang, "就业状态清", "Employment status clear"),
                     translate(lang, "外出意愿清", "Willingness clear"),
                     translate(lang, "四清人数", "All four clear"),
                     translate(lang, "四清完成率", "Four clears completeness")};
  for (auto& f : r.regions) {
    auto n = [&](size_t v) { return report_count(v, unit); };
    regions.rows.push_back({f.code, f.name, level_text(f.level, lang), r.has_baseline ? n(f.baseline) : "", n(f.total),
                            r.has_baseline ? report_ratio(f.total, f.baseline) : "", n(f.out_province), n(f.in_province),
                            n(f.in_county), n(f.p2p), n(f.willing), n(f.abroad), n(f.other), std::to_string(f.persons),
                            std::to_string(f.identity), std::to_string(f.labour), std::to_string(f.status),
                            std::to_string(f.willingness), std::to_string(f.all_clear), report_ratio(f.all_clear, f.persons)});
  }
  out.push_back(std::move(regions));

  Table below;
  below.title = zh ? "低于" + ly + "年外出务工人数的村和乡镇" : "Villages and townships below the " + ly + " count";
  below.rows_are_persons = false;
  below.headers = {translate(lang, "代码", "Code"), translate(lang, "名称", "Name"), translate(lang, "级别", "Level"),
                   zh ? ly + "年外出务工人数" : "Gone out in " + ly, zh ? y + "年共计" : "Total in " + y,
                   translate(lang, "差额", "Shortfall")};
  for (size_t i : r.below) {
    const auto& f = r.regions[i];
    below.rows.push_back({f.code, f.name, level_text(f.level, lang), report_count(f.baseline, unit), report_count(f.total, unit),
                          report_count(f.baseline - f.total, unit)});
  }
  out.push_back(std::move(below));

  auto people = [&](std::string title, const std::vector<BaselinePerson>& ps, const char* what_zh, const char* what_en) {
    Table t;
    t.title = std::move(title);
    t.headers = {translate(lang, "序号", "No."), translate(lang, "村代码", "Village code"), translate(lang, "村名称", "Village"),
                 translate(lang, "姓名", "Name"), translate(lang, "身份证号", "ID number"), translate(lang, what_zh, what_en)};
    for (auto& p : ps)
      t.rows.push_back({std::to_string(t.rows.size() + 1), p.village, p.village_name, p.name, p.masked_id, p.situation});
    out.push_back(std::move(t));
  };
  people(zh ? ly + "年外出务工、" + y + "年未外出人员" : "Gone out in " + ly + ", not gone out in " + y, r.not_gone_out,
         "今年情况", "This year");
  people(zh ? ly + "年外出务工、已有人员变更的人员" : "Gone out in " + ly + ", with a life event since", r.life_events, "人员变更",
         "Life event");
  return out;
}

std::string render_report_text(const ProgressReport& r, ReportUnit unit, Lang lang) {
  return render_tables_text(report_tables(r, unit, lang), lang);
}

std::string render_report_csv(const ProgressReport& r, ReportUnit unit, Lang lang) {
  return render_tables_csv(report_tables(r, unit, lang));
}

}  // namespace tz::ops
