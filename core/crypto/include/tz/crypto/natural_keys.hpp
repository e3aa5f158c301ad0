// Entity ids derived from natural keys with a keyed hash under the county secret, so the same person
// imported on two devices is one entity, and an unkeyed hash of an ID cannot be brute-forced.
#pragma once

#include <string>
#include <string_view>

#include "tz/crypto/crypto.hpp"
#include "tz/model/ids.hpp"

namespace tz::crypto {

// Not thread-safe (one Hmac); cheap to construct.
class NaturalKeys {
 public:
  explicit NaturalKeys(std::string_view county_secret) : hmac_(county_secret) {}
  // From the normalised 18-character resident ID (for a 残疾证号, its ID part).
  EntityId person(std::string_view id18) const;
  // A person registered without any ID: household and name (a re-import finds the same person).
  EntityId person_without_id(const EntityId& household, std::string_view name) const;
  EntityId household(std::string_view village_code, std::string_view household_no) const;
  // The one roster job of a person in a period.
  EntityId roster_job(const EntityId& person, int period_year) const;
  EntityId subsidy(const EntityId& person, std::string_view rule, int period_year) const;

 private:
  EntityId derive(std::string_view domain, std::string_view key) const;
  Hmac hmac_;
};

// A random 128-bit id for entities without a natural key, and device ids.
EntityId random_entity_id();
DeviceId random_device_id();

}  // namespace tz::crypto
