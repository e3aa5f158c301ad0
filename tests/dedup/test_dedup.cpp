// Tests for tz::dedup: exact groups, the probable list on the committed corpus with ground truth
// (tests/data/dedup/corpus.csv), hard negatives, dismissals, and a generated county with injected
// duplicates.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "dedup_corpus.hpp"
#include "tz/dedup/dedup.hpp"
#include "tz/model/id_number.hpp"
#include "tz/util/encoding.hpp"

using namespace tz;
using tz::dedup::PersonInput;
using tz::dedup::Reason;

namespace {

const CivilDate kToday{2026, 11, 22};

std::vector<bench::CorpusRow> corpus() {
  std::ifstream in(std::string(TZ_SOURCE_DIR) + "/tests/data/dedup/corpus.csv", std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return bench::parse_corpus(ss.str());
}

std::set<std::pair<EntityId, EntityId>> pair_set(const std::vector<dedup::Pair>& pairs) {
  std::set<std::pair<EntityId, EntityId>> s;
  for (auto& p : pairs) s.insert({p.a, p.b});
  return s;
}

bool has_reason(const dedup::Pair& p, Reason r) {
  return std::find(p.reasons.begin(), p.reasons.end(), r) != p.reasons.end();
}

PersonInput person(const char* label, const char* name, const char* id, const char* household = "",
                   const char* village = "522632100001", const char* phone = "", const char* relation = "") {
  PersonInput p;
  p.id = bench::label_id("person", label);
  p.name = name;
  p.id_number = id;
  p.phone = phone;
  if (*household) p.household = bench::label_id("household", household);
  p.village = village;
  p.relation = relation;
  return p;
}

}  // namespace

TEST_CASE("Name syllables read homophones alike and surnames in their surname reading", "[dedup]") {
  CHECK(encoding::name_syllables("张伟") == std::vector<std::string>{"zhang", "wei"});
  CHECK(encoding::name_syllables("章伟") == encoding::name_syllables("张伟"));
  CHECK(encoding::name_syllables("陈静") == encoding::name_syllables("陈晶"));
  CHECK(encoding::name_syllables("陈静") != encoding::name_syllables("程静"));
  // Han-Latin/Names: 单 as a surname is "shan" (plain Han-Latin says "dan").
  CHECK(encoding::name_syllables("单雄").front() == "shan");
  // The minority-name separator only separates.
  CHECK(encoding::name_syllables("阿依古丽·买买提").size() == 7);
  CHECK(encoding::name_syllables("Li Ming 2") == std::vector<std::string>{"li", "ming", "2"});
}

TEST_CASE("Exact duplicates group 15-digit and 18-digit forms and the smallest id survives", "[dedup]") {
  // 15-digit legacy ID and its 18-digit form (births before 2000).
  const std::string id15 = "522632650403153";
  const std::string id18 = *idn::convert_15_to_18(id15);
  std::vector<PersonInput> in = {person("a", "张国强", id15.c_str()), person("b", "张国强", id18.c_str()),
                                 person("c", "张国强", (id18.substr(0, 6) + " " + id18.substr(6)).c_str()),
                                 person("d", "李四", "")};
  auto keys = dedup::make_keys(in, kToday);
  auto groups = dedup::exact_groups(keys);
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].id18 == id18);
  CHECK(groups[0].ids.size() == 3);
  CHECK(std::is_sorted(groups[0].ids.begin(), groups[0].ids.end()));
  CHECK(groups[0].ids.front() == std::min({in[0].id, in[1].id, in[2].id}));
  // An exact duplicate is merged, never proposed as probable.
  CHECK_FALSE(dedup::score_pair(keys[0], keys[1]).has_value());
}

TEST_CASE("The corpus IDs are what the corpus says they are", "[dedup]") {
  for (auto& r : corpus()) {
    INFO(r.row << " " << r.id_number);
    if (r.id_number.empty()) continue;
    const auto c = idn::check_id(r.id_number, kToday);
    if (r.kind == "legacy15") CHECK((c.ok() || r.id_number.size() == 18));
    if (r.note.find("does not pass") != std::string::npos)
      CHECK_FALSE(c.ok());
    else
      CHECK(c.ok());
  }
}

TEST_CASE("Every duplicate of the corpus is found and no hard negative is proposed", "[dedup]") {
  const auto rows = corpus();
  const auto truth = bench::corpus_truth(rows);
  const auto keys = dedup::make_keys(bench::corpus_inputs(rows), kToday);
  const auto exact = dedup::exact_groups(keys);
  const auto pairs = dedup::probable_pairs(keys, {});
  const auto score = bench::judge(pairs, exact, truth);
  std::map<EntityId, std::string> kind_of, row_of;
  for (auto& r : rows) {
    kind_of[bench::label_id("person", r.row)] = r.kind;
    row_of[bench::label_id("person", r.row)] = r.row;
  }
  for (auto& p : pairs) {
    INFO(row_of[p.a] << " " << row_of[p.b] << " score " << p.score);
    CHECK(truth.at(p.a) == truth.at(p.b));
    CHECK(kind_of[p.a] != "twins");
    CHECK(kind_of[p.a] != "homophone_siblings");
    CHECK(kind_of[p.a] != "father_son");
    CHECK(kind_of[p.a] != "common_name");
  }
  // Every exact group is one person; the 15-digit legacy rows and the ID written differently (a
  // 残疾证号, full-width digits with a space and a lower-case x) are exact.
  std::map<std::string, size_t> groups_of_kind;
  for (auto& g : exact) {
    for (auto& id : g.ids) CHECK(truth.at(id) == truth.at(g.ids.front()));
    ++groups_of_kind[kind_of[g.ids.front()]];
  }
  CHECK(groups_of_kind["legacy15"] == 3);
  CHECK(groups_of_kind["id_forms"] == 2);
  CHECK(exact.size() == 5);
  CHECK(score.expected > 10);
  CHECK(score.found == score.expected);
  CHECK(score.true_pos == score.proposed);
  // The reasons say why: the homophone pair is a homophone, the mistyped sequence is near.
  const auto zhang = bench::label_id("person", "r013"), zhang2 = bench::label_id("person", "r014");
  bool homophone_seen = false;
  for (auto& p : pairs)
    if (std::make_pair(p.a, p.b) == dedup::ordered(zhang, zhang2)) {
      homophone_seen = true;
      CHECK(has_reason(p, Reason::same_pinyin));
      CHECK(has_reason(p, Reason::id_missing));
      CHECK(has_reason(p, Reason::same_phone));
    }
  CHECK(homophone_seen);
}

TEST_CASE("An ID later corrected to match turns a probable pair into an exact duplicate", "[dedup]") {
  const auto rows = corpus();
  const auto before = dedup::make_keys(bench::corpus_inputs(rows, false), kToday);
  const auto after = dedup::make_keys(bench::corpus_inputs(rows, true), kToday);
  const auto probable_before = pair_set(dedup::probable_pairs(before, {}));
  const auto probable_after = pair_set(dedup::probable_pairs(after, {}));
  std::set<std::pair<EntityId, EntityId>> exact_after;
  for (auto& g : dedup::exact_groups(after))
    for (size_t i = 1; i < g.ids.size(); ++i) exact_after.insert({g.ids[0], g.ids[i]});
  size_t corrected = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].corrected_id.empty()) continue;
    ++corrected;
    // Its twin row is the other row of the same person.
    for (size_t j = 0; j < rows.size(); ++j) {
      if (j == i || rows[j].person != rows[i].person) continue;
      auto key = dedup::ordered(before[i].id, before[j].id);
      CHECK(probable_before.count(key) == 1);
      CHECK(probable_after.count(key) == 0);
      CHECK(exact_after.count(key) == 1);
    }
  }
  CHECK(corrected == 3);
}

TEST_CASE("Hard negatives are refused by score_pair whatever else they share", "[dedup]") {
  // Twins: one household, one birth date, different given names, distinct valid IDs.
  const std::string t1 = "52263220010315111", t2 = "52263220010315113";
  const std::string twin1 = t1 + idn::check_char(t1), twin2 = t2 + idn::check_char(t2);
  auto a = dedup::make_keys(person("t1", "龙丽", twin1.c_str(), "h", "522632100001", "13500000000"), kToday);
  auto b = dedup::make_keys(person("t2", "龙莉", twin2.c_str(), "h", "522632100001", "13500000000"), kToday);
  CHECK_FALSE(dedup::score_pair(a, b).has_value());
  // The same pair in two households of two villages is a typo'd duplicate candidate.
  b.household = bench::label_id("household", "other");
  b.village = "522632100002";
  auto p = dedup::score_pair(a, b);
  REQUIRE(p.has_value());
  CHECK(has_reason(*p, Reason::same_pinyin));
  CHECK(has_reason(*p, Reason::id_near));
  // Father and son of one name, the son without an ID: the relation to the head tells.
  auto f = dedup::make_keys(person("f", "杨德明", "", "hf", "522632100003", "", "01"), kToday);
  auto s = dedup::make_keys(person("s", "杨德明", "", "hf", "522632100003", "", "03"), kToday);
  CHECK_FALSE(dedup::score_pair(f, s).has_value());
  s.relation.clear();
  REQUIRE(dedup::score_pair(f, s).has_value());
  CHECK(dedup::score_pair(f, s)->score >= dedup::Options{}.threshold);
}

TEST_CASE("A dismissed pair is never proposed again", "[dedup]") {
  const auto rows = corpus();
  const auto keys = dedup::make_keys(bench::corpus_inputs(rows), kToday);
  const auto all = dedup::probable_pairs(keys, {});
  REQUIRE(all.size() > 2);
  dedup::PairSet dismissed{{all[0].a, all[0].b}, {all[2].a, all[2].b}};
  const auto rest = pair_set(dedup::probable_pairs(keys, dismissed));
  CHECK(rest.size() == all.size() - 2);
  CHECK(rest.count({all[0].a, all[0].b}) == 0);
  CHECK(rest.count({all[2].a, all[2].b}) == 0);
  CHECK(rest.count({all[1].a, all[1].b}) == 1);
}

TEST_CASE("A generated county finds its injected duplicates alike on one and two threads", "[dedup]") {
  const std::vector<std::string> villages = {"522632100001", "522632100002", "522632100003", "522632100006",
                                             "522632100007", "522632100009"};
  bench::Truth truth;
  const auto in = bench::generated_county(villages, 4000, 40, 11, truth);
  const auto keys1 = dedup::make_keys(in, kToday, 1);
  const auto keys2 = dedup::make_keys(in, kToday, 2);
  REQUIRE(keys1.size() == keys2.size());
  for (size_t i = 0; i < keys1.size(); ++i) CHECK(keys1[i].pinyin == keys2[i].pinyin);
  dedup::Options one, two;
  two.threads = 2;
  const auto pairs1 = dedup::probable_pairs(keys1, {}, one);
  const auto pairs2 = dedup::probable_pairs(keys2, {}, two);
  CHECK(pair_set(pairs1) == pair_set(pairs2));
  const auto exact = dedup::exact_groups(keys1);
  CHECK_FALSE(exact.empty());
  const auto score = bench::judge(pairs1, exact, truth);
  INFO("proposed " << score.proposed << " true " << score.true_pos << " expected " << score.expected << " found "
                   << score.found);
  CHECK(score.expected > 50);
  CHECK(score.recall() >= 0.98);
  CHECK(score.precision() >= 0.98);
}
