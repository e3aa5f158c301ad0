// The dedup corpus, a generated county with injected duplicates, and judging a probable list.
#include "dedup_corpus.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "roster_gen.hpp"
#include "tz/model/id_number.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/error.hpp"

namespace tz::bench {

std::vector<CorpusRow> parse_corpus(std::string_view csv_text) {
  auto rows = csv::parse(csv_text).take();
  if (rows.empty()) throw Failure(Error(ErrorCode::invalid_input, {"dedup corpus: empty"}));
  const auto& head = rows.front().cells;
  auto col = [&](const char* name) {
    auto it = std::find(head.begin(), head.end(), name);
    if (it == head.end()) throw Failure(Error(ErrorCode::invalid_input, {std::string("dedup corpus: no column ") + name}));
    return static_cast<size_t>(it - head.begin());
  };
  const size_t c_row = col("row"), c_person = col("person"), c_case = col("case"), c_name = col("name"),
               c_id = col("id_number"), c_phone = col("phone"), c_hh = col("household"), c_village = col("village"),
               c_rel = col("relation"), c_fix = col("corrected_id"), c_note = col("note");
  std::vector<CorpusRow> out;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& c = rows[i].cells;
    if (c.size() != head.size())
      throw Failure(Error(ErrorCode::invalid_input, {"dedup corpus: line " + std::to_string(rows[i].line) + ": cell count"}));
    out.push_back({c[c_row], c[c_person], c[c_case], c[c_name], c[c_id], c[c_phone], c[c_hh], c[c_village], c[c_rel],
                   c[c_fix], c[c_note]});
  }
  return out;
}

EntityId label_id(std::string_view domain, std::string_view label) {
  // Two FNV-1a passes with different offsets: 128 bits that only need to differ between labels.
  uint64_t h1 = 1469598103934665603ULL, h2 = 0x84222325cbf29ce4ULL;
  auto feed = [&](std::string_view s) {
    for (unsigned char ch : s) {
      h1 = (h1 ^ ch) * 1099511628211ULL;
      h2 = (h2 ^ ch) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
    }
  };
  feed(domain);
  feed("\x1f");
  feed(label);
  EntityId id;
  for (int i = 0; i < 8; ++i) {
    id.bytes[i] = static_cast<uint8_t>(h1 >> (56 - 8 * i));
    id.bytes[8 + i] = static_cast<uint8_t>(h2 >> (56 - 8 * i));
  }
  return id;
}

std::vector<dedup::PersonInput> corpus_inputs(const std::vector<CorpusRow>& rows, bool corrected) {
  std::vector<dedup::PersonInput> out;
  for (auto& r : rows) {
    dedup::PersonInput p;
    p.id = label_id("person", r.row);
    p.name = r.name;
    p.id_number = corrected && !r.corrected_id.empty() ? r.corrected_id : r.id_number;
    p.phone = r.phone;
    if (!r.household.empty()) p.household = label_id("household", r.household);
    p.village = r.village;
    p.relation = r.relation;
    out.push_back(std::move(p));
  }
  return out;
}

Truth corpus_truth(const std::vector<CorpusRow>& rows) {
  Truth t;
  for (auto& r : rows) t[label_id("person", r.row)] = r.person;
  return t;
}

Score judge(const std::vector<dedup::Pair>& proposed, const std::vector<dedup::ExactGroup>& exact, const Truth& truth) {
  Score s;
  std::set<std::pair<EntityId, EntityId>> exact_pairs, proposed_pairs;
  for (auto& g : exact)
    for (size_t i = 0; i < g.ids.size(); ++i)
      for (size_t j = i + 1; j < g.ids.size(); ++j) exact_pairs.insert(dedup::ordered(g.ids[i], g.ids[j]));
  for (auto& p : proposed) {
    ++s.proposed;
    proposed_pairs.insert({p.a, p.b});
    auto a = truth.find(p.a), b = truth.find(p.b);
    if (a != truth.end() && b != truth.end() && a->second == b->second) ++s.true_pos;
  }
  // Expected pairs: ids grouped by person label.
  std::map<std::string, std::vector<EntityId>> by_person;
  for (auto& [id, person] : truth) by_person[person].push_back(id);
  for (auto& [person, ids] : by_person)
    for (size_t i = 0; i < ids.size(); ++i)
      for (size_t j = i + 1; j < ids.size(); ++j) {
        auto key = dedup::ordered(ids[i], ids[j]);
        if (exact_pairs.count(key)) continue;
        ++s.expected;
        s.found += proposed_pairs.count(key);
      }
  return s;
}

namespace {

// Surnames and a homophone of each (the same Han-Latin/Names reading).
const std::pair<const char*, const char*> kHomophones[] = {
    {"张", "章"}, {"章", "张"}, {"王", "汪"}, {"汪", "王"}, {"李", "黎"}, {"刘", "留"},
    {"吴", "武"}, {"杨", "阳"}, {"陈", "沉"}, {"黄", "皇"}, {"周", "舟"}, {"徐", "许"},
};

// A small deterministic generator (splitmix64): the same seed gives the same injections.
struct Mix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

}  // namespace

std::vector<dedup::PersonInput> generated_county(const std::vector<std::string>& villages, size_t persons, size_t every,
                                                 uint64_t seed, Truth& truth) {
  RosterSpec spec;
  spec.seed = seed;
  spec.persons = persons;
  spec.villages = villages;
  const Roster roster = generate_roster(spec);
  std::vector<dedup::PersonInput> out;
  out.reserve(roster.persons.size() + (every ? roster.persons.size() / every + 1 : 0));
  std::unordered_set<std::string> ids;
  for (auto& g : roster.persons) ids.insert(g.id_number);
  Mix rng{seed ^ 0x5eed};
  size_t injected = 0;
  for (size_t i = 0; i < roster.persons.size(); ++i) {
    const GenPerson& g = roster.persons[i];
    dedup::PersonInput p;
    const std::string label = "g" + std::to_string(i);
    p.id = label_id("person", label);
    p.name = g.name;
    p.id_number = g.id_number;
    p.phone = g.phone;
    p.household = label_id("household", g.household_no);
    p.village = g.village;
    p.relation = g.relation;
    truth[p.id] = label;
    out.push_back(p);
    if (every == 0 || i % every != every - 1) continue;
    dedup::PersonInput d = p;
    d.id = label_id("person", label + "'");
    truth[d.id] = label;
    switch (injected++ % 4) {
      case 0:  // registered again in the household without the ID
        d.id_number.clear();
        break;
      case 1: {  // another household of the village, the ID's sequence mistyped (still valid), same phone
        d.household = label_id("household", g.household_no + "'");
        for (int attempt = 0; attempt < 20; ++attempt) {
          std::string first17 = g.id_number.substr(0, 17);
          first17[14 + rng.next() % 2] = static_cast<char>('0' + rng.next() % 10);
          std::string id = first17 + idn::check_char(first17);
          if (id != g.id_number && ids.insert(id).second) {
            d.id_number = id;
            break;
          }
        }
        if (d.id_number == g.id_number) d.id_number.clear();
        if (d.phone.empty()) d.household = p.household;  // without a phone, the household is the link
        break;
      }
      case 2:  // the 15-digit legacy form where the birth allows it (an exact duplicate), else no ID
        if (g.id_number.compare(6, 2, "19") == 0)
          d.id_number = g.id_number.substr(0, 6) + g.id_number.substr(8, 9);
        else
          d.id_number.clear();
        break;
      default: {  // a homophone surname, no ID, same household
        d.id_number.clear();
        for (auto& [from, to] : kHomophones)
          if (d.name.rfind(from, 0) == 0) {
            d.name = std::string(to) + d.name.substr(std::string_view(from).size());
            break;
          }
        break;
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace tz::bench
