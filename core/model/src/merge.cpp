// The sync merge: set semantics of bases (live = applied changes no applied base names), the
// provisional winner, conflicts and deletion. Everything is kept sorted so the state is canonical.
#include "tz/model/merge.hpp"
#include "tz/util/sorted.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <tuple>

namespace tz {

namespace {

// The provisional order: (timestamp, device id) as SPEC §5 says; seq only breaks the tie a
// re-stamp could make between two versions of one device, so the order is total.
bool shown_before(const Version& a, const Version& b) {
  return std::tie(a.ts, a.id.device, a.id.seq) < std::tie(b.ts, b.id.device, b.id.seq);
}

Versions::iterator find_live(Versions& live, const VersionId& id) {
  auto it = std::lower_bound(live.begin(), live.end(), id, [](const Version& v, const VersionId& x) { return v.id < x; });
  return it != live.end() && it->id == id ? it : live.end();
}

void insert_live(Versions& live, Version v) {
  auto it = std::lower_bound(live.begin(), live.end(), v.id, [](const Version& a, const VersionId& x) { return a.id < x; });
  live.insert(it, std::move(v));
}

std::vector<VersionId> sorted_unique(std::vector<VersionId> ids) {
  sort_unique(ids);
  return ids;
}

Version version_of(const FieldChange& c, int64_t server_ms) {
  return Version{c.version, c.value, c.ts, c.collector, c.device_ms, server_ms};
}

// Earliest non-zero receipt time: commutative, so a duplicate's arrival order cannot matter.
int64_t earliest_receipt(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

// Deletion bases are kept only for live deletion versions: one that stops being live can no longer
// decide anything, and dropping it keeps the state a function of the live set.
void prune_deletion_bases(EntityState& e) {
  auto fit = e.fields.find(kDeletedField);
  std::vector<VersionId> stale;
  for (auto& [id, base] : e.deletion_bases)
    if (fit == e.fields.end() || find_live(fit->second.live, id) == fit->second.live.end()) stale.push_back(id);
  for (auto& id : stale) e.deletion_bases.erase(id);
}

bool is_deletion(const Version& v) { return !v.value.empty(); }

}  // namespace

MergeOutcome merge_apply(EntityState& e, const FieldChange& c, MergeMode mode, int64_t server_ms) {
  if (c.entity != e.id || c.type != e.type)
    throw std::invalid_argument("merge_apply: change " + c.version.str() + " is for another entity");
  FieldState& f = e.fields[c.field];

  // A version id is made once (SPEC: never reused); the same id again is a resend, unless its
  // content differs, which only a rolled-back device store produces and the caller must refuse.
  if (auto it = find_live(f.live, c.version); it != f.live.end()) {
    if (it->value != c.value) return MergeOutcome::id_reused;
    it->server_ms = earliest_receipt(it->server_ms, server_ms);
    return MergeOutcome::duplicate;
  }

  MergeOutcome outcome = MergeOutcome::added;
  if (mode == MergeMode::last_writer_wins_for_tests) {
    Version v = version_of(c, server_ms);
    const Version* top = provisional_winner(f);
    if (top && !shown_before(*top, v)) {
      outcome = MergeOutcome::superseded;
    } else {
      f.live.clear();
      f.live.push_back(std::move(v));
    }
  } else {
    // The base joins the superseded ids even when c itself is already superseded: a change named by
    // a later one still removes what it named, whichever of the three arrives first. Nearly every
    // change names nothing (a field's first value): the ids and the live set are then left as they are.
    if (!c.base.empty()) {
      auto base = sorted_unique(c.base);
      std::vector<VersionId> merged;
      merged.reserve(f.superseded.size() + base.size());
      std::set_union(f.superseded.begin(), f.superseded.end(), base.begin(), base.end(), std::back_inserter(merged));
      f.superseded = std::move(merged);
      erase_if(f.live, [&](const Version& v) { return std::binary_search(base.begin(), base.end(), v.id); });
    }
    if (std::binary_search(f.superseded.begin(), f.superseded.end(), c.version))
      outcome = MergeOutcome::superseded;
    else
      insert_live(f.live, version_of(c, server_ms));
  }

  if (c.field == kDeletedField) {
    // A restore ("") deletes nothing, so its base must not count towards is_deleted.
    if (outcome == MergeOutcome::added && !c.value.empty()) e.deletion_bases[c.version] = sorted_unique(c.base);
    prune_deletion_bases(e);
  }
  return outcome;
}

const Version* provisional_winner(const FieldState& f) {
  const Version* best = nullptr;
  for (auto& v : f.live)
    if (!best || shown_before(*best, v)) best = &v;
  return best;
}

std::vector<ValueView> values(const FieldState& f) {
  std::vector<ValueView> out;
  std::vector<const Version*> best;  // per entry, its highest version
  for (auto& v : f.live) {  // live is sorted by id, so each entry's versions are too
    auto it = std::find_if(out.begin(), out.end(), [&](const ValueView& x) { return x.value == v.value; });
    if (it == out.end()) {
      out.push_back(ValueView{v.value, {v}});
      best.push_back(&v);
    } else {
      size_t i = static_cast<size_t>(it - out.begin());
      it->versions.push_back(v);
      if (shown_before(*best[i], v)) best[i] = &v;
    }
  }
  std::vector<size_t> order(out.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return shown_before(*best[b], *best[a]); });
  std::vector<ValueView> sorted;
  sorted.reserve(out.size());
  for (size_t i : order) sorted.push_back(std::move(out[i]));
  return sorted;
}

bool in_conflict(const FieldState& f) {
  for (size_t i = 1; i < f.live.size(); ++i)
    if (f.live[i].value != f.live[0].value) return true;
  return false;
}

std::vector<VersionId> edit_base(const FieldState& f) {
  std::vector<VersionId> ids;
  if (const Version* top = provisional_winner(f))
    for (auto& v : f.live)
      if (v.value == top->value) ids.push_back(v.id);
  return ids;  // live is sorted by id
}

std::vector<VersionId> resolution_base(const FieldState& f) {
  std::vector<VersionId> ids;
  for (auto& v : f.live) ids.push_back(v.id);
  return ids;
}

std::vector<VersionId> deletion_base(const EntityState& e) {
  std::vector<VersionId> ids;
  for (auto& [field, f] : e.fields)
    for (auto& v : f.live) ids.push_back(v.id);
  return sorted_unique(std::move(ids));
}

std::vector<VersionId> unseen_by_deletion(const EntityState& e) {
  // The deletion field is a field like any other, so "named in it" means named in the base of one of
  // its live versions: concurrent deleters who together saw every live version delete the entity.
  std::vector<VersionId> named;
  for (auto& [id, base] : e.deletion_bases) named.insert(named.end(), base.begin(), base.end());
  named = sorted_unique(std::move(named));
  std::vector<VersionId> unseen;
  for (auto& [field, f] : e.fields) {
    if (field == kDeletedField) continue;
    for (auto& v : f.live)
      if (!std::binary_search(named.begin(), named.end(), v.id)) unseen.push_back(v.id);
  }
  return sorted_unique(std::move(unseen));
}

namespace {
bool has_live_deletion(const EntityState& e) {
  auto it = e.fields.find(kDeletedField);
  if (it == e.fields.end()) return false;
  return std::any_of(it->second.live.begin(), it->second.live.end(), is_deletion);
}
}  // namespace

bool is_deleted(const EntityState& e) { return has_live_deletion(e) && unseen_by_deletion(e).empty(); }

bool deletion_in_conflict(const EntityState& e) { return has_live_deletion(e) && !unseen_by_deletion(e).empty(); }

std::vector<ConflictView> conflicts(const EntityState& e) {
  std::vector<ConflictView> out;
  for (auto& [field, f] : e.fields) {
    bool deletion_open = field == kDeletedField && deletion_in_conflict(e);
    if (!in_conflict(f) && !deletion_open) continue;
    ConflictView cv;
    cv.field = field;
    cv.values = values(f);
    if (deletion_open) cv.unseen = unseen_by_deletion(e);
    out.push_back(std::move(cv));
  }
  return out;
}

Entity to_entity(const EntityState& e) {
  Entity out;
  out.type = e.type;
  out.id = e.id;
  for (auto& [field, f] : e.fields)
    if (field != kDeletedField && !f.live.empty()) out.fields[field].live = f.live;
  return out;
}

std::string digest(const EntityState& e) {
  // Lengths prefix free text (values, collectors), so no value can imitate the separators.
  auto text = [](const std::string& s) { return std::to_string(s.size()) + ":" + s; };
  std::string out = std::string(entity_type_name(e.type)) + " " + e.id.hex() + "\n";
  for (auto& [field, f] : e.fields) {
    for (auto& v : f.live)
      out += "f" + std::to_string(field) + " " + v.id.str() + " " + std::to_string(v.ts.ms) + "." +
             std::to_string(v.ts.counter) + " " + text(v.collector) + " " + std::to_string(v.device_ms) + " " +
             text(v.value) + "\n";
  }
  for (auto& cv : conflicts(e)) {
    out += "conflict f" + std::to_string(cv.field);
    for (auto& id : cv.unseen) out += " unseen " + id.str();
    out += "\n";
  }
  out += is_deleted(e) ? "deleted\n" : has_live_deletion(e) ? "deletion-conflict\n" : "live\n";
  return out;
}

}  // namespace tz

namespace tz {

void absorb_versions(EntityState& into, const EntityState& from) {
  for (auto& [field, fs] : from.fields) {
    FieldState& to = into.fields[field];
    for (auto& v : fs.live) {
      if (std::binary_search(to.superseded.begin(), to.superseded.end(), v.id)) continue;
      auto it = std::lower_bound(to.live.begin(), to.live.end(), v.id,
                                 [](const Version& a, const VersionId& b) { return a.id < b; });
      if (it != to.live.end() && it->id == v.id) continue;
      to.live.insert(it, v);
    }
    std::vector<VersionId> sup;
    sup.reserve(to.superseded.size() + fs.superseded.size());
    std::set_union(to.superseded.begin(), to.superseded.end(), fs.superseded.begin(), fs.superseded.end(),
                   std::back_inserter(sup));
    to.superseded = std::move(sup);
    if (to.live.empty() && to.superseded.empty()) into.fields.erase(field);
  }
  for (auto& entry : from.deletion_bases) {
    const VersionId& id = entry.first;  // (not a structured binding: clang 14 cannot capture one)
    auto f = into.fields.find(kDeletedField);
    if (f == into.fields.end()) continue;
    bool live = std::any_of(f->second.live.begin(), f->second.live.end(), [&](const Version& v) { return v.id == id; });
    if (live && !into.deletion_bases.count(id)) into.deletion_bases[id] = entry.second;
  }
}

void remove_live_versions(EntityState& e, const std::vector<VersionId>& ids) {
  std::vector<FieldId> empty;
  for (auto& [field, fs] : e.fields) {
    auto gone = [&](const Version& v) { return std::binary_search(ids.begin(), ids.end(), v.id); };
    if (field == kDeletedField)
      for (auto& v : fs.live)
        if (gone(v)) e.deletion_bases.erase(v.id);
    fs.live.erase(std::remove_if(fs.live.begin(), fs.live.end(), gone), fs.live.end());
    if (fs.live.empty() && fs.superseded.empty()) empty.push_back(field);
  }
  for (auto f : empty) e.fields.erase(f);
}

}  // namespace tz
