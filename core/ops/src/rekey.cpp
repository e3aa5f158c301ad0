// Recomputing natural-key ids under the county secret delivered at enrolment.
#include "tz/ops/rekey.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "tz/model/id_number.hpp"

namespace tz::ops {

namespace {

using Values = std::unordered_map<FieldId, std::set<std::string>>;

// Every value each entity's fields ever had on this device: live versions and the change log.
struct History {
  std::unordered_map<EntityId, Values, IdHash> values;
  std::unordered_map<EntityId, EntityType, IdHash> types;

  const std::set<std::string>& of(const EntityId& id, FieldId f) const {
    static const std::set<std::string> kNone;
    auto it = values.find(id);
    if (it == values.end()) return kNone;
    auto v = it->second.find(f);
    return v == it->second.end() ? kNone : v->second;
  }
};

History history_of(const DeviceStore& store) {
  History h;
  store.scan(std::nullopt, [&](EntityRow&& row) {
    h.types[row.entity.id] = row.entity.type;
    auto& vals = h.values[row.entity.id];
    for (auto& [f, fv] : row.entity.fields)
      for (auto& v : fv.live) vals[f].insert(v.value);
  });
  for (auto& c : store.changes_after(0))
    if (h.types.count(c.entity)) h.values[c.entity][c.field].insert(c.value);
  return h;
}

}  // namespace

std::vector<std::pair<EntityId, EntityId>> rekey_plan(const DeviceStore& store, std::string_view county_secret,
                                                      std::optional<int> period_year) {
  const auto& old_keys = store.natural_keys();
  crypto::NaturalKeys new_keys(county_secret);
  const Schema& schema = store.schema();
  const auto& hs = schema.entity(EntityType::household);
  const auto& ps = schema.entity(EntityType::person);
  const auto& js = schema.entity(EntityType::job);
  const auto& ss = schema.entity(EntityType::subsidy);
  const FieldId f_village = hs.require("village_code").id, f_hhno = hs.require("household_no").id;
  const FieldId f_idn = ps.require("id_number").id, f_name = ps.require("name").id, f_hh = ps.require("household_id").id;
  const FieldId f_job_person = js.require("person_id").id, f_start = js.require("start_month").id,
                f_end = js.require("end_month").id;
  const FieldId f_sub_person = ss.require("person_id").id, f_rule = ss.require("rule").id, f_year = ss.require("period").id;
  const int own_year = store.info().config.period.year;

  History h = history_of(store);
  std::unordered_map<EntityId, EntityId, IdHash> moved;
  auto mapped = [&](const EntityId& id) {
    auto it = moved.find(id);
    return it == moved.end() ? id : it->second;
  };
  std::vector<EntityId> by_type[8];
  for (auto& [id, t] : h.types) by_type[static_cast<size_t>(t)].push_back(id);
  for (auto& ids : by_type) std::sort(ids.begin(), ids.end());

  for (auto& id : by_type[static_cast<size_t>(EntityType::household)]) {
    bool done = false;
    for (auto& v : h.of(id, f_village)) {
      for (auto& n : h.of(id, f_hhno))
        if (old_keys.household(v, n) == id) {
          moved[id] = new_keys.household(v, n);
          done = true;
          break;
        }
      if (done) break;
    }
  }
  for (auto& id : by_type[static_cast<size_t>(EntityType::person)]) {
    bool done = false;
    for (auto& v : h.of(id, f_idn)) {
      auto c = idn::check_id(v, CivilDate{9999, 12, 31});
      if (c.ok() && old_keys.person(c.id18) == id) {
        moved[id] = new_keys.person(c.id18);
        done = true;
        break;
      }
    }
    if (done) continue;
    std::set<std::string> names = h.of(id, f_name);
    names.insert("");  // a row without a name
    for (auto& hh_hex : h.of(id, f_hh)) {
      auto hh = EntityId::from_hex(hh_hex);
      if (!hh) continue;
      for (auto& name : names)
        if (old_keys.person_without_id(*hh, name) == id) {
          moved[id] = new_keys.person_without_id(mapped(*hh), name);
          done = true;
          break;
        }
      if (done) break;
    }
  }
  for (auto& id : by_type[static_cast<size_t>(EntityType::job)]) {
    // The year a roster job was keyed for: the store's period year, the years of the job's months,
    // or a recent one.
    std::vector<int> years;
    if (own_year > 0)
      for (int y = own_year; y >= own_year - 10; --y) years.push_back(y);
    if (own_year > 0) years.push_back(own_year + 1);
    for (FieldId f : {f_start, f_end})
      for (auto& m : h.of(id, f))
        if (m.size() >= 4 && std::all_of(m.begin(), m.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }))
          years.push_back(std::stoi(m.substr(0, 4)));
    bool done = false;
    for (auto& p_hex : h.of(id, f_job_person)) {
      auto p = EntityId::from_hex(p_hex);
      if (!p) continue;
      for (int y : years)
        if (old_keys.roster_job(*p, y) == id) {
          int to = period_year && y == own_year ? *period_year : y;
          moved[id] = new_keys.roster_job(mapped(*p), to);
          done = true;
          break;
        }
      if (done) break;
    }
  }
  for (auto& id : by_type[static_cast<size_t>(EntityType::subsidy)]) {
    bool done = false;
    for (auto& p_hex : h.of(id, f_sub_person)) {
      auto p = EntityId::from_hex(p_hex);
      if (!p) continue;
      for (auto& rule : h.of(id, f_rule)) {
        for (auto& y : h.of(id, f_year)) {
          int year = 0;
          try {
            year = std::stoi(y);
          } catch (...) {
            continue;
          }
          if (old_keys.subsidy(*p, rule, year) == id) {
            moved[id] = new_keys.subsidy(mapped(*p), rule, year);
            done = true;
            break;
          }
        }
        if (done) break;
      }
      if (done) break;
    }
  }
  std::vector<std::pair<EntityId, EntityId>> out;
  for (auto& [from, to] : moved)
    if (from != to) out.emplace_back(from, to);
  std::sort(out.begin(), out.end());
  return out;
}

Result<size_t> rekey_store(DeviceStore& store, std::string_view county_secret, std::optional<int> period_year) {
  if (store.info().ever_synced())
    return Error(ErrorCode::invalid_input,
                 {bilingual("本设备已与服务器同步过，不能再更换县级密钥重算编号",
                            "this store has already synced with a server; its ids can no longer be re-keyed")});
  if (!store.unlocked()) return Error(ErrorCode::wrong_passphrase);
  try {
    auto plan = rekey_plan(store, county_secret, period_year);
    if (auto st = store.rekey(plan, county_secret); !st) return st.error();
    size_t changed = 0;
    for (const auto& [from, to] : plan) changed += from == to ? 0 : 1;
    return changed;
  } catch (const Failure& f) {
    return f.error();
  }
}

}  // namespace tz::ops
