// The schema engine: entity types, fields (stable numeric ids, zh/en labels, aliases, enum options),
// rules and settings, loaded from schemas/*.json. Forms, import columns, validation and lists are
// generated from it, so a field added only to the schema appears everywhere.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tz/model/ids.hpp"
#include "tz/util/error.hpp"

namespace tz {

enum class FieldType { text, id_number, phone, enumeration, boolean, date, year_month, integer, money, region_code, ref, period_enum };
std::optional<FieldType> field_type_from_name(std::string_view name);

enum class Severity { error, warning };

struct EnumOption {
  std::string code;
  std::string zh;
  std::string en;
  std::vector<std::string> aliases;
  const std::string& label(Lang lang) const { return lang == Lang::zh ? zh : en; }
};

// A condition (of a required_if rule, or of when a form asks a field): the field is empty, not
// empty, or one of the codes.
struct Condition {
  enum class Op { empty, not_empty, in };
  std::string field;
  Op op = Op::not_empty;
  std::vector<std::string> values;
};

struct FieldDef {
  FieldId id = 0;
  std::string name;
  FieldType type = FieldType::text;
  std::string label_zh;
  std::string label_en;
  std::vector<std::string> aliases;
  std::vector<EnumOption> options;  // enumeration, boolean and period_enum
  bool pii = false;                 // encrypted at rest, masked where shown
  bool list = false;                // shown as an extra column in lists
  bool prompt = true;               // asked in the interactive form
  size_t max_length = 200;
  std::string ref;                  // for ref: the entity type referred to ("" = household or person)
  std::vector<Condition> ask_if;    // the form asks this field only when all hold (skip logic)
  std::string default_value;        // the form's default ("today" for dates = the device's date)
  const std::string& label(Lang lang) const { return lang == Lang::zh ? label_zh : label_en; }
  const EnumOption* option(std::string_view code) const;
  // An option by code, label or alias (input matching); built when the schema loads.
  const EnumOption* match_option(std::string_view input) const;

  std::unordered_map<std::string, size_t> option_keys_;  // lookup_key(code/label/alias) -> index
};

enum class RuleKind { required, format, id_county, age_range, range, not_future, not_before, required_if, min_age_at, region_known };

struct Rule {
  std::string id;
  RuleKind kind = RuleKind::required;
  Severity severity = Severity::error;
  std::string field;                 // the field the rule reports on
  std::vector<std::string> any_of;   // required / required_if: at least one of these (default: field)
  std::string other;                 // not_before: the field this one must not precede
  std::optional<double> min;
  std::optional<double> max;
  std::string min_setting;           // age_range: settings that give min / max
  std::string max_setting;
  std::vector<Condition> when;       // required_if: all must hold
  std::string zh;                    // message templates: {label} {value} {detail} {min} {max}
  std::string en;
};

struct EntitySchema {
  EntityType type = EntityType::person;
  std::string label_zh;
  std::string label_en;
  std::vector<FieldDef> fields;  // in form order
  std::vector<Rule> rules;

  const FieldDef* field(std::string_view name) const;
  const FieldDef* field(FieldId id) const;
  // By schema name, Chinese label, English label or alias (trimmed; ASCII case-insensitive).
  const FieldDef* find_field(std::string_view name_label_or_alias) const;
  const FieldDef& require(std::string_view name) const;  // throws schema_error when absent
  const std::string& label(Lang lang) const { return lang == Lang::zh ? label_zh : label_en; }

  std::unordered_map<std::string, size_t> by_key_;   // normalised name/label/alias -> index
  // Looked up by std::string_view without making a string (rules look fields up for every record).
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> by_name_;  // schema name -> index
};

struct Settings {
  int labour_age_min = 16;
  int labour_age_max = 64;
  bool farming_counts_as_employment = false;
};

// The columns of one list kind: "entity.field" or a derived column name.
struct ListSpec {
  std::string kind;      // employed, unemployed, willing, returned, flagged
  std::string title_zh;
  std::string title_en;
  std::vector<std::string> columns;
};

class Schema {
 public:
  // files: file name -> JSON text, including "manifest.json", which names the others.
  static Result<Schema> parse(const std::map<std::string, std::string>& files);

  int version() const { return version_; }
  const EntitySchema& entity(EntityType t) const;
  const Settings& settings() const { return settings_; }
  Settings& mutable_settings() { return settings_; }
  const std::vector<ListSpec>& lists() const { return lists_; }
  const ListSpec* list(std::string_view kind) const;

 private:
  int version_ = 0;
  std::map<EntityType, EntitySchema> entities_;
  Settings settings_;
  std::vector<ListSpec> lists_;
};

// Normalises a header or user-typed key for lookup: trims, full-width to half-width, lower-case ASCII.
std::string lookup_key(std::string_view s);

}  // namespace tz
