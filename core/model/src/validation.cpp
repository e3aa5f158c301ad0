// Field normalisation per type and the rule engine over one record.
#include "tz/model/validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tz/model/id_number.hpp"
#include "tz/model/phone.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/util/text.hpp"

namespace tz {

namespace {

Normalized good(std::string v) { return Normalized{true, std::move(v), {}, {}}; }
Normalized bad(std::string cleaned, std::string zh, std::string en) {
  return Normalized{false, std::move(cleaned), std::move(zh), std::move(en)};
}

std::string options_hint(const FieldDef& f, Lang lang) {
  std::string out;
  for (size_t i = 0; i < f.options.size(); ++i) {
    if (i) out += lang == Lang::zh ? "、" : ", ";
    out += f.options[i].label(lang);
  }
  return out;
}

// Plain decimal with at most two fraction digits; canonical without trailing zeros.
std::optional<std::string> canonical_number(std::string_view s, bool integer_only) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
  }
  std::string int_part, frac_part;
  bool dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == ',' && !dot) continue;  // thousands separators as Excel writes them
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    (dot ? frac_part : int_part) += c;
  }
  if (int_part.empty() && frac_part.empty()) return std::nullopt;
  while (!frac_part.empty() && frac_part.back() == '0') frac_part.pop_back();
  if (integer_only && !frac_part.empty()) return std::nullopt;
  if (frac_part.size() > 2) return std::nullopt;
  size_t nz = int_part.find_first_not_of('0');
  int_part = nz == std::string::npos ? "0" : int_part.substr(nz);
  std::string out = (neg && (int_part != "0" || !frac_part.empty()) ? "-" : "") + int_part;
  if (!frac_part.empty()) out += "." + frac_part;
  return out;
}

std::string id_problem_zh(const idn::IdCheck& c) {
  switch (c.problem) {
    case idn::IdProblem::none: return {};
    case idn::IdProblem::empty: return "为空";
    case idn::IdProblem::bad_length: return "长度应为 18 位（或 15 位旧号码、20 位残疾证号）";
    case idn::IdProblem::bad_chars: return "含有数字和末位 X 以外的字符";
    case idn::IdProblem::bad_province: return "前两位省份代码不存在";
    case idn::IdProblem::permit: return "是港澳台居民居住证号码，不是居民身份证号";
    case idn::IdProblem::bad_date: return "出生日期不存在";
    case idn::IdProblem::future_date: return "出生日期晚于今天";
    case idn::IdProblem::bad_check: return "校验位不正确，请核对号码";
    case idn::IdProblem::bad_disability_suffix: return "残疾证号末两位（残疾类别 1–7、等级 1–4）无效";
  }
  return {};
}

std::string id_problem_en(const idn::IdCheck& c) {
  switch (c.problem) {
    case idn::IdProblem::none: return {};
    case idn::IdProblem::empty: return "empty";
    case idn::IdProblem::bad_length: return "must have 18 characters (or a 15-digit legacy number, or a 20-digit disability certificate number)";
    case idn::IdProblem::bad_chars: return "contains characters other than digits and a final X";
    case idn::IdProblem::bad_province: return "the province code (first two digits) does not exist";
    case idn::IdProblem::permit: return "is a residence permit number for Hong Kong, Macao or Taiwan residents, not a resident ID";
    case idn::IdProblem::bad_date: return "the birth date does not exist";
    case idn::IdProblem::future_date: return "the birth date is in the future";
    case idn::IdProblem::bad_check: return "the check character is wrong; check the number";
    case idn::IdProblem::bad_disability_suffix: return "the last two digits (category 1–7, grade 1–4) are invalid";
  }
  return {};
}

std::string fmt_num(double v) {
  char buf[32];
  if (v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string render(std::string_view tmpl, const FieldDef* f, Lang lang, const std::string& value,
                   const std::string& detail, std::optional<double> min, std::optional<double> max) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{') {
      auto end = tmpl.find('}', i);
      if (end != std::string_view::npos) {
        auto key = tmpl.substr(i + 1, end - i - 1);
        bool known = true;
        if (key == "label")
          out += f ? f->label(lang) : "";
        else if (key == "value")
          out += value;
        else if (key == "detail")
          out += detail;
        else if (key == "min")
          out += min ? fmt_num(*min) : "";
        else if (key == "max")
          out += max ? fmt_num(*max) : "";
        else
          known = false;
        if (known) {
          i = end;
          continue;
        }
      }
    }
    out += tmpl[i];
  }
  return out;
}

struct RuleOut {
  const EntitySchema& es;
  std::vector<Problem>& out;
  void add(const Rule& r, const FieldDef* f, const std::string& value, const std::string& detail_zh,
           const std::string& detail_en, std::optional<double> min, std::optional<double> max) {
    out.push_back(Problem{r.id, r.severity, r.field, render(r.zh, f, Lang::zh, value, detail_zh, min, max),
                          render(r.en, f, Lang::en, value, detail_en, min, max)});
  }
};

const std::string* get(const EntitySchema& es, const FieldValues& values, std::string_view name) {
  auto* f = es.field(name);
  if (!f) return nullptr;
  auto it = values.find(f->id);
  if (it == values.end() || it->second.empty()) return nullptr;
  return &it->second;
}

int setting_value(const Settings* s, const std::string& name, int fallback) {
  if (!s) return fallback;
  if (name == "labour_age_min") return s->labour_age_min;
  if (name == "labour_age_max") return s->labour_age_max;
  return fallback;
}

}  // namespace

bool condition_holds(const EntitySchema& es, const FieldValues& values, const Condition& c,
                     int period_year) {
  auto* v = get(es, values, c.field);
  switch (c.op) {
    case Condition::Op::empty: return v == nullptr;
    case Condition::Op::not_empty: return v != nullptr;
    case Condition::Op::in: {
      if (!v) return std::find(c.values.begin(), c.values.end(), std::string()) != c.values.end();
      std::string code = *v;
      auto* f = es.field(c.field);
      if (f && f->type == FieldType::period_enum) {
        auto colon = code.find(':');
        if (colon == std::string::npos || code.substr(0, colon) != std::to_string(period_year)) return false;
        code = code.substr(colon + 1);
      }
      for (auto& want : c.values)
        if (want == code) return true;
      return false;
    }
  }
  return false;
}

Normalized normalize_value(const FieldDef& f, std::string_view raw_in, const ValidationContext& ctx) {
  std::string raw = text::trim(raw_in);
  switch (f.type) {
    case FieldType::text: {
      if (!text::is_valid_utf8(raw)) return bad(raw, "不是有效的文字", "is not valid text");
      // Valid UTF-8: one code point per byte that is not a continuation byte.
      const auto chars = static_cast<size_t>(std::count_if(raw.begin(), raw.end(), [](char c) { return (c & 0xC0) != 0x80; }));
      if (chars > f.max_length)
        return bad(raw, "超过 " + std::to_string(f.max_length) + " 个字", "is longer than " + std::to_string(f.max_length) + " characters");
      return good(raw);
    }
    case FieldType::id_number: {
      auto known = [&](std::string_view c6) { return ctx.counties == nullptr || ctx.counties->find(c6) != nullptr; };
      auto c = idn::check_id(raw, ctx.today, known);
      if (!c.ok()) return bad(idn::normalize_id_input(raw), id_problem_zh(c), id_problem_en(c));
      return good(c.normalized);
    }
    case FieldType::phone: {
      auto c = phone::check_phone(raw);
      if (!c.ok) return bad(c.normalized, "不是有效的手机号", "is not a valid mobile number");
      return good(c.normalized);
    }
    case FieldType::enumeration:
    case FieldType::boolean: {
      if (auto* o = f.match_option(raw)) return good(o->code);
      return bad(raw, "应为以下之一：" + options_hint(f, Lang::zh), "must be one of: " + options_hint(f, Lang::en));
    }
    case FieldType::period_enum: {
      std::string year = std::to_string(ctx.period_year);
      std::string_view code_part = raw;
      auto colon = raw.find(':');
      if (colon != std::string::npos && colon == 4 && text::all_digits(raw.substr(0, 4))) {
        year = raw.substr(0, 4);
        code_part = std::string_view(raw).substr(5);
      }
      if (year == "0") return bad(raw, "尚未设置统计期", "the reporting period is not set");
      if (auto* o = f.match_option(code_part)) return good(year + ":" + o->code);
      return bad(raw, "应为以下之一：" + options_hint(f, Lang::zh), "must be one of: " + options_hint(f, Lang::en));
    }
    case FieldType::date: {
      if (auto d = parse_date(text::normalize_width(raw))) return good(format_date(*d));
      return bad(raw, "不是有效日期（应为 年-月-日，如 2020-06-30）", "is not a valid date (YYYY-MM-DD, e.g. 2020-06-30)");
    }
    case FieldType::year_month: {
      if (auto m = parse_year_month(text::normalize_width(raw))) return good(format_year_month(*m));
      if (auto d = parse_date(text::normalize_width(raw))) return good(format_year_month({d->year, d->month}));
      return bad(raw, "不是有效年月（应为 年-月，如 2020-06）", "is not a valid month (YYYY-MM, e.g. 2020-06)");
    }
    case FieldType::integer: {
      if (auto n = canonical_number(text::normalize_width(raw), true)) return good(*n);
      return bad(raw, "应为整数", "must be a whole number");
    }
    case FieldType::money: {
      std::string s = text::normalize_width(raw);
      for (std::string_view unit : {"元", "yuan"})
        if (s.size() > unit.size() && s.compare(s.size() - unit.size(), unit.size(), unit) == 0)
          s = text::trim(s.substr(0, s.size() - unit.size()));
      if (auto n = canonical_number(s, false)) return good(*n);
      return bad(raw, "应为金额（元，最多两位小数）", "must be an amount in yuan (at most two decimals)");
    }
    case FieldType::region_code: {
      std::string s = text::remove_spaces(text::normalize_width(raw));
      if (s.size() == 12 && text::all_digits(s)) return good(s);
      return bad(raw, "应为 12 位数字", "must have 12 digits");
    }
    case FieldType::ref: {
      if (EntityId::from_hex(raw)) return good(raw);
      return bad(raw, "不是有效的记录编号", "is not a valid record id");
    }
  }
  return good(raw);
}

std::string display_value(const FieldDef& f, const std::string& stored, Lang lang) {
  switch (f.type) {
    case FieldType::enumeration:
    case FieldType::boolean:
      if (auto* o = f.option(stored)) return o->label(lang);
      return stored;
    case FieldType::period_enum: {
      auto colon = stored.find(':');
      if (colon == std::string::npos) return stored;
      auto* o = f.option(stored.substr(colon + 1));
      std::string label = o ? o->label(lang) : stored.substr(colon + 1);
      return label + (lang == Lang::zh ? "（" + stored.substr(0, colon) + "年）" : " (" + stored.substr(0, colon) + ")");
    }
    default: return stored;
  }
}

std::optional<CivilDate> birth_of_id(std::string_view id) {
  if (id.size() < 18) return std::nullopt;
  auto d = parse_date(id.substr(6, 8));
  return d;
}

char gender_of_id(std::string_view id) {
  if (id.size() < 17 || id[16] < '0' || id[16] > '9') return 0;
  return (id[16] - '0') % 2 ? 'M' : 'F';
}

bool has_error(const std::vector<Problem>& problems) {
  for (auto& p : problems)
    if (p.severity == Severity::error) return true;
  return false;
}

Problem format_problem(const EntitySchema& es, const FieldDef& f, const Normalized& n) {
  for (auto& r : es.rules)
    if (r.kind == RuleKind::format && r.field == f.name)
      return Problem{r.id, r.severity, r.field, render(r.zh, &f, Lang::zh, n.value, n.detail_zh, r.min, r.max),
                     render(r.en, &f, Lang::en, n.value, n.detail_en, r.min, r.max)};
  std::string id = std::string(entity_type_name(es.type)) + "." + f.name + ".format";
  return Problem{id, Severity::error, f.name, f.label_zh + "“" + n.value + "”无效：" + n.detail_zh,
                 f.label_en + " \"" + n.value + "\" is invalid: " + n.detail_en};
}

std::vector<Problem> validate_record(const EntitySchema& es, const FieldValues& values, const ValidationContext& ctx,
                                     bool check_format) {
  std::vector<Problem> out;
  RuleOut ro{es, out};
  // Format of every field that has a value: the declared format rule, or a generic error.
  for (auto& f : es.fields) {
    if (!check_format) break;
    auto it = values.find(f.id);
    if (it == values.end() || it->second.empty()) continue;
    auto n = normalize_value(f, it->second, ctx);
    if (!n.ok) out.push_back(format_problem(es, f, n));
  }
  for (auto& r : es.rules) {
    const FieldDef* f = es.field(r.field);
    const std::string* v = get(es, values, r.field);
    switch (r.kind) {
      case RuleKind::format: break;  // handled above
      case RuleKind::required: {
        bool any = false;
        for (auto& name : r.any_of) any = any || get(es, values, name);
        if (!any) ro.add(r, f, "", "", "", r.min, r.max);
        break;
      }
      case RuleKind::required_if: {
        bool all = true;
        for (auto& c : r.when) all = all && condition_holds(es, values, c, ctx.period_year);
        if (!all) break;
        bool any = false;
        for (auto& name : r.any_of) any = any || get(es, values, name);
        if (!any) ro.add(r, f, "", "", "", r.min, r.max);
        break;
      }
      case RuleKind::id_county: {
        if (!v || !ctx.counties || v->size() < 6) break;
        auto c = idn::check_id(*v, ctx.today, {});
        if (c.ok() && ctx.counties->find(c.id18.substr(0, 6)) == nullptr)
          ro.add(r, f, *v, c.id18.substr(0, 6), c.id18.substr(0, 6), r.min, r.max);
        break;
      }
      case RuleKind::age_range: {
        if (!v) break;
        auto birth = birth_of_id(*v);
        if (!birth || *birth > ctx.today) break;  // a birth date in the future is the format rule's
        int age = age_on(*birth, ctx.today);
        double lo = setting_value(ctx.settings, r.min_setting, static_cast<int>(r.min.value_or(16)));
        double hi = setting_value(ctx.settings, r.max_setting, static_cast<int>(r.max.value_or(64)));
        if (age < lo || age > hi) ro.add(r, f, *v, std::to_string(age), std::to_string(age), lo, hi);
        break;
      }
      case RuleKind::range: {
        if (!v) break;
        auto n = canonical_number(*v, false);
        if (!n) break;
        double d = std::stod(*n);
        if ((r.min && d < *r.min) || (r.max && d > *r.max)) ro.add(r, f, *v, "", "", r.min, r.max);
        break;
      }
      case RuleKind::not_future: {
        if (!v) break;
        if (f && f->type == FieldType::year_month) {
          auto m = parse_year_month(*v);
          if (m && *m > YearMonth{ctx.today.year, ctx.today.month}) ro.add(r, f, *v, "", "", r.min, r.max);
        } else {
          auto d = parse_date(*v);
          if (d && *d > ctx.today) ro.add(r, f, *v, "", "", r.min, r.max);
        }
        break;
      }
      case RuleKind::not_before: {
        const std::string* o = get(es, values, r.other);
        if (!v || !o) break;
        auto a = parse_year_month(*v);
        auto b = parse_year_month(*o);
        if (!a || !b) {
          auto da = parse_date(*v), db = parse_date(*o);
          if (da && db && *da < *db) ro.add(r, f, *v, *o, *o, r.min, r.max);
          break;
        }
        if (*a < *b) ro.add(r, f, *v, *o, *o, r.min, r.max);
        break;
      }
      case RuleKind::min_age_at: {
        if (!v || !ctx.person_birth) break;
        auto m = parse_year_month(*v);
        if (!m) break;
        CivilDate last_day{m->year, m->month, days_in_month(m->year, m->month)};
        if (age_on(*ctx.person_birth, last_day) < r.min.value_or(16)) ro.add(r, f, *v, "", "", r.min, r.max);
        break;
      }
      case RuleKind::region_known: {
        if (!v || v->size() != 12) break;
        if (!ctx.tree) {
          ro.add(r, f, *v, "（尚无本县区划树）", " (no region tree yet)", r.min, r.max);
          break;
        }
        auto* reg = ctx.tree->find(*v);
        if (!reg) {
          ro.add(r, f, *v, "", "", r.min, r.max);
        } else if (reg->retired) {
          std::string succ = ctx.tree->resolve(*v);
          ro.add(r, f, *v, "（已撤销，现为 " + succ + "）", " (retired; now " + succ + ")", r.min, r.max);
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace tz
