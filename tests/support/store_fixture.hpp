// Shared fixtures for store-level tests: the project's resources, a cheap-KDF store in a temp
// folder, a fixed clock inside the 2026 period, a county notice about an own change, and a digest
// of everything a store holds.
#pragma once

#include <algorithm>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "temp_dir.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/model/id_number.hpp"
#include "tz/ops/resources.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/store/device_store.hpp"

namespace tz::test {

// An 18-character ID from its first 17 digits (check character computed).
inline std::string idc(const std::string& id17) { return id17 + idn::check_char(id17); }

// A copy of the project's schemas with one field definition (JSON) inserted into an entity file
// before the field whose definition starts with `before` — a field added to the schema only at test
// time. Returns the folder.
inline std::filesystem::path schemas_with_field(const TempDir& dir, const std::string& file, const std::string& before,
                                                const std::string& field_json) {
  for (auto& e : std::filesystem::directory_iterator(source_dir() / "schemas"))
    if (e.path().extension() == ".json") std::filesystem::copy(e.path(), dir.path() / e.path().filename());
  std::string text = read_file(dir / file);
  auto pos = text.find(before);
  if (pos == std::string::npos) throw std::runtime_error("schemas_with_field: anchor not found");
  text.insert(pos, field_json + ",\n");
  write_file(dir / file, text);
  return dir.path();
}

inline const ops::Resources& resources() {
  static std::shared_ptr<ops::Resources> res = ops::load_resources(source_dir()).take();
  return *res;
}

// 2026-11-01 12:00 China time: inside the 2026 period used by the fixtures.
inline constexpr int64_t kNowMs = 1793505600000LL;

inline StoreConfig test_config(const std::string& county = "522632") {
  StoreConfig c;
  c.county = county;
  c.collectors = {"王芳", "李强"};
  c.default_collector = "王芳";
  c.period = *make_period(2026, CivilDate{2026, 11, 30});
  if (auto tree = resources().county_tree_csv(county)) {
    c.region_tree_csv = *tree;
    c.region_tree_version = "shipped";
  }
  return c;
}

// Tests use a cheap scrypt cost; the real cost is measured in bench/.
inline ScryptCost cheap_kdf() { return ScryptCost{1ULL << 10, 8, 1}; }

inline std::unique_ptr<DeviceStore> make_store(const std::filesystem::path& dir, std::string county_secret = {},
                                               const Schema* schema = nullptr,
                                               std::optional<DeviceId> device_id = std::nullopt) {
  return create_device_store(dir, "correct horse", schema ? *schema : resources().schema, test_config(), cheap_kdf(),
                             std::move(county_secret), device_id)
      .take();
}

inline ops::ImportEnv import_env(const region::RegionTree* tree = nullptr, std::string collector = "王芳",
                                 int64_t now = kNowMs) {
  ops::ImportEnv env;
  env.resources = &resources();
  env.tree = tree;
  env.today = china_date_of(now);
  env.edit = ops::EditContext{std::move(collector), now};
  return env;
}

// A notice from the county (kind 1: quarantined) about the store's own change to entity's field,
// the first one in the change log; throws where the log holds none.
inline StoredNotice notice_on_own_change(const DeviceStore& s, const EntityId& entity, FieldId field, uint64_t server_seq,
                                         std::string reason_zh, std::string reason_en) {
  auto changes = s.changes_after(0);
  auto own = std::find_if(changes.begin(), changes.end(),
                          [&](const FieldChange& c) { return c.entity == entity && c.field == field; });
  if (own == changes.end()) throw std::runtime_error("notice_on_own_change: no own change to " + entity.hex());
  StoredNotice n;
  n.server_seq = server_seq;
  n.kind = 1;
  n.type = own->type;
  n.entity = entity;
  n.field = field;
  n.version = own->version;
  n.reason_zh = std::move(reason_zh);
  n.reason_en = std::move(reason_en);
  return n;
}

// Everything the store holds, in a canonical text form: entities with every live version, the change
// log, sequence counters. Two stores with equal digests hold the same data.
inline std::string store_digest(const DeviceStore& s) {
  std::map<std::string, std::string> rows;
  s.scan(std::nullopt, [&](EntityRow&& r) {
    std::ostringstream o;
    o << static_cast<int>(r.entity.type) << "|" << r.village << "|" << (r.parent ? r.parent->hex() : "-") << "|"
      << r.flags;
    for (auto& [f, fv] : r.entity.fields)
      for (auto& v : fv.live) o << "|" << f << "=" << v.value << "@" << v.id.str() << "/" << v.collector;
    rows[r.entity.id.hex()] = o.str();
  });
  std::ostringstream out;
  for (auto& [id, text] : rows) out << id << " " << text << "\n";
  for (auto& c : s.changes_after(0)) out << "change " << c.version.str() << " " << c.entity.hex() << " " << c.field << "\n";
  out << "next_seq " << s.info().next_seq << "\n";
  return out.str();
}

}  // namespace tz::test
