// The dedup corpus with ground truth (tests/data/dedup/corpus.csv) and a generated county with
// injected duplicates, shared by tests/dedup and bench/bench_dedup.cpp; and the precision and recall
// of a probable-duplicate list against a ground truth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tz/dedup/dedup.hpp"

namespace tz::bench {

struct CorpusRow {
  std::string row, person, kind, name, id_number, phone, household, village, relation, corrected_id, note;
};

// Parses corpus.csv (header row naming the columns above; `kind` is the column `case`). Throws
// tz::Failure on a malformed file.
std::vector<CorpusRow> parse_corpus(std::string_view csv_text);

// A deterministic entity id for a label (rows and households of the corpus).
EntityId label_id(std::string_view domain, std::string_view label);

// The persons as dedup input (id from `row`, household from `household`); with `corrected`, each
// row's corrected_id replaces its ID.
std::vector<dedup::PersonInput> corpus_inputs(const std::vector<CorpusRow>& rows, bool corrected = false);

// Ground truth: a person label for every entity id.
using Truth = std::map<EntityId, std::string>;
Truth corpus_truth(const std::vector<CorpusRow>& rows);

struct Score {
  size_t proposed = 0, true_pos = 0, expected = 0, found = 0;
  double precision() const { return proposed ? double(true_pos) / double(proposed) : 1.0; }
  double recall() const { return expected ? double(found) / double(expected) : 1.0; }
};
// Judges a probable list: a proposed pair is right when both ids have the same person label; the
// expected pairs are every pair of ids with the same label that is not an exact duplicate (one of
// `exact`).
Score judge(const std::vector<dedup::Pair>& proposed, const std::vector<dedup::ExactGroup>& exact, const Truth& truth);

// A generated county of `persons` people in `villages` (tz_roster_gen, households and phones as generated) with
// one injected duplicate every `every` persons, cycling through: the ID removed (same household), a
// valid ID with another sequence in another household of the village (same phone), a 15-digit
// legacy form of the ID (births before 2000; otherwise the ID removed), and the name's first
// character replaced by a homophone with the ID removed and the same phone. truth gets a person
// label for every id.
std::vector<dedup::PersonInput> generated_county(const std::vector<std::string>& villages, size_t persons, size_t every,
                                                uint64_t seed, Truth& truth);

}  // namespace tz::bench
