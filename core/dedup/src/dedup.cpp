// Exact groups by normalised ID; probable pairs by blocking and scoring (docs/dedup.md).
#include "tz/dedup/dedup.hpp"

#include <algorithm>
#include <functional>
#include <iterator>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "tz/model/id_number.hpp"
#include "tz/model/phone.hpp"
#include "tz/util/encoding.hpp"
#include "tz/util/parallel.hpp"
#include "tz/util/text.hpp"
#include "tz/util/sorted.hpp"

namespace tz::dedup {

namespace {

// Weights (docs/dedup.md). A name match is required; the rest adds up.
constexpr int kSameName = 40;
constexpr int kSamePinyin = 30;
constexpr int kSimilarName = 15;
constexpr int kSameBirth = 20;
constexpr int kIdNear = 15;
constexpr int kSameHousehold = 30;
constexpr int kSamePhone = 20;
constexpr int kSameVillage = 10;

// Whether the first 17 characters of two different 18-character IDs are one typing slip apart: one
// character replaced, or two adjacent characters swapped. (The 18th is the check character, which
// follows from the rest.) Two people of one birth date in one county differ in two or three of the
// sequence digits ten times as often as in one.
bool one_slip_apart(const std::string& a, const std::string& b) {
  size_t first = 17, count = 0;
  for (size_t i = 0; i < 17; ++i)
    if (a[i] != b[i]) {
      if (count++ == 0) first = i;
    }
  if (count == 1) return true;
  return count == 2 && first + 1 < 17 && a[first] == b[first + 1] && a[first + 1] == b[first];
}

// Same number of syllables, exactly one different.
bool one_syllable_apart(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size() || a.size() < 2) return false;
  int diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += a[i] != b[i];
  return diff == 1;
}

uint64_t mix(uint64_t h, std::string_view s) {
  // FNV-1a, then a final avalanche: block keys only need to spread, collisions are harmless (a
  // candidate pair is scored on its fields, never on its block).
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  h ^= 0xff;
  h *= 1099511628211ULL;
  return h;
}

uint64_t finish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::string_view reason_code(Reason r) {
  switch (r) {
    case Reason::same_name: return "same_name";
    case Reason::same_pinyin: return "same_pinyin";
    case Reason::similar_name: return "similar_name";
    case Reason::same_birth: return "same_birth";
    case Reason::id_near: return "id_near";
    case Reason::id_missing: return "id_missing";
    case Reason::same_household: return "same_household";
    case Reason::same_phone: return "same_phone";
    case Reason::same_village: return "same_village";
  }
  return "unknown";
}

std::pair<EntityId, EntityId> ordered(const EntityId& a, const EntityId& b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

PersonKeys make_keys(const PersonInput& p, const CivilDate& today) {
  PersonKeys k;
  k.id = p.id;
  k.name = text::remove_spaces(text::trim(p.name));
  k.syllables = encoding::name_syllables(k.name);
  for (auto& s : k.syllables) k.pinyin += s;
  if (!text::trim(p.id_number).empty()) {
    auto c = idn::check_id(p.id_number, today);
    if (c.ok()) {
      k.id18 = c.id18;
      k.birth = c.birth;
      k.has_birth = true;
    }
  }
  if (!text::trim(p.phone).empty()) {
    auto ph = phone::check_phone(p.phone);
    if (ph.ok) k.phone = ph.normalized;
  }
  k.household = p.household;
  k.village = p.village;
  k.relation = p.relation;
  return k;
}

std::vector<PersonKeys> make_keys(const std::vector<PersonInput>& persons, const CivilDate& today, unsigned threads) {
  std::vector<PersonKeys> out(persons.size());
  parallel_ranges(persons.size(), threads, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) out[i] = make_keys(persons[i], today);
  });
  return out;
}

std::vector<ExactGroup> exact_groups(const std::vector<PersonKeys>& persons) {
  std::vector<const PersonKeys*> with_id;
  with_id.reserve(persons.size());
  for (auto& p : persons)
    if (!p.id18.empty()) with_id.push_back(&p);
  std::sort(with_id.begin(), with_id.end(), [](const PersonKeys* a, const PersonKeys* b) {
    return a->id18 != b->id18 ? a->id18 < b->id18 : a->id < b->id;
  });
  std::vector<ExactGroup> groups;
  for (size_t i = 0; i < with_id.size();) {
    size_t j = i + 1;
    while (j < with_id.size() && with_id[j]->id18 == with_id[i]->id18) ++j;
    if (j - i > 1) {
      ExactGroup g{with_id[i]->id18, {}};
      for (size_t k = i; k < j; ++k)
        if (g.ids.empty() || !(g.ids.back() == with_id[k]->id)) g.ids.push_back(with_id[k]->id);
      if (g.ids.size() > 1) groups.push_back(std::move(g));
    }
    i = j;
  }
  return groups;
}

std::optional<Pair> score_pair(const PersonKeys& x, const PersonKeys& y) {
  if (x.id == y.id) return std::nullopt;
  const bool both_ids = !x.id18.empty() && !y.id18.empty();
  if (both_ids && x.id18 == y.id18) return std::nullopt;  // exact: merged, not proposed
  const bool same_household = !x.household.is_zero() && x.household == y.household;
  Pair p;
  std::tie(p.a, p.b) = ordered(x.id, y.id);
  auto add = [&](Reason r, int w) {
    p.reasons.push_back(r);
    p.score += w;
  };
  // The name must match: by characters, by reading, or (across households) but for one syllable.
  // Within a household, names one character apart are siblings (字辈: 张建国 / 张建军), not typos.
  if (!x.name.empty() && x.name == y.name)
    add(Reason::same_name, kSameName);
  else if (!x.pinyin.empty() && x.syllables == y.syllables)
    add(Reason::same_pinyin, kSamePinyin);
  else if (!same_household && one_syllable_apart(x.syllables, y.syllables))
    add(Reason::similar_name, kSimilarName);
  else
    return std::nullopt;
  if (both_ids) {
    // Two valid, different IDs are two people unless one is a typo of the other: the same birth
    // date and one slip apart. Father and son of one name, a common name in a
    // village: different birth dates. Twins and homophone siblings: one household, names not the
    // same characters.
    if (x.birth != y.birth || !one_slip_apart(x.id18, y.id18)) return std::nullopt;
    if (same_household && x.name != y.name) return std::nullopt;
    add(Reason::same_birth, kSameBirth);
    add(Reason::id_near, kIdNear);
  } else {
    p.reasons.push_back(Reason::id_missing);
  }
  if (same_household) {
    // Father and son of one name without an ID on one of them: the relation to the head tells.
    if (!x.relation.empty() && !y.relation.empty() && x.relation != y.relation) return std::nullopt;
    add(Reason::same_household, kSameHousehold);
  }
  if (!x.phone.empty() && x.phone == y.phone) add(Reason::same_phone, kSamePhone);
  if (!same_household && !x.village.empty() && x.village == y.village) add(Reason::same_village, kSameVillage);
  return p;
}

std::vector<Pair> probable_pairs(const std::vector<PersonKeys>& persons, const PairSet& dismissed,
                                 const Options& options) {
  // Block keys, tagged by kind so two kinds never share a block.
  const size_t n = persons.size();
  std::vector<std::pair<uint64_t, uint32_t>> keyed;
  keyed.reserve(n * 4);
  for (size_t i = 0; i < n; ++i) {
    const PersonKeys& p = persons[i];
    const auto idx = static_cast<uint32_t>(i);
    if (!p.household.is_zero()) keyed.emplace_back(finish(mix(1, p.household.view())), idx);
    if (!p.phone.empty()) keyed.emplace_back(finish(mix(2, p.phone)), idx);
    if (!p.pinyin.empty()) {
      if (!p.village.empty()) keyed.emplace_back(finish(mix(mix(3, p.pinyin), p.village)), idx);
      if (p.has_birth) {
        const char date[4] = {static_cast<char>(p.birth.year >> 8), static_cast<char>(p.birth.year & 0xff),
                              static_cast<char>(p.birth.month), static_cast<char>(p.birth.day)};
        keyed.emplace_back(finish(mix(mix(4, p.pinyin), std::string_view(date, 4))), idx);
      }
    }
  }
  std::sort(keyed.begin(), keyed.end());
  // Candidate pairs (i < j), each once.
  std::vector<uint64_t> candidates;
  for (size_t b = 0; b < keyed.size();) {
    size_t e = b + 1;
    while (e < keyed.size() && keyed[e].first == keyed[b].first) ++e;
    if (e - b > 1 && e - b <= options.max_block)
      for (size_t i = b; i < e; ++i)
        for (size_t j = i + 1; j < e; ++j) {
          uint64_t lo = keyed[i].second, hi = keyed[j].second;
          if (lo > hi) std::swap(lo, hi);
          if (lo != hi) candidates.push_back(lo << 32 | hi);
        }
    b = e;
  }
  sort_unique(candidates);

  const unsigned threads = std::max(1u, options.threads);
  std::vector<std::vector<Pair>> found(threads);
  std::vector<std::pair<size_t, size_t>> ranges;
  const size_t step = (candidates.size() + threads - 1) / threads;
  for (unsigned t = 0; t < threads; ++t)
    ranges.emplace_back(std::min(candidates.size(), t * step), std::min(candidates.size(), (t + 1) * step));
  auto work = [&](unsigned t) {
    for (size_t c = ranges[t].first; c < ranges[t].second; ++c) {
      const PersonKeys& x = persons[candidates[c] >> 32];
      const PersonKeys& y = persons[candidates[c] & 0xffffffffu];
      auto p = score_pair(x, y);
      if (!p || p->score < options.threshold) continue;
      if (dismissed.count({p->a, p->b})) continue;
      found[t].push_back(std::move(*p));
    }
  };
  parallel_tasks(threads, candidates.size() < 4096 ? 1 : threads, [&](size_t t) { work(static_cast<unsigned>(t)); });
  std::vector<Pair> out;
  for (auto& f : found) std::move(f.begin(), f.end(), std::back_inserter(out));
  std::sort(out.begin(), out.end(), [](const Pair& l, const Pair& r) {
    if (l.score != r.score) return l.score > r.score;
    return std::tie(l.a, l.b) < std::tie(r.a, r.b);
  });
  // Two persons can share an entity id only by a caller's mistake; keep each pair once anyway.
  out.erase(std::unique(out.begin(), out.end(), [](const Pair& l, const Pair& r) { return l.a == r.a && l.b == r.b; }),
            out.end());
  return out;
}

}  // namespace tz::dedup
