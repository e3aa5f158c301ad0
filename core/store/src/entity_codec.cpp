// The store's blob layouts (docs/storage.md gives them as a grammar). Devices and collectors are
// written once per blob and referred to by index, and times as deltas, because a county's store
// holds millions of versions and most of them share a device, a collector and an import time.
#include "entity_codec.hpp"

#include "tz/util/bytes.hpp"

namespace tz::store_codec {

namespace {

constexpr uint8_t kFieldsFormat = 1;
constexpr uint8_t kChangesFormat = 1;
constexpr uint8_t kMergeFormat = 1;
constexpr uint8_t kSameEntity = 0x80;

// Interns devices and collectors of one blob. An entity's versions come from a handful of devices
// and collectors, so a linear search beats hashing (and allocates nothing per lookup).
class Tables {
 public:
  size_t device(const DeviceId& d) {
    for (size_t i = 0; i < devices_.size(); ++i)
      if (devices_[i] == d) return i;
    devices_.push_back(d);
    return devices_.size() - 1;
  }
  size_t collector(const std::string& c) {
    for (size_t i = 0; i < collectors_.size(); ++i)
      if (*collectors_[i] == c) return i;
    collectors_.push_back(&c);
    return collectors_.size() - 1;
  }
  void write(ByteWriter& w) const {
    w.varint(devices_.size());
    for (auto& d : devices_) w.raw(d.view());
    w.varint(collectors_.size());
    for (auto* c : collectors_) w.str(*c);
  }

 private:
  std::vector<DeviceId> devices_;
  std::vector<const std::string*> collectors_;  // point into the versions being encoded
};

struct ReadTables {
  std::vector<DeviceId> devices;
  std::vector<std::string> collectors;
  void read(ByteReader& r) {
    devices.clear();
    collectors.clear();
    size_t nd = r.checked_count(r.varint(), 16);
    for (size_t i = 0; i < nd; ++i) devices.push_back(DeviceId::from_bytes(r.raw(16)));
    size_t nc = r.checked_count(r.varint(), 1);
    for (size_t i = 0; i < nc; ++i) collectors.push_back(r.str());
  }
  const DeviceId& device(uint64_t i) const {
    if (i >= devices.size()) throw Failure(ErrorCode::store_corrupt, {"device index out of range"});
    return devices[i];
  }
  const std::string& collector(uint64_t i) const {
    if (i >= collectors.size()) throw Failure(ErrorCode::store_corrupt, {"collector index out of range"});
    return collectors[i];
  }
};

}  // namespace

std::string encode_fields(const Entity& e, const std::function<bool(FieldId)>& keep) {
  Tables tables;
  ByteWriter body;
  size_t n = 0;
  for (auto& [f, fv] : e.fields)
    if (keep(f) && !fv.live.empty()) ++n;
  body.varint(n);
  for (auto& [f, fv] : e.fields) {
    if (!keep(f) || fv.live.empty()) continue;
    body.varint(f);
    body.varint(fv.live.size());
    for (auto& v : fv.live) {
      body.varint(tables.device(v.id.device));
      body.varint(v.id.seq.value);
      body.svarint(v.ts.ms);
      body.varint(v.ts.counter);
      body.varint(tables.collector(v.collector));
      body.svarint(v.device_ms - v.ts.ms);
      body.svarint(v.server_ms);
      body.str(v.value);
    }
  }
  ByteWriter w;
  w.reserve(body.data().size() + 64);
  w.u8(kFieldsFormat);
  tables.write(w);
  w.raw(body.data());
  return w.take();
}

void decode_fields(std::string_view bytes, Entity& e) {
  if (bytes.empty()) return;
  ByteReader r(bytes);
  if (r.u8() != kFieldsFormat) throw Failure(ErrorCode::store_corrupt, {"unknown field blob format"});
  // Two blobs for every record read: the tables' storage is kept between them (per thread).
  thread_local ReadTables t;
  t.read(r);
  size_t n = r.checked_count(r.varint(), 2);
  // A record's public blob comes first, then its secret one: the second is decoded apart and merged
  // in one pass, rather than each of its fields inserted among the first's.
  FieldMap second;
  FieldMap& into = e.fields.empty() ? e.fields : second;
  into.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto f = static_cast<FieldId>(r.varint());
    auto& fv = into[f];  // a blob's fields are in order: each goes at the end
    size_t nv = r.checked_count(r.varint(), 8);
    fv.live.reserve(fv.live.size() + nv);
    for (size_t k = 0; k < nv; ++k) {
      Version v;
      v.id.device = t.device(r.varint());
      v.id.seq.value = r.varint();
      v.ts.ms = r.svarint();
      v.ts.counter = static_cast<uint32_t>(r.varint());
      v.collector = t.collector(r.varint());
      v.device_ms = v.ts.ms + r.svarint();
      v.server_ms = r.svarint();
      v.value = r.str();
      fv.live.push_back(std::move(v));
    }
  }
  if (!r.done()) throw Failure(ErrorCode::store_corrupt, {"trailing bytes in field blob"});
  e.fields.merge(std::move(second), [](FieldVersions& mine, FieldVersions&& theirs) {
    for (auto& v : theirs.live) mine.live.push_back(std::move(v));
  });
}

std::string encode_changes(const std::vector<FieldChange>& changes, size_t begin, size_t end) {
  Tables tables;
  tables.device(changes[begin].version.device);  // index 0: the device that made the changes
  ByteWriter body;
  body.reserve((end - begin) * 24);
  body.varint(end - begin);
  const FieldChange* prev = nullptr;
  int64_t prev_ms = 0;
  for (size_t i = begin; i < end; ++i) {
    auto& c = changes[i];
    bool same = prev && prev->entity == c.entity && prev->type == c.type;
    body.u8(static_cast<uint8_t>(static_cast<uint8_t>(c.type) | (same ? kSameEntity : 0)));
    if (!same) body.raw(c.entity.view());
    body.varint(c.field);
    body.str(c.value);
    body.svarint(c.ts.ms - prev_ms);
    body.varint(c.ts.counter);
    body.varint(tables.collector(c.collector));
    body.svarint(c.device_ms - c.ts.ms);
    body.varint(c.schema_version);
    body.varint(c.base.size());
    for (auto& b : c.base) {
      body.varint(tables.device(b.device));
      body.varint(b.seq.value);
    }
    prev = &c;
    prev_ms = c.ts.ms;
  }
  ByteWriter w;
  w.reserve(body.data().size() + 64);
  w.u8(kChangesFormat);
  w.varint(changes[begin].version.seq.value);
  tables.write(w);
  w.raw(body.data());
  return w.take();
}

void decode_changes(std::string_view bytes, std::vector<FieldChange>& out) {
  ByteReader r(bytes);
  if (r.u8() != kChangesFormat) throw Failure(ErrorCode::store_corrupt, {"unknown change blob format"});
  uint64_t seq = r.varint();
  ReadTables t;
  t.read(r);
  const DeviceId& device = t.device(0);
  size_t n = r.checked_count(r.varint(), 8);
  EntityId entity;
  int64_t prev_ms = 0;
  for (size_t i = 0; i < n; ++i) {
    FieldChange c;
    c.version = VersionId{device, Seq{seq + i}};
    uint8_t type = r.u8();
    if (type & kSameEntity) {
      if (i == 0) throw Failure(ErrorCode::store_corrupt, {"change refers to a previous entity"});
    } else {
      entity = EntityId::from_bytes(r.raw(16));
    }
    c.type = static_cast<EntityType>(type & ~kSameEntity);
    c.entity = entity;
    c.field = static_cast<FieldId>(r.varint());
    c.value = r.str();
    c.ts.ms = prev_ms + r.svarint();
    prev_ms = c.ts.ms;
    c.ts.counter = static_cast<uint32_t>(r.varint());
    c.collector = t.collector(r.varint());
    c.device_ms = c.ts.ms + r.svarint();
    c.schema_version = static_cast<uint32_t>(r.varint());
    size_t nb = r.checked_count(r.varint(), 2);
    for (size_t k = 0; k < nb; ++k) {
      VersionId b;
      b.device = t.device(r.varint());
      b.seq.value = r.varint();
      c.base.push_back(b);
    }
    out.push_back(std::move(c));
  }
  if (!r.done()) throw Failure(ErrorCode::store_corrupt, {"trailing bytes in change blob"});
}

namespace {

void write_ids(ByteWriter& w, Tables& t, const std::vector<VersionId>& ids) {
  w.varint(ids.size());
  for (auto& id : ids) {
    w.varint(t.device(id.device));
    w.varint(id.seq.value);
  }
}

std::vector<VersionId> read_ids(ByteReader& r, const ReadTables& t) {
  std::vector<VersionId> ids(r.checked_count(r.varint(), 2));
  for (auto& id : ids) {
    id.device = t.device(r.varint());
    id.seq.value = r.varint();
  }
  return ids;
}

}  // namespace

std::string encode_merge(const MergeExtras& m) {
  Tables tables;
  ByteWriter body;
  body.varint(m.superseded.size());
  for (auto& [f, ids] : m.superseded) {
    body.varint(f);
    write_ids(body, tables, ids);
  }
  body.varint(m.deletion_bases.size());
  for (auto& [id, base] : m.deletion_bases) {
    body.varint(tables.device(id.device));
    body.varint(id.seq.value);
    write_ids(body, tables, base);
  }
  ByteWriter w;
  w.u8(kMergeFormat);
  tables.write(w);
  w.raw(body.data());
  return w.take();
}

void decode_merge(std::string_view bytes, MergeExtras& out) {
  ByteReader r(bytes);
  if (r.u8() != kMergeFormat) throw Failure(ErrorCode::store_corrupt, {"unknown merge blob format"});
  ReadTables t;
  t.read(r);
  size_t ns = r.checked_count(r.varint(), 2);
  for (size_t i = 0; i < ns; ++i) {
    auto f = static_cast<FieldId>(r.varint());
    out.superseded[f] = read_ids(r, t);
  }
  size_t nd = r.checked_count(r.varint(), 3);
  for (size_t i = 0; i < nd; ++i) {
    VersionId id;
    id.device = t.device(r.varint());
    id.seq.value = r.varint();
    out.deletion_bases[id] = read_ids(r, t);
  }
  if (!r.done()) throw Failure(ErrorCode::store_corrupt, {"trailing bytes in merge blob"});
}

}  // namespace tz::store_codec
