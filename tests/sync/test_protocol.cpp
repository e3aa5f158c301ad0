// The sync wire codec (docs/sync-protocol.md): every message and every pull record kind round trips
// field by field (compared through a text form written here, independently of the codec); truncated,
// damaged, oversized and hostile messages are refused with a located error, without crashing and
// without allocating more than the bytes present justify.
// This test replaces the global operator new/delete (malloc/free) to measure the largest allocation
// a hostile message causes; GCC 12 then reports every inlined delete as mismatched at -O2.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <catch2/catch.hpp>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "scoped_env.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/util/bytes.hpp"

// The largest single allocation while tracking is on: a count taken from hostile bytes must never
// turn into a huge allocation. Replacing the global operator new is program-wide; this suite is
// its own executable, so nothing else is affected.
namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest{0};
}  // namespace

// Every replaceable form but the aligned ones (left alone, as a pair), so that under AddressSanitizer
// no block is allocated by its operator new and freed by ours.
namespace {
void* tracked_alloc(std::size_t n) noexcept {
  if (g_tracking.load(std::memory_order_relaxed)) {
    size_t seen = g_largest.load(std::memory_order_relaxed);
    while (n > seen && !g_largest.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
    }
  }
  return std::malloc(n ? n : 1);
}
}  // namespace
void* operator new(std::size_t n) {
  if (void* p = tracked_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = tracked_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return tracked_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return tracked_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace tz::sync;
using Catch::Matchers::Contains;
using tz::DeviceId;
using tz::EntityId;
using tz::EntityType;
using tz::FieldChange;
using tz::Hlc;
using tz::VersionId;

namespace {

// Tracks the largest allocation made by f.
template <typename F>
size_t largest_allocation(F&& f) {
  g_largest = 0;
  g_tracking = true;
  f();
  g_tracking = false;
  return g_largest;
}

DeviceId device(uint8_t n) {
  DeviceId d;
  for (size_t i = 0; i < 16; ++i) d.bytes[i] = static_cast<uint8_t>(n * 17 + i);
  return d;
}

EntityId entity(uint8_t n) {
  EntityId e;
  for (size_t i = 0; i < 16; ++i) e.bytes[i] = static_cast<uint8_t>(0xe0 ^ (n * 31 + i));
  return e;
}

VersionId vid(uint8_t dev, uint64_t seq) { return VersionId{device(dev), tz::Seq{seq}}; }

const std::string kNonBmp = "\xF0\xA0\x80\x8B\xF0\xA1\x88\xBD\xF0\xAA\x9A\xA5";  // 𠀋𡈽𪚥
const std::string kEmoji = "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD";                   // 👍🏽

// ---- Text forms: every member, so two values with equal text are equal -------------------------

std::string text(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\') {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}
std::string text(const VersionId& v) { return v.str(); }
std::string text(const Hlc& h) { return std::to_string(h.ms) + "." + std::to_string(h.counter); }
std::string text(const std::vector<VersionId>& ids) {
  std::string out = "[";
  for (auto& id : ids) out += text(id) + " ";
  return out + "]";
}
std::string text(const FieldChange& c) {
  return "change(" + std::to_string(static_cast<int>(c.type)) + " " + c.entity.hex() + " f" + std::to_string(c.field) +
         " " + text(c.value) + " " + text(c.version) + " " + text(c.ts) + " " + text(c.collector) + " dev" +
         std::to_string(c.device_ms) + " base" + text(c.base) + " schema" + std::to_string(c.schema_version) + ")";
}
std::string text(const tz::Version& v) {
  return "version(" + text(v.id) + " " + text(v.value) + " " + text(v.ts) + " " + text(v.collector) + " dev" +
         std::to_string(v.device_ms) + " srv" + std::to_string(v.server_ms) + ")";
}
std::string text(const tz::EntityState& s) {
  std::string out = "state(" + std::to_string(static_cast<int>(s.type)) + " " + s.id.hex();
  for (auto& [field, f] : s.fields) {
    out += " field" + std::to_string(field) + "{";
    for (auto& v : f.live) out += text(v) + " ";
    out += "superseded" + text(f.superseded) + "}";
  }
  for (auto& [id, base] : s.deletion_bases) out += " deletion " + text(id) + text(base);
  return out + ")";
}
std::string text(const Decision& d) {
  return "decision(" + std::to_string(static_cast<int>(d.kind)) + " " + text(d.ts) + " " + text(d.reason) + " " +
         d.entity.hex() + ")";
}
std::string text(const PushRequest& m) {
  std::string out = "push(" + m.device.hex() + " " + text(m.device_epoch) + " " + text(m.server_epoch_seen) + " " +
                    std::to_string(m.request_counter) + " now" + std::to_string(m.device_now_ms) + " " +
                    std::to_string(m.first_seq);
  for (auto& c : m.changes) out += " " + text(c);
  return out + ")";
}
std::string text(const PushReply& m) {
  std::string out = "reply(" + text(m.server_epoch) + " acked" + std::to_string(m.acked_seq) + " refusal" +
                    std::to_string(static_cast<int>(m.refusal)) + " held" + std::to_string(m.highest_seq_held) +
                    " counter" + std::to_string(m.last_counter_seen);
  for (auto& o : m.outcomes)
    out += " outcome(" + std::to_string(o.seq) + " " + std::to_string(static_cast<int>(o.kind)) + " " +
           text(o.quarantine_reason) + " " + (o.restamped ? text(*o.restamped) : "-") + ")";
  return out + ")";
}
std::string text(const PullRequest& m) {
  return "pull(" + m.device.hex() + " " + text(m.server_epoch_seen) + " " + std::to_string(m.cursor) + " " +
         std::to_string(m.max_records) + (m.own_values ? " own" : "") + ")";
}
std::string text(const tz::sync::ErrorReply& m) {
  return "error(" + text(m.code) + " " + text(m.message_zh) + " " + text(m.message_en) + " " + std::to_string(m.last_counter) + ")";
}
struct RecordText {
  std::string operator()(const VersionRecord& r) {
    return "V" + std::to_string(r.server_seq) + " " + text(r.change) + " srv" + std::to_string(r.server_ms);
  }
  std::string operator()(const OwnVersionRecord& r) {
    std::string out = "O" + std::to_string(r.server_seq) + " " + text(r.version) + " srv" + std::to_string(r.server_ms);
    for (auto& d : r.decisions) out += " " + text(d);
    return out;
  }
  std::string operator()(const DecisionRecord& r) {
    return "D" + std::to_string(r.server_seq) + " " + text(r.version) + " " + text(r.decision);
  }
  std::string operator()(const ConflictRecord& r) {
    return "C" + std::to_string(r.server_seq) + " " + std::to_string(static_cast<int>(r.type)) + " " + r.entity.hex() +
           " f" + std::to_string(r.field);
  }
  std::string operator()(const NoticeRecord& r) {
    return "N" + std::to_string(r.server_seq) + " " + std::to_string(static_cast<int>(r.kind)) + " " +
           std::to_string(static_cast<int>(r.type)) + " " + r.entity.hex() + " f" + std::to_string(r.field) + " " +
           text(r.version) + " " + text(r.reason_zh) + " " + text(r.reason_en);
  }
  std::string operator()(const ConfigRecord& r) {
    return "K" + std::to_string(r.server_seq) + " " + text(r.key) + " v" + std::to_string(r.version) + " " + text(r.value);
  }
  std::string operator()(const ScopeEnterRecord& r) { return "E" + std::to_string(r.server_seq) + " " + text(r.state); }
  std::string operator()(const ScopeLeaveRecord& r) { return "L" + std::to_string(r.server_seq) + " " + r.entity.hex(); }
  std::string operator()(const MergeRecord& r) {
    return "M" + std::to_string(r.server_seq) + " " + std::to_string(static_cast<int>(r.type)) + " " +
           r.merged_away.hex() + ">" + r.survivor.hex();
  }
  std::string operator()(const ReviewDecisionRecord& r) {
    return "R" + std::to_string(r.server_seq) + " " + std::to_string(static_cast<int>(r.type)) + " " + r.entity.hex() +
           " " + std::to_string(static_cast<int>(r.verdict)) + " " + text(r.approved) + " " + text(r.reason) + " " +
           text(r.reviewer);
  }
};
std::string text(const PullRecord& r) { return std::visit(RecordText{}, r); }
std::string text(const PullPage& m) {
  std::string out = "page(" + text(m.server_epoch) + " next" + std::to_string(m.next_cursor) + (m.more ? " more" : " last");
  for (auto& r : m.records) out += "\n  " + text(r);
  return out + ")";
}

// ---- Sample messages with non-trivial contents --------------------------------------------------

FieldChange change(EntityType type, EntityId e, tz::FieldId field, std::string value, VersionId v, Hlc ts,
                   std::vector<VersionId> base, std::string collector = "王芳") {
  FieldChange c;
  c.type = type;
  c.entity = e;
  c.field = field;
  c.value = std::move(value);
  c.version = v;
  c.ts = ts;
  c.collector = std::move(collector);
  c.device_ms = ts.ms > std::numeric_limits<int64_t>::min() + 1234 ? ts.ms - 1234 : ts.ms;
  c.base = std::move(base);
  c.schema_version = 7;
  return c;
}

PushRequest sample_push() {
  PushRequest m;
  m.device = device(1);
  m.device_epoch = "3f9a0c1d";
  m.server_epoch_seen = "77e1";
  m.request_counter = 41;
  m.device_now_ms = -1795000000123;
  m.first_seq = 100;
  const int64_t t = 1795000000000;
  m.changes.push_back(change(EntityType::person, entity(1), 3, "王芳", vid(1, 100), {t, 0}, {}));
  // Same entity: the id is omitted on the wire. Bases name versions of three devices.
  m.changes.push_back(change(EntityType::person, entity(1), 4, kNonBmp, vid(1, 101), {t, 1},
                             {vid(2, 5), vid(3, 9), vid(1, 7)}));
  m.changes.push_back(change(EntityType::household, entity(2), 1, "", vid(1, 102), {t + 60000, 0}, {vid(1, 99)}, "李娜"));
  m.changes.push_back(change(EntityType::person, entity(1), tz::kDeletedField, "迁出 " + kEmoji, vid(1, 103),
                             {t - 5, 2}, {vid(1, 100), vid(1, 101), vid(2, 5), vid(4, 1)}));
  // Extremes: every int64 time, the largest counter, field id and schema version, NUL in a value.
  auto odd = change(EntityType::job, entity(3), std::numeric_limits<uint16_t>::max(), std::string("a\0b", 3),
                    vid(1, 104), {std::numeric_limits<int64_t>::min(), std::numeric_limits<uint32_t>::max()}, {vid(2, 0)},
                    "");
  odd.device_ms = std::numeric_limits<int64_t>::max();
  odd.schema_version = std::numeric_limits<uint32_t>::max();
  m.changes.push_back(odd);
  m.changes.push_back(change(EntityType::subsidy, entity(4), 2, "1200.50", vid(1, 105),
                             {std::numeric_limits<int64_t>::max(), 0}, {vid(9, std::numeric_limits<uint64_t>::max())}));
  return m;
}

PushReply sample_reply() {
  PushReply m;
  m.server_epoch = "77e1";
  m.acked_seq = 105;
  m.highest_seq_held = 105;
  m.last_counter_seen = 41;
  m.outcomes.push_back({100, ChangeOutcome::Kind::applied, "", std::nullopt});
  m.outcomes.push_back({101, ChangeOutcome::Kind::conflict, "", Hlc{1795000300000, 4}});
  m.outcomes.push_back({102, ChangeOutcome::Kind::quarantined, tz::bilingual("超出范围", "outside the scope"), std::nullopt});
  m.outcomes.push_back({103, ChangeOutcome::Kind::duplicate, "", std::nullopt});
  m.outcomes.push_back({105, ChangeOutcome::Kind::quarantined, kNonBmp, Hlc{-1, 0}});
  return m;
}

PullRequest sample_pull() {
  PullRequest m;
  m.device = device(2);
  m.server_epoch_seen = "77e1";
  m.cursor = 123456789012345;
  m.max_records = std::numeric_limits<uint32_t>::max();
  m.own_values = true;
  return m;
}
tz::sync::ErrorReply sample_error() { return {"unknown_device", "服务器不认识本设备", "unknown device", 7}; }

tz::Version version(VersionId id, std::string value, Hlc ts, std::string collector, int64_t server_ms) {
  tz::Version v;
  v.id = id;
  v.value = std::move(value);
  v.ts = ts;
  v.collector = std::move(collector);
  v.device_ms = ts.ms + 17;
  v.server_ms = server_ms;
  return v;
}

PullPage sample_page() {
  PullPage m;
  m.server_epoch = "77e1";
  m.next_cursor = 40;
  m.more = true;
  const int64_t t = 1795000000000;
  m.records.push_back(VersionRecord{10, change(EntityType::person, entity(1), 3, "王芳", vid(2, 5), {t, 0}, {vid(1, 1), vid(3, 2)}),
                                    t + 900});
  m.records.push_back(VersionRecord{11, change(EntityType::person, entity(1), 5, kNonBmp, vid(3, 6), {t - 10, 3}, {}, "张伟"), 0});
  OwnVersionRecord own{12, vid(2, 6), t + 1000, {}};
  own.decisions.push_back({Decision::Kind::restamped, Hlc{t + 300000, 1}, "", {}});
  own.decisions.push_back({Decision::Kind::conflict, {}, "", {}});
  own.decisions.push_back({Decision::Kind::quarantined, {}, tz::bilingual("不在范围内", "outside the scope"), {}});
  own.decisions.push_back({Decision::Kind::released, {}, "", {}});
  own.decisions.push_back({Decision::Kind::rejected, {}, "", {}});
  own.decisions.push_back({Decision::Kind::merged_into, {}, "", entity(9)});
  m.records.push_back(own);
  m.records.push_back(OwnVersionRecord{12, vid(2, 7), 0, {}});  // same server seq: non-decreasing
  m.records.push_back(DecisionRecord{13, vid(2, 6), {Decision::Kind::restamped, Hlc{-5, 9}, "", {}}});
  m.records.push_back(DecisionRecord{14, vid(2, 6), {Decision::Kind::rejected, {}, kEmoji, {}}});
  m.records.push_back(DecisionRecord{15, vid(2, 8), {Decision::Kind::merged_into, {}, "", entity(7)}});
  m.records.push_back(ConflictRecord{20, EntityType::household, entity(2), 11});
  m.records.push_back(NoticeRecord{21, NoticeRecord::Kind::quarantined, EntityType::person, entity(5), 4, vid(2, 9),
                                   "超出采集范围", "outside the collection scope"});
  m.records.push_back(NoticeRecord{22, NoticeRecord::Kind::clock, EntityType::person, {}, 0, {}, "时钟快了 6 分钟", ""});
  m.records.push_back(ConfigRecord{23, "region_tree", 3, std::string("52\0\xff\x01,522632", 12)});
  m.records.push_back(ConfigRecord{24, "period", 0, ""});

  ScopeEnterRecord enter;
  enter.server_seq = 30;
  enter.state.type = EntityType::person;
  enter.state.id = entity(6);
  auto& deleted = enter.state.fields[tz::kDeletedField];
  deleted.live.push_back(version(vid(3, 40), "死亡", {t + 5, 0}, "张伟", t + 6));
  deleted.superseded = {vid(1, 3)};
  auto& name = enter.state.fields[3];
  name.live.push_back(version(vid(1, 4), "王芳", {t, 1}, "王芳", t + 2));
  name.live.push_back(version(vid(2, 2), kNonBmp, {t - 1, 0}, "李娜", 0));
  name.live.push_back(version(vid(3, 1), "", {std::numeric_limits<int64_t>::min(), 7}, "", std::numeric_limits<int64_t>::max()));
  name.superseded = {vid(1, 1), vid(1, 2), vid(4, 8)};
  enter.state.fields[9].superseded = {vid(2, 1)};  // a field whose only version was replaced
  enter.state.deletion_bases[vid(3, 40)] = {vid(1, 4), vid(2, 2), vid(3, 1)};
  m.records.push_back(enter);
  ScopeEnterRecord bare;
  bare.server_seq = 31;
  bare.state.type = EntityType::visit;
  bare.state.id = entity(8);
  m.records.push_back(bare);
  m.records.push_back(ScopeLeaveRecord{32, entity(10)});
  m.records.push_back(MergeRecord{33, EntityType::person, entity(11), entity(12)});
  m.records.push_back(ReviewDecisionRecord{34, EntityType::household, entity(2), ReviewDecisionRecord::Verdict::approved,
                                           {vid(1, 4), vid(2, 2), vid(5, 1)}, "核实无误", "县人社局 赵敏"});
  m.records.push_back(ReviewDecisionRecord{35, EntityType::person, entity(6), ReviewDecisionRecord::Verdict::returned,
                                           {}, "", ""});
  // After other records, a version again: its entity and time deltas are relative to the last change.
  m.records.push_back(VersionRecord{40, change(EntityType::person, entity(1), 6, "1", vid(4, 1), {t + 7, 0}, {vid(2, 5)}, "王芳"),
                                    t + 8});
  return m;
}

std::string en(const tz::Error& e) { return e.message(tz::Lang::en); }

// The uncompressed body of an encoded message.
std::string body_of(const std::string& bytes) {
  auto f = open_frame(bytes);
  REQUIRE(f.ok());
  return f->body;
}

// Decodes bytes as the given type; returns the text or the error (and checks the code).
std::string decode_text(MessageType type, std::string_view bytes, const Limits& limits = {}) {
  auto describe = [](auto&& r) -> std::string {
    if (!r) {
      CHECK(r.error().code() == tz::ErrorCode::invalid_input);
      return "error: " + en(r.error());
    }
    return text(*r);
  };
  switch (type) {
    case MessageType::push_request: return describe(decode_push_request(bytes, limits));
    case MessageType::push_reply: return describe(decode_push_reply(bytes, limits));
    case MessageType::pull_request: return describe(decode_pull_request(bytes, limits));
    case MessageType::pull_page: return describe(decode_pull_page(bytes, limits));
    case MessageType::error_reply: return describe(decode_error_reply(bytes, limits));
    case MessageType::signed_request:
    case MessageType::enrol_request:
    case MessageType::enrol_reply:
    case MessageType::signed_reply: break;  // test_auth_protocol.cpp, test_audit.cpp
  }
  return "?";
}

bool is_error(const std::string& t) { return t.rfind("error: ", 0) == 0; }

struct Sample {
  MessageType type;
  std::string bytes;
};
std::vector<Sample> samples() {
  return {{MessageType::push_request, encode(sample_push())},
          {MessageType::push_reply, encode(sample_reply())},
          {MessageType::pull_request, encode(sample_pull())},
          {MessageType::pull_page, encode(sample_page())},
          {MessageType::error_reply, encode(sample_error())}};
}

// A raw body sealed as a message of type t.
std::string sealed(MessageType t, const tz::ByteWriter& w) { return seal_frame(t, w.data()); }

void write_push_head(tz::ByteWriter& w) {
  w.raw(device(1).view());
  w.str("e");
  w.str("s");
  w.varint(1);    // request counter
  w.svarint(0);   // device now
  w.varint(100);  // first seq
}

}  // namespace

TEST_CASE("A PushRequest round trips with multi-device bases and UTF-8 and non-BMP and empty values", "[sync]") {
  auto m = sample_push();
  auto bytes = encode(m);
  auto back = decode_push_request(bytes);
  REQUIRE(back.ok());
  CHECK(text(*back) == text(m));
  CHECK(bytes[0] == static_cast<char>(MessageType::push_request));
  CHECK(bytes[1] == static_cast<char>(kProtocolVersion));

  PushRequest empty;
  empty.device = device(3);
  auto e = decode_push_request(encode(empty));
  REQUIRE(e.ok());
  CHECK(text(*e) == text(empty));
}

TEST_CASE("A PushReply round trips every outcome kind and refusal", "[sync]") {
  auto m = sample_reply();
  auto back = decode_push_reply(encode(m));
  REQUIRE(back.ok());
  CHECK(text(*back) == text(m));
  for (auto refusal : {PushReply::Refusal::none, PushReply::Refusal::rolled_back, PushReply::Refusal::unknown_device,
                       PushReply::Refusal::revoked, PushReply::Refusal::stale_counter, PushReply::Refusal::malformed}) {
    PushReply r;
    r.refusal = refusal;
    r.highest_seq_held = 9;
    r.last_counter_seen = std::numeric_limits<uint64_t>::max();
    auto b = decode_push_reply(encode(r));
    REQUIRE(b.ok());
    CHECK(text(*b) == text(r));
  }
}

TEST_CASE("A PullRequest round trips from cursor 0 and from a late cursor", "[sync]") {
  auto m = sample_pull();
  auto back = decode_pull_request(encode(m));
  REQUIRE(back.ok());
  CHECK(text(*back) == text(m));
  PullRequest fresh;
  fresh.device = device(4);
  auto f = decode_pull_request(encode(fresh));
  REQUIRE(f.ok());
  CHECK(text(*f) == text(fresh));
}

TEST_CASE("A PullPage round trips every record kind", "[sync]") {
  auto m = sample_page();
  // Every alternative of PullRecord is in the sample.
  std::vector<bool> kinds(std::variant_size_v<PullRecord>);
  for (auto& r : m.records) kinds[r.index()] = true;
  for (size_t i = 0; i < kinds.size(); ++i) {
    INFO("record kind " << i);
    CHECK(kinds[i]);
  }
  auto back = decode_pull_page(encode(m));
  REQUIRE(back.ok());
  CHECK(text(*back) == text(m));
  for (size_t i = 0; i < m.records.size(); ++i) CHECK(server_seq(back->records[i]) == server_seq(m.records[i]));

  PullPage empty;
  auto e = decode_pull_page(encode(empty));
  REQUIRE(e.ok());
  CHECK(text(*e) == text(empty));
}

TEST_CASE("Decisions carry only what their kind uses", "[sync]") {
  // Members a kind does not use are not sent: a conflict decision loses a stray reason.
  PullPage m;
  m.records.push_back(DecisionRecord{1, vid(1, 1), {Decision::Kind::conflict, Hlc{5, 5}, "stray", entity(1)}});
  auto back = decode_pull_page(encode(m));
  REQUIRE(back.ok());
  auto& d = std::get<DecisionRecord>(back->records[0]).decision;
  CHECK(d.kind == Decision::Kind::conflict);
  CHECK(d.reason.empty());
  CHECK(d.ts == Hlc{});
  CHECK(d.entity.is_zero());
}

TEST_CASE("The body of a small message is fixed by the grammar", "[sync]") {
  // Golden bytes: a change of the wire format shows here and needs a new protocol version.
  PullRequest p;
  p.device = device(0);
  p.server_epoch_seen = "ab";
  p.cursor = 300;
  p.max_records = 5;
  tz::ByteWriter want;
  want.raw(device(0).view());
  CHECK(body_of(encode(p)) == want.data() + std::string("\x02" "ab" "\xac\x02" "\x05" "\x00", 7));

  PushRequest m;
  m.device = device(1);
  m.device_epoch = "d";
  m.first_seq = 7;
  m.changes.push_back(change(EntityType::person, entity(1), 3, "x", vid(1, 7), {1000, 2}, {vid(2, 1)}, "c"));
  m.changes.back().device_ms = 999;
  tz::ByteWriter w;
  w.raw(device(1).view());
  w.raw(std::string("\x01" "d" "\x00" "\x00" "\x00" "\x07", 6));  // epochs, counter 0, device now 0, first seq 7
  w.u8(2);                                               // tables: two devices
  w.raw(device(1).view());
  w.raw(device(2).view());
  w.raw(std::string("\x01\x01" "c", 3));  // one collector
  w.raw(std::string("\x01" "\x00\x07\x01", 4));  // one run: device 0, seq 7, one change
  w.raw(std::string("\x01" "\x00" "\x02", 3));  // one entity group: a new entity, person, its id
  w.raw(entity(1).view());
  w.u8(1);  // one change in the group
  // The columns: field 3; value "x"; hlc ms 1000 (zig-zag 2000), counter 2; collector 0;
  // device ms -1 (zig-zag 1); schema 7; one base: device 1 seq 1
  w.raw(std::string("\x03" "\x02x" "\xd0\x0f\x02" "\x00" "\x01" "\x07" "\x01\x01\x01", 12));
  w.u8(0);  // no audit notes
  CHECK(body_of(encode(m)) == w.data());
}

TEST_CASE("Every prefix of an encoded message is refused", "[sync]") {
  for (auto& s : samples()) {
    INFO(message_type_name(s.type));
    // Prefixes of the compressed message: a cut zlib stream.
    for (size_t n = 0; n < s.bytes.size(); ++n) {
      INFO("prefix of " << n << " bytes");
      REQUIRE(is_error(decode_text(s.type, std::string_view(s.bytes).substr(0, n))));
    }
    // Prefixes of the body, sealed intact: the grammar itself runs out.
    auto body = body_of(s.bytes);
    for (size_t n = 0; n < body.size(); ++n) {
      INFO("body prefix of " << n << " bytes");
      REQUIRE(is_error(decode_text(s.type, seal_frame(s.type, std::string_view(body).substr(0, n)))));
    }
    // And one byte more is refused too.
    CHECK_THAT(decode_text(s.type, seal_frame(s.type, body + "x")), Contains("1 trailing bytes"));
  }
}

TEST_CASE("Random byte flips never crash and decode to something stable or an error", "[sync]") {
  const uint32_t seed = 20261122;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  size_t decoded = 0, refused = 0;
  for (auto& s : samples()) {
    INFO(message_type_name(s.type));
    auto body = body_of(s.bytes);
    for (int round = 0; round < 600; ++round) {
      auto damaged = body;
      int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k) {
        size_t at = rng() % damaged.size();
        damaged[at] = static_cast<char>(rng() % 4 == 0 ? rng() : damaged[at] ^ (1u << (rng() % 8)));
      }
      auto t = decode_text(s.type, seal_frame(s.type, damaged));
      if (is_error(t)) {
        ++refused;
        continue;
      }
      ++decoded;
      // What decodes re-encodes to the same content.
      std::string again;
      switch (s.type) {
        case MessageType::push_request: again = decode_text(s.type, encode(*decode_push_request(seal_frame(s.type, damaged)))); break;
        case MessageType::push_reply: again = decode_text(s.type, encode(*decode_push_reply(seal_frame(s.type, damaged)))); break;
        case MessageType::pull_request: again = decode_text(s.type, encode(*decode_pull_request(seal_frame(s.type, damaged)))); break;
        case MessageType::pull_page: again = decode_text(s.type, encode(*decode_pull_page(seal_frame(s.type, damaged)))); break;
        case MessageType::error_reply: again = decode_text(s.type, encode(*decode_error_reply(seal_frame(s.type, damaged)))); break;
        case MessageType::signed_request:
        case MessageType::enrol_request:
        case MessageType::enrol_reply:
        case MessageType::signed_reply: break;  // not in this fuzz (test_auth_protocol.cpp)
      }
      CHECK(again == t);
    }
    // Flips in the compressed stream: zlib's checksum or the grammar refuses nearly all.
    for (int round = 0; round < 200; ++round) {
      auto damaged = s.bytes;
      size_t at = 2 + rng() % (damaged.size() - 2);
      damaged[at] = static_cast<char>(damaged[at] ^ (1u << (rng() % 8)));
      (void)decode_text(s.type, damaged);
    }
  }
  CHECK(refused > 0);
  CHECK(decoded > 0);  // flips in values and times still decode
}

TEST_CASE("A zlib bomb is refused by the uncompressed limit", "[sync]") {
  std::string bomb;
  {
    std::string zeros(size_t{200} << 20, '\0');
    bomb = seal_frame(MessageType::push_request, zeros);
  }
  REQUIRE(bomb.size() < (size_t{1} << 20));
  Limits limits;
  size_t largest = largest_allocation([&] {
    auto r = decode_push_request(bomb, limits);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(en(r.error()), Contains("PushRequest: the body inflates to more than the limit of 67108864 bytes"));
  });
  CHECK(largest <= limits.max_uncompressed);

  // A limit set per call.
  Limits small;
  small.max_uncompressed = 1 << 20;
  largest = largest_allocation([&] { CHECK_FALSE(decode_push_request(bomb, small).ok()); });
  CHECK(largest <= small.max_uncompressed);
}

TEST_CASE("A body exactly at the uncompressed limit is accepted and one byte over is refused", "[sync]") {
  auto bytes = encode(sample_page());
  Limits limits;
  limits.max_uncompressed = body_of(bytes).size();
  CHECK(decode_pull_page(bytes, limits).ok());
  limits.max_uncompressed -= 1;
  auto r = decode_pull_page(bytes, limits);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("inflates to more than the limit"));
}

TEST_CASE("Counts larger than the bytes left are refused without allocating", "[sync]") {
  const uint64_t huge = uint64_t{1} << 60;
  struct Case {
    const char* what;
    MessageType type;
    std::string bytes;
    const char* expected;
  };
  std::vector<Case> cases;
  {
    tz::ByteWriter w;
    w.raw(device(1).view());
    w.varint(huge);  // device epoch length
    cases.push_back({"string", MessageType::push_request, sealed(MessageType::push_request, w),
                     "PushRequest: device epoch length 1152921504606846976 exceeds the bytes left (0)"});
  }
  {
    tz::ByteWriter w;
    write_push_head(w);
    w.varint(huge);  // devices in the table
    cases.push_back({"device table", MessageType::push_request, sealed(MessageType::push_request, w),
                     "PushRequest: tables: device count 1152921504606846976 exceeds the bytes left"});
  }
  {
    tz::ByteWriter w;
    write_push_head(w);
    w.varint(1);
    w.raw(device(1).view());
    w.varint(0);
    w.varint(huge);  // runs
    cases.push_back({"runs", MessageType::push_request, sealed(MessageType::push_request, w), "run count 1152921504606846976"});
  }
  {
    tz::ByteWriter w;
    write_push_head(w);
    w.varint(1);
    w.raw(device(1).view());
    w.varint(1);
    w.str("c");
    w.varint(1);  // one run
    w.varint(0);
    w.varint(100);
    w.varint(huge);  // changes in the run
    w.raw(std::string(40, '\x01'));
    cases.push_back({"changes", MessageType::push_request, sealed(MessageType::push_request, w),
                     "PushRequest: run 0: change count 1152921504606846976 exceeds the bytes left (40)"});
  }
  {
    tz::ByteWriter w;
    write_push_head(w);
    w.varint(1);
    w.raw(device(1).view());
    w.varint(1);
    w.str("c");
    w.varint(1);  // one run of one change
    w.varint(0);
    w.varint(100);
    w.varint(1);
    w.varint(1);  // one entity group: new, person
    w.varint(0);
    w.u8(2);
    w.raw(entity(1).view());
    w.varint(1);
    w.varint(3);  // field
    w.varint(2);  // value "v"
    w.raw("v");
    w.svarint(1000);
    w.varint(0);
    w.varint(0);
    w.svarint(0);
    w.varint(1);
    w.varint(huge);  // base ids
    w.raw(std::string(40, '\x01'));
    cases.push_back({"base", MessageType::push_request, sealed(MessageType::push_request, w),
                     "PushRequest: change 0: base count 1152921504606846976 exceeds the bytes left (40)"});
  }
  {
    tz::ByteWriter w;
    w.str("s");
    w.varint(0);
    w.u8(0);
    w.varint(0);
    w.varint(0);
    w.varint(huge);  // records
    cases.push_back({"records", MessageType::pull_page, sealed(MessageType::pull_page, w),
                     "PullPage: record count 1152921504606846976 exceeds the bytes left"});
  }
  {
    tz::ByteWriter w;
    w.str("s");
    w.varint(0);
    w.u8(0);
    w.varint(0);
    w.varint(0);
    w.varint(1);
    w.u8(7);  // scope enter
    w.varint(5);
    w.u8(2);
    w.raw(entity(1).view());
    w.varint(huge);  // fields
    cases.push_back({"fields", MessageType::pull_page, sealed(MessageType::pull_page, w),
                     "PullPage: record 0: ScopeEnterRecord: field count 1152921504606846976 exceeds the bytes left"});
  }
  {
    tz::ByteWriter w;
    w.str("");
    w.varint(0);
    w.u8(0);
    w.varint(0);
    w.varint(0);
    w.varint(huge);  // outcomes
    cases.push_back({"outcomes", MessageType::push_reply, sealed(MessageType::push_reply, w),
                     "PushReply: outcome count 1152921504606846976 exceeds the bytes left"});
  }
  for (auto& c : cases) {
    INFO(c.what);
    std::string t;
    size_t largest = largest_allocation([&] { t = decode_text(c.type, c.bytes); });
    CHECK_THAT(t, Contains(c.expected));
    CHECK(largest < (size_t{256} << 10));  // zlib's state and one inflate chunk, nothing sized by the count
  }
}

TEST_CASE("Non-consecutive seqs in a PushRequest are refused", "[sync]") {
  auto m = sample_push();
  m.changes[2].version.seq.value = 103;  // 100 101 103 103 ...: a gap
  auto r = decode_push_request(encode(m));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("PushRequest: change 2: seq 103 does not follow first_seq 100: changes must be consecutive"));

  m = sample_push();
  m.first_seq = 99;  // the first change is not first_seq
  r = decode_push_request(encode(m));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("change 0: seq 100 does not follow first_seq 99"));

  m = sample_push();
  std::swap(m.changes[1], m.changes[2]);  // out of order
  r = decode_push_request(encode(m));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("change 1: seq 102"));

  m = sample_push();
  m.changes[3].version.device = device(2);  // another device's change
  r = decode_push_request(encode(m));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("change 3: made by device " + device(2).hex() + ", not by the pushing device"));
}

TEST_CASE("An unknown message version or type is refused", "[sync]") {
  auto body = body_of(encode(sample_push()));
  for (uint8_t version : {uint8_t{0}, uint8_t{2}, uint8_t{255}}) {
    auto r = decode_push_request(seal_frame(MessageType::push_request, body, version));
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(en(r.error()), Contains("PushRequest: unknown protocol version " + std::to_string(version)));
  }
  auto page = encode(sample_page());
  auto r = decode_push_request(page);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("PushRequest: the message is a PullPage"));
  std::string unknown = page;
  unknown[0] = 10;  // the first type no message has (9 is the SignedReply)
  CHECK_THAT(en(open_frame(unknown).error()), Contains("unknown message type 10"));
  CHECK_THAT(decode_text(MessageType::pull_page, unknown), Contains("the message is a type 10"));
  CHECK_THAT(decode_text(MessageType::pull_page, ""), Contains("shorter than its 2-byte header"));
  auto f = open_frame(page);
  REQUIRE(f.ok());
  CHECK(f->type == MessageType::pull_page);
  CHECK(f->version == kProtocolVersion);
}

TEST_CASE("Limits on changes and records and values are refused per call", "[sync]") {
  Limits limits;
  limits.max_changes = 5;
  auto r = decode_push_request(encode(sample_push()), limits);  // six changes
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("the changes exceed the limit of 5"));
  limits.max_changes = 6;
  CHECK(decode_push_request(encode(sample_push()), limits).ok());

  limits.max_changes = 4;
  auto reply = decode_push_reply(encode(sample_reply()), limits);  // five outcomes
  REQUIRE_FALSE(reply.ok());
  CHECK_THAT(en(reply.error()), Contains("PushReply: outcome count 5 exceeds the limit of 4"));

  limits = {};
  limits.max_records = 3;
  auto page = decode_pull_page(encode(sample_page()), limits);
  REQUIRE_FALSE(page.ok());
  CHECK_THAT(en(page.error()), Contains("PullPage: record count"));
  CHECK_THAT(en(page.error()), Contains("exceeds the limit of 3"));

  limits = {};
  limits.max_value_bytes = 5;  // "王芳" is six bytes
  PushRequest small;
  small.device = device(1);
  small.first_seq = 1;
  small.changes.push_back(change(EntityType::person, entity(1), 3, "王芳", vid(1, 1), {1, 0}, {}, "ab"));
  auto push = decode_push_request(encode(small), limits);
  REQUIRE_FALSE(push.ok());
  CHECK_THAT(en(push.error()), Contains("PushRequest: change 0: value of 6 bytes exceeds the limit of 5"));
  CHECK_THAT(push.error().message(tz::Lang::zh), Contains("推送请求：变更 0：值长度 6 超过上限 5 字节"));
}

TEST_CASE("Pull records out of server sequence order are refused", "[sync]") {
  PullPage m;
  m.records.push_back(ScopeLeaveRecord{12, entity(1)});
  m.records.push_back(ScopeLeaveRecord{11, entity(2)});
  auto r = decode_pull_page(encode(m));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("PullPage: record 1: record seq goes backwards"));

  PushReply reply;
  reply.outcomes.push_back({5, ChangeOutcome::Kind::applied, "", std::nullopt});
  reply.outcomes.push_back({4, ChangeOutcome::Kind::applied, "", std::nullopt});
  auto b = decode_push_reply(encode(reply));
  REQUIRE_FALSE(b.ok());
  CHECK_THAT(en(b.error()), Contains("PushReply: outcome 1: outcome seq goes backwards"));
}

TEST_CASE("A scope enter state must be sorted by version id", "[sync]") {
  PullPage m;
  ScopeEnterRecord enter;
  enter.state.id = entity(1);
  auto& f = enter.state.fields[3];
  f.live.push_back(version(vid(2, 1), "a", {1, 0}, "c", 0));
  f.live.push_back(version(vid(1, 1), "b", {1, 0}, "c", 0));
  m.records.push_back(enter);
  auto r = decode_pull_page(encode(m));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("record 0: ScopeEnterRecord: field 0: live versions are not in strictly increasing"));

  std::swap(f.live[0], f.live[1]);
  f.superseded = {vid(3, 2), vid(3, 2)};  // a duplicate
  std::get<ScopeEnterRecord>(m.records[0]).state = enter.state;
  r = decode_pull_page(encode(m));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(en(r.error()), Contains("superseded ids are not in strictly increasing order"));
}

TEST_CASE("Unknown tags and entity types are refused with the element named", "[sync]") {
  tz::ByteWriter w;
  w.str("s");
  w.varint(0);
  w.u8(0);
  w.varint(0);
  w.varint(0);
  w.varint(1);
  w.u8(42);  // no such record
  w.varint(1);
  w.raw(std::string(8, '\0'));
  CHECK_THAT(decode_text(MessageType::pull_page, sealed(MessageType::pull_page, w)),
             Contains("PullPage: record 0: unknown record kind 42"));

  tz::ByteWriter c;
  c.str("s");
  c.varint(0);
  c.u8(0);
  c.varint(0);
  c.varint(0);
  c.varint(1);
  c.u8(4);  // conflict
  c.varint(1);
  c.u8(77);  // no such entity type
  c.raw(entity(1).view());
  c.varint(3);
  CHECK_THAT(decode_text(MessageType::pull_page, sealed(MessageType::pull_page, c)),
             Contains("PullPage: record 0: ConflictRecord: unknown entity type 77"));

  tz::ByteWriter more;
  more.str("s");
  more.varint(0);
  more.u8(2);  // "more" is a flag
  CHECK_THAT(decode_text(MessageType::pull_page, sealed(MessageType::pull_page, more)), Contains("more must be 0 or 1, not 2"));
}

TEST_CASE("A PushRequest writes each entity id once and reference values as table indexes", "[sync]") {
  PushRequest m;
  m.device = device(1);
  m.first_seq = 1;
  const int64_t t = 1795000000000;
  // A household, its person (whose household field names it), the person's job (naming the person),
  // the household and the person again (the person naming the job, which comes earlier in the
  // table), and values that stay literal: an id of an entity not in the message, an upper-case id,
  // a 32-character non-hex value.
  m.changes.push_back(change(EntityType::household, entity(2), 1, "522632001001", vid(1, 1), {t, 0}, {}));
  m.changes.push_back(change(EntityType::person, entity(1), 1, entity(2).hex(), vid(1, 2), {t, 1}, {}));
  m.changes.push_back(change(EntityType::person, entity(1), 2, "王芳", vid(1, 3), {t, 2}, {}));
  m.changes.push_back(change(EntityType::job, entity(3), 1, entity(1).hex(), vid(1, 4), {t, 3}, {}));
  m.changes.push_back(change(EntityType::job, entity(3), 2, entity(7).hex(), vid(1, 5), {t, 4}, {}));
  std::string upper = entity(2).hex();
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  m.changes.push_back(change(EntityType::household, entity(2), 3, upper, vid(1, 6), {t + 1, 0}, {}));
  m.changes.push_back(change(EntityType::household, entity(2), 4, std::string(32, 'z'), vid(1, 7), {t + 1, 1}, {}));
  m.changes.push_back(change(EntityType::person, entity(1), 5, entity(3).hex(), vid(1, 8), {t, 0}, {vid(1, 2)}));
  auto bytes = encode(m);
  auto back = decode_push_request(bytes);
  REQUIRE(back.ok());
  CHECK(text(*back) == text(m));
  // Three entity ids on the wire (one each), the 32-hex references to them are not there, the others are.
  auto body = body_of(bytes);
  auto occurrences = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = body.find(needle); at != std::string::npos; at = body.find(needle, at + 1)) ++n;
    return n;
  };
  for (uint8_t e : {1, 2, 3}) CHECK(occurrences(std::string(entity(e).view())) == 1);
  CHECK(occurrences(entity(2).hex()) == 0);
  CHECK(occurrences(entity(1).hex()) == 0);
  CHECK(occurrences(entity(3).hex()) == 0);
  CHECK(occurrences(entity(7).hex()) == 1);
  CHECK(occurrences(upper) == 1);
}

TEST_CASE("Malformed PushRequest columns are refused with the element named", "[sync]") {
  // Head, one device, one collector, one run of two changes (seqs 100 and 101).
  auto start = [] {
    tz::ByteWriter w;
    write_push_head(w);
    w.varint(1);
    w.raw(device(1).view());
    w.varint(1);
    w.str("c");
    w.varint(1);
    w.varint(0);
    w.varint(100);
    w.varint(2);
    return w;
  };
  // The per-change columns after the values, for two changes.
  auto rest = [](tz::ByteWriter& w) {
    for (int i = 0; i < 2; ++i) w.svarint(i), w.varint(0);  // hlc
    for (int i = 0; i < 2; ++i) w.varint(0);                // collector
    for (int i = 0; i < 2; ++i) w.svarint(0);               // device ms
    for (int i = 0; i < 2; ++i) w.varint(1);                // schema
    for (int i = 0; i < 2; ++i) w.varint(0);                // base
    w.varint(0);                                            // audit notes
  };
  auto group_new = [](tz::ByteWriter& w, uint8_t type, uint8_t e, uint64_t k) {
    w.varint(0);
    w.u8(type);
    w.raw(entity(e).view());
    w.varint(k);
  };
  auto values = [](tz::ByteWriter& w) {
    w.varint(3), w.varint(4);              // fields
    w.varint(2), w.raw("a"), w.varint(2), w.raw("b");  // values
  };
  auto refused = [](const tz::ByteWriter& w) { return decode_text(MessageType::push_request, sealed(MessageType::push_request, w)); };
  {
    auto w = start();
    w.varint(1);
    group_new(w, 2, 1, 2);
    values(w);
    rest(w);
    CHECK_FALSE(is_error(refused(w)));  // the well-formed base case decodes
    auto r = decode_push_request(sealed(MessageType::push_request, w));
    REQUIRE(r.ok());
    CHECK(r->changes.size() == 2);
    CHECK(r->changes[1].entity == entity(1));
    CHECK(r->changes[1].value == "b");
  }
  {
    auto w = start();
    w.varint(2);
    group_new(w, 2, 1, 1);
    w.varint(5);  // entity index 4: the table has one
    w.u8(2);
    w.varint(1);
    values(w);
    rest(w);
    CHECK_THAT(refused(w), Contains("PushRequest: entity group: entity group 1: entity index 4 is not in the table of 1 entities"));
  }
  {
    auto w = start();
    w.varint(2);
    group_new(w, 2, 1, 1);
    w.varint(1);
    w.u8(3);  // the same entity as another type
    w.varint(1);
    values(w);
    rest(w);
    CHECK_THAT(refused(w), Contains("entity group 1: the entity type differs from the table's"));
  }
  {
    auto w = start();
    w.varint(1);
    group_new(w, 2, 1, 1);  // covers one of two changes
    values(w);
    rest(w);
    CHECK_THAT(refused(w), Contains("the entity groups cover 1 of 2 changes"));
  }
  {
    auto w = start();
    w.varint(1);
    group_new(w, 2, 1, 3);  // three changes in a message of two
    values(w);
    rest(w);
    CHECK_THAT(refused(w), Contains("entity group 0: the group's change count 3 is zero or exceeds the total of 2"));
  }
  {
    auto w = start();
    w.varint(3);  // more groups than changes
    group_new(w, 2, 1, 1);
    values(w);
    rest(w);
    CHECK_THAT(refused(w), Contains("entity group count 3 exceeds the limit of 2"));
  }
  {
    auto w = start();
    w.varint(1);
    group_new(w, 2, 1, 2);
    w.varint(3), w.varint(4);
    w.varint(2), w.raw("a");
    w.varint(3);  // the id of entity 1: the table has one
    rest(w);
    CHECK_THAT(refused(w), Contains("PushRequest: change 1: the value refers to entity index 1, not in the table of 1 entities"));
  }
  {
    auto w = start();
    w.varint(1);
    group_new(w, 2, 1, 2);
    w.varint(3), w.varint(4);
    w.varint(2), w.raw("a");
    w.varint(uint64_t{1} << 40);  // a value longer than the message
    rest(w);
    CHECK_THAT(refused(w), Contains("PushRequest: change 1: value length 549755813888 exceeds the bytes left"));
  }
  {
    // A value reference decodes to the table entity's id in lower-case hex.
    auto w = start();
    w.varint(1);
    group_new(w, 2, 1, 2);
    w.varint(3), w.varint(4);
    w.varint(1), w.varint(2), w.raw("b");
    rest(w);
    auto r = decode_push_request(sealed(MessageType::push_request, w));
    REQUIRE(r.ok());
    CHECK(r->changes[0].value == entity(1).hex());
  }
}

TEST_CASE("A large PushRequest read on two threads decodes and is refused as on one", "[sync]") {
  // From 2,048 changes the columns after the values are read on another thread (decision 151): the
  // result and the first error named must be those of reading them in turn (TZ_THREADS=1).
  const uint64_t n = 3000;
  struct Damage {
    uint64_t field_at = UINT64_MAX, long_value_at = UINT64_MAX, counter_at = UINT64_MAX, base_at = UINT64_MAX;
    bool cut_after_values = false;
  };
  auto message = [&](const Damage& dmg) {
    tz::ByteWriter w;
    write_push_head(w);
    w.varint(1), w.raw(device(1).view());  // devices
    w.varint(2), w.str("c"), w.str("张三");  // collectors
    w.varint(1), w.varint(0), w.varint(100), w.varint(n);  // one run
    w.varint(n / 10);  // entity groups of ten changes
    for (uint64_t g = 0; g < n / 10; ++g) {
      w.varint(0), w.u8(2);
      EntityId e;
      for (size_t i = 0; i < 16; ++i) e.bytes[i] = static_cast<uint8_t>(i * 31 + 5);
      e.bytes[0] = static_cast<uint8_t>(g), e.bytes[1] = static_cast<uint8_t>(g >> 8);
      w.raw(e.view()), w.varint(10);
    }
    for (uint64_t i = 0; i < n; ++i) w.varint(i == dmg.field_at ? 70000 : 1 + i % 10);
    for (uint64_t i = 0; i < n; ++i) {
      const std::string v = "值" + std::to_string(i * 37);
      if (i == dmg.long_value_at) w.varint(uint64_t{1} << 41);  // a value of 2^40 bytes (the low bit: not a reference)
      else w.varint(v.size() << 1), w.raw(v);
    }
    if (dmg.cut_after_values) return sealed(MessageType::push_request, w);
    for (uint64_t i = 0; i < n; ++i) w.svarint(static_cast<int64_t>(i % 3)), w.varint(i == dmg.counter_at ? uint64_t{1} << 33 : i % 2);
    for (uint64_t i = 0; i < n; ++i) w.varint(i % 2);  // collector
    for (uint64_t i = 0; i < n; ++i) w.svarint(-static_cast<int64_t>(i % 5));  // device ms
    for (uint64_t i = 0; i < n; ++i) w.varint(1);  // schema
    for (uint64_t i = 0; i < n; ++i) {
      if (i == dmg.base_at) w.varint(1), w.varint(5), w.varint(99);  // device 5: the table has one
      else w.varint(0);
    }
    w.varint(0);  // audit notes
    return sealed(MessageType::push_request, w);
  };
  auto both = [&](const Damage& dmg) {
    const std::string bytes = message(dmg);
    std::string two = decode_text(MessageType::push_request, bytes), one;
    {
      tz::test::ScopedEnv threads("TZ_THREADS", "1");
      one = decode_text(MessageType::push_request, bytes);
    }
    CHECK(two == one);
    return two;
  };
  {
    auto whole = both({});
    INFO(whole.substr(0, 300));
    REQUIRE_FALSE(is_error(whole));
    auto r = decode_push_request(message({}));
    REQUIRE(r.ok());
    REQUIRE(r->changes.size() == n);
    CHECK(r->changes[2999].value == "值" + std::to_string(2999 * 37));
    CHECK(r->changes[2999].field == 10);
    CHECK(r->changes[2999].collector == "张三");
    CHECK(r->changes[2998].device_ms == r->changes[2998].ts.ms - 3);
    CHECK(r->changes[2999].entity == r->changes[2990].entity);
  }
  CHECK_THAT(both({.field_at = 10}), Contains("change 10: field id 70000 is out of range"));
  CHECK_THAT(both({.long_value_at = 2500}), Contains("change 2500: value length 1099511627776 exceeds the bytes left"));
  CHECK_THAT(both({.counter_at = 2999}), Contains("change 2999: clock counter 8589934592 is out of range"));
  CHECK_THAT(both({.base_at = 1234}), Contains("change 1234: device index 5 is not in the table of 1 devices"));
  CHECK(is_error(both({.cut_after_values = true})));
  // Two damaged columns: the earlier one is named, as when read in turn.
  CHECK_THAT(both({.field_at = 2, .counter_at = 5}), Contains("change 2: field id 70000 is out of range"));
  CHECK_THAT(both({.long_value_at = 7, .base_at = 1}), Contains("change 7: value length"));
}

TEST_CASE("An ErrorReply round trips and becomes the device's error", "[sync]") {
  auto back = tz::sync::decode_error_reply(encode(sample_error()));
  REQUIRE(back);
  CHECK(text(*back) == text(sample_error()));
  CHECK(tz::sync::decode_pull_page_or_error(encode(sample_error())).error().code() == tz::ErrorCode::unknown_device);
  tz::sync::ErrorReply other{"invalid_input", "请求无法解码", "the request does not decode"};
  auto e = tz::sync::decode_push_reply_or_error(encode(other));
  REQUIRE_FALSE(e);
  CHECK(e.error().code() == tz::ErrorCode::sync_refused);
  CHECK_THAT(e.error().message(tz::Lang::en), Catch::Contains("the request does not decode"));
  // A reply of the expected type passes through.
  CHECK(tz::sync::decode_pull_page_or_error(encode(sample_page())));
}
