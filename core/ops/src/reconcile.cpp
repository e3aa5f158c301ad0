// Reconciliation of an external list against the store's people (reconcile.hpp).
#include "tz/ops/reconcile.hpp"

#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "tz/model/derive.hpp"
#include "tz/model/id_number.hpp"
#include "tz/model/validation.hpp"
#include "tz/ops/population.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/encoding.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

std::string reconcile_owner(ReconcileKind kind) {
  switch (kind) {
    case ReconcileKind::social_insurance:
    case ReconcileKind::employment_filing: return "rsj";
    case ReconcileKind::national: return "fpb";
    case ReconcileKind::any: break;
  }
  return "";
}

std::optional<ReconcileKind> parse_reconcile_kind(std::string_view t) {
  if (t == "社保" || t == "社保缴纳" || t == "social_insurance") return ReconcileKind::social_insurance;
  if (t == "用工备案" || t == "employment_filing") return ReconcileKind::employment_filing;
  if (t == "国家系统" || t == "national") return ReconcileKind::national;
  if (t.empty() || t == "any") return ReconcileKind::any;
  return std::nullopt;
}

std::string reconcile_kind_label(ReconcileKind k, Lang lang) {
  const bool zh = lang == Lang::zh;
  switch (k) {
    case ReconcileKind::social_insurance: return zh ? "社保缴纳" : "social insurance";
    case ReconcileKind::employment_filing: return zh ? "用工备案" : "employment filing";
    case ReconcileKind::national: return zh ? "国家系统" : "national system";
    case ReconcileKind::any: break;
  }
  return zh ? "外部名单" : "external list";
}

std::string employer_key(const std::string& s) {
  std::string out;
  for (char c : text::normalize_width(s))
    if (c != ' ' && c != '\t') out += c;
  return out;
}

size_t ReconcileReport::count(Discrepancy::Kind k) const {
  size_t n = 0;
  for (auto& r : rows) n += r.kind == k;
  return n;
}

size_t ReconcileReport::persons_with_field_differences() const {
  std::set<std::string> ids;
  for (auto& r : rows)
    if (r.kind == Discrepancy::Kind::field) ids.insert(r.id18);
  return ids.size();
}

namespace {

const std::vector<std::string> kIdHeaders = {"身份证号", "身份证号码", "公民身份号码", "证件号码"};

struct Column {
  size_t index = 0;
  std::string header;
};

}  // namespace

Result<ReconcileReport> reconcile(const DeviceStore& store, std::string_view file_bytes, const ReconcileOptions& o) {
  const Schema& schema = store.schema();
  const auto& ps = schema.entity(EntityType::person);
  const auto& js = schema.entity(EntityType::job);
  const Period& period = store.info().config.period;
  if (!period.is_set()) return Error(ErrorCode::period_unset);
  const FieldDef& f_name = ps.require("name");
  const FieldDef& f_id = ps.require("id_number");
  const FieldDef& f_employer = js.require("employer");
  const FieldDef& f_bucket = js.require("place_bucket");
  const FieldDef& f_insured = js.require("insured");

  ReconcileReport rep;
  rep.kind = o.kind;
  encoding::SourceEncoding enc{};
  auto text = encoding::to_utf8(file_bytes, &enc);
  if (!text) return text.error();
  switch (enc) {
    case encoding::SourceEncoding::utf8: rep.encoding = "utf8"; break;
    case encoding::SourceEncoding::utf8_bom: rep.encoding = "utf8_bom"; break;
    case encoding::SourceEncoding::gb18030: rep.encoding = "gb18030"; break;
    case encoding::SourceEncoding::utf16le_bom: rep.encoding = "utf16le_bom"; break;
  }
  auto rows = csv::parse(*text);
  if (!rows) return rows.error();
  if (rows->empty()) return Error(ErrorCode::invalid_input, {bilingual("文件是空的", "the file is empty")});

  // Header: 姓名 and 身份证号 required; 务工单位, 务工地域, 参保 by their labels or aliases.
  std::optional<Column> c_name, c_id, c_employer, c_bucket, c_insured;
  const auto& header = rows->front();
  for (size_t i = 0; i < header.cells.size(); ++i) {
    std::string h = text::trim(csv::unwrap_excel_text(header.cells[i]));
    if (h.empty()) continue;
    const FieldDef* jf = js.find_field(h);
    std::optional<Column>* slot = nullptr;
    if (ps.find_field(h) == &f_name) slot = &c_name;
    else if (ps.find_field(h) == &f_id || std::find(kIdHeaders.begin(), kIdHeaders.end(), h) != kIdHeaders.end()) slot = &c_id;
    else if (jf == &f_employer) slot = &c_employer;
    else if (jf == &f_bucket) slot = &c_bucket;
    else if (jf == &f_insured) slot = &c_insured;
    if (!slot) continue;  // other columns are ignored
    if (*slot) {
      rep.problems.push_back(ImportProblem{header.line, h, "reconcile.duplicate_column", Severity::error,
                                           "列“" + h + "”与列“" + (*slot)->header + "”是同一项",
                                           "column \"" + h + "\" and column \"" + (*slot)->header + "\" are the same field"});
      continue;
    }
    *slot = Column{i, h};
  }
  if (!c_name || !c_id) {
    std::string zh, en;
    if (!c_name) zh += "姓名", en += "姓名 (name)";
    if (!c_id) zh += std::string(zh.empty() ? "" : "、") + "身份证号", en += std::string(en.empty() ? "" : ", ") + "身份证号 (ID number)";
    return Error(ErrorCode::invalid_input, {bilingual("缺少必需的列：" + zh + "（第 1 行表头）",
                                                     "required columns missing: " + en + " (header, line 1)")});
  }
  if (!rep.problems.empty()) return rep;
  rep.compared.push_back("name");
  if (c_employer) rep.compared.push_back("employer");
  if (c_bucket) rep.compared.push_back("bucket");
  if (c_insured || o.kind == ReconcileKind::social_insurance) rep.compared.push_back("insured");

  ValidationContext vctx;
  vctx.today = o.today;
  vctx.period_year = period.year;
  vctx.settings = &schema.settings();

  // Theirs, by normalised ID. Every bad row is reported; a report with problems compares nothing.
  struct Theirs {
    size_t line = 0;
    std::string name, employer, bucket, insured;  // bucket and insured canonical ("" when not given)
    bool has_employer = false;
  };
  std::unordered_map<std::string, Theirs> theirs;
  std::vector<std::string> order;
  auto problem = [&](size_t line, const std::string& column, std::string rule, std::string zh, std::string en) {
    rep.problems.push_back(ImportProblem{line, column, std::move(rule), Severity::error, std::move(zh), std::move(en)});
  };
  auto cell_of = [](const csv::Row& row, const std::optional<Column>& c) {
    if (!c || c->index >= row.cells.size()) return std::string();
    return text::trim(csv::unwrap_excel_text(row.cells[c->index]));
  };
  for (size_t r = 1; r < rows->size(); ++r) {
    const auto& row = (*rows)[r];
    bool any = false;
    for (auto& cell : row.cells) any = any || !text::trim(cell).empty();
    if (!any) continue;
    const std::string line = std::to_string(row.line);
    Theirs t;
    t.line = row.line;
    t.name = cell_of(row, c_name);
    const std::string raw_id = cell_of(row, c_id);
    if (t.name.empty())
      problem(row.line, c_name->header, "reconcile.name_required", "第 " + line + " 行：姓名为空", "line " + line + ": the name is empty");
    std::string id18;
    if (raw_id.empty()) {
      problem(row.line, c_id->header, "reconcile.id_required", "第 " + line + " 行：身份证号为空", "line " + line + ": the ID number is empty");
    } else if (csv::looks_excel_damaged_number(raw_id)) {
      Error e(ErrorCode::excel_damaged_id, {raw_id});
      problem(row.line, c_id->header, "reconcile.excel_damaged", "第 " + line + " 行：" + e.message(Lang::zh),
              "line " + line + ": " + e.message(Lang::en));
    } else {
      auto n = normalize_value(f_id, raw_id, vctx);
      auto check = idn::check_id(n.ok ? n.value : raw_id, o.today);
      if (!n.ok) {
        auto pb = format_problem(ps, f_id, n);
        problem(row.line, c_id->header, "reconcile.bad_id", "第 " + line + " 行：" + pb.message_zh + "（" + raw_id + "）",
                "line " + line + ": " + pb.message_en + " (" + raw_id + ")");
      } else if (!check.ok()) {
        problem(row.line, c_id->header, "reconcile.bad_id", "第 " + line + " 行：身份证号无效（" + raw_id + "）",
                "line " + line + ": invalid ID number (" + raw_id + ")");
      } else {
        id18 = check.id18;
      }
    }
    if (c_employer) {
      t.employer = cell_of(row, c_employer);
      t.has_employer = !t.employer.empty();
      if (o.kind == ReconcileKind::employment_filing && !employer_key(t.employer).empty())
        ++rep.employer_headcounts[employer_key(t.employer)];
    }
    for (auto [col, field, out] : {std::tuple{&c_bucket, &f_bucket, &t.bucket}, std::tuple{&c_insured, &f_insured, &t.insured}}) {
      const std::string v = cell_of(row, *col);
      if (v.empty()) continue;
      auto n = normalize_value(*field, v, vctx);
      if (!n.ok) {
        auto pb = format_problem(js, *field, n);
        problem(row.line, (*col)->header, "reconcile.bad_value", "第 " + line + " 行：" + pb.message_zh,
                "line " + line + ": " + pb.message_en);
        continue;
      }
      *out = n.value;
    }
    if (!c_insured && o.kind == ReconcileKind::social_insurance) t.insured = "1";
    if (id18.empty()) continue;
    auto [it, inserted] = theirs.emplace(id18, t);
    if (!inserted) {
      problem(row.line, c_id->header, "reconcile.duplicate_id",
              "第 " + line + " 行与第 " + std::to_string(it->second.line) + " 行的身份证号相同",
              "line " + line + " has the same ID number as line " + std::to_string(it->second.line));
      continue;
    }
    order.push_back(id18);
  }
  if (!rep.problems.empty()) return rep;
  rep.theirs = order.size();

  // Ours: every person by normalised ID; those in scope and expected in this kind of list.
  Deriver deriver(schema, period);
  auto pop = Population::load(store);
  std::set<std::string> seen;
  std::vector<Discrepancy> ours_only, fields;
  auto shown = [&](const FieldDef& f, const std::string& v) { return v.empty() ? std::string() : display_value(f, v, Lang::zh); };
  for (const Entity* p : pop.persons()) {
    auto check = idn::check_id(p->value_or(f_id.id), o.today);
    if (!check.ok()) continue;
    const std::string& village = pop.village_of(*p);
    const bool in_scope = (o.region.empty() || village.rfind(o.region, 0) == 0) && (!o.in_scope || o.in_scope(village));
    auto it = theirs.find(check.id18);
    if (!in_scope) {
      if (it != theirs.end() && seen.insert(check.id18).second) ++rep.outside_scope;
      continue;
    }
    DerivedStatus d = deriver.derive(pop.facts(*p));
    const Entity* job = d.employed ? d.bucket_job : nullptr;
    const std::string our_insured = job ? job->value_or(f_insured.id) : "";
    bool expected = true;
    if (o.kind == ReconcileKind::employment_filing) expected = d.employed;
    if (o.kind == ReconcileKind::social_insurance) expected = our_insured == "1";
    if (expected) ++rep.ours;
    Discrepancy base;
    base.id18 = check.id18;
    base.name = p->value_or(f_name.id);
    base.village = village;
    base.person = p->id;
    if (it == theirs.end()) {
      if (expected) ours_only.push_back(base);
      continue;
    }
    if (!seen.insert(check.id18).second) continue;  // two of our people with one ID: dedup's business
    ++rep.matched;
    const Theirs& t = it->second;
    base.line = t.line;
    auto differ = [&](std::string field, std::string ours, std::string theirs_v) {
      Discrepancy d2 = base;
      d2.kind = Discrepancy::Kind::field;
      d2.field = std::move(field);
      d2.ours = std::move(ours);
      d2.theirs = std::move(theirs_v);
      fields.push_back(std::move(d2));
    };
    if (text::normalize_width(base.name) != text::normalize_width(t.name)) differ("name", base.name, t.name);
    if (t.has_employer) {
      const std::string ours_employer = job ? job->value_or(f_employer.id) : "";
      if (employer_key(ours_employer) != employer_key(t.employer)) differ("employer", ours_employer, t.employer);
    }
    if (!t.bucket.empty() && d.bucket != t.bucket)
      differ("bucket", d.employed ? (d.bucket.empty() ? "不详" : shown(f_bucket, d.bucket)) : "未就业", shown(f_bucket, t.bucket));
    if (!t.insured.empty() && our_insured != t.insured)
      differ("insured", our_insured.empty() ? (job ? "未填" : "无在职工作") : shown(f_insured, our_insured), shown(f_insured, t.insured));
  }
  rep.rows = std::move(ours_only);
  rep.rows.insert(rep.rows.end(), fields.begin(), fields.end());
  for (auto& id : order) {
    if (seen.count(id)) continue;
    const Theirs& t = theirs[id];
    Discrepancy d;
    d.kind = Discrepancy::Kind::theirs_only;
    d.id18 = id;
    d.name = t.name;
    d.line = t.line;
    rep.rows.push_back(std::move(d));
  }
  return rep;
}

namespace {

std::string kind_text(Discrepancy::Kind k, Lang lang) {
  const bool zh = lang == Lang::zh;
  switch (k) {
    case Discrepancy::Kind::ours_only: return zh ? "仅我方有" : "ours only";
    case Discrepancy::Kind::theirs_only: return zh ? "仅对方有" : "theirs only";
    case Discrepancy::Kind::field: return zh ? "字段不一致" : "fields differ";
  }
  return "";
}

std::string field_text(const std::string& f, Lang lang) {
  static const std::map<std::string, std::pair<std::string, std::string>> kNames = {
      {"name", {"姓名", "name"}},
      {"employer", {"务工单位", "employer"}},
      {"bucket", {"务工地域", "where employed"}},
      {"insured", {"参保", "insured"}}};
  auto it = kNames.find(f);
  if (it == kNames.end()) return f;
  return lang == Lang::zh ? it->second.first : it->second.second;
}

}  // namespace

Table reconcile_table(const ReconcileReport& r, Lang lang, bool full_ids) {
  const bool zh = lang == Lang::zh;
  Table t;
  t.title = (zh ? "比对结果：" : "Reconciliation: ") + reconcile_kind_label(r.kind, lang);
  t.headers = zh ? std::vector<std::string>{"序号", "类别", "姓名", "身份证号", "村代码", "字段", "我方", "对方", "对方行号"}
                 : std::vector<std::string>{"No.", "Kind", "Name", "ID number", "Village code", "Field", "Ours", "Theirs",
                                            "Their line"};
  for (auto& d : r.rows)
    t.rows.push_back({std::to_string(t.rows.size() + 1), kind_text(d.kind, lang), d.name, full_ids ? d.id18 : idn::mask_id(d.id18),
                      d.village, d.kind == Discrepancy::Kind::field ? field_text(d.field, lang) : "", d.ours, d.theirs,
                      d.line ? std::to_string(d.line) : ""});
  return t;
}

Table reconcile_summary_table(const ReconcileReport& r, Lang lang) {
  const bool zh = lang == Lang::zh;
  Table t;
  t.title = (zh ? "比对汇总：" : "Reconciliation summary: ") + reconcile_kind_label(r.kind, lang);
  t.rows_are_persons = false;
  t.headers = zh ? std::vector<std::string>{"项目", "人数"} : std::vector<std::string>{"Item", "Persons"};
  auto add = [&](const char* z, const char* e, size_t n) { t.rows.push_back({zh ? z : e, std::to_string(n)}); };
  add("我方应在名单中的人数", "ours expected in the list", r.ours);
  add("对方名单人数", "rows of their list", r.theirs);
  add("双方都有", "in both", r.matched);
  add("仅我方有", "ours only", r.count(Discrepancy::Kind::ours_only));
  add("仅对方有", "theirs only", r.count(Discrepancy::Kind::theirs_only));
  add("字段不一致的人数", "persons whose fields differ", r.persons_with_field_differences());
  add("字段不一致的项数", "fields that differ", r.count(Discrepancy::Kind::field));
  if (r.outside_scope) add("在本人管辖范围外（未列出）", "outside your scope (not listed)", r.outside_scope);
  return t;
}

std::map<std::string, uint64_t> filed_headcounts(const sync::ServerStore& server) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(server.meta_value(kMetaFiledHeadcounts).value_or(""));
  std::string line;
  while (std::getline(in, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos || tab == 0 || tab > 9 || !text::all_digits(line.substr(0, tab))) continue;
    out[line.substr(tab + 1)] = std::stoull(line.substr(0, tab));
  }
  return out;
}

Result<bool> keep_filed_headcounts(sync::ServerStore& server, const ReconcileReport& r) {
  if (r.kind != ReconcileKind::employment_filing || !r.problems.empty()) return false;
  std::string text;
  for (auto& [key, n] : r.employer_headcounts)
    if (key.find_first_of("\t\r\n") == std::string::npos) text += std::to_string(n) + "\t" + key + "\n";
  if (auto st = sync::in_write_txn(server, [&] { server.put_meta_value(kMetaFiledHeadcounts, text); }); !st) return st.error();
  return true;
}

}  // namespace tz::ops
