// Exact lookups through keyed hashes, and name / pinyin search over decrypted names.
#include "tz/ops/find.hpp"

#include <algorithm>
#include <tuple>

#include "tz/model/id_number.hpp"
#include "tz/model/phone.hpp"
#include "tz/ops/records.hpp"
#include "tz/util/encoding.hpp"
#include "tz/util/text.hpp"

namespace tz::ops {

const std::string& PinyinCache::of(char32_t c) {
  auto it = cache_.find(c);
  if (it != cache_.end()) return it->second;
  std::string s;
  if (c < 0x80) {
    s = std::string(1, static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  } else {
    s = encoding::pinyin(text::u32_to_utf8(std::u32string(1, c)));
  }
  return cache_.emplace(c, std::move(s)).first->second;
}

std::string PinyinCache::full(std::string_view name) {
  std::string out;
  for (char32_t c : text::utf8_to_u32(name)) out += of(c);
  return out;
}

std::string PinyinCache::initials(std::string_view name) {
  std::string out;
  for (char32_t c : text::utf8_to_u32(name)) {
    const std::string& p = of(c);
    if (!p.empty() && c >= 0x80) out += p[0];
  }
  return out;
}

std::vector<FindHit> find_people(const DeviceStore& store, std::string_view text_in, const CivilDate& today,
                                 size_t limit) {
  const Schema& schema = store.schema();
  const auto& ps = schema.entity(EntityType::person);
  const FieldId f_name = ps.require("name").id, f_id = ps.require("id_number").id, f_phone = ps.require("phone").id;
  const FieldId f_hhno = schema.entity(EntityType::household).require("household_no").id;
  std::string q = text::trim(text::normalize_width(text_in));
  std::vector<FindHit> hits;
  if (q.empty()) return hits;

  auto hit_of = [&](const EntityRow& row, const char* how) {
    FindHit h;
    h.id = row.entity.id;
    h.village = row.village;
    h.name = row.entity.value_or(f_name);
    h.id_number = row.entity.value_or(f_id);
    h.phone = row.entity.value_or(f_phone);
    h.matched_by = how;
    if (row.parent)
      if (auto hh = store.get(*row.parent)) h.household_no = hh->value_or(f_hhno);
    return h;
  };

  // An ID number: exact, through the keyed hash.
  if (auto c = idn::check_id(q, today); c.ok()) {
    if (auto id = person_by_id_number(store, c.id18))
      if (auto row = store.get_row(*id)) hits.push_back(hit_of(*row, "id_number"));
    return hits;
  }
  // A phone: exact, through the keyed hash, confirmed against the decrypted value.
  if (auto p = phone::check_phone(q); p.ok) {
    for (auto& cand : store.lookup(LookupKind::phone, p.normalized))
      if (auto row = store.get_row(cand); row && row->entity.value_or(f_phone) == p.normalized)
        hits.push_back(hit_of(*row, "phone"));
    return hits;
  }
  // A name: substring, or pinyin (of a Han query, or typed in Latin letters).
  PinyinCache pinyin;
  bool latin = true;
  for (unsigned char ch : q)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))) latin = false;
  // PinyinCache lower-cases ASCII too, so a Latin query and a Han query compare alike.
  std::string q_pinyin = pinyin.full(q);
  store.scan(EntityType::person, [&](EntityRow&& row) {
    if (hits.size() >= limit) return;
    const std::string* name = row.entity.value(f_name);
    if (!name || name->empty()) return;
    if (!latin && name->find(q) != std::string::npos) {
      hits.push_back(hit_of(row, "name"));
      return;
    }
    if (q_pinyin.empty()) return;
    std::string full = pinyin.full(*name);
    if (full.find(q_pinyin) != std::string::npos || (latin && pinyin.initials(*name).rfind(q_pinyin, 0) == 0))
      hits.push_back(hit_of(row, "pinyin"));
  });
  // Scan order is by record id; show people as the lists do, by village and household.
  std::sort(hits.begin(), hits.end(), [](const FindHit& a, const FindHit& b) {
    return std::tie(a.village, a.household_no, a.name, a.id) < std::tie(b.village, b.household_no, b.name, b.id);
  });
  return hits;
}

}  // namespace tz::ops
