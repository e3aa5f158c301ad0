// The store's blob layouts (docs/storage.md gives them as a grammar).
#include "entity_codec.hpp"

#include "tz/util/bytes.hpp"

namespace tz::store_codec {

namespace {

constexpr uint8_t kFieldsFormat = 1;
constexpr uint8_t kChangesFormat = 1;

void put_device(ByteWriter& w, const DeviceId& d) { w.raw(d.view()); }
DeviceId get_device(ByteReader& r) { return DeviceId::from_bytes(r.raw(16)); }

}  // namespace

std::string encode_fields(const Entity& e, const std::function<bool(FieldId)>& keep) {
  ByteWriter w;
  w.reserve(256);
  w.u8(kFieldsFormat);
  size_t n = 0;
  for (auto& [f, fv] : e.fields)
    if (keep(f) && !fv.live.empty()) ++n;
  w.varint(n);
  for (auto& [f, fv] : e.fields) {
    if (!keep(f) || fv.live.empty()) continue;
    w.varint(f);
    w.varint(fv.live.size());
    for (auto& v : fv.live) {
      put_device(w, v.id.device);
      w.varint(v.id.seq.value);
      w.svarint(v.ts.ms);
      w.varint(v.ts.counter);
      w.str(v.collector);
      w.svarint(v.device_ms);
      w.svarint(v.server_ms);
      w.str(v.value);
    }
  }
  return w.take();
}

void decode_fields(std::string_view bytes, Entity& e) {
  if (bytes.empty()) return;
  ByteReader r(bytes);
  if (r.u8() != kFieldsFormat) throw Failure(ErrorCode::store_corrupt, {"unknown field blob format"});
  size_t n = r.checked_count(r.varint(), 2);
  for (size_t i = 0; i < n; ++i) {
    auto f = static_cast<FieldId>(r.varint());
    auto& fv = e.fields[f];
    size_t nv = r.checked_count(r.varint(), 22);
    fv.live.reserve(nv);
    for (size_t k = 0; k < nv; ++k) {
      Version v;
      v.id.device = get_device(r);
      v.id.seq.value = r.varint();
      v.ts.ms = r.svarint();
      v.ts.counter = static_cast<uint32_t>(r.varint());
      v.collector = r.str();
      v.device_ms = r.svarint();
      v.server_ms = r.svarint();
      v.value = r.str();
      fv.live.push_back(std::move(v));
    }
  }
  if (!r.done()) throw Failure(ErrorCode::store_corrupt, {"trailing bytes in field blob"});
}

std::string encode_changes(const std::vector<FieldChange>& changes, size_t begin, size_t end) {
  ByteWriter w;
  w.reserve((end - begin) * 64);
  w.u8(kChangesFormat);
  put_device(w, changes[begin].version.device);
  w.varint(changes[begin].version.seq.value);
  w.varint(end - begin);
  for (size_t i = begin; i < end; ++i) {
    auto& c = changes[i];
    w.u8(static_cast<uint8_t>(c.type));
    w.raw(c.entity.view());
    w.varint(c.field);
    w.str(c.value);
    w.svarint(c.ts.ms);
    w.varint(c.ts.counter);
    w.str(c.collector);
    w.svarint(c.device_ms);
    w.varint(c.schema_version);
    w.varint(c.base.size());
    for (auto& b : c.base) {
      put_device(w, b.device);
      w.varint(b.seq.value);
    }
  }
  return w.take();
}

void decode_changes(std::string_view bytes, std::vector<FieldChange>& out) {
  ByteReader r(bytes);
  if (r.u8() != kChangesFormat) throw Failure(ErrorCode::store_corrupt, {"unknown change blob format"});
  DeviceId device = get_device(r);
  uint64_t seq = r.varint();
  size_t n = r.checked_count(r.varint(), 24);
  for (size_t i = 0; i < n; ++i) {
    FieldChange c;
    c.version = VersionId{device, Seq{seq + i}};
    c.type = static_cast<EntityType>(r.u8());
    c.entity = EntityId::from_bytes(r.raw(16));
    c.field = static_cast<FieldId>(r.varint());
    c.value = r.str();
    c.ts.ms = r.svarint();
    c.ts.counter = static_cast<uint32_t>(r.varint());
    c.collector = r.str();
    c.device_ms = r.svarint();
    c.schema_version = static_cast<uint32_t>(r.varint());
    size_t nb = r.checked_count(r.varint(), 17);
    for (size_t k = 0; k < nb; ++k) {
      VersionId b;
      b.device = get_device(r);
      b.seq.value = r.varint();
      c.base.push_back(b);
    }
    out.push_back(std::move(c));
  }
  if (!r.done()) throw Failure(ErrorCode::store_corrupt, {"trailing bytes in change blob"});
}

}  // namespace tz::store_codec
