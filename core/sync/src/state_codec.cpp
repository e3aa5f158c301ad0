#include "state_codec.hpp"

#include "tz/util/bytes.hpp"

namespace tz::sync::codec {

namespace {

constexpr uint8_t kStateFormat = 1;
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

std::string encode_state(const EntityState& s) {
  ByteWriter w;
  w.u8(kStateFormat);
  w.u8(static_cast<uint8_t>(s.type));
  w.raw(s.id.view());
  w.varint(s.fields.size());
  for (auto& [f, fs] : s.fields) {
    w.varint(f);
    w.varint(fs.live.size());
    for (auto& v : fs.live) {
      vid(w, v.id);
      w.str(v.value);
      w.svarint(v.ts.ms);
      w.varint(v.ts.counter);
      w.str(v.collector);
      w.svarint(v.device_ms);
      w.svarint(v.server_ms);
    }
    vids(w, fs.superseded);
  }
  w.varint(s.deletion_bases.size());
  for (auto& [d, base] : s.deletion_bases) {
    vid(w, d);
    vids(w, base);
  }
  return w.take();
}

EntityState decode_state(std::string_view bytes) {
  return guarded(bytes, "entity state", [](ByteReader& r) {
    if (r.u8() != kStateFormat) corrupt("unknown entity state format");
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
