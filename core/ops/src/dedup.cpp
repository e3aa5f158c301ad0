// Deduplication over a store: inputs, report, and the reviewer's decisions in the server store.
#include "tz/ops/dedup.hpp"

#include "tz/sync/audit.hpp"

#include <sstream>

#include "tz/model/merge.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

std::vector<dedup::PersonInput> dedup_inputs(const DeviceStore& store) {
  const auto& ps = store.schema().entity(EntityType::person);
  const FieldId f_name = ps.require("name").id, f_id = ps.require("id_number").id, f_phone = ps.require("phone").id,
                f_rel = ps.require("relation").id;
  std::vector<dedup::PersonInput> out;
  store.scan(EntityType::person, [&](EntityRow&& row) {
    if (is_deleted(to_state(row.entity, row.merge))) return;
    dedup::PersonInput p;
    p.id = row.entity.id;
    p.name = row.entity.value_or(f_name);
    p.id_number = row.entity.value_or(f_id);
    p.phone = row.entity.value_or(f_phone);
    p.relation = row.entity.value_or(f_rel);
    if (row.parent) p.household = *row.parent;
    p.village = row.village;
    out.push_back(std::move(p));
  });
  return out;
}

namespace {

const char* kind_word(DedupDecision::Kind k) {
  switch (k) {
    case DedupDecision::Kind::dismiss: return "dismiss";
  }
  return "?";
}

std::string decision_line(const DedupDecision& d) {
  // The name of who decided goes last: it may hold spaces, never a line break (trimmed below).
  std::string by = d.by;
  for (auto& ch : by)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return std::string(kind_word(d.kind)) + " " + d.a.hex() + " " + d.b.hex() + " " + std::to_string(d.server_ms) + " " + by;
}

std::vector<DedupDecision> parse_decisions(const std::string& text) {
  std::vector<DedupDecision> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind, a, b, ms;
    if (!(ls >> kind >> a >> b >> ms) || kind != "dismiss" || !text::all_digits(ms) || ms.empty() || ms.size() > 18) continue;
    auto ia = EntityId::from_hex(a), ib = EntityId::from_hex(b);
    if (!ia || !ib) continue;
    DedupDecision d;
    d.kind = DedupDecision::Kind::dismiss;
    d.a = *ia;
    d.b = *ib;
    d.server_ms = std::stoll(ms);
    std::getline(ls, d.by);
    d.by = text::trim(d.by);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

std::vector<DedupDecision> dedup_decisions(const sync::ServerStore& server) {
  auto v = server.meta_value(kMetaDedupDecisions);
  return v ? parse_decisions(*v) : std::vector<DedupDecision>{};
}

dedup::PairSet dismissed_pairs(const sync::ServerStore& server) {
  dedup::PairSet out;
  for (auto& d : dedup_decisions(server))
    if (d.kind == DedupDecision::Kind::dismiss) out.insert(dedup::ordered(d.a, d.b));
  return out;
}

Status record_dedup_decision(sync::ServerStore& server, DedupDecision decision, std::string_view actor) {
  if (decision.a == decision.b) return Error(ErrorCode::invalid_input, {"the same person twice: " + decision.a.hex()});
  std::tie(decision.a, decision.b) = dedup::ordered(decision.a, decision.b);
  return sync::in_write_txn(server, [&] {
    // Read inside the write transaction: another process (serve) may have recorded one meanwhile.
    std::string text = server.meta_value(kMetaDedupDecisions).value_or("");
    bool known = false;
    for (auto& d : parse_decisions(text)) known |= d.kind == decision.kind && d.a == decision.a && d.b == decision.b;
    if (!known) {
      text += decision_line(decision) + "\n";
      server.put_meta_value(kMetaDedupDecisions, text);
      sync::append_audit_entry(server, decision.server_ms, "dismiss", actor,
                               sync::audit_summary({{"a", decision.a.hex()}, {"b", decision.b.hex()}}));
    }
  });
}

DuplicateReport find_duplicates(const DeviceStore& store, const dedup::PairSet& dismissed, const CivilDate& today,
                                unsigned threads) {
  DuplicateReport r;
  auto inputs = dedup_inputs(store);
  r.persons_checked = inputs.size();
  const auto keys = dedup::make_keys(inputs, today, threads);
  r.exact = dedup::exact_groups(keys);
  dedup::Options opt;
  opt.threads = threads;
  r.probable = dedup::probable_pairs(keys, dismissed, opt);
  std::map<EntityId, size_t> index;
  for (size_t i = 0; i < inputs.size(); ++i) index.emplace(inputs[i].id, i);
  auto keep = [&](const EntityId& id) {
    auto it = index.find(id);
    if (it != index.end()) r.persons.emplace(id, inputs[it->second]);
  };
  for (auto& g : r.exact)
    for (auto& id : g.ids) keep(id);
  for (auto& p : r.probable) {
    keep(p.a);
    keep(p.b);
  }
  return r;
}

}  // namespace tz::ops
