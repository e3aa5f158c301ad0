#include "state_codec.hpp"

#include <limits>

#include "tz/util/bytes.hpp"

namespace tz::sync::codec {

namespace {

constexpr uint8_t kStateFormat = 3;  // 1 and 2 still read
constexpr uint8_t kChangeFormat = 1;
// 1: without keys; 2: with sign_pub, box_pub, escrow, collectors and token (read both).
constexpr uint8_t kDeviceFormat = 2;

[[noreturn]] void corrupt(const char* what) { throw Failure(ErrorCode::store_corrupt, {what}); }

void vid(ByteWriter& w, const VersionId& v) {
  w.raw(v.device.view());
  w.varint(v.seq.value);
}
VersionId vid(ByteReader& r) {
  VersionId v;
  v.device = DeviceId::from_bytes(r.raw(16));
  v.seq.value = r.varint();
  return v;
}
void vids(ByteWriter& w, const std::vector<VersionId>& ids) {
  w.varint(ids.size());
  for (auto& v : ids) vid(w, v);
}
std::vector<VersionId> vids(ByteReader& r) {
  std::vector<VersionId> out(r.checked_count(r.varint(), 17));
  for (auto& v : out) v = vid(r);
  return out;
}

// Decoding runs under a guard that turns the reader's failure into a corrupt-store error.
template <typename F>
auto guarded(std::string_view bytes, const char* what, F f) {
  try {
    ByteReader r(bytes);
    auto out = f(r);
    if (!r.done()) corrupt(what);
    return out;
  } catch (const Failure&) {
    throw;
  } catch (const std::exception&) {
    corrupt(what);
  }
}

}  // namespace

// Format 2 (decision 81): the devices and collectors of a state are written once, in tables, and
// named by index; a version's time is a difference from the state's first one, its device and
// receipt times differences from its own time. A county's entity has one device and one collector
// and versions made within seconds of each other, so a version costs its value and a few bytes
// instead of a 16-byte device id, the collector's name and three absolute times. Format 3 (decision
// 150): a live version's sequence is a difference from the version written before it and its
// receipt time a difference from the state's first receipt time (both nearly always one byte: they
// were 3 and 4). Formats 1 and 2 are still read (stores written before).
namespace {

// Differences of times wrap (a device may send any time): lossless, and never undefined behaviour.
int64_t minus(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
int64_t plus(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }

struct StateTables {
  std::vector<DeviceId> devices;
  std::vector<std::string_view> collectors;
  size_t last_device = 0, last_collector = 0;  // nearly always the one asked for again
  size_t device(const DeviceId& d) {
    if (last_device < devices.size() && devices[last_device] == d) return last_device;
    for (size_t i = 0; i < devices.size(); ++i)
      if (devices[i] == d) return last_device = i;
    devices.push_back(d);
    return last_device = devices.size() - 1;
  }
  size_t collector(const std::string& c) {
    if (last_collector < collectors.size() &&
        ((collectors[last_collector].data() == c.data() && collectors[last_collector].size() == c.size()) ||
         collectors[last_collector] == c))
      return last_collector;
    for (size_t i = 0; i < collectors.size(); ++i)
      if (collectors[i] == c) return last_collector = i;
    collectors.push_back(c);
    return last_collector = collectors.size() - 1;
  }
};

void vid2(ByteWriter& w, StateTables& t, const VersionId& v) {
  w.varint(t.device(v.device));
  w.varint(v.seq.value);
}
void vids2(ByteWriter& w, StateTables& t, const std::vector<VersionId>& ids) {
  w.varint(ids.size());
  for (auto& v : ids) vid2(w, t, v);
}
VersionId vid2(ByteReader& r, const std::vector<DeviceId>& devices) {
  VersionId v;
  uint64_t i = r.varint();
  if (i >= devices.size()) corrupt("entity state: device index");
  v.device = devices[i];
  v.seq.value = r.varint();
  return v;
}
std::vector<VersionId> vids2(ByteReader& r, const std::vector<DeviceId>& devices) {
  std::vector<VersionId> out(r.checked_count(r.varint(), 2));
  for (auto& v : out) v = vid2(r, devices);
  return out;
}

EntityState decode_state_v1(ByteReader& r) {
  EntityState s;
  s.type = static_cast<EntityType>(r.u8());
  s.id = EntityId::from_bytes(r.raw(16));
  size_t nf = r.checked_count(r.varint(), 3);
  for (size_t i = 0; i < nf; ++i) {
    auto f = static_cast<FieldId>(r.varint());
    auto& fs = s.fields[f];
    fs.live.resize(r.checked_count(r.varint(), 24));
    for (auto& v : fs.live) {
      v.id = vid(r);
      v.value = r.str();
      v.ts.ms = r.svarint();
      v.ts.counter = static_cast<uint32_t>(r.varint());
      v.collector = r.str();
      v.device_ms = r.svarint();
      v.server_ms = r.svarint();
    }
    fs.superseded = vids(r);
  }
  size_t nd = r.checked_count(r.varint(), 18);
  for (size_t i = 0; i < nd; ++i) {
    auto d = vid(r);
    s.deletion_bases[d] = vids(r);
  }
  return s;
}

}  // namespace

std::string encode_state(const EntityState& s) {
  // The tables first: one pass to fill them, then the body written after them.
  StateTables t;
  int64_t base_ms = 0, base_server_ms = 0;
  bool have_base = false, have_server_base = false;
  // The body's size, about: its values and a few bytes of each version around them (written into
  // room made once, not grown by doubling as the fields are written).
  size_t size = 32;
  for (auto& [f, fs] : s.fields) {
    for (auto& v : fs.live) {
      t.device(v.id.device);
      t.collector(v.collector);
      if (!have_base) base_ms = v.ts.ms, have_base = true;
      if (!have_server_base && v.server_ms != 0) base_server_ms = v.server_ms, have_server_base = true;
      size += v.value.size() + 16;
    }
    for (auto& v : fs.superseded) t.device(v.device);
    size += 4 + 4 * fs.superseded.size();
  }
  for (auto& [d, base] : s.deletion_bases) {
    t.device(d.device);
    for (auto& v : base) t.device(v.device);
  }
  ByteWriter w;
  w.reserve(size + 16 * t.devices.size() + 8 * t.collectors.size());
  w.u8(kStateFormat);
  w.u8(static_cast<uint8_t>(s.type));
  w.raw(s.id.view());
  w.varint(t.devices.size());
  for (auto& d : t.devices) w.raw(d.view());
  w.varint(t.collectors.size());
  for (auto& c : t.collectors) w.str(c);
  w.svarint(base_ms);
  w.svarint(base_server_ms);
  w.varint(s.fields.size());
  FieldId prev = 0;
  uint64_t prev_seq = 0;
  for (auto& [f, fs] : s.fields) {
    w.varint(f - prev);  // fields are in increasing order
    prev = f;
    w.varint(fs.live.size());
    for (auto& v : fs.live) {
      // Format 3: a live version's sequence as a difference from the one before it (an entity's
      // fields nearly always come from one device's consecutive changes).
      w.varint(t.device(v.id.device));
      w.svarint(minus(static_cast<int64_t>(v.id.seq.value), static_cast<int64_t>(prev_seq)));
      prev_seq = v.id.seq.value;
      w.str(v.value);
      w.svarint(minus(v.ts.ms, base_ms));
      w.varint(v.ts.counter);
      // The collector's index, its low bit telling whether a receipt time follows: format 3, as a
      // difference from the state's first (the versions of a push share it).
      w.varint(t.collector(v.collector) * 2 + (v.server_ms != 0 ? 1 : 0));
      w.svarint(minus(v.device_ms, v.ts.ms));
      if (v.server_ms != 0) w.svarint(minus(v.server_ms, base_server_ms));
    }
    vids2(w, t, fs.superseded);
  }
  w.varint(s.deletion_bases.size());
  for (auto& [d, base] : s.deletion_bases) {
    vid2(w, t, d);
    vids2(w, t, base);
  }
  return w.take();
}

EntityState decode_state(std::string_view bytes) {
  return guarded(bytes, "entity state", [](ByteReader& r) {
    uint8_t format = r.u8();
    if (format == 1) return decode_state_v1(r);
    if (format != 2 && format != kStateFormat) corrupt("unknown entity state format");
    const bool v2 = format == 2;
    EntityState s;
    s.type = static_cast<EntityType>(r.u8());
    s.id = EntityId::from_bytes(r.raw(16));
    std::vector<DeviceId> devices(r.checked_count(r.varint(), 16));
    for (auto& d : devices) d = DeviceId::from_bytes(r.raw(16));
    std::vector<std::string> collectors(r.checked_count(r.varint(), 1));
    for (auto& c : collectors) c = r.str();
    const int64_t base_ms = r.svarint();
    const int64_t base_server_ms = v2 ? 0 : r.svarint();
    size_t nf = r.checked_count(r.varint(), 3);
    s.fields.reserve(nf);
    uint64_t field = 0, prev_seq = 0;
    for (size_t i = 0; i < nf; ++i) {
      uint64_t step = r.varint();
      if (i > 0 && step == 0) corrupt("entity state: field order");
      field += step;
      if (field > std::numeric_limits<FieldId>::max()) corrupt("entity state: field id");
      auto& fs = s.fields[static_cast<FieldId>(field)];
      fs.live.resize(r.checked_count(r.varint(), 8));
      for (auto& v : fs.live) {
        if (v2) {
          v.id = vid2(r, devices);
        } else {
          uint64_t d = r.varint();
          if (d >= devices.size()) corrupt("entity state: device index");
          v.id.device = devices[d];
          v.id.seq.value = prev_seq = static_cast<uint64_t>(plus(static_cast<int64_t>(prev_seq), r.svarint()));
        }
        v.value = r.str();
        v.ts.ms = plus(base_ms, r.svarint());
        v.ts.counter = static_cast<uint32_t>(r.varint());
        uint64_t ci = r.varint();
        if (ci / 2 >= collectors.size()) corrupt("entity state: collector index");
        v.collector = collectors[ci / 2];
        v.device_ms = plus(v.ts.ms, r.svarint());
        v.server_ms = (ci & 1) ? plus(v2 ? v.ts.ms : base_server_ms, r.svarint()) : 0;
      }
      fs.superseded = vids2(r, devices);
    }
    size_t nd = r.checked_count(r.varint(), 3);
    for (size_t i = 0; i < nd; ++i) {
      auto d = vid2(r, devices);
      s.deletion_bases[d] = vids2(r, devices);
    }
    return s;
  });
}

std::string encode_change(const StoredChange& sc) {
  auto& c = sc.change;
  ByteWriter w;
  w.u8(kChangeFormat);
  w.u8(static_cast<uint8_t>(c.type));
  w.raw(c.entity.view());
  w.varint(c.field);
  w.str(c.value);
  vid(w, c.version);
  w.svarint(c.ts.ms);
  w.varint(c.ts.counter);
  w.str(c.collector);
  w.svarint(c.device_ms);
  vids(w, c.base);
  w.varint(c.schema_version);
  w.svarint(sc.device_ts.ms);
  w.varint(sc.device_ts.counter);
  w.svarint(sc.server_ms);
  w.u8(static_cast<uint8_t>(sc.status));
  w.str(sc.reason);
  w.varint(sc.server_seq);
  return w.take();
}

StoredChange decode_change(std::string_view bytes) {
  return guarded(bytes, "change", [](ByteReader& r) {
    if (r.u8() != kChangeFormat) corrupt("unknown change format");
    StoredChange sc;
    auto& c = sc.change;
    c.type = static_cast<EntityType>(r.u8());
    c.entity = EntityId::from_bytes(r.raw(16));
    c.field = static_cast<FieldId>(r.varint());
    c.value = r.str();
    c.version = vid(r);
    c.ts.ms = r.svarint();
    c.ts.counter = static_cast<uint32_t>(r.varint());
    c.collector = r.str();
    c.device_ms = r.svarint();
    c.base = vids(r);
    c.schema_version = static_cast<uint32_t>(r.varint());
    sc.device_ts.ms = r.svarint();
    sc.device_ts.counter = static_cast<uint32_t>(r.varint());
    sc.server_ms = r.svarint();
    sc.status = static_cast<StoredChange::Status>(r.u8());
    sc.reason = r.str();
    sc.server_seq = r.varint();
    return sc;
  });
}

namespace {
// The first byte of a block in the layout of decision 83; a block of the older layout starts with
// the length of its first change, never 0.
constexpr uint8_t kBlockMarker = 0;
constexpr uint8_t kBlockFormat = 2;
enum BlockFlags : uint8_t {
  kNewEntity = 1,     // type and entity follow (else the previous change's)
  kRestamped = 2,     // the device's timestamp follows (else the stamp in force)
  kNewCollector = 4,  // the collector follows
  kNewServerMs = 8,   // the receipt time follows (a difference from the previous one)
  kNewSchema = 16,    // the schema version follows
  kStatus = 32,       // status and reason follow (else applied, no reason)
  kBase = 64,         // the base follows
};
}  // namespace

std::string encode_block(std::span<const StoredChange> changes, size_t fill, size_t& taken) {
  ByteWriter w;
  size_t size = 2;  // about: each value and the few bytes around it, room made once
  for (auto& sc : changes) {
    size += sc.change.value.size() + 12;
    if (size >= fill) break;
  }
  w.reserve(size + 64);
  w.u8(kBlockMarker);
  w.u8(kBlockFormat);
  const StoredChange* prev = nullptr;
  int64_t prev_ms = 0, prev_server_ms = 0;
  uint64_t prev_server_seq = 0;
  taken = 0;
  for (auto& sc : changes) {
    auto& c = sc.change;
    uint8_t flags = 0;
    if (!prev || prev->change.entity != c.entity || prev->change.type != c.type) flags |= kNewEntity;
    if (sc.restamped()) flags |= kRestamped;
    if (!prev ? !c.collector.empty() : prev->change.collector != c.collector) flags |= kNewCollector;
    if (sc.server_ms != prev_server_ms) flags |= kNewServerMs;
    if (!prev ? c.schema_version != 0 : prev->change.schema_version != c.schema_version) flags |= kNewSchema;
    if (sc.status != StoredChange::Status::applied || !sc.reason.empty()) flags |= kStatus;
    if (!c.base.empty()) flags |= kBase;
    w.u8(flags);
    if (flags & kNewEntity) {
      w.u8(static_cast<uint8_t>(c.type));
      w.raw(c.entity.view());
    }
    w.varint(c.field);
    w.str(c.value);
    w.svarint(minus(c.ts.ms, prev_ms));
    w.varint(c.ts.counter);
    w.svarint(minus(c.device_ms, c.ts.ms));
    w.svarint(minus(static_cast<int64_t>(sc.server_seq), static_cast<int64_t>(prev_server_seq)));
    if (flags & kRestamped) {
      w.svarint(minus(sc.device_ts.ms, c.ts.ms));
      w.varint(sc.device_ts.counter);
    }
    if (flags & kNewCollector) w.str(c.collector);
    if (flags & kNewServerMs) w.svarint(minus(sc.server_ms, prev_server_ms));
    if (flags & kNewSchema) w.varint(c.schema_version);
    if (flags & kStatus) {
      w.u8(static_cast<uint8_t>(sc.status));
      w.str(sc.reason);
    }
    if (flags & kBase) vids(w, c.base);
    prev = &sc;
    prev_ms = c.ts.ms;
    prev_server_ms = sc.server_ms;
    prev_server_seq = sc.server_seq;
    ++taken;
    if (w.data().size() >= fill) break;
  }
  return w.take();
}

std::vector<StoredChange> decode_block(std::string_view bytes, const DeviceId& device, uint64_t first, uint64_t last) {
  if (last < first || last - first >= (uint64_t{1} << 20)) corrupt("change block: range");
  const size_t n = static_cast<size_t>(last - first + 1);
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kBlockMarker) {
    // The older layout: each change's encode_change, length-prefixed.
    return guarded(bytes, "change block", [&](ByteReader& r) {
      std::vector<StoredChange> out;
      out.reserve(n);
      for (size_t k = 0; k < n; ++k) out.push_back(decode_change(r.raw(r.checked_count(r.varint(), 1))));
      return out;
    });
  }
  return guarded(bytes, "change block", [&](ByteReader& r) {
    r.u8();
    if (r.u8() != kBlockFormat) corrupt("unknown change block format");
    std::vector<StoredChange> out(r.checked_count(n, 6));
    int64_t prev_ms = 0, prev_server_ms = 0;
    uint64_t prev_server_seq = 0;
    for (size_t k = 0; k < n; ++k) {
      StoredChange& sc = out[k];
      auto& c = sc.change;
      uint8_t flags = r.u8();
      if (flags & kNewEntity) {
        c.type = static_cast<EntityType>(r.u8());
        c.entity = EntityId::from_bytes(r.raw(16));
      } else {
        if (k == 0) corrupt("change block: no entity");
        c.type = out[k - 1].change.type;
        c.entity = out[k - 1].change.entity;
      }
      c.version = VersionId{device, Seq{first + k}};
      c.field = static_cast<FieldId>(r.varint());
      c.value = r.str();
      c.ts.ms = plus(prev_ms, r.svarint());
      c.ts.counter = static_cast<uint32_t>(r.varint());
      c.device_ms = plus(c.ts.ms, r.svarint());
      sc.server_seq = static_cast<uint64_t>(plus(static_cast<int64_t>(prev_server_seq), r.svarint()));
      if (flags & kRestamped) {
        sc.device_ts.ms = plus(c.ts.ms, r.svarint());
        sc.device_ts.counter = static_cast<uint32_t>(r.varint());
      } else {
        sc.device_ts = c.ts;
      }
      if (flags & kNewCollector) c.collector = r.str();
      else if (k > 0) c.collector = out[k - 1].change.collector;
      sc.server_ms = (flags & kNewServerMs) ? plus(prev_server_ms, r.svarint()) : prev_server_ms;
      if (flags & kNewSchema) c.schema_version = static_cast<uint32_t>(r.varint());
      else if (k > 0) c.schema_version = out[k - 1].change.schema_version;
      if (flags & kStatus) {
        sc.status = static_cast<StoredChange::Status>(r.u8());
        sc.reason = r.str();
      }
      if (flags & kBase) c.base = vids(r);
      prev_ms = c.ts.ms;
      prev_server_ms = sc.server_ms;
      prev_server_seq = sc.server_seq;
    }
    return out;
  });
}

std::string encode_device(const DeviceRecord& d) {
  ByteWriter w;
  w.u8(kDeviceFormat);
  w.raw(d.id.view());
  w.varint(d.scope.size());
  for (auto& s : d.scope) w.str(s);
  w.varint(d.acked_seq);
  w.varint(d.last_counter);
  w.varint(d.retired_after);
  w.u8(static_cast<uint8_t>((d.retired ? 1 : 0) | (d.revoked ? 2 : 0)));
  w.svarint(d.clock_offset_ms);
  w.svarint(d.last_push_ms);
  w.str(d.sign_pub);
  w.str(d.box_pub);
  w.str(d.escrow);
  w.varint(d.collectors.size());
  for (auto& c : d.collectors) w.str(c);
  w.str(d.token);
  return w.take();
}

DeviceRecord decode_device(std::string_view bytes) {
  return guarded(bytes, "device", [](ByteReader& r) {
    uint8_t format = r.u8();
    if (format != 1 && format != kDeviceFormat) corrupt("unknown device format");
    DeviceRecord d;
    d.id = DeviceId::from_bytes(r.raw(16));
    d.scope.resize(r.checked_count(r.varint(), 1));
    for (auto& s : d.scope) s = r.str();
    d.acked_seq = r.varint();
    d.last_counter = r.varint();
    d.retired_after = r.varint();
    uint8_t flags = r.u8();
    d.retired = flags & 1;
    d.revoked = flags & 2;
    d.clock_offset_ms = r.svarint();
    d.last_push_ms = r.svarint();
    if (format >= 2) {
      d.sign_pub = r.str();
      d.box_pub = r.str();
      d.escrow = r.str();
      d.collectors.resize(r.checked_count(r.varint(), 1));
      for (auto& c : d.collectors) c = r.str();
      d.token = r.str();
    }
    return d;
  });
}

std::string encode_strings(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::vector<std::string> decode_strings(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) comma = s.size();
    out.emplace_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace tz::sync::codec
