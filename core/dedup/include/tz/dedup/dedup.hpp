// County deduplication of persons (SPEC §8): exact duplicates (the same normalised 身份证号 on two
// entities, a 15-digit ID equal to its 18-digit form) and probable duplicates (no matching ID: an ID
// typo that still passes the check, a missing ID), found by blocking and per-field scoring.
// Pure: the caller hands in what it read from its store and gets groups and scored pairs back.
// See docs/dedup.md for the keys, the weights and the hard negatives.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tz/model/ids.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::dedup {

// A person as the store shows it (shown values).
struct PersonInput {
  EntityId id;
  std::string name;
  std::string id_number;  // 身份证号 or 残疾证号 in any accepted form; "" when missing
  std::string phone;      // "" when none
  EntityId household;     // zero when unknown
  std::string village;    // the household's 12-digit 村代码, "" when unknown
  std::string relation;   // relation-to-head code ("01" head, "03" child, …), "" when not recorded
};

// What deduplication compares, made once per person (the pinyin is the expensive part).
struct PersonKeys {
  EntityId id;
  std::string name;                    // spaces removed
  std::vector<std::string> syllables;  // encoding::name_syllables (Han-Latin/Names)
  std::string pinyin;                  // the syllables joined with no separator
  std::string id18;                    // the valid resident ID (15 converted to 18), "" when missing or invalid
  CivilDate birth;                     // from id18
  bool has_birth = false;
  std::string phone;                   // 11 digits when valid, else ""
  EntityId household;
  std::string village;
  std::string relation;
};

PersonKeys make_keys(const PersonInput& p, const CivilDate& today);
// The same for many persons, on `threads` threads (at least 1); order kept.
std::vector<PersonKeys> make_keys(const std::vector<PersonInput>& persons, const CivilDate& today,
                                  unsigned threads = 1);

// Persons that share one valid normalised ID. ids sorted, at least two; ids.front() is the survivor
// of a merge (the smallest entity id, SPEC §8).
struct ExactGroup {
  std::string id18;
  std::vector<EntityId> ids;
};
// Groups in order of id18.
std::vector<ExactGroup> exact_groups(const std::vector<PersonKeys>& persons);

enum class Reason : uint8_t {
  same_name,       // the same characters
  same_pinyin,     // different characters, the same reading (同音字: 张伟 / 章伟)
  similar_name,    // the same number of syllables, one different (different households only)
  same_birth,      // birth dates from two valid IDs agree
  id_near,         // two valid IDs one typing slip apart (one character replaced, or two adjacent swapped)
  id_missing,      // one or both have no valid ID
  same_household,
  same_phone,
  same_village,    // different households of one village
};
// A stable code for output and tests ("same_name", …).
std::string_view reason_code(Reason r);

struct Pair {
  EntityId a, b;  // a < b
  int score = 0;
  std::vector<Reason> reasons;
};

// Scoring weights and limits. A pair is proposed when its score reaches `threshold`.
struct Options {
  int threshold = 60;
  // A block with more persons than this is skipped (a phone shared by a whole village is no
  // evidence, and would make the work quadratic).
  size_t max_block = 200;
  unsigned threads = 1;
};

// The score of one pair, or nothing when the pair is not a probable duplicate: the same valid ID
// (an exact duplicate), no name match, or a hard negative (two valid IDs with different birth dates
// or more than one typing slip apart; a different name, or a different relation to the head, in one household).
// Below-threshold pairs are returned with their score.
std::optional<Pair> score_pair(const PersonKeys& x, const PersonKeys& y);

// Dismissed pairs, each as (smaller id, larger id).
using PairSet = std::set<std::pair<EntityId, EntityId>>;
std::pair<EntityId, EntityId> ordered(const EntityId& a, const EntityId& b);

// Probable duplicate pairs at or above the threshold, not dismissed, highest score first (then by
// ids). Candidates come from blocks: the same household, the same phone, the same name reading in one
// village, the same name reading and birth date.
std::vector<Pair> probable_pairs(const std::vector<PersonKeys>& persons, const PairSet& dismissed,
                                 const Options& options = {});

}  // namespace tz::dedup
