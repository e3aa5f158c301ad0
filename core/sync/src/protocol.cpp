// The sync wire codec (docs/sync-protocol.md). Devices and collectors are written once per message
// and referred to by index, times as deltas, and a change to the previous change's entity omits the
// id, as in the store's change log: most of a batch shares a device, a collector and an entity.
// zlib is included here only; its types never leave this file.
#include "tz/sync/protocol.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <exception>
#include <future>
#include <iterator>
#include <type_traits>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "tz/util/bytes.hpp"
#include "tz/util/parallel.hpp"
#include "wire_codec.hpp"

namespace tz::sync {

using detail::decode_message;
using detail::decode_or_error;
using detail::invalid;
using detail::Label;
using detail::message_label;
using detail::known_message_type;
using detail::num;
using detail::WireReader;

namespace {

constexpr uint8_t kSameEntity = 0x80;        // change: the entity is the previous change's
constexpr uint8_t kOutcomeReason = 0x40;     // outcome: a quarantine reason follows
constexpr uint8_t kOutcomeRestamped = 0x80;  // outcome: a new stamp follows
constexpr uint8_t kOutcomeKindMask = 0x3f;
constexpr size_t kZlibChunk = size_t{64} << 10;

// The fewest bytes each element can take, for checking counts against the bytes left.
constexpr size_t kPushChangeMinBytes = 8;  // a PushRequest's columns: field, value, hlc (2), collector, device ms, schema, base count
constexpr size_t kRunMinBytes = 3 + kPushChangeMinBytes;
constexpr size_t kGroupMinBytes = 3;      // entity ref, type, change count
constexpr size_t kVidMinBytes = 2;        // device index, seq
constexpr size_t kOutcomeMinBytes = 2;    // seq delta, kind
constexpr size_t kRecordMinBytes = 5;     // tag, seq delta, and a config record's three empty fields
constexpr size_t kFieldMinBytes = 3;      // field id, live count, superseded count
constexpr size_t kVersionMinBytes = 8;    // vid (2), hlc (2), collector, device ms, server ms, value
constexpr size_t kDeletionBaseMinBytes = 3;
constexpr size_t kDecisionMinBytes = 1;

enum class RecordTag : uint8_t {
  version = 1,
  own_version = 2,
  decision = 3,
  conflict = 4,
  notice = 5,
  config = 6,
  scope_enter = 7,
  scope_leave = 8,
  merge = 9,
  review_decision = 10,
};

// A record's tag is its index in PullRecord plus one: the variant's order is part of the grammar.
template <RecordTag tag, typename T>
constexpr bool tag_is = std::is_same_v<std::variant_alternative_t<static_cast<size_t>(tag) - 1, PullRecord>, T>;
static_assert(tag_is<RecordTag::version, VersionRecord> && tag_is<RecordTag::own_version, OwnVersionRecord> &&
              tag_is<RecordTag::decision, DecisionRecord> && tag_is<RecordTag::conflict, ConflictRecord> &&
              tag_is<RecordTag::notice, NoticeRecord> && tag_is<RecordTag::config, ConfigRecord> &&
              tag_is<RecordTag::scope_enter, ScopeEnterRecord> && tag_is<RecordTag::scope_leave, ScopeLeaveRecord> &&
              tag_is<RecordTag::merge, MergeRecord> && tag_is<RecordTag::review_decision, ReviewDecisionRecord> &&
              std::variant_size_v<PullRecord> == 10);

// Times travel as differences; wrapping arithmetic makes every int64 pair round-trip exactly and
// keeps hostile deltas from overflowing (which would be undefined behaviour on signed integers).
int64_t wrap_sub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
int64_t wrap_add(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }

bool known_entity_type(uint8_t t) {
  for (auto k : kEntityTypes)
    if (static_cast<uint8_t>(k) == t) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Encoding

// Interns the devices and collectors of one message; index 0 of devices is the first interned.
class Tables {
 public:
  size_t device(const DeviceId& d) {
    auto [it, added] = device_index_.try_emplace(d, devices_.size());
    if (added) devices_.push_back(d);
    return it->second;
  }
  // s must outlive the Tables (it points into the message being encoded).
  size_t collector(const std::string& s) {
    auto [it, added] = collector_index_.try_emplace(std::string_view(s), collectors_.size());
    if (added) collectors_.push_back(s);
    return it->second;
  }
  void write(ByteWriter& w) const {
    w.varint(devices_.size());
    for (auto& d : devices_) w.raw(d.view());
    w.varint(collectors_.size());
    for (auto c : collectors_) w.str(c);
  }

 private:
  std::vector<DeviceId> devices_;
  std::unordered_map<DeviceId, size_t, IdHash> device_index_;
  std::vector<std::string_view> collectors_;
  std::unordered_map<std::string_view, size_t> collector_index_;
};

// Writes a message body: fixed header fields into head, then (finish) the tables, then the body.
class Encoder {
 public:
  ByteWriter head;
  ByteWriter body;
  Tables tables;

  void vid(const VersionId& v) {
    body.varint(tables.device(v.device));
    body.varint(v.seq.value);
  }
  void entity(const EntityId& e) { body.raw(e.view()); }
  void hlc(const Hlc& h) {
    body.svarint(h.ms);
    body.varint(h.counter);
  }
  // A change without its version id (the caller writes that, or the run implies it).
  void change(const FieldChange& c) {
    bool same = has_prev_ && prev_entity_ == c.entity && prev_type_ == c.type;
    body.u8(static_cast<uint8_t>(static_cast<uint8_t>(c.type) | (same ? kSameEntity : 0)));
    if (!same) entity(c.entity);
    body.varint(c.field);
    body.str(c.value);
    body.svarint(wrap_sub(c.ts.ms, prev_ms_));
    body.varint(c.ts.counter);
    body.varint(tables.collector(c.collector));
    body.svarint(wrap_sub(c.device_ms, c.ts.ms));
    body.varint(c.schema_version);
    body.varint(c.base.size());
    for (auto& b : c.base) vid(b);
    has_prev_ = true;
    prev_entity_ = c.entity;
    prev_type_ = c.type;
    prev_ms_ = c.ts.ms;
  }
  // with_tables: messages that name no device or collector in their body (PushReply) have none.
  std::string finish(MessageType type, bool with_tables = true) {
    ByteWriter all;
    all.reserve(head.data().size() + body.data().size() + 64);
    all.raw(head.data());
    if (with_tables) tables.write(all);
    all.raw(body.data());
    return seal_frame(type, all.data());
  }

 private:
  bool has_prev_ = false;
  EntityId prev_entity_;
  EntityType prev_type_ = EntityType::person;
  int64_t prev_ms_ = 0;
};

void write_decision(Encoder& e, const Decision& d) {
  e.body.u8(static_cast<uint8_t>(d.kind));
  switch (d.kind) {
    case Decision::Kind::restamped: e.hlc(d.ts); break;
    case Decision::Kind::quarantined:
    case Decision::Kind::rejected: e.body.str(d.reason); break;
    case Decision::Kind::merged_into: e.entity(d.entity); break;
    case Decision::Kind::conflict:
    case Decision::Kind::released: break;
  }
}

void write_version(Encoder& e, const Version& v) {
  e.vid(v.id);
  e.hlc(v.ts);
  e.body.varint(e.tables.collector(v.collector));
  e.body.svarint(wrap_sub(v.device_ms, v.ts.ms));
  e.body.svarint(wrap_sub(v.server_ms, v.ts.ms));
  e.body.str(v.value);
}

void write_ids(Encoder& e, const std::vector<VersionId>& ids) {
  e.body.varint(ids.size());
  for (auto& id : ids) e.vid(id);
}

struct RecordWriter {
  Encoder& e;
  void operator()(const VersionRecord& r) {
    e.vid(r.change.version);
    e.change(r.change);
    e.body.svarint(wrap_sub(r.server_ms, r.change.ts.ms));
  }
  void operator()(const OwnVersionRecord& r) {
    e.vid(r.version);
    e.body.svarint(r.server_ms);
    e.body.varint(r.decisions.size());
    for (auto& d : r.decisions) write_decision(e, d);
  }
  void operator()(const DecisionRecord& r) {
    e.vid(r.version);
    write_decision(e, r.decision);
  }
  void operator()(const ConflictRecord& r) {
    e.body.u8(static_cast<uint8_t>(r.type));
    e.entity(r.entity);
    e.body.varint(r.field);
  }
  void operator()(const NoticeRecord& r) {
    e.body.u8(static_cast<uint8_t>(r.kind));
    e.body.u8(static_cast<uint8_t>(r.type));
    e.entity(r.entity);
    e.body.varint(r.field);
    e.vid(r.version);
    e.body.str(r.reason_zh);
    e.body.str(r.reason_en);
  }
  void operator()(const ConfigRecord& r) {
    e.body.str(r.key);
    e.body.varint(r.version);
    e.body.str(r.value);
  }
  void operator()(const ScopeEnterRecord& r) {
    auto& s = r.state;
    e.body.u8(static_cast<uint8_t>(s.type));
    e.entity(s.id);
    e.body.varint(s.fields.size());
    for (auto& [field, f] : s.fields) {
      e.body.varint(field);
      e.body.varint(f.live.size());
      for (auto& v : f.live) write_version(e, v);
      write_ids(e, f.superseded);
    }
    e.body.varint(s.deletion_bases.size());
    for (auto& [id, base] : s.deletion_bases) {
      e.vid(id);
      write_ids(e, base);
    }
  }
  void operator()(const ScopeLeaveRecord& r) { e.entity(r.entity); }
  void operator()(const MergeRecord& r) {
    e.body.u8(static_cast<uint8_t>(r.type));
    e.entity(r.merged_away);
    e.entity(r.survivor);
  }
  void operator()(const ReviewDecisionRecord& r) {
    e.body.u8(static_cast<uint8_t>(r.type));
    e.entity(r.entity);
    e.body.u8(static_cast<uint8_t>(r.verdict));
    write_ids(e, r.approved);
    e.body.str(r.reason);
    e.body.str(r.reviewer);
  }
};

// ---------------------------------------------------------------------------------------------
// Decoding

// The sync messages' reader: the shared bounded primitives (wire_codec.hpp) and, over them, the
// grammar's shared parts: the device and collector tables, version ids, changes and entity types.
class Decoder : public WireReader {
 public:
  using WireReader::WireReader;

  EntityType entity_type_from(uint8_t t) {
    if (!known_entity_type(t)) fail("未知的实体类型 " + num(t), "unknown entity type " + num(t));
    return static_cast<EntityType>(t);
  }
  EntityType entity_type() { return entity_type_from(u8()); }
  EntityId entity() { return EntityId::from_bytes(raw(16)); }
  DeviceId device() { return DeviceId::from_bytes(raw(16)); }
  Hlc hlc() {
    Hlc h;
    h.ms = svarint();
    h.counter = bounded<uint32_t>({"时钟计数", "clock counter"});
    return h;
  }

  void read_tables() {
    Scope s(*this, {"表", "tables"});
    size_t nd = count({"设备", "device"}, 16);
    devices_.reserve(nd);
    for (size_t i = 0; i < nd; ++i) devices_.push_back(device());
    size_t nc = count({"采集员", "collector"}, 1);
    collectors_.reserve(nc);
    for (size_t i = 0; i < nc; ++i) collectors_.push_back(str({"采集员", "collector"}));
  }
  const DeviceId& device_at(uint64_t i) const {
    if (i >= devices_.size())
      fail("设备序号 " + num(i) + " 不在 " + num(devices_.size()) + " 台设备的表中",
           "device index " + num(i) + " is not in the table of " + num(devices_.size()) + " devices");
    return devices_[i];
  }
  const std::string& collector_at(uint64_t i) const {
    if (i >= collectors_.size())
      fail("采集员序号 " + num(i) + " 不在 " + num(collectors_.size()) + " 名采集员的表中",
           "collector index " + num(i) + " is not in the table of " + num(collectors_.size()) + " collectors");
    return collectors_[i];
  }
  VersionId vid() {
    VersionId v;
    v.device = device_at(varint());
    v.seq.value = varint();
    return v;
  }
  // A list of version ids; sorted (strictly increasing) when the grammar says so.
  std::vector<VersionId> ids(Label what, bool sorted) {
    size_t n = count(what, kVidMinBytes);
    std::vector<VersionId> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      out.push_back(vid());
      if (sorted && i > 0 && !(out[i - 1] < out[i]))
        fail(std::string(what.zh) + "未按版本号严格递增排列", std::string(what.en) + " ids are not in strictly increasing order");
    }
    return out;
  }

  // A change without its version id (see Encoder::change).
  void change(FieldChange& c) {
    uint8_t t = u8();
    if (t & kSameEntity) {
      if (!has_prev_) fail("变更引用了前一个实体，但此前没有变更", "the change refers to the previous entity but there is none");
      c.entity = prev_entity_;
    } else {
      c.entity = entity();
    }
    c.type = entity_type_from(static_cast<uint8_t>(t & ~kSameEntity));
    if ((t & kSameEntity) && c.type != prev_type_)
      fail("变更引用了前一个实体，但实体类型不同", "the change refers to the previous entity with another entity type");
    c.field = bounded<FieldId>({"字段号", "field id"});
    c.value = str({"值", "value"});
    c.ts.ms = wrap_add(prev_ms_, svarint());
    c.ts.counter = bounded<uint32_t>({"时钟计数", "clock counter"});
    c.collector = collector_at(varint());
    c.device_ms = wrap_add(c.ts.ms, svarint());
    c.schema_version = bounded<uint32_t>({"模式版本", "schema version"});
    c.base = ids({"基础版本", "base"}, false);
    has_prev_ = true;
    prev_entity_ = c.entity;
    prev_type_ = c.type;
    prev_ms_ = c.ts.ms;
  }

  // seq = previous + delta; a sequence that goes down wraps past 2^64 and is refused here.
  uint64_t next_seq(uint64_t previous, Label what) {
    uint64_t delta = varint();
    if (delta > std::numeric_limits<uint64_t>::max() - previous)
      fail(std::string(what.zh) + "序号倒退或溢出（须按序号非递减排列）",
           std::string(what.en) + " seq goes backwards or overflows (they must be in non-decreasing seq order)");
    return previous + delta;
  }

 private:
  std::vector<DeviceId> devices_;
  std::vector<std::string> collectors_;
  bool has_prev_ = false;
  EntityId prev_entity_;
  EntityType prev_type_ = EntityType::person;
  int64_t prev_ms_ = 0;
};

constexpr Label kChange{"变更", "change"};
constexpr Label kRecord{"记录", "record"};

Decision read_decision(Decoder& d) {
  Decision x;
  uint8_t k = d.u8();
  if (k < 1 || k > 6) d.fail("未知的决定类型 " + num(k), "unknown decision kind " + num(k));
  x.kind = static_cast<Decision::Kind>(k);
  switch (x.kind) {
    case Decision::Kind::restamped: x.ts = d.hlc(); break;
    case Decision::Kind::quarantined:
    case Decision::Kind::rejected: x.reason = d.str({"原因", "reason"}); break;
    case Decision::Kind::merged_into: x.entity = d.entity(); break;
    case Decision::Kind::conflict:
    case Decision::Kind::released: break;
  }
  return x;
}

Version read_version(Decoder& d) {
  Version v;
  v.id = d.vid();
  v.ts = d.hlc();
  v.collector = d.collector_at(d.varint());
  v.device_ms = wrap_add(v.ts.ms, d.svarint());
  v.server_ms = wrap_add(v.ts.ms, d.svarint());
  v.value = d.str({"值", "value"});
  return v;
}

EntityState read_entity_state(Decoder& d) {
  EntityState s;
  s.type = d.entity_type();
  s.id = d.entity();
  size_t nf = d.count({"字段", "field"}, kFieldMinBytes);
  s.fields.reserve(nf);
  for (size_t i = 0; i < nf; ++i) {
    Decoder::Scope scope(d, {"字段", "field"}, i);
    auto field = d.bounded<FieldId>({"字段号", "field id"});
    if (i > 0 && field <= std::prev(s.fields.end())->first)
      d.fail("字段号 " + num(field) + " 未按严格递增排列", "field id " + num(field) + " is not in strictly increasing order");
    FieldState f;
    size_t nl = d.count({"现行版本", "live version"}, kVersionMinBytes);
    f.live.reserve(nl);
    for (size_t k = 0; k < nl; ++k) {
      f.live.push_back(read_version(d));
      if (k > 0 && !(f.live[k - 1].id < f.live[k].id))
        d.fail("现行版本未按版本号严格递增排列", "live versions are not in strictly increasing version id order");
    }
    f.superseded = d.ids({"被取代版本", "superseded"}, true);
    s.fields[field] = std::move(f);  // ids increase, so this appends
  }
  size_t nd = d.count({"删除基础", "deletion base"}, kDeletionBaseMinBytes);
  s.deletion_bases.reserve(nd);
  for (size_t i = 0; i < nd; ++i) {
    Decoder::Scope scope(d, {"删除基础", "deletion base"}, i);
    VersionId id = d.vid();
    if (i > 0 && !(std::prev(s.deletion_bases.end())->first < id))
      d.fail("删除版本未按版本号严格递增排列", "deletion versions are not in strictly increasing version id order");
    s.deletion_bases[id] = d.ids({"基础版本", "base"}, true);
  }
  return s;
}

PullRecord read_record(Decoder& d, uint64_t& previous_seq) {
  uint8_t tag = d.u8();
  uint64_t seq = d.next_seq(previous_seq, {"记录", "record"});
  previous_seq = seq;
  switch (static_cast<RecordTag>(tag)) {
    case RecordTag::version: {
      Decoder::Scope s(d, {"版本记录", "VersionRecord"});
      VersionRecord r;
      r.server_seq = seq;
      r.change.version = d.vid();
      d.change(r.change);
      r.server_ms = wrap_add(r.change.ts.ms, d.svarint());
      return r;
    }
    case RecordTag::own_version: {
      Decoder::Scope s(d, {"本机版本记录", "OwnVersionRecord"});
      OwnVersionRecord r;
      r.server_seq = seq;
      r.version = d.vid();
      r.server_ms = d.svarint();
      size_t n = d.count({"决定", "decision"}, kDecisionMinBytes);
      r.decisions.reserve(n);
      for (size_t i = 0; i < n; ++i) r.decisions.push_back(read_decision(d));
      return r;
    }
    case RecordTag::decision: {
      Decoder::Scope s(d, {"决定记录", "DecisionRecord"});
      DecisionRecord r;
      r.server_seq = seq;
      r.version = d.vid();
      r.decision = read_decision(d);
      return r;
    }
    case RecordTag::conflict: {
      Decoder::Scope s(d, {"冲突记录", "ConflictRecord"});
      ConflictRecord r;
      r.server_seq = seq;
      r.type = d.entity_type();
      r.entity = d.entity();
      r.field = d.bounded<FieldId>({"字段号", "field id"});
      return r;
    }
    case RecordTag::notice: {
      Decoder::Scope s(d, {"通知记录", "NoticeRecord"});
      NoticeRecord r;
      r.server_seq = seq;
      uint8_t k = d.u8();
      if (k < 1 || k > 6) d.fail("未知的通知类型 " + num(k), "unknown notice kind " + num(k));
      r.kind = static_cast<NoticeRecord::Kind>(k);
      r.type = d.entity_type();
      r.entity = d.entity();
      r.field = d.bounded<FieldId>({"字段号", "field id"});
      r.version = d.vid();
      r.reason_zh = d.str({"中文原因", "Chinese reason"});
      r.reason_en = d.str({"英文原因", "English reason"});
      return r;
    }
    case RecordTag::config: {
      Decoder::Scope s(d, {"配置记录", "ConfigRecord"});
      ConfigRecord r;
      r.server_seq = seq;
      r.key = d.str({"配置键", "key"});
      r.version = d.varint();
      r.value = d.str({"配置值", "value"});
      return r;
    }
    case RecordTag::scope_enter: {
      Decoder::Scope s(d, {"进入范围记录", "ScopeEnterRecord"});
      ScopeEnterRecord r;
      r.server_seq = seq;
      r.state = read_entity_state(d);
      return r;
    }
    case RecordTag::scope_leave: {
      Decoder::Scope s(d, {"离开范围记录", "ScopeLeaveRecord"});
      ScopeLeaveRecord r;
      r.server_seq = seq;
      r.entity = d.entity();
      return r;
    }
    case RecordTag::merge: {
      Decoder::Scope s(d, {"合并记录", "MergeRecord"});
      MergeRecord r;
      r.server_seq = seq;
      r.type = d.entity_type();
      r.merged_away = d.entity();
      r.survivor = d.entity();
      return r;
    }
    case RecordTag::review_decision: {
      Decoder::Scope s(d, {"审核决定记录", "ReviewDecisionRecord"});
      ReviewDecisionRecord r;
      r.server_seq = seq;
      r.type = d.entity_type();
      r.entity = d.entity();
      uint8_t v = d.u8();
      if (v < 1 || v > 3) d.fail("未知的审核结论 " + num(v), "unknown review verdict " + num(v));
      r.verdict = static_cast<ReviewDecisionRecord::Verdict>(v);
      r.approved = d.ids({"核准版本", "approved"}, false);
      r.reason = d.str({"原因", "reason"});
      r.reviewer = d.str({"审核人", "reviewer"});
      return r;
    }
  }
  d.fail("未知的记录类型 " + num(tag), "unknown record kind " + num(tag));
}

// From this many changes a push's columns are read on two threads (read_push_request).
constexpr size_t kSplitDecodeChanges = 2048;

// A push's field-id and value columns (`table`: the entity groups' ids, which a value may name).
void read_push_fields_and_values(Decoder& d, PushRequest& m, const std::vector<std::pair<EntityId, EntityType>>& table) {
  const size_t total = m.changes.size();
  {
    Decoder::Scope s(d, kChange, 0);
    for (size_t i = 0; i < total; ++i) {
      s.index(i);
      m.changes[i].field = d.bounded<FieldId>({"字段号", "field id"});
    }
  }
  const size_t max_value = d.limits().max_value_bytes;
  {
    Decoder::Scope s(d, kChange, 0);
    for (size_t i = 0; i < total; ++i) {
      s.index(i);
      uint64_t tag = d.varint();
      if (tag & 1) {
        uint64_t k = tag >> 1;
        if (k >= table.size())
          d.fail("值引用的实体序号 " + num(k) + " 不在 " + num(table.size()) + " 个实体的表中",
                 "the value refers to entity index " + num(k) + ", not in the table of " + num(table.size()) + " entities");
        m.changes[i].value = table[k].first.hex();
      } else {
        uint64_t len = tag >> 1;
        if (len > d.remaining())
          d.fail("值长度 " + num(len) + " 超过剩余字节数 (" + num(d.remaining()) + ")",
                 "value length " + num(len) + " exceeds the bytes left (" + num(d.remaining()) + ")");
        if (len > max_value)
          d.fail("值长度 " + num(len) + " 超过上限 " + num(max_value) + " 字节",
                 "value of " + num(len) + " bytes exceeds the limit of " + num(max_value));
        m.changes[i].value.assign(d.raw(static_cast<size_t>(len)));
      }
    }
  }
}

// Steps over the field-id and value columns without reading them into changes: where the columns
// after them start. (Only their lengths are read; read_push_fields_and_values checks them.)
void skip_push_fields_and_values(Decoder& d, size_t total) {
  for (size_t i = 0; i < total; ++i) (void)d.varint();
  for (size_t i = 0; i < total; ++i)
    if (uint64_t tag = d.varint(); !(tag & 1)) (void)d.raw(static_cast<size_t>(tag >> 1));
}

// A push's columns after its values: times, collectors, device times, schema versions and bases,
// then the sequence check and the device's audit notes.
void read_push_rest(Decoder& d, PushRequest& m) {
  const size_t total = m.changes.size();
  int64_t prev_ms = 0;
  uint32_t prev_counter = 0;
  {
    Decoder::Scope s(d, kChange, 0);
    for (size_t i = 0; i < total; ++i) {
      s.index(i);
      auto& c = m.changes[i];
      c.ts.ms = prev_ms = wrap_add(prev_ms, d.svarint());
      c.ts.counter = prev_counter = prev_counter + d.bounded<uint32_t>({"时钟计数", "clock counter"});
    }
  }
  {
    Decoder::Scope s(d, kChange, 0);
    for (size_t i = 0; i < total; ++i) {
      s.index(i);
      m.changes[i].collector = d.collector_at(d.varint());
    }
  }
  {
    Decoder::Scope s(d, kChange, 0);
    for (size_t i = 0; i < total; ++i) {
      s.index(i);
      m.changes[i].device_ms = wrap_add(m.changes[i].ts.ms, d.svarint());
    }
  }
  {
    Decoder::Scope s(d, kChange, 0);
    for (size_t i = 0; i < total; ++i) {
      s.index(i);
      m.changes[i].schema_version = d.bounded<uint32_t>({"模式版本", "schema version"});
    }
  }
  {
    Decoder::Scope s(d, kChange, 0);
    for (size_t i = 0; i < total; ++i) {
      s.index(i);
      m.changes[i].base = d.ids({"基础版本", "base"}, false);
    }
  }
  // SPEC §5 Push: a device sends its own changes in sequence order, without gaps.
  {
    Decoder::Scope s(d, kChange, 0);
    for (size_t i = 0; i < m.changes.size(); ++i) {
      s.index(i);
      auto& v = m.changes[i].version;
      if (v.device != m.device)
        d.fail("由设备 " + v.device.hex() + " 产生，而非推送的设备 " + m.device.hex(),
               "made by device " + v.device.hex() + ", not by the pushing device " + m.device.hex());
      if (i > std::numeric_limits<uint64_t>::max() - m.first_seq || v.seq.value != m.first_seq + i)
        d.fail("序号 " + num(v.seq.value) + " 不接续首序号 " + num(m.first_seq) + "：变更序号须连续",
               "seq " + num(v.seq.value) + " does not follow first_seq " + num(m.first_seq) +
                   ": changes must be consecutive");
    }
  }
  // The device's audit notes (always written, usually none: a cut message never passes for one
  // without them).
  {
    const size_t n = d.count({"审计记录", "audit note"}, 3, 64);
    for (size_t i = 0; i < n; ++i) {
      Decoder::Scope s(d, {"审计记录", "audit note"}, i);
      PushRequest::AuditNote a;
      a.device_ms = d.svarint();
      a.kind = d.str({"类别", "kind"});
      a.summary = d.str({"摘要", "summary"});
      m.audit_notes.push_back(std::move(a));
    }
  }
}

PushRequest read_push_request(Decoder& d) {
  PushRequest m;
  m.device = d.device();
  m.device_epoch = d.str({"设备纪元", "device epoch"});
  m.server_epoch_seen = d.str({"服务器纪元", "server epoch"});
  m.request_counter = d.varint();
  m.device_now_ms = d.svarint();
  m.first_seq = d.varint();
  d.read_tables();
  const size_t max = d.limits().max_changes;
  size_t runs = d.count({"变更段", "run"}, kRunMinBytes, max);
  // Runs give each change its version id; the columns that follow give the rest.
  std::vector<VersionId> ids;
  for (size_t r = 0; r < runs; ++r) {
    Decoder::Scope s(d, {"变更段", "run"}, r);
    DeviceId device = d.device_at(d.varint());
    uint64_t seq0 = d.varint();
    size_t n = d.count({"变更", "change"}, kPushChangeMinBytes);
    if (n == 0) d.fail("空的变更段", "an empty run");
    if (n > max - ids.size()) d.fail("变更总数超过上限 " + num(max), "the changes exceed the limit of " + num(max));
    if (n - 1 > std::numeric_limits<uint64_t>::max() - seq0) d.fail("序号溢出", "the sequence numbers overflow");
    // Every change takes at least kPushChangeMinBytes in the columns: checked against the bytes left.
    if (ids.size() + n > d.remaining() / kPushChangeMinBytes)
      d.fail("变更数 " + num(ids.size() + n) + " 超过剩余字节数 (" + num(d.remaining()) + ")",
             "change count " + num(ids.size() + n) + " exceeds the bytes left (" + num(d.remaining()) + ")");
    ids.reserve(ids.size() + n);
    for (size_t i = 0; i < n; ++i) ids.push_back(VersionId{device, Seq{seq0 + i}});
  }
  const size_t total = ids.size();
  m.changes.resize(total);
  for (size_t i = 0; i < total; ++i) m.changes[i].version = ids[i];
  std::vector<VersionId>().swap(ids);
  // Entity groups.
  std::vector<std::pair<EntityId, EntityType>> table;
  std::unordered_set<EntityId, IdHash> in_table;
  {
    Decoder::Scope s(d, {"实体段", "entity group"});
    size_t groups = d.count({"实体段", "entity group"}, kGroupMinBytes, total);
    if (total > 0 && groups == 0) d.fail("有变更却没有实体段", "changes without entity groups");
    size_t at = 0;
    for (size_t g = 0; g < groups; ++g) {
      Decoder::Scope sg(d, {"实体段", "entity group"}, g);
      uint64_t ref = d.varint();
      EntityType type = d.entity_type();
      EntityId id;
      if (ref == 0) {
        id = d.entity();
        // Each entity enters the table once (the encoder names it by index after): the same id twice,
        // perhaps with another type, would not survive a re-encoding (found by fuzz_wire).
        if (!in_table.insert(id).second)
          d.fail("实体 " + id.hex() + " 已在表中", "entity " + id.hex() + " is already in the table");
        table.emplace_back(id, type);
      } else {
        if (ref - 1 >= table.size())
          d.fail("实体序号 " + num(ref - 1) + " 不在 " + num(table.size()) + " 个实体的表中",
                 "entity index " + num(ref - 1) + " is not in the table of " + num(table.size()) + " entities");
        id = table[ref - 1].first;
        if (table[ref - 1].second != type) d.fail("实体类型与表中的不同", "the entity type differs from the table's");
      }
      uint64_t n = d.varint();
      if (n == 0 || n > total - at)
        d.fail("实体段的变更数 " + num(n) + " 为零或超出变更总数 " + num(total),
               "the group's change count " + num(n) + " is zero or exceeds the total of " + num(total));
      for (uint64_t k = 0; k < n; ++k, ++at) {
        m.changes[at].entity = id;
        m.changes[at].type = type;
      }
    }
    if (at != total)
      d.fail("实体段只覆盖 " + num(at) + " 个变更，共 " + num(total) + " 个",
             "the entity groups cover " + num(at) + " of " + num(total) + " changes");
  }
  // The columns after the values are read on another thread while this one reads the field ids
  // and values (decision 151; the decode was a fifth of a county push's own thread, the store's
  // writer idle meanwhile). That thread finds where they start by stepping over the two before.
  // Both write other members of the same changes; each waits for the other before an error leaves.
  if (total >= kSplitDecodeChanges && worker_threads() > 1) {
    std::future<Decoder> later = run_beside([helper = d, &m]() mutable {
      skip_push_fields_and_values(helper, m.changes.size());
      read_push_rest(helper, m);
      return helper;
    });
    std::exception_ptr failed;
    try {
      read_push_fields_and_values(d, m, table);
    } catch (...) {
      failed = std::current_exception();
    }
    try {
      Decoder after = later.get();
      if (!failed) d.follow(after);
    } catch (...) {
      if (!failed) failed = std::current_exception();  // an earlier column's error comes first
    }
    if (failed) std::rethrow_exception(failed);
  } else {
    read_push_fields_and_values(d, m, table);
    read_push_rest(d, m);
  }
  return m;
}

PushReply read_push_reply(Decoder& d) {
  PushReply m;
  m.server_epoch = d.str({"服务器纪元", "server epoch"});
  m.acked_seq = d.varint();
  uint8_t refusal = d.u8();
  if (refusal > 5) d.fail("未知的拒绝原因 " + num(refusal), "unknown refusal " + num(refusal));
  m.refusal = static_cast<PushReply::Refusal>(refusal);
  m.highest_seq_held = d.varint();
  m.last_counter_seen = d.varint();
  size_t n = d.count({"结果", "outcome"}, kOutcomeMinBytes, d.limits().max_changes);
  m.outcomes.reserve(n);
  uint64_t previous = 0;
  for (size_t i = 0; i < n; ++i) {
    Decoder::Scope s(d, {"结果", "outcome"}, i);
    ChangeOutcome o;
    o.seq = previous = d.next_seq(previous, {"结果", "outcome"});
    uint8_t b = d.u8();
    uint8_t kind = b & kOutcomeKindMask;
    if (kind > 3) d.fail("未知的结果类型 " + num(kind), "unknown outcome kind " + num(kind));
    o.kind = static_cast<ChangeOutcome::Kind>(kind);
    if (b & kOutcomeReason) o.quarantine_reason = d.str({"隔离原因", "quarantine reason"});
    if (b & kOutcomeRestamped) o.restamped = d.hlc();
    m.outcomes.push_back(std::move(o));
  }
  return m;
}

PullRequest read_pull_request(Decoder& d) {
  PullRequest m;
  m.device = d.device();
  m.server_epoch_seen = d.str({"服务器纪元", "server epoch"});
  m.cursor = d.varint();
  m.max_records = d.bounded<uint32_t>({"每页记录数", "max_records"});
  m.own_values = d.flag({"含本机数值", "own_values"});
  return m;
}

ErrorReply read_error_reply(Decoder& d) {
  ErrorReply m;
  m.code = d.str({"错误代码", "code"});
  m.message_zh = d.str({"中文信息", "message_zh"});
  m.message_en = d.str({"英文信息", "message_en"});
  m.last_counter = d.varint();
  return m;
}

PullPage read_pull_page(Decoder& d) {
  PullPage m;
  m.server_epoch = d.str({"服务器纪元", "server epoch"});
  m.next_cursor = d.varint();
  m.more = d.flag({"是否还有", "more"});
  d.read_tables();
  size_t n = d.count(kRecord, kRecordMinBytes, d.limits().max_records);
  m.records.reserve(n);
  uint64_t previous = 0;
  for (size_t i = 0; i < n; ++i) {
    Decoder::Scope s(d, kRecord, i);
    m.records.push_back(read_record(d, previous));
  }
  return m;
}

// Inflates a zlib stream, refusing more than max bytes of output (checked per chunk, so never more
// than max plus one chunk is produced), a damaged or truncated stream and bytes after its end. The
// output is gathered in chunks and joined once at its exact size: growing one string would allocate
// up to twice the limit (libstdc++ at least doubles a string's capacity on every reallocation).
Result<std::string> inflate_body(std::string_view in, size_t max, Label label) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Error(ErrorCode::internal, {"zlib inflateInit failed"});
  struct End {
    z_stream& zs;
    ~End() { inflateEnd(&zs); }
  } end{zs};
  std::vector<std::string> parts;
  size_t total = 0;
  size_t fed = 0;
  for (;;) {
    if (zs.avail_in == 0 && fed < in.size()) {
      size_t n = std::min<size_t>(in.size() - fed, UINT_MAX);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + fed));
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    std::string chunk(kZlibChunk, '\0');
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      if (rc == Z_MEM_ERROR) return Error(ErrorCode::internal, {"zlib: out of memory"});
      return invalid(label, "压缩数据已损坏", "the compressed body is damaged");
    }
    size_t got = chunk.size() - zs.avail_out;
    if (got > max - total)
      return invalid(label, "解压后超过上限 " + num(max) + " 字节", "the body inflates to more than the limit of " + num(max) + " bytes");
    total += got;
    if (got > 0) {
      chunk.resize(got);
      parts.push_back(std::move(chunk));
    }
    if (rc == Z_STREAM_END) break;
    // No progress with all input given: the stream was cut short.
    if (rc == Z_BUF_ERROR || (got == 0 && zs.avail_in == 0 && fed == in.size()))
      return invalid(label, "压缩数据不完整", "the compressed body is truncated");
  }
  if (zs.avail_in != 0 || fed != in.size())
    return invalid(label, "压缩数据后有多余字节", "bytes follow the end of the compressed body");
  if (parts.size() == 1) return std::move(parts[0]);
  std::string out;
  out.reserve(total);
  for (auto& p : parts) {
    out += p;
    std::string().swap(p);  // free as we go: the peak stays near one copy of the body
  }
  return out;
}

}  // namespace

std::string_view message_type_name(MessageType t) { return message_label(t).en; }

OutcomeCounts count_outcomes(const PushReply& reply) {
  OutcomeCounts n;
  for (const auto& o : reply.outcomes) {
    switch (o.kind) {
      case ChangeOutcome::Kind::applied: ++n.applied; break;
      case ChangeOutcome::Kind::conflict: ++n.conflicts; break;
      case ChangeOutcome::Kind::quarantined: ++n.quarantined; break;
      case ChangeOutcome::Kind::duplicate: ++n.duplicates; break;
    }
    if (o.restamped) ++n.restamped;
  }
  return n;
}

uint64_t server_seq(const PullRecord& r) {
  return std::visit([](const auto& x) { return x.server_seq; }, r);
}

std::string seal_frame(MessageType type, std::string_view body, uint8_t version) {
  std::string out;
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(version));
  if (type == MessageType::signed_request || type == MessageType::signed_reply) return out.append(body);  // see open_frame
  z_stream zs{};
  if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) throw Failure(ErrorCode::internal, {"zlib deflateInit failed"});
  struct End {
    z_stream& zs;
    ~End() { deflateEnd(&zs); }
  } end{zs};
  std::string chunk(kZlibChunk, '\0');
  size_t fed = 0;
  int rc = Z_OK;
  do {
    if (zs.avail_in == 0 && fed < body.size()) {
      size_t n = std::min<size_t>(body.size() - fed, UINT_MAX);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data() + fed));
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = deflate(&zs, fed == body.size() && zs.avail_in == 0 ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) throw Failure(ErrorCode::internal, {"zlib deflate failed"});
    out.append(chunk.data(), chunk.size() - zs.avail_out);
  } while (rc != Z_STREAM_END);
  return out;
}

Result<Frame> open_frame(std::string_view bytes, const Limits& limits) {
  Label unknown{"同步消息", "sync message"};
  if (bytes.size() < 2) return invalid(unknown, "消息短于 2 字节的头部", "the message is shorter than its 2-byte header");
  auto t = static_cast<uint8_t>(bytes[0]);
  if (!known_message_type(t)) return invalid(unknown, "未知的消息类型 " + num(t), "unknown message type " + num(t));
  Frame f;
  f.type = static_cast<MessageType>(t);
  f.version = static_cast<uint8_t>(bytes[1]);
  Label label = message_label(f.type);
  if (f.version != kProtocolVersion)
    return invalid(label, "未知的协议版本 " + num(f.version) + "（本程序读取版本 " + num(kProtocolVersion) + "）",
                   "unknown protocol version " + num(f.version) + " (this build reads version " + num(kProtocolVersion) + ")");
  // A SignedRequest (SignedReply) wraps a frame that is deflated already: its body travels as is.
  if (f.type == MessageType::signed_request || f.type == MessageType::signed_reply) {
    if (bytes.size() - 2 > limits.max_uncompressed)
      return invalid(label, "超过上限 " + num(limits.max_uncompressed) + " 字节",
                     "the body exceeds the limit of " + num(limits.max_uncompressed) + " bytes");
    f.body = std::string(bytes.substr(2));
    return f;
  }
  auto body = inflate_body(bytes.substr(2), limits.max_uncompressed, label);
  if (!body) return body.error();
  f.body = std::move(*body);
  return f;
}

std::string encode(const PushRequest& m) {
  Encoder e;
  e.head.raw(m.device.view());
  e.head.str(m.device_epoch);
  e.head.str(m.server_epoch_seen);
  e.head.varint(m.request_counter);
  e.head.svarint(m.device_now_ms);
  e.head.varint(m.first_seq);
  e.tables.device(m.device);  // index 0: the pushing device
  // Runs: maximal stretches by one device with consecutive sequence numbers.
  size_t runs = 0;
  for (size_t i = 0; i < m.changes.size(); ++i) {
    auto& v = m.changes[i].version;
    auto& p = m.changes[i > 0 ? i - 1 : 0].version;
    if (i == 0 || v.device != p.device || v.seq.value != p.seq.value + 1) ++runs;
  }
  e.body.varint(runs);
  for (size_t i = 0; i < m.changes.size();) {
    size_t j = i + 1;
    while (j < m.changes.size() && m.changes[j].version.device == m.changes[i].version.device &&
           m.changes[j].version.seq.value == m.changes[j - 1].version.seq.value + 1)
      ++j;
    e.body.varint(e.tables.device(m.changes[i].version.device));
    e.body.varint(m.changes[i].version.seq.value);
    e.body.varint(j - i);
    i = j;
  }
  // The changes, column by column (docs/sync-protocol.md "PushRequest"): like values lie together,
  // which zlib compresses far better than whole changes one after another.
  // Entity groups: maximal stretches of changes to one entity; each entity's id is written once, at
  // its first group, and later groups and reference values name it by its index in that table.
  std::unordered_map<EntityId, size_t, IdHash> index;
  std::vector<std::string> hex;  // the table's ids as reference values are written
  size_t groups = 0;
  for (size_t i = 0; i < m.changes.size(); ++i)
    if (i == 0 || m.changes[i].entity != m.changes[i - 1].entity || m.changes[i].type != m.changes[i - 1].type) ++groups;
  e.body.varint(groups);
  for (size_t i = 0; i < m.changes.size();) {
    size_t j = i + 1;
    while (j < m.changes.size() && m.changes[j].entity == m.changes[i].entity && m.changes[j].type == m.changes[i].type) ++j;
    auto& c = m.changes[i];
    auto [it, added] = index.try_emplace(c.entity, index.size());
    if (added) {
      e.body.varint(0);
      e.body.u8(static_cast<uint8_t>(c.type));
      e.body.raw(c.entity.view());
      hex.push_back(c.entity.hex());
    } else {
      e.body.varint(it->second + 1);
      e.body.u8(static_cast<uint8_t>(c.type));
    }
    e.body.varint(j - i);
    i = j;
  }
  for (auto& c : m.changes) e.body.varint(c.field);
  for (auto& c : m.changes) {
    // A value that is the id of an entity in the table (a reference field) is written as its index.
    if (c.value.size() == 32) {
      if (auto id = EntityId::from_hex(c.value)) {
        if (auto it = index.find(*id); it != index.end() && hex[it->second] == c.value) {
          e.body.varint(uint64_t{it->second} * 2 + 1);
          continue;
        }
      }
    }
    e.body.varint(uint64_t{c.value.size()} * 2);
    e.body.raw(c.value);
  }
  int64_t prev_ms = 0;
  uint32_t prev_counter = 0;
  for (auto& c : m.changes) {
    e.body.svarint(wrap_sub(c.ts.ms, prev_ms));
    e.body.varint(static_cast<uint32_t>(c.ts.counter - prev_counter));  // mod 2^32
    prev_ms = c.ts.ms;
    prev_counter = c.ts.counter;
  }
  for (auto& c : m.changes) e.body.varint(e.tables.collector(c.collector));
  for (auto& c : m.changes) e.body.svarint(wrap_sub(c.device_ms, c.ts.ms));
  for (auto& c : m.changes) e.body.varint(c.schema_version);
  for (auto& c : m.changes) {
    e.body.varint(c.base.size());
    for (auto& b : c.base) e.vid(b);
  }
  e.body.varint(m.audit_notes.size());
  for (auto& a : m.audit_notes) {
    e.body.svarint(a.device_ms);
    e.body.str(a.kind);
    e.body.str(a.summary);
  }
  return e.finish(MessageType::push_request);
}

std::string encode(const PushReply& m) {
  Encoder e;
  e.head.str(m.server_epoch);
  e.head.varint(m.acked_seq);
  e.head.u8(static_cast<uint8_t>(m.refusal));
  e.head.varint(m.highest_seq_held);
  e.head.varint(m.last_counter_seen);
  e.body.varint(m.outcomes.size());
  uint64_t previous = 0;
  for (auto& o : m.outcomes) {
    e.body.varint(o.seq - previous);  // wraps when out of order, which decode refuses
    previous = o.seq;
    uint8_t b = static_cast<uint8_t>(static_cast<uint8_t>(o.kind) & kOutcomeKindMask);
    if (!o.quarantine_reason.empty()) b |= kOutcomeReason;
    if (o.restamped) b |= kOutcomeRestamped;
    e.body.u8(b);
    if (!o.quarantine_reason.empty()) e.body.str(o.quarantine_reason);
    if (o.restamped) e.hlc(*o.restamped);
  }
  return e.finish(MessageType::push_reply, false);
}

std::string encode(const PullRequest& m) {
  ByteWriter w;
  w.raw(m.device.view());
  w.str(m.server_epoch_seen);
  w.varint(m.cursor);
  w.varint(m.max_records);
  w.u8(m.own_values ? 1 : 0);
  return seal_frame(MessageType::pull_request, w.data());
}

std::string encode(const ErrorReply& m) {
  ByteWriter w;
  w.str(m.code);
  w.str(m.message_zh);
  w.str(m.message_en);
  w.varint(m.last_counter);
  return seal_frame(MessageType::error_reply, w.data());
}

Error to_error(const ErrorReply& reply) {
  std::string zh = reply.message_zh, en = reply.message_en;
  if (reply.code == error_info(ErrorCode::unknown_device).name) return Error(ErrorCode::unknown_device, {bilingual(zh, en)});
  if (reply.code == error_info(ErrorCode::device_revoked).name) return Error(ErrorCode::device_revoked, {bilingual(zh, en)});
  return Error(ErrorCode::sync_refused, {bilingual(zh, en)});
}

std::string encode(const PullPage& m) {
  Encoder e;
  e.head.str(m.server_epoch);
  e.head.varint(m.next_cursor);
  e.head.u8(m.more ? 1 : 0);
  e.body.varint(m.records.size());
  uint64_t previous = 0;
  for (auto& r : m.records) {
    e.body.u8(static_cast<uint8_t>(r.index() + 1));  // RecordTag follows the variant's order
    uint64_t seq = server_seq(r);
    e.body.varint(seq - previous);
    previous = seq;
    std::visit(RecordWriter{e}, r);
  }
  return e.finish(MessageType::pull_page);
}

Result<PushRequest> decode_push_request(std::string_view bytes, const Limits& limits) {
  return decode_message<PushRequest, Decoder>(bytes, limits, MessageType::push_request, read_push_request);
}
Result<PushReply> decode_push_reply(std::string_view bytes, const Limits& limits) {
  return decode_message<PushReply, Decoder>(bytes, limits, MessageType::push_reply, read_push_reply);
}
Result<PullRequest> decode_pull_request(std::string_view bytes, const Limits& limits) {
  return decode_message<PullRequest, Decoder>(bytes, limits, MessageType::pull_request, read_pull_request);
}
Result<PullPage> decode_pull_page(std::string_view bytes, const Limits& limits) {
  return decode_message<PullPage, Decoder>(bytes, limits, MessageType::pull_page, read_pull_page);
}
Result<ErrorReply> decode_error_reply(std::string_view bytes, const Limits& limits) {
  return decode_message<ErrorReply, Decoder>(bytes, limits, MessageType::error_reply, read_error_reply);
}

Result<PushReply> decode_push_reply_or_error(std::string_view bytes, const Limits& limits) {
  return decode_or_error<PushReply>(bytes, limits, decode_push_reply);
}
Result<PullPage> decode_pull_page_or_error(std::string_view bytes, const Limits& limits) {
  return decode_or_error<PullPage>(bytes, limits, decode_pull_page);
}

}  // namespace tz::sync
