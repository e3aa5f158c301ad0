// The interactive form's questions and answers.
#include "form.hpp"

#include <unistd.h>

#include <csignal>
#include <iostream>

#include "i18n.hpp"
#include "tz/util/text.hpp"

namespace tz::cli {

namespace {

const char* g_interrupt_message = "";

extern "C" void on_interrupt(int) {
  ssize_t n = ::write(STDOUT_FILENO, g_interrupt_message, std::char_traits<char>::length(g_interrupt_message));
  (void)n;
  _exit(130);
}

}  // namespace

void install_form_interrupt_handler(Lang lang) {
  static std::string message;
  message = "\n" + tr(lang, "form_interrupted") + "\n";
  g_interrupt_message = message.c_str();
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

std::string Form::read_line() {
  std::string line;
  if (!std::getline(in_, line)) {
    out_ << "\n" << tr(lang_, "form_input_ended") << "\n";
    throw FormAborted{};
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!isatty(STDIN_FILENO)) out_ << "\n";  // answers from a pipe are not echoed: keep one prompt per line
  return text::trim(line);
}

void Form::say(const std::string& line) { out_ << line << "\n"; }

std::optional<std::string> Form::ask_text(const std::string& prompt) {
  out_ << prompt << (lang_ == Lang::zh ? "：" : ": ") << std::flush;
  std::string line = read_line();
  if (line.empty()) return std::nullopt;
  return line;
}

bool Form::confirm(const std::string& prompt, bool default_yes) {
  for (;;) {
    out_ << prompt << " (" << tr(lang_, "yes_no") << ") [" << tr(lang_, default_yes ? "yes" : "no") << "]"
         << (lang_ == Lang::zh ? "：" : ": ") << std::flush;
    std::string a = read_line();
    if (a.empty()) return default_yes;
    std::string k = lookup_key(a);
    if (k == "是" || k == "y" || k == "yes" || k == "1" || k == "好" || k == "确认") return true;
    if (k == "否" || k == "n" || k == "no" || k == "0" || k == "不") return false;
    out_ << "  " << tr(lang_, "answer_yes_no") << "\n";
  }
}

std::string Form::default_display(const FieldDef& f, const FieldValues& stored) const {
  if (auto it = stored.find(f.id); it != stored.end() && !it->second.empty()) return display_value(f, it->second, lang_);
  if (f.default_value == "today") return format_date(ctx_.today);
  if (!f.default_value.empty()) return display_value(f, f.default_value, lang_);
  return {};
}

bool Form::ask_field(const EntitySchema& es, const FieldDef& f, const FieldValues& stored, FieldValues& answers) {
  asked_.insert({es.type, f.id});
  // A field an error-level "required" rule demands is re-asked until answered.
  const Rule* required = nullptr;
  for (auto& r : es.rules)
    if (r.kind == RuleKind::required && r.severity == Severity::error && r.any_of.size() == 1 && r.field == f.name)
      required = &r;
  for (;;) {
    out_ << f.label(lang_);
    if (!f.options.empty()) {
      out_ << " (";
      for (size_t i = 0; i < f.options.size(); ++i) out_ << (i ? "  " : "") << (i + 1) << "." << f.options[i].label(lang_);
      out_ << ")";
    }
    std::string def = default_display(f, stored);
    if (!def.empty()) out_ << " [" << def << "]";
    out_ << (lang_ == Lang::zh ? "：" : ": ") << std::flush;
    std::string a = read_line();
    if (a.empty()) {
      if (stored.count(f.id)) return true;  // keep what is stored
      if (!f.default_value.empty()) {
        a = f.default_value == "today" ? format_date(ctx_.today) : f.default_value;
      } else if (required) {
        FieldValues none;
        for (auto& p : validate_record(es, none, ctx_, false))
          if (p.rule_id == required->id) out_ << "  × " << p.message(lang_) << "\n";
        continue;
      } else {
        // Left empty: say so when a rule wants it (e.g. 未填写身份证号), without insisting.
        FieldValues now = stored;
        for (auto& [k, v] : answers) now[k] = v;
        for (auto& p : validate_record(es, now, ctx_, false))
          if (p.field == f.name && p.severity == Severity::warning) out_ << "  ! " << p.message(lang_) << "\n";
        return false;
      }
    }
    if (!f.options.empty() && text::all_digits(a) && a.size() <= 2) {
      size_t k = std::stoul(a);
      if (k >= 1 && k <= f.options.size()) a = f.options[k - 1].code;
    }
    Normalized n = normalize_value(f, a, ctx_);
    if (!n.ok) {
      Problem p = format_problem(es, f, n);
      out_ << "  " << (p.severity == Severity::error ? "× " : "! ") << p.message(lang_) << "\n";
      if (p.severity == Severity::error) continue;  // re-ask
    }
    // The record's other rules that report on this field (ranges, dates, cross-field), judged on
    // what is known so far: an error is explained and the field asked again.
    FieldValues now = stored;
    for (auto& [k, v] : answers) now[k] = v;
    now[f.id] = n.value;
    bool refused = false;
    for (auto& p : validate_record(es, now, ctx_, false)) {
      if (p.field != f.name || p.rule_id.find(".required") != std::string::npos) continue;
      out_ << "  " << (p.severity == Severity::error ? "× " : "! ") << p.message(lang_) << "\n";
      refused = refused || p.severity == Severity::error;
    }
    if (refused) continue;
    answers[f.id] = n.value;
    return true;
  }
}

void Form::ask_fields(const EntitySchema& es, const FieldValues& stored, FieldValues& answers) {
  for (auto& f : es.fields) {
    if (!f.prompt || f.type == FieldType::ref || answers.count(f.id) || asked_.count({es.type, f.id})) continue;
    FieldValues now = stored;
    for (auto& [k, v] : answers) now[k] = v;
    bool ask = true;
    for (auto& c : f.ask_if) ask = ask && condition_holds(es, now, c, ctx_.period_year);
    if (ask) ask_field(es, f, stored, answers);
  }
}

void Form::review(const EntitySchema& es, const FieldValues& answers, const FieldValues& stored) {
  out_ << tr(lang_, "form_review", {es.label(lang_)}) << "\n";
  for (auto& f : es.fields) {
    auto it = answers.find(f.id);
    if (it == answers.end() || f.type == FieldType::ref) continue;
    auto old = stored.find(f.id);
    if (old != stored.end() && old->second == it->second) continue;  // unchanged
    out_ << "  " << f.label(lang_) << (lang_ == Lang::zh ? "：" : ": ");
    if (old != stored.end()) out_ << display_value(f, old->second, lang_) << " → ";
    out_ << display_value(f, it->second, lang_) << "\n";
  }
}

}  // namespace tz::cli
