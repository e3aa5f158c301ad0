// Deduplication (SPEC §8, issue 7): precision and recall of the probable-duplicate list on the
// committed corpus (tests/data/dedup/corpus.csv), and the time of exact plus probable dedup of a
// generated county (default 500,000 persons, an injected duplicate every 250), with its own
// precision and recall against the injections.
//   bench_dedup [--persons N] [--every K] [--threads T] [--seed S] [--data DIR] [--show-wrong N]
// --show-wrong N prints the first N wrongly proposed pairs of the generated county.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "dedup_corpus.hpp"
#include "roster_gen.hpp"
#include "tz/dedup/dedup.hpp"
#include "tz/ops/resources.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double secs_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

const tz::CivilDate kToday{2026, 11, 30};

void print_score(const char* what, const tz::bench::Score& s) {
  std::printf("%s: proposed %zu, right %zu, expected %zu, found %zu; precision %.4f, recall %.4f\n", what, s.proposed,
              s.true_pos, s.expected, s.found, s.precision(), s.recall());
}

}  // namespace

int main(int argc, char** argv) {
  size_t persons = 500000, every = 250, show = 0;
  unsigned threads = 2;
  uint64_t seed = 1;
  std::string data = TZ_SOURCE_DATA_DIR;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_dedup: %s needs a value\n", argv[i]);
        std::exit(64);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--persons")) persons = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--every")) every = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--threads")) threads = static_cast<unsigned>(std::strtoul(next(), nullptr, 10));
    else if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--data")) data = next();
    else if (!std::strcmp(argv[i], "--show-wrong")) show = std::strtoull(next(), nullptr, 10);
    else {
      std::fprintf(stderr, "usage: bench_dedup [--persons N] [--every K] [--threads T] [--seed S] [--data DIR] [--show-wrong N]\n");
      return 64;
    }
  }
  std::printf("bench_dedup: %zu generated persons, a duplicate injected every %zu, %u threads, seed %llu; %u cores\n",
              persons, every, threads, static_cast<unsigned long long>(seed), std::thread::hardware_concurrency());

  // 1. The corpus with ground truth.
  std::ifstream in(data + "/tests/data/dedup/corpus.csv", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto rows = tz::bench::parse_corpus(ss.str());
  {
    const auto keys = tz::dedup::make_keys(tz::bench::corpus_inputs(rows), kToday);
    const auto exact = tz::dedup::exact_groups(keys);
    const auto pairs = tz::dedup::probable_pairs(keys, {});
    std::printf("corpus: %zu rows, %zu exact groups\n", rows.size(), exact.size());
    print_score("corpus probable list", tz::bench::judge(pairs, exact, tz::bench::corpus_truth(rows)));
  }

  // 2. A generated county.
  auto res = tz::ops::load_resources(data).take();
  const auto villages = tz::bench::villages_of_tree(res->county_tree_csv("522632").value());
  auto t0 = Clock::now();
  tz::bench::Truth truth;
  const auto county = tz::bench::generated_county(villages, persons, every, seed, truth);
  std::printf("generated %zu person records in %zu villages in %.1f s (not counted)\n", county.size(), villages.size(),
              secs_since(t0));

  t0 = Clock::now();
  const auto keys = tz::dedup::make_keys(county, kToday, threads);
  const double t_keys = secs_since(t0);
  auto t1 = Clock::now();
  const auto exact = tz::dedup::exact_groups(keys);
  const double t_exact = secs_since(t1);
  t1 = Clock::now();
  tz::dedup::Options opt;
  opt.threads = threads;
  const auto pairs = tz::dedup::probable_pairs(keys, {}, opt);
  const double t_probable = secs_since(t1);
  const double total = secs_since(t0);
  std::printf("keys (pinyin, ID, phone) %.2f s; exact %.2f s (%zu groups); probable %.2f s (%zu pairs)\n", t_keys, t_exact,
              exact.size(), t_probable, pairs.size());
  std::printf("exact + probable dedup of %zu persons: %.2f s (target <= 60 s)\n", county.size(), total);
  print_score("generated county probable list", tz::bench::judge(pairs, exact, truth));
  if (show) {
    std::map<tz::EntityId, const tz::dedup::PersonInput*> by_id;
    for (auto& p : county) by_id[p.id] = &p;
    auto line = [](const tz::dedup::PersonInput& p) {
      return p.name + " " + p.id_number + " " + p.phone + " " + p.village + " " + p.household.hex().substr(0, 8) + " " + p.relation;
    };
    for (auto& p : pairs) {
      if (truth.at(p.a) == truth.at(p.b)) continue;
      if (show-- == 0) break;
      std::string why;
      for (auto r : p.reasons) why += std::string(tz::dedup::reason_code(r)) + " ";
      std::printf("wrong, score %d (%s): %s | %s\n", p.score, why.c_str(), line(*by_id[p.a]).c_str(), line(*by_id[p.b]).c_str());
    }
  }
  return 0;
}
