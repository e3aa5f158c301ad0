#include "tz/ops/subsidy_records.hpp"

#include <unordered_set>

#include "tz/model/merge.hpp"
#include "tz/model/validation.hpp"
#include "tz/ops/lists.hpp"

namespace tz::ops {

namespace {

constexpr const char* kEntitled = "01";  // 应享
constexpr const char* kPaid = "02";      // 已发放

struct SubsidyFields {
  FieldId person, payee, kind, amount, period, rule, status;
  const FieldDef* amount_def;
  explicit SubsidyFields(const Schema& schema) {
    const auto& s = schema.entity(EntityType::subsidy);
    person = s.require("person_id").id;
    payee = s.require("payee").id;
    kind = s.require("kind").id;
    amount = s.require("amount").id;
    period = s.require("period").id;
    rule = s.require("rule").id;
    status = s.require("status").id;
    amount_def = &s.require("amount");
  }
};

// The stored (canonical) form of an amount in yuan.
std::string amount_value(const FieldDef& def, double yuan) {
  Normalized n = normalize_value(def, money_text(yuan), ValidationContext{});
  return n.ok ? n.value : money_text(yuan);
}

}  // namespace

Result<SubsidyRecordCounts> record_subsidies(DeviceStore& store, const std::vector<SubsidyLine>& lines, const std::string& region,
                                             const EditContext& ctx) {
  if (auto st = check_region(region); !st) return st.error();
  const Period& period = store.info().config.period;
  if (!period.is_set()) return Error(ErrorCode::period_unset);
  const SubsidyFields f(store.schema());
  const std::string year = std::to_string(period.year);
  const auto& keys = store.natural_keys();

  SubsidyRecordCounts counts;
  Editor ed(store, ctx);
  std::unordered_set<EntityId, IdHash> due;
  for (const SubsidyLine& line : lines) {
    const EntityId id = keys.subsidy(line.person, line.rule, period.year);
    if (!due.insert(id).second) continue;  // one record per (person, rule, period)
    bool created = false;
    Entity& e = ed.get_or_create(EntityType::subsidy, id, &created);
    if (!created && e.value_or(f.status) == kPaid) {
      ++counts.paid;
      continue;
    }
    // A record withdrawn before and due again is restored (an empty deletion reason), keeping its history.
    const bool withdrawn_before = !created && is_deleted(*ed.state(id));
    if (withdrawn_before) ed.delete_entity(e, "");
    bool changed = false;
    changed |= ed.set(e, f.person, line.person.hex());
    changed |= ed.set(e, f.payee, line.payee);
    changed |= ed.set(e, f.kind, line.kind);
    changed |= ed.set(e, f.amount, amount_value(*f.amount_def, line.amount));
    changed |= ed.set(e, f.period, year);
    changed |= ed.set(e, f.rule, line.rule);
    changed |= ed.set(e, f.status, kEntitled);
    if (created || withdrawn_before)
      ++counts.added;
    else if (changed)
      ++counts.updated;
    else
      ++counts.unchanged;
  }
  // Entitlements of this period and region recorded before and no longer due.
  std::vector<EntityId> stale;
  store.scan(EntityType::subsidy, [&](EntityRow&& row) {
    if (!region.empty() && row.village.rfind(region, 0) != 0) return;
    const Entity& e = row.entity;
    if (is_deleted(to_state(e, row.merge))) return;  // withdrawn before
    if (due.count(e.id) || e.value_or(f.period) != year || e.value_or(f.status) != kEntitled) return;
    stale.push_back(e.id);
  });
  for (const EntityId& id : stale) {
    if (Entity* e = ed.find(id)) {
      ed.delete_entity(*e, "按现行补贴规则已不再应享");  // shown to reviewers and collectors as the reason
      ++counts.withdrawn;
    }
  }
  if (auto st = ed.commit(); !st) return st.error();
  return counts;
}

Result<SubsidyPaid> mark_subsidy_paid(DeviceStore& store, const Policy& policy, const EntityId& person, const std::string& kind,
                               const EditContext& ctx) {
  const Period& period = store.info().config.period;
  if (!period.is_set()) return Error(ErrorCode::period_unset);
  const SubsidyFields f(store.schema());
  const FieldDef& kind_def = store.schema().entity(EntityType::subsidy).require("kind");
  // The kind by code, label or alias (稳岗补贴, job_keeping).
  const Normalized code = normalize_value(kind_def, kind, ValidationContext{});
  const std::string* rule = !code.ok                       ? nullptr
                            : code.value == "transport"    ? &policy.transport_rule
                            : code.value == "referral"     ? &policy.referral_rule
                            : code.value == "job_keeping"  ? &policy.keeping_rule
                                                           : nullptr;
  if (!rule)
    return Error(ErrorCode::invalid_input,
                 {bilingual("--kind “" + kind + "”不是补贴类型（一次性交通补贴 transport、职业介绍补贴 referral、稳岗补贴 job_keeping）",
                            "--kind \"" + kind + "\" is not a subsidy kind (transport, referral or job_keeping)")});
  const EntityId id = store.natural_keys().subsidy(person, *rule, period.year);
  Editor ed(store, ctx);
  Entity* e = ed.find(id);
  if (!e) {
    const std::string year = std::to_string(period.year);
    return Error(ErrorCode::not_found,
                 {bilingual("该人员没有已记录的 " + year + " 年度" + display_value(kind_def, code.value, Lang::zh) +
                                "（先运行 subsidies record；不符合规则的不会记录）",
                            "no recorded " + display_value(kind_def, code.value, Lang::en) + " of " + year +
                                " for this person (run subsidies record first; nothing is recorded where no rule applies)")});
  }
  SubsidyPaid out{code.value, ed.set(*e, f.status, kPaid)};
  if (out.changed)
    if (auto st = ed.commit(); !st) return st.error();
  return out;
}

}  // namespace tz::ops
