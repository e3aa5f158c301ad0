// The audit chain (audit.hpp).
#include "tz/sync/audit.hpp"

#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"

namespace tz::sync {

namespace {

constexpr std::string_view kHeadKey = "audit_head";  // meta value: "SEQ HASH" (hash in hex)
const std::string kZeroHash(64, '0');

void be64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * (7 - i))) & 0xff);
  out.append(b, 8);
}
void field(std::string& out, std::string_view s) {
  be64(out, s.size());
  out.append(s);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The stored head: (seq, hex hash).
std::pair<uint64_t, std::string> stored_head(const ServerStore& store) {
  auto v = store.meta_value(std::string(kHeadKey));
  if (!v) return {0, kZeroHash};
  auto sp = v->find(' ');
  if (sp == std::string::npos) throw Failure(ErrorCode::store_corrupt, {"meta audit_head"});
  return {std::stoull(v->substr(0, sp)), v->substr(sp + 1)};
}

}  // namespace

std::string audit_entry_hash(const AuditEntry& e) {
  std::string m = e.prev;
  be64(m, e.seq);
  be64(m, static_cast<uint64_t>(e.ms));
  field(m, e.kind);
  field(m, e.actor);
  field(m, e.summary);
  return crypto::to_hex(crypto::sha256(m));
}

std::string audit_summary(std::initializer_list<std::pair<std::string_view, AuditValue>> members) {
  std::string out = "{";
  for (auto& [k, v] : members) {
    if (out.size() > 1) out += ',';
    out += json_string(k) + ':';
    if (auto* s = std::get_if<std::string>(&v)) out += json_string(*s);
    else out += std::to_string(std::get<uint64_t>(v));
  }
  return out + "}";
}

AuditEntry append_audit_entry(ServerStore& store, int64_t ms, std::string_view kind, std::string_view actor,
                              std::string summary) {
  auto [seq, hash] = stored_head(store);
  AuditEntry e;
  e.seq = seq + 1;
  e.ms = ms;
  e.kind = std::string(kind);
  e.actor = std::string(actor);
  e.summary = std::move(summary);
  e.prev = hash;
  e.hash = audit_entry_hash(e);
  store.append_audit(e);
  store.put_meta_value(std::string(kHeadKey), std::to_string(e.seq) + " " + e.hash);
  return e;
}

Status record_audit(ServerStore& store, int64_t ms, std::string_view kind, std::string_view actor, std::string summary) {
  try {
    store.begin();
    try {
      append_audit_entry(store, ms, kind, actor, std::move(summary));
      store.commit(nullptr, nullptr);
    } catch (...) {
      store.rollback();
      throw;
    }
    return ok_status();
  } catch (const Failure& f) {
    return f.error();
  }
}

BatchDigest batch_digest(const PushRequest& req, uint64_t first, uint64_t last) {
  // The hashed bytes name each change by VersionId::str() ("<device hex>:<seq>"); the device's hex is
  // made once per device, not once per change (decision 130).
  std::string m, version;
  DeviceId prefix_of;
  std::string prefix;
  for (const auto& c : req.changes) {
    if (c.version.seq.value < first || c.version.seq.value > last) continue;
    if (prefix.empty() || c.version.device != prefix_of) {
      prefix_of = c.version.device;
      prefix = c.version.device.hex() + ":";
      m.reserve(m.size() + (last - c.version.seq.value + 1) * (prefix.size() + 128));
    }
    version.assign(prefix);
    version.append(std::to_string(c.version.seq.value));
    field(m, version);
    m.append(c.entity.view());
    be64(m, c.field);
    field(m, c.value);
    be64(m, c.base.size());
    for (const auto& b : c.base) field(m, b.str());
    field(m, c.collector);
    be64(m, static_cast<uint64_t>(c.device_ms));
    be64(m, static_cast<uint64_t>(c.ts.ms));
    be64(m, c.ts.counter);
  }
  return BatchDigest{first, last, crypto::to_hex(crypto::sha256(m))};
}

void audit_batch(ServerStore& store, int64_t ms, const PushRequest& req, const PushReply& reply, const BatchDigest* digest) {
  // What the device recorded for the chain (a --full-ids export on the device, SPEC §6): one entry
  // each, the device as the actor, its summary kept as sent beside the device's time.
  for (const auto& a : req.audit_notes)
    append_audit_entry(store, ms, "device " + a.kind, "device:" + req.device.hex(),
                       audit_summary({{"device", req.device.hex()},
                                      {"device_ms", static_cast<uint64_t>(a.device_ms)},
                                      {"summary", a.summary}}));
  uint64_t first = 0, last = 0;  // what was new in it
  for (const auto& o : reply.outcomes)
    if (o.kind != ChangeOutcome::Kind::duplicate) {
      if (first == 0) first = o.seq;
      last = o.seq;
    }
  if (first == 0) return;
  const OutcomeCounts n = count_outcomes(reply);
  const std::string sha256 = digest && digest->first_seq == first && digest->last_seq == last
                                 ? digest->sha256_hex
                                 : batch_digest(req, first, last).sha256_hex;
  append_audit_entry(store, ms, "batch", "device:" + req.device.hex(),
                     audit_summary({{"device", req.device.hex()},
                                    {"first_seq", first},
                                    {"last_seq", last},
                                    {"applied", n.applied},
                                    {"conflicts", n.conflicts},
                                    {"quarantined", n.quarantined},
                                    {"duplicates", n.duplicates},
                                    {"restamped", n.restamped},
                                    {"sha256", sha256}}));
}

AuditHead signed_audit_head(const ServerStore& store, std::string_view sign_priv) {
  auto [seq, hex] = stored_head(store);
  AuditHead h;
  h.seq = seq;
  auto raw = crypto::from_hex(hex);
  if (!raw || raw->size() != 32) throw Failure(ErrorCode::store_corrupt, {"meta audit_head hash"});
  h.hash = *raw;
  h.signature = crypto::ed25519_sign(sign_priv, audit_head_signature_input(h.seq, h.hash));
  return h;
}

AuditCheck verify_audit_chain(const ServerStore& store) {
  AuditCheck c;
  auto [head_seq, head_hash] = stored_head(store);
  c.head_seq = head_seq;
  c.head_hash = head_hash;
  auto broken = [&](uint64_t seq, std::string zh, std::string en) {
    c.ok = false;
    c.broken_seq = seq;
    c.problem = bilingual(zh, en);
    return c;
  };
  std::string prev = kZeroHash;
  uint64_t expect = 1;
  for (const auto& e : store.audit_entries()) {
    ++c.count;
    const std::string n = std::to_string(expect);
    if (e.seq != expect)
      return broken(expect, "第 " + n + " 条审计记录缺失（其后是第 " + std::to_string(e.seq) + " 条）",
                    "audit entry " + n + " is missing (entry " + std::to_string(e.seq) + " follows)");
    if (e.prev != prev)
      return broken(e.seq, "第 " + n + " 条审计记录与前一条不相连（被删除、调换或改动）",
                    "audit entry " + n + " does not link to the one before it (removed, reordered or edited)");
    if (audit_entry_hash(e) != e.hash)
      return broken(e.seq, "第 " + n + " 条审计记录的内容与其哈希不符（被改动）",
                    "audit entry " + n + "'s content does not match its hash (edited)");
    prev = e.hash;
    ++expect;
  }
  const uint64_t last = expect - 1;
  if (head_seq != last || head_hash != prev) {
    if (head_seq > last)
      return broken(last + 1, "审计链被截断：链头记为第 " + std::to_string(head_seq) + " 条，实际只有 " + std::to_string(last) + " 条",
                    "the audit chain is truncated: its head names entry " + std::to_string(head_seq) + " but only " +
                        std::to_string(last) + " exist");
    return broken(head_seq, "审计链头与最后一条记录不符", "the audit chain's head does not match its last entry");
  }
  return c;
}

}  // namespace tz::sync
