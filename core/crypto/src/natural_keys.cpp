// Keyed-hash entity ids: HMAC-SHA256(county secret, domain || 0 || key), first 16 bytes.
#include "tz/crypto/natural_keys.hpp"

namespace tz::crypto {

EntityId NaturalKeys::derive(std::string_view domain, std::string_view key) const {
  std::string msg;
  msg.reserve(domain.size() + 1 + key.size());
  msg.append(domain);
  msg.push_back('\0');
  msg.append(key);
  unsigned char out[kSha256Size];
  hmac_.mac_into(msg, out);
  EntityId id;
  for (size_t i = 0; i < 16; ++i) id.bytes[i] = out[i];
  return id;
}

EntityId NaturalKeys::person(std::string_view id18) const { return derive("person", id18); }

EntityId NaturalKeys::person_without_id(const EntityId& household, std::string_view name) const {
  std::string k(household.view());
  k.append(name);
  return derive("person_without_id", k);
}

EntityId NaturalKeys::household(std::string_view village_code, std::string_view household_no) const {
  std::string k(village_code);
  k.push_back('\0');
  k.append(household_no);
  return derive("household", k);
}

EntityId NaturalKeys::roster_job(const EntityId& person, int period_year) const {
  std::string k(person.view());
  k += std::to_string(period_year);
  return derive("roster_job", k);
}

EntityId NaturalKeys::subsidy(const EntityId& person, std::string_view rule, int period_year) const {
  std::string k(person.view());
  k.append(rule);
  k.push_back('\0');
  k += std::to_string(period_year);
  return derive("subsidy", k);
}

EntityId random_entity_id() { return EntityId::from_bytes(random_bytes(16)); }
DeviceId random_device_id() { return DeviceId::from_bytes(random_bytes(16)); }

}  // namespace tz::crypto
