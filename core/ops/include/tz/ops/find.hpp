// Finding people: an ID number or a phone exactly through the store's keyed hashes; a name by
// substring or by pinyin (同音字: 章伟 finds 张伟; "zw" or "zhangwei" find both) by decrypting names in
// memory after unlock. Nothing searchable is stored in plaintext.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "tz/store/device_store.hpp"

namespace tz::ops {

struct FindHit {
  EntityId id;
  std::string village;
  std::string household_no;
  std::string name;
  std::string id_number;  // stored form; callers mask it
  std::string phone;
  std::string matched_by;  // id_number, phone, name, pinyin
};

// Han characters to toneless pinyin, one character at a time, cached (ICU is slow per call).
class PinyinCache {
 public:
  std::string full(std::string_view name);      // 张伟 -> zhangwei
  std::string initials(std::string_view name);  // 张伟 -> zw

 private:
  const std::string& of(char32_t c);
  std::unordered_map<char32_t, std::string> cache_;
};

std::vector<FindHit> find_people(const DeviceStore& store, std::string_view text, const CivilDate& today,
                                 size_t limit = 200);

}  // namespace tz::ops
