// The interactive form, generated from the schema: Chinese labels, numbered choices, defaults, skip
// logic (ask_if), validation at each field with the rule's message and a re-ask. Reads answers line
// by line, so it works on a terminal and through a pipe. It only collects answers; saving is the
// caller's, after the review.
#pragma once

#include <iosfwd>
#include <optional>
#include <set>
#include <string>

#include "tz/model/validation.hpp"

namespace tz::cli {

// Thrown when the input ends in the middle of a form: nothing is saved.
struct FormAborted {};

class Form {
 public:
  Form(std::istream& in, std::ostream& out, Lang lang, const ValidationContext& ctx)
      : in_(in), out_(out), lang_(lang), ctx_(ctx) {}

  // Asks every promptable field of es in schema order that its ask_if allows and that was not asked
  // yet, given the stored values (shown as defaults) and the answers so far. Answers go into
  // `answers` (canonical).
  void ask_fields(const EntitySchema& es, const FieldValues& stored, FieldValues& answers);
  // Asks one field; returns false when left empty (no value).
  bool ask_field(const EntitySchema& es, const FieldDef& f, const FieldValues& stored, FieldValues& answers);
  // A free-text question (e.g. which person); nullopt when left empty.
  std::optional<std::string> ask_text(const std::string& prompt);
  // A yes/no question with a default.
  bool confirm(const std::string& prompt, bool default_yes);
  // Prints the answers as "label：value" lines ("old → new" where a stored value changes).
  void review(const EntitySchema& es, const FieldValues& answers, const FieldValues& stored = {});
  // For a job's rules that need its person (age at the start).
  void set_person_birth(std::optional<CivilDate> birth) { ctx_.person_birth = birth; }
  // Lets ask_fields ask a field again.
  void forget(const EntitySchema& es, const FieldDef& f) { asked_.erase({es.type, f.id}); }
  void say(const std::string& line);

 private:
  std::string read_line();
  std::string default_display(const FieldDef& f, const FieldValues& stored) const;

  std::set<std::pair<EntityType, FieldId>> asked_;  // asked already (answered or left empty)
  std::istream& in_;
  std::ostream& out_;
  Lang lang_;
  ValidationContext ctx_;
};

// Installs a Ctrl-C handler that says nothing was saved and ends the process (exit 130); nothing is
// written before the final confirmation, and the save itself is one transaction.
void install_form_interrupt_handler(Lang lang);

}  // namespace tz::cli
