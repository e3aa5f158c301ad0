// Strong identifier types: 128-bit entity and device ids, version ids (device, sequence number) and
// entity types. Bare integers and byte strings never stand in for these.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "tz/util/hex.hpp"

namespace tz {

// A 128-bit id; Tag makes EntityId and DeviceId different types.
template <typename Tag>
struct Id128 {
  std::array<uint8_t, 16> bytes{};

  // The bytes' lexicographic order, compared as two big-endian 64-bit words: ids are compared in
  // every sort, set and map of a push, and the defaulted comparison called memcmp each time.
  bool operator==(const Id128& o) const { return word(0) == o.word(0) && word(8) == o.word(8); }
  std::strong_ordering operator<=>(const Id128& o) const {
    if (auto a = big_endian_word(0), b = o.big_endian_word(0); a != b) return a <=> b;
    return big_endian_word(8) <=> o.big_endian_word(8);
  }
  bool is_zero() const {
    for (auto b : bytes)
      if (b) return false;
    return true;
  }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
  static Id128 from_bytes(std::string_view raw) {  // raw must hold at least 16 bytes
    Id128 id;
    for (size_t i = 0; i < 16 && i < raw.size(); ++i) id.bytes[i] = static_cast<uint8_t>(raw[i]);
    return id;
  }
  std::string hex() const;
  static std::optional<Id128> from_hex(std::string_view hex);

 private:
  uint64_t word(size_t at) const {
    uint64_t w;
    std::memcpy(&w, bytes.data() + at, sizeof w);
    return w;
  }
  uint64_t big_endian_word(size_t at) const {
    const uint64_t w = word(at);
    if constexpr (std::endian::native == std::endian::little) return __builtin_bswap64(w);
    else return w;
  }
};

struct EntityIdTag {};
struct DeviceIdTag {};
using EntityId = Id128<EntityIdTag>;
using DeviceId = Id128<DeviceIdTag>;

// Hash for unordered containers (ids are already uniformly distributed).
struct IdHash {
  template <typename Tag>
  size_t operator()(const Id128<Tag>& id) const {
    size_t h = 0;
    for (size_t i = 0; i < sizeof(size_t); ++i) h = (h << 8) | id.bytes[i];
    return h;
  }
};

// A device's gap-free, never reused change sequence number.
struct Seq {
  uint64_t value = 0;
  auto operator<=>(const Seq&) const = default;
};

// The id of one field version: (device id, device sequence number). Never changes.
struct VersionId {
  DeviceId device;
  Seq seq;
  auto operator<=>(const VersionId&) const = default;
  std::string str() const;  // "<device hex>:<seq>"
};

enum class EntityType : uint8_t { household = 1, person = 2, job = 3, visit = 4, subsidy = 5 };
inline constexpr EntityType kEntityTypes[] = {EntityType::household, EntityType::person, EntityType::job,
                                              EntityType::visit, EntityType::subsidy};
std::string_view entity_type_name(EntityType t);  // "household", ...
std::optional<EntityType> entity_type_from_name(std::string_view name);

// A field's stable numeric id within its entity type.
using FieldId = uint16_t;

template <typename Tag>
std::string Id128<Tag>::hex() const {
  static const char* kDigits = "0123456789abcdef";
  std::string out(32, '0');
  for (size_t i = 0; i < 16; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

template <typename Tag>
std::optional<Id128<Tag>> Id128<Tag>::from_hex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  Id128 id;
  uint8_t bad = 0;  // the bits of 0xff show once any character is not a hex digit
  for (size_t i = 0; i < 16; ++i) {
    const uint8_t hi = hex_digit(hex[2 * i]);
    const uint8_t lo = hex_digit(hex[2 * i + 1]);
    bad |= hi | lo;
    id.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (bad & 0xf0) return std::nullopt;
  return id;
}

}  // namespace tz
