// The server's audit chain (SPEC §6 Audit): an append-only, hash-chained log of every accepted batch
// (its hash and counts), review decision, bundle and admin action — never personal data, only hashes,
// counts and ids. Each entry's hash covers the previous entry's hash, so an edited, removed or
// reordered entry breaks the chain; the head (entry count and last hash) is kept in the store's meta
// value "audit_head" and signed into every sync reply and response bundle, so a truncated chain is
// detectable too (docs/sync-protocol.md "Audit chain").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "tz/sync/protocol.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::sync {

// The actor of admin commands (SPEC §11: they act as the county admin).
inline constexpr std::string_view kCountyAdminActor = "county-admin";

// hex sha256 over prev || be64(seq) || be64(ms) || str(kind) || str(actor) || str(summary)
// (str = be64(length) bytes).
std::string audit_entry_hash(const AuditEntry& e);

// A flat JSON object of string and number members, for summaries.
using AuditValue = std::variant<std::string, uint64_t>;
std::string audit_summary(std::initializer_list<std::pair<std::string_view, AuditValue>> members);

// Appends an entry inside the caller's open write transaction (so it commits, or not, with what it
// records) and moves the head. Returns the new entry.
AuditEntry append_audit_entry(ServerStore& store, int64_t ms, std::string_view kind, std::string_view actor,
                              std::string summary);
// The same in a transaction of its own (admin actions recorded after they are done).
Status record_audit(ServerStore& store, int64_t ms, std::string_view kind, std::string_view actor, std::string summary);

// The entry of an accepted push batch (inside the push's transaction): the device, the range and
// counts of what was new in it and the hex sha256 of those changes (version id, entity, field,
// value, base, collector, device time, stamp) — never their values in clear. Nothing is recorded
// for a batch that brought nothing new (a repeat).
// `digest`, when given, is batch_digest() of the request made beforehand (on another thread while
// the batch was applied); it is used when its range is the batch's, and made here otherwise.
struct BatchDigest {
  uint64_t first_seq = 0, last_seq = 0;
  std::string sha256_hex;
};
void audit_batch(ServerStore& store, int64_t ms, const PushRequest& req, const PushReply& reply,
                 const BatchDigest* digest = nullptr);
// The hex sha256 of the request's changes with sequences first_seq..last_seq, in the hashed layout.
// Reads only the request.
BatchDigest batch_digest(const PushRequest& req, uint64_t first_seq, uint64_t last_seq);

// The head as stored (seq 0 and 32 zero bytes when nothing was recorded), signed with sign_priv.
AuditHead signed_audit_head(const ServerStore& store, std::string_view sign_priv);

struct AuditCheck {
  bool ok = true;
  uint64_t count = 0;         // entries read
  uint64_t head_seq = 0;      // the stored head
  std::string head_hash;      // hex
  uint64_t broken_seq = 0;    // the first entry found wrong (0: the head itself)
  std::string problem;        // bilingual() text naming what is wrong
};
// Walks the whole chain: sequence numbers 1, 2, ... without gaps, each prev equal to the hash before
// it, each hash recomputed, and the stored head equal to the last entry.
AuditCheck verify_audit_chain(const ServerStore& store);

}  // namespace tz::sync
