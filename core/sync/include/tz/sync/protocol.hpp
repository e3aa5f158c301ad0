// The sync messages of SPEC §5 (push, its reply, pull, a pull page) as plain structs, and their wire
// codec: encoded with ByteWriter, deflated inside a frame that names the message type and protocol
// version, decoded only through the bounded ByteReader. docs/sync-protocol.md gives the grammar.
// Pure functions of their arguments: no I/O, no clock, no shared state; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tz/model/hlc.hpp"
#include "tz/model/ids.hpp"
#include "tz/model/merge.hpp"
#include "tz/model/record.hpp"
#include "tz/util/bytes.hpp"
#include "tz/util/error.hpp"

namespace tz::sync {

// The one protocol version this build writes and reads. A message of another version is refused
// whole (a change of the grammar is a new version, never a silent reinterpretation).
inline constexpr uint8_t kProtocolVersion = 1;

enum class MessageType : uint8_t {
  push_request = 1,
  push_reply = 2,
  pull_request = 3,
  pull_page = 4,
  error_reply = 5,
  signed_request = 6,  // a push or pull request frame signed by the device (its body is not deflated again)
  enrol_request = 7,
  enrol_reply = 8,
  signed_reply = 9,  // a reply frame with the server's signed audit head (its body is not deflated again)
};
std::string_view message_type_name(MessageType t);  // "PushRequest", ...

// What a decoder accepts. Every count is also checked against the bytes left, so these bound what a
// well-formed but oversized message can make the receiver hold.
struct Limits {
  size_t max_uncompressed = size_t{64} << 20;   // the inflated body: a zip bomb stops here
  size_t max_changes = 100000;                  // changes in a PushRequest, outcomes in a PushReply
  size_t max_records = 100000;                  // records in a PullPage
  size_t max_value_bytes = size_t{1} << 20;     // any one string: value, config blob, collector, reason
};

// One field-level change on the wire: exactly the model's FieldChange (entity type and id, field,
// value, version id, HLC, collector, device wall ms, base ids, schema version).
using ChangeRecord = FieldChange;

// Device → server: the device's changes after the sequence the server last acknowledged, in order.
struct PushRequest {
  DeviceId device;
  std::string device_epoch;       // the device store's epoch (new after a restore)
  std::string server_epoch_seen;  // the server epoch of the device's last successful sync ("" never)
  uint64_t request_counter = 0;   // per-device, strictly increasing: replay protection (SPEC §6)
  int64_t device_now_ms = 0;      // the device's wall clock when sending: the server records the offset
  uint64_t first_seq = 0;         // changes[i].version == (device, first_seq + i): checked on decode
  std::vector<ChangeRecord> changes;
  // What the device records for the county's audit chain (SPEC §6: a `--full-ids` export made on the
  // device), sent with the next push and dropped once acknowledged; the last section of the message
  // (a count, usually 0).
  struct AuditNote {
    int64_t device_ms = 0;
    std::string kind;     // e.g. "list --full-ids"
    std::string summary;  // a JSON object of counts and names of files; never an ID, name or phone
  };
  std::vector<AuditNote> audit_notes;
};

// What the server did with one pushed change.
struct ChangeOutcome {
  enum class Kind : uint8_t { applied = 0, conflict = 1, quarantined = 2, duplicate = 3 };
  uint64_t seq = 0;                // the device sequence number of the change
  Kind kind = Kind::applied;
  std::string quarantine_reason;   // bilingual() text; sent only when non-empty
  std::optional<Hlc> restamped;    // the server's stamp when the device's clock was too far ahead
};

struct PushReply {
  enum class Refusal : uint8_t {
    none = 0,            // processed: outcomes and acked_seq are meaningful
    rolled_back = 1,     // a (device, seq) already held with different content: highest_seq_held
    unknown_device = 2,  // not enrolled
    revoked = 3,         // `device revoke`
    stale_counter = 4,   // replayed or reordered request: last_counter_seen
    malformed = 5,       // the request did not decode
  };
  std::string server_epoch;
  uint64_t acked_seq = 0;           // every change of the device up to here is durable on the server
  std::vector<ChangeOutcome> outcomes;
  Refusal refusal = Refusal::none;
  uint64_t highest_seq_held = 0;    // the highest sequence the server holds from the device
  uint64_t last_counter_seen = 0;   // the last request counter the server accepted from the device
};

// A PushReply's outcomes counted by kind (restamped counts any kind).
struct OutcomeCounts {
  uint64_t applied = 0, conflicts = 0, quarantined = 0, duplicates = 0, restamped = 0;
};
OutcomeCounts count_outcomes(const PushReply& reply);

// Device → server: the records of the device's scope after its cursor, one page.
struct PullRequest {
  DeviceId device;
  std::string server_epoch_seen;
  uint64_t cursor = 0;       // 0: from the start, everything in scope with its values
  uint32_t max_records = 0;  // the page size the device asks for (the server may send fewer)
  // Catching up from cursor 0 (set by the device until a page says no more): the device's own
  // changes come as VersionRecords with their values, not as ids.
  bool own_values = false;
};

// A server decision about one of the receiving device's own changes.
struct Decision {
  enum class Kind : uint8_t {
    restamped = 1,    // ts: the server's stamp replaces the device's (attribution keeps device_ms)
    conflict = 2,     // the change is one side of an open conflict
    quarantined = 3,  // reason: held for the reviewer; no longer a live version on the device
    released = 4,     // a reviewer released it: live again
    rejected = 5,     // reason: a reviewer rejected it (kept, marked rejected)
    merged_into = 6,  // entity: its entity was merged into this survivor; the version moved there
  };
  Kind kind = Kind::restamped;
  Hlc ts;              // restamped only
  std::string reason;  // quarantined and rejected only (bilingual() text)
  EntityId entity;     // merged_into only
  // Members a kind does not use are not sent, and decode leaves them at their defaults.
};

// Every pull record carries the server sequence that numbers it; a page holds them in
// non-decreasing order.

// A change made elsewhere (or, from cursor 0, by the receiving device itself), with its value, its
// base and its full attribution. change.ts is the server's stamp if it re-stamped the change.
struct VersionRecord {
  uint64_t server_seq = 0;
  ChangeRecord change;
  int64_t server_ms = 0;  // the server's receipt time
};

// One of the receiving device's own changes: the device has the value, so only the id, the receipt
// time and what the server decided about it.
struct OwnVersionRecord {
  uint64_t server_seq = 0;
  VersionId version;
  int64_t server_ms = 0;
  std::vector<Decision> decisions;
};

// A later decision about one of the receiving device's own changes.
struct DecisionRecord {
  uint64_t server_seq = 0;
  VersionId version;
  Decision decision;
};

// A field whose live versions now hold more than one value.
struct ConflictRecord {
  uint64_t server_seq = 0;
  EntityType type = EntityType::person;
  EntityId entity;
  FieldId field = 0;
};

// A notice for the collector (`notices`); quarantines are notices of kind quarantined. Fields a kind
// does not concern (a clock notice names no entity) are zero.
struct NoticeRecord {
  enum class Kind : uint8_t { quarantined = 1, released = 2, rejected = 3, redirected = 4, clock = 5, flagged = 6 };
  uint64_t server_seq = 0;
  Kind kind = Kind::quarantined;
  EntityType type = EntityType::person;
  EntityId entity;
  FieldId field = 0;
  VersionId version;
  std::string reason_zh;
  std::string reason_en;
};

// County configuration: key "schema", "thresholds", "period" or "region_tree"; value is opaque bytes
// to the protocol. A device keeps the highest version of each key.
struct ConfigRecord {
  uint64_t server_seq = 0;
  std::string key;
  uint64_t version = 0;
  std::string value;
};

// An entity that entered the device's scope, with its whole merge state: every field's live versions
// and superseded ids and the bases of its live deletions (merge.hpp), so the device holds exactly the
// server's state. Live and superseded lists are sorted by version id without duplicates (checked).
struct ScopeEnterRecord {
  uint64_t server_seq = 0;
  EntityState state;
};

// An entity that left the device's scope: the device drops it (its unpushed edits are still pushed).
struct ScopeLeaveRecord {
  uint64_t server_seq = 0;
  EntityId entity;
};

// merged_away was merged into survivor: its versions now live there with their ids (issue: merges).
struct MergeRecord {
  uint64_t server_seq = 0;
  EntityType type = EntityType::person;
  EntityId merged_away;
  EntityId survivor;
};

// A reviewer's decision about an entity (issue: review).
struct ReviewDecisionRecord {
  enum class Verdict : uint8_t { approved = 1, rejected = 2, returned = 3 };
  uint64_t server_seq = 0;
  EntityType type = EntityType::person;
  EntityId entity;
  Verdict verdict = Verdict::approved;
  std::vector<VersionId> approved;  // the version ids the verdict covers
  std::string reason;
  std::string reviewer;
};

using PullRecord = std::variant<VersionRecord, OwnVersionRecord, DecisionRecord, ConflictRecord, NoticeRecord,
                                ConfigRecord, ScopeEnterRecord, ScopeLeaveRecord, MergeRecord, ReviewDecisionRecord>;
uint64_t server_seq(const PullRecord& r);

struct PullPage {
  std::string server_epoch;
  uint64_t next_cursor = 0;  // the device stores it only after the page is applied locally
  bool more = false;         // another page follows: pull again from next_cursor
  std::vector<PullRecord> records;
};

// A request the server refused whole (not a push refusal, which is a PushReply): unknown or revoked
// device, bytes that do not decode. code is the stable error name (error.hpp); the messages are the
// server's, in both languages.
struct ErrorReply {
  std::string code;
  std::string message_zh;
  std::string message_en;
  uint64_t last_counter = 0;  // stale_counter: the last request counter the server accepted
};

// ErrorReply codes beyond the ErrorCode names (unknown_device, device_revoked, invalid_input, ...).
namespace reply_code {
inline constexpr std::string_view bad_signature = "bad_signature";    // the signature does not verify
inline constexpr std::string_view stale_counter = "stale_counter";    // replayed or reordered: last_counter
inline constexpr std::string_view schema_version = "schema_version";  // a frame of another protocol version
inline constexpr std::string_view token_unknown = "token_unknown";
inline constexpr std::string_view token_expired = "token_expired";
inline constexpr std::string_view token_used = "token_used";          // bound to another device already
}  // namespace reply_code
// The error a device reports for it: ErrorCode::unknown_device and device_revoked by name, anything
// else sync_refused with the server's message.
Error to_error(const ErrorReply& reply);

// Whole messages. encode never fails (any struct has a wire form; a value the grammar does not allow,
// such as an unknown enum, is written as is and refused by decode). decode_* return invalid_input
// errors naming the message, the element and what was wrong; they never throw for bad bytes.
std::string encode(const PushRequest& m);
std::string encode(const PushReply& m);
std::string encode(const PullRequest& m);
std::string encode(const PullPage& m);
std::string encode(const ErrorReply& m);
Result<PushRequest> decode_push_request(std::string_view bytes, const Limits& limits = {});
Result<PushReply> decode_push_reply(std::string_view bytes, const Limits& limits = {});
Result<PullRequest> decode_pull_request(std::string_view bytes, const Limits& limits = {});
Result<PullPage> decode_pull_page(std::string_view bytes, const Limits& limits = {});
Result<ErrorReply> decode_error_reply(std::string_view bytes, const Limits& limits = {});
// A reply frame that should be of type T but may be an ErrorReply: the ErrorReply becomes to_error().
// A SignedReply is opened to the reply it carries (its audit head unchecked).
Result<PushReply> decode_push_reply_or_error(std::string_view bytes, const Limits& limits = {});
Result<PullPage> decode_pull_page_or_error(std::string_view bytes, const Limits& limits = {});

// The framing alone: u8(type) u8(version) then the zlib (deflate) stream of the body (for a
// SignedRequest, the body as is: it wraps a frame deflated already). A transport
// can peek at the type to dispatch; tests use it to damage a body and re-seal it.
struct Frame {
  MessageType type = MessageType::push_request;
  uint8_t version = kProtocolVersion;
  std::string body;  // inflated
};
std::string seal_frame(MessageType type, std::string_view body, uint8_t version = kProtocolVersion);
// Refuses an unknown type or version before inflating, and a body beyond limits.max_uncompressed
// while inflating (never inflating more than that).
Result<Frame> open_frame(std::string_view bytes, const Limits& limits = {});

// ---------------------------------------------------------------------------------------------
// Identity (SPEC §6; docs/sync-protocol.md "Identity and enrolment"): signed requests, enrolment,
// enrolment tokens. The signature and sealing contexts below are part of the grammar.

inline constexpr std::string_view kRequestSignContext = "taizhang/request/v1";
inline constexpr std::string_view kEnrolSignContext = "taizhang/enrol/v1";
inline constexpr std::string_view kEnrolReplySignContext = "taizhang/enrol-reply/v1";
inline constexpr std::string_view kEnrolGrantContext = "taizhang/enrol-grant/v1";  // seal_to context
inline constexpr std::string_view kEscrowContext = "taizhang/escrow/v1";           // the data key, to the server

// A push or pull request frame (body) signed by the device. The counter is per device and strictly
// increasing (stored by the device before sending, pulls included); an inner push carries the same
// value as its request_counter.
struct SignedRequest {
  DeviceId device;
  uint64_t counter = 0;
  std::string body;       // the inner request frame, as sent
  std::string signature;  // Ed25519 over request_signature_input(device, counter, body)
};
// "taizhang/request/v1" || device (16) || be64(counter) || sha256(body).
std::string request_signature_input(const DeviceId& device, uint64_t counter, std::string_view body);
SignedRequest sign_request(const DeviceId& device, uint64_t counter, std::string body, std::string_view sign_priv);
bool verify_request(const SignedRequest& r, std::string_view sign_pub);

// Device → server: registers the device's keys under a one-time token. Signed by the device's new
// Ed25519 key (proof that it holds it).
struct EnrolRequest {
  std::string token_secret;  // 16 bytes, from the token
  DeviceId device;
  std::string sign_pub;      // Ed25519, 32 bytes
  std::string box_pub;       // X25519, 32 bytes
  std::string escrow;        // the device data key sealed to the server box key (kEscrowContext); may be empty
  std::string signature;     // over enrol_signature_input(*this)
};
// "taizhang/enrol/v1" || token_secret || device || sign_pub || box_pub || sha256(escrow).
std::string enrol_signature_input(const EnrolRequest& r);

// What the device receives, sealed to its X25519 key (kEnrolGrantContext).
struct GrantConfig {
  std::string key;
  uint64_t version = 0;
  std::string value;
};
struct EnrolGrant {
  std::string county;         // 6-digit county code
  std::string county_name;
  std::string county_secret;  // the keyed-hash secret of natural-key ids
  std::vector<std::string> scope;
  std::vector<std::string> collectors;
  std::vector<GrantConfig> configs;
  std::string server_epoch;
};
std::string encode_grant(const EnrolGrant& g);  // a plain ByteWriter blob (sealed, never framed)
Result<EnrolGrant> decode_grant(std::string_view bytes, const Limits& limits = {});

// Server → device.
struct EnrolReply {
  DeviceId device;
  std::string sealed_grant;  // seal_to(device box_pub, encode_grant(..), kEnrolGrantContext)
  std::string signature;     // server Ed25519 over enrol_reply_signature_input(device, sealed_grant)
};
// "taizhang/enrol-reply/v1" || device || sealed_grant.
std::string enrol_reply_signature_input(const DeviceId& device, std::string_view sealed_grant);

std::string encode(const SignedRequest& m);
std::string encode(const EnrolRequest& m);
std::string encode(const EnrolReply& m);
Result<SignedRequest> decode_signed_request(std::string_view bytes, const Limits& limits = {});
Result<EnrolRequest> decode_enrol_request(std::string_view bytes, const Limits& limits = {});
Result<EnrolReply> decode_enrol_reply(std::string_view bytes, const Limits& limits = {});
Result<EnrolReply> decode_enrol_reply_or_error(std::string_view bytes, const Limits& limits = {});

// The server's audit chain head (SPEC §6 Audit; tz/sync/audit.hpp), signed by its Ed25519 key into
// every push and pull reply and every response bundle, so a truncated chain is detectable.
inline constexpr std::string_view kAuditHeadSignContext = "taizhang/audit-head/v1";
struct AuditHead {
  uint64_t seq = 0;       // entries in the chain (0: none yet)
  std::string hash;       // the last entry's hash, 32 raw bytes (32 zero bytes for an empty chain)
  std::string signature;  // server Ed25519 over audit_head_signature_input(seq, hash)
};
// "taizhang/audit-head/v1" || be64(seq) || hash.
std::string audit_head_signature_input(uint64_t seq, std::string_view hash);
bool verify_audit_head(const AuditHead& head, std::string_view server_sign_pub);
// head := varint(seq) hash[32] signature[64] (inside SignedReply frames and response bundles).
void write_audit_head(ByteWriter& w, const AuditHead& head);

// Server → device: a PushReply or PullPage frame (body, as is) with the signed audit head.
struct SignedReply {
  AuditHead head;
  std::string body;
};
std::string encode(const SignedReply& m);
Result<SignedReply> decode_signed_reply(std::string_view bytes, const Limits& limits = {});

// The ErrorReply a frame of an unknown protocol version gets (code schema_version), or nullopt when
// the frame's version is this build's (or the frame is too short to say).
std::optional<ErrorReply> version_refusal(std::string_view frame);

// Enrolment token: "TZ1-" + base64url (no padding) of
//   secret (16) || county (6 ASCII digits) || server sign pub (32) || server box pub (32) || be64(expiry ms).
inline constexpr std::string_view kTokenPrefix = "TZ1-";
inline constexpr size_t kTokenSecretSize = 16;
struct TokenInfo {
  std::string secret;
  std::string county;
  std::string server_sign_pub;
  std::string server_box_pub;
  int64_t expires_ms = 0;
};
std::string encode_token(const TokenInfo& t);
// Surrounding whitespace is ignored. invalid_input (bilingual, naming what is wrong) otherwise.
Result<TokenInfo> decode_token(std::string_view token);
// The id the server files a token under: hex sha256 of its secret (the secret itself is not kept).
std::string token_id(std::string_view secret);

}  // namespace tz::sync
