// Building the lists from the derived status of each person.
#include "tz/ops/lists.hpp"

#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "tz/model/derive.hpp"
#include "tz/model/id_number.hpp"
#include "tz/model/review.hpp"
#include "tz/model/validation.hpp"
#include "tz/ops/population.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/review.hpp"
#include "tz/util/parallel.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

std::vector<std::string> list_kinds() { return {"employed", "unemployed", "willing", "returned", "flagged"}; }

namespace {

struct Col {
  std::string key;  // "entity.field" or a derived name
  EntityType type = EntityType::person;
  const FieldDef* field = nullptr;
  std::string header;
};

std::string derived_header(const std::string& key, Lang lang) {
  static const std::map<std::string, std::pair<std::string, std::string>> kHeaders = {
      {"village_code", {"村代码", "Village code"}},   {"village_name", {"村名称", "Village"}},
      {"gender", {"性别", "Gender"}},                 {"bucket", {"务工地域", "Where employed"}},
      {"months", {"务工月数", "Months worked"}},      {"employment_status", {"就业状态", "Employment status"}},
      {"problems", {"待核实问题", "Problems"}},        {"income", {"收入(元)", "Income (yuan)"}},
  };
  auto it = kHeaders.find(key);
  if (it == kHeaders.end()) return key;
  return lang == Lang::zh ? it->second.first : it->second.second;
}

}  // namespace

std::string money_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

Status check_region(const std::string& code) {
  if (code.empty() || (text::all_digits(code) && (code.size() == 6 || code.size() == 9 || code.size() == 12))) return ok_status();
  return Error(ErrorCode::invalid_input, {bilingual("--region " + code + "：应为 6 位县、9 位乡镇或 12 位村代码",
                                                   "--region " + code + ": must be a 6-, 9- or 12-digit code")});
}

Result<Table> make_list(const DeviceStore& store, const Resources& resources, const region::RegionTree* tree,
                        const ListOptions& o) {
  return make_list(store, Population::load(store), resources, tree, o);
}

Result<Table> make_list(const DeviceStore& store, const Population& pop, const Resources& resources,
                        const region::RegionTree* tree, const ListOptions& o) {
  const Schema& schema = store.schema();
  const ListSpec* spec = schema.list(o.kind);
  if (!spec) {
    std::string kinds;
    for (auto& k : list_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
    return Error(ErrorCode::usage, {bilingual("未知清单类型“" + o.kind + "”，应为 " + kinds, "unknown list kind \"" + o.kind + "\"; one of " + kinds)});
  }
  if (auto st = check_region(o.region); !st) return st.error();
  const Period& period = store.info().config.period;
  if (!period.is_set()) return Error(ErrorCode::period_unset);

  // Columns: the spec's, then every field marked "list": true that the spec does not name.
  std::vector<Col> cols;
  std::set<std::string> named;
  for (auto& key : spec->columns) {
    Col c{key};
    auto dot = key.find('.');
    if (dot != std::string::npos) {
      auto t = entity_type_from_name(key.substr(0, dot));
      if (!t) return Error(ErrorCode::schema_error, {"list column " + key});
      c.type = *t;
      c.field = &schema.entity(*t).require(key.substr(dot + 1));
      c.header = c.field->label(o.lang);
    } else {
      c.header = derived_header(key, o.lang);
    }
    named.insert(key);
    cols.push_back(std::move(c));
  }
  for (auto t : {EntityType::household, EntityType::person, EntityType::job}) {
    if (t == EntityType::job && o.kind != "employed" && o.kind != "returned") continue;
    for (auto& f : schema.entity(t).fields) {
      std::string key = std::string(entity_type_name(t)) + "." + f.name;
      if (f.list && !named.count(key)) cols.push_back(Col{key, t, &f, f.label(o.lang)});
    }
  }

  Table table;
  table.title = o.lang == Lang::zh ? spec->title_zh : spec->title_en;
  table.headers.push_back(o.lang == Lang::zh ? "序号" : "No.");
  for (auto& c : cols) table.headers.push_back(c.header);

  ValidationContext vctx;
  vctx.today = period.as_of;  // lists judge on the as-of date, never the device's clock
  vctx.period_year = period.year;
  vctx.settings = &schema.settings();
  vctx.counties = &resources.counties;
  vctx.tree = tree;
  const auto& ps = schema.entity(EntityType::person);
  const FieldId f_id = ps.require("id_number").id;
  const FieldId f_review = ps.require("review").id;
  const FieldDef* f_household_review = schema.entity(EntityType::household).field("review");

  const FieldDef& f_bucket = schema.entity(EntityType::job).require("place_bucket");
  const bool employed = o.kind == "employed", unemployed = o.kind == "unemployed", willing = o.kind == "willing",
             returned = o.kind == "returned", flagged = o.kind == "flagged";

  // What the list to verify (待核实) says of one person: every validation problem of the household
  // (each household checked once per part, however many of its members are listed), the person and
  // their jobs; conflicting values; the county's review decisions (SPEC §8).
  using HouseholdProblems = std::unordered_map<const Entity*, std::vector<Problem>>;
  auto flagged_problems = [&](const PersonFacts& facts, HouseholdProblems& households) {
    std::vector<Problem> problems;
    const Entity* p = facts.person;
    auto add = [&](const std::vector<Problem>& ps_) { problems.insert(problems.end(), ps_.begin(), ps_.end()); };
    if (facts.household) {
      auto [it, fresh] = households.try_emplace(facts.household);
      if (fresh) it->second = validate_record(schema.entity(EntityType::household), shown_values(facts.household), vctx);
      add(it->second);
    }
    add(validate_record(ps, shown_values(p), vctx));
    ValidationContext jctx = vctx;
    jctx.person_birth = birth_of_id(p->view(f_id));
    for (auto* j : facts.jobs) add(validate_record(schema.entity(EntityType::job), shown_values(j), jctx));
    // A conflict between two collectors' values is also something to verify.
    for (auto* e : std::initializer_list<const Entity*>{p, facts.household})
      if (e)
        for (auto& [f, fv] : e->fields)
          if (fv.conflict()) {
            auto* fd = schema.entity(e->type).field(f);
            std::string label = fd ? fd->label_zh : std::to_string(f);
            std::string label_en = fd ? fd->label_en : std::to_string(f);
            problems.push_back(Problem{"merge.conflict", Severity::warning, fd ? fd->name : "", label + "有冲突的取值",
                                       label_en + " has conflicting values"});
          }
    // Sent back by the county, or changed since its approval: the household's decision shows on
    // each of its members, as its validation problems do.
    if (facts.household && f_household_review)
      if (auto pr = review_problem(EntityType::household, review_status({facts.household}, f_household_review->id)))
        problems.push_back(std::move(*pr));
    std::vector<const Entity*> record{p};
    record.insert(record.end(), facts.jobs.begin(), facts.jobs.end());
    if (auto pr = review_problem(EntityType::person, review_status(record, f_review))) problems.push_back(std::move(*pr));
    return problems;
  };

  // One person's row; its 序号 is left empty until the rows are joined.
  auto row_of = [&](const Population::Person& person, const DerivedStatus& d, const std::vector<Problem>& problems) {
    const Entity* p = person.facts.person;
    const std::string& village = *person.village;
    std::vector<std::string> row;
    row.reserve(cols.size() + 1);
    row.emplace_back();
    for (auto& c : cols) {
      std::string cell;
      if (c.field) {
        const Entity* src = c.type == EntityType::person      ? p
                            : c.type == EntityType::household ? person.facts.household
                                                              : d.bucket_job;
        if (src)
          if (auto* v = src->value(c.field->id)) {
            cell = display_value(*c.field, *v, o.lang);
            if (c.field->type == FieldType::id_number && !o.full_ids) cell = idn::mask_id(cell);
          }
      } else if (c.key == "village_code") {
        cell = village;
      } else if (c.key == "village_name") {
        if (tree)
          if (auto* r = tree->find(village)) cell = r->name;
      } else if (c.key == "gender") {
        char g = gender_of_id(p->view(f_id));
        cell = g == 'M' ? (o.lang == Lang::zh ? "男" : "M") : g == 'F' ? (o.lang == Lang::zh ? "女" : "F") : "";
      } else if (c.key == "bucket") {
        if (d.employed) {
          auto* opt = f_bucket.option(d.bucket);
          cell = opt ? opt->label(o.lang) : (o.lang == Lang::zh ? "不详" : "unknown");
        }
      } else if (c.key == "months") {
        if (d.employed) cell = std::to_string(d.months);
      } else if (c.key == "income") {
        if (d.employed) cell = money_text(d.income);
      } else if (c.key == "employment_status") {
        cell = d.employed ? (o.lang == Lang::zh ? "已就业" : "employed") : (o.lang == Lang::zh ? "未就业" : "not employed");
      } else if (c.key == "problems") {
        for (auto& pr : problems) cell += (cell.empty() ? "" : (o.lang == Lang::zh ? "；" : "; ")) + pr.message(o.lang);
      }
      row.push_back(std::move(cell));
    }
    return row;
  };

  const auto& derived = pop.derived(schema, period);
  // The people are split into contiguous parts made side by side (pop.threads()), each part's rows
  // kept apart and joined in order, so the rows and their numbers do not depend on the split.
  const size_t n = pop.people().size();
  const size_t parts = n < 4096 ? 1 : std::max(1u, pop.threads());
  std::vector<std::vector<std::vector<std::string>>> part_rows(parts);
  parallel_tasks(parts, pop.threads(), [&](size_t part) {
    HouseholdProblems households;
    for (size_t i = n * part / parts, end = n * (part + 1) / parts; i < end; ++i) {
      const Population::Person& person = pop.people()[i];
      if (!o.region.empty() && person.village->rfind(o.region, 0) != 0) continue;
      const DerivedStatus& d = derived[i];
      std::vector<Problem> problems;
      bool include = false;
      if (employed) include = d.employed && !d.life_event;
      else if (unemployed) include = d.in_labour_count && !d.employed;
      else if (willing) include = d.in_labour_count && !d.employed && d.willing;
      else if (returned) include = d.returned;
      else if (flagged) include = !(problems = flagged_problems(person.facts, households)).empty();
      if (include) part_rows[part].push_back(row_of(person, d, problems));
    }
  });
  size_t total = 0;
  for (auto& part : part_rows) total += part.size();
  table.rows.reserve(total);
  for (auto& part : part_rows)
    for (auto& row : part) {
      row[0] = std::to_string(table.rows.size() + 1);
      table.rows.push_back(std::move(row));
    }
  return table;
}

}  // namespace tz::ops
