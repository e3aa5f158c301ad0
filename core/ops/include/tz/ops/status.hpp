// The "four clears" completeness per village (SPEC §3), with everyone in scope as the denominator,
// and the store's sync state. Works on a locked store: it needs no personal data (identity
// completeness comes from the store's plaintext flag).
#pragma once

#include <string>
#include <vector>

#include "tz/model/region_tree.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/population.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

struct ClearCounts {
  std::string code;  // village code ("" for the total)
  std::string name;
  size_t persons = 0;
  size_t identity = 0;     // 人员底数清
  size_t labour = 0;       // 劳动能力清
  size_t status = 0;       // 就业状态清
  size_t willingness = 0;  // 外出意愿清
  size_t all = 0;          // all four
};

struct StoreStatus {
  std::vector<ClearCounts> villages;  // in code order
  ClearCounts total;
  uint64_t pending_changes = 0;
  uint64_t next_seq = 0;
  int64_t last_sync_ms = 0;
};

// 人员底数清 for one person of a loaded population: from the decrypted record when the store is
// unlocked, else the stored identity flag (all a locked store has).
bool identity_ok(const DeviceStore& store, const Population& pop, const Entity& person, const std::string& village);
// The same for a person as loaded, with the fields looked up once (IdentityCheck).
bool identity_ok(const DeviceStore& store, const IdentityCheck& check, const Population::Person& person);

// From the person flags every write keeps current (fast, no passphrase); falls back to deriving
// everyone when the period changed since the flags were computed.
StoreStatus compute_status(const DeviceStore& store, const region::RegionTree* tree);
// Derives everyone from the records (the flags' independent oracle in tests).
StoreStatus compute_status_by_derivation(const DeviceStore& store, const region::RegionTree* tree);

}  // namespace tz::ops
