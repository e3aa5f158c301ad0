// The device side of sync (SPEC §5; docs/sync-protocol.md "The exchange"). The device keeps one merge
// state per entity: what the server sent (versions merged with the pure merge, or whole states on
// scope entry), plus its own changes that the server has not refused. Every page is applied in one
// transaction that also stores the new cursor.
#include "tz/ops/device_sync.hpp"

#include <random>

#include "tz/ops/config.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "tz/ops/editor.hpp"
#include "tz/util/crash_point.hpp"

namespace tz::ops {

namespace {

using namespace tz::sync;

Hlc max_ts(const EntityState& s) {
  Hlc out;
  for (auto& [f, fs] : s.fields)
    for (auto& v : fs.live) out = std::max(out, v.ts);
  return out;
}

// Gives the live version of one of the device's own changes the change's own stamp back, as a
// change the server has not seen (no receipt time); true when that changed the state.
bool own_stamp(EntityState& s, const FieldChange& c) {
  auto f = s.fields.find(c.field);
  if (f == s.fields.end()) return false;
  bool changed = false;
  for (auto& v : f->second.live)
    if (v.id == c.version && (v.ts != c.ts || v.server_ms != 0)) {
      v.ts = c.ts;
      v.server_ms = 0;
      changed = true;
    }
  return changed;
}

bool has_live(const EntityState& s) {
  return std::any_of(s.fields.begin(), s.fields.end(), [](auto& kv) { return !kv.second.live.empty(); });
}

// Gives one of the device's own live versions the server's stamp (and receipt time).
void adopt_stamp(EntityState& s, const VersionId& id, Hlc ts, int64_t server_ms) {
  for (auto& [f, fs] : s.fields)
    for (auto& v : fs.live)
      if (v.id == id) {
        v.ts = ts;
        if (server_ms) v.server_ms = server_ms;
      }
}

}  // namespace

struct DeviceSync::OwnIndex {
  std::vector<FieldChange> all;
  std::unordered_map<EntityId, std::vector<const FieldChange*>, IdHash> by_entity;
  std::unordered_map<uint64_t, const FieldChange*> by_seq;

  uint64_t next_seq;  // the store's next_seq when read: a later local edit makes the index stale

  explicit OwnIndex(const DeviceStore& store) : all(store.changes_after(0)), next_seq(store.info().next_seq) {
    for (auto& c : all) {
      by_entity[c.entity].push_back(&c);
      by_seq[c.version.seq.value] = &c;
    }
  }
  const FieldChange* find(uint64_t seq) const {
    auto it = by_seq.find(seq);
    return it == by_seq.end() ? nullptr : it->second;
  }
};

DeviceSync::DeviceSync(DeviceStore& store, Transport& transport, std::function<int64_t()> now, DeviceSyncOptions options)
    : store_(store), transport_(transport), now_(std::move(now)), options_(std::move(options)) {}

namespace {
constexpr std::string_view kAuditNotesConfig = "audit_notes";
// What a change costs on the wire besides its value and collector (ids, stamps, base): an upper
// estimate, for push_bytes.
constexpr size_t kChangeOverheadBytes = 96;

Status write_audit_notes(DeviceStore& store, const std::vector<PushRequest::AuditNote>& notes) {
  ByteWriter w;
  w.varint(notes.size());
  for (auto& n : notes) {
    w.svarint(n.device_ms);
    w.str(n.kind);
    w.str(n.summary);
  }
  // The version only grows (a store keeps the newest version of a configuration).
  auto held = store.sync_config(std::string(kAuditNotesConfig));
  WriteBatch b;
  b.configs.push_back({std::string(kAuditNotesConfig), {(held ? held->first : 0) + 1, w.take()}});
  b.clock = store.clock();
  return store.write(b);
}
}  // namespace

std::vector<PushRequest::AuditNote> pending_audit_notes(const DeviceStore& store) {
  std::vector<PushRequest::AuditNote> out;
  auto held = store.sync_config(std::string(kAuditNotesConfig));
  if (!held) return out;
  try {
    ByteReader r(held->second);
    for (uint64_t n = r.varint(); n > 0; --n) {
      PushRequest::AuditNote a;
      a.device_ms = r.svarint();
      a.kind = r.str();
      a.summary = r.str();
      out.push_back(std::move(a));
    }
  } catch (const Failure&) {
    return {};
  }
  return out;
}

Status record_device_audit(DeviceStore& store, int64_t device_ms, const std::string& kind, const std::string& summary) {
  auto notes = pending_audit_notes(store);
  notes.push_back({device_ms, kind, summary});
  return write_audit_notes(store, notes);
}

Status drop_audit_notes(DeviceStore& store, int64_t up_to_ms) {
  auto notes = pending_audit_notes(store);
  const size_t before = notes.size();
  notes.erase(std::remove_if(notes.begin(), notes.end(), [&](const PushRequest::AuditNote& a) { return a.device_ms <= up_to_ms; }),
              notes.end());
  if (notes.size() == before) return ok_status();
  return write_audit_notes(store, notes);
}

PushRequest DeviceSync::make_push_request(uint64_t after) const {
  const StoreInfo& info = store_.info();
  PushRequest req;
  req.device = info.device;
  req.device_epoch = info.epoch;
  req.server_epoch_seen = info.sync.server_epoch;
  // Sent even when empty: the reply then tells the acknowledged sequence, which is lower than ours
  // when the server was restored from a backup (we re-push from there).
  req.changes = store_.changes_range(after, options_.push_batch);
  // One consecutive run: the log may have gaps after a restore from an older copy (sequences the
  // server holds that did not come back, e.g. held in quarantine); the server compares a run that
  // starts below its acknowledgement and applies what follows it.
  // Cut at push_bytes too: the first change that would pass it goes in the next request.
  size_t bytes = 0;
  for (size_t i = 0; i < req.changes.size(); ++i) {
    const auto& c = req.changes[i];
    bytes += c.value.size() + c.collector.size() + c.base.size() * sizeof(VersionId) + kChangeOverheadBytes;
    if (i > 0 && (c.version.seq.value != req.changes[i - 1].version.seq.value + 1 || bytes > options_.push_bytes)) {
      req.changes.resize(i);
      break;
    }
  }
  req.first_seq = req.changes.empty() ? after + 1 : req.changes.front().version.seq.value;
  req.device_now_ms = now_();
  // The audit notes go with the first request after the acknowledgement (one bundle or sync sends
  // them once), those recorded up to now.
  if (after == info.acked_seq)
    for (auto& a : pending_audit_notes(store_))
      if (a.device_ms <= req.device_now_ms) req.audit_notes.push_back(std::move(a));
  return req;
}

Result<PushResult> DeviceSync::push_once() {
  // The log and the entities are sealed: a store opened without its passphrase cannot sync.
  if (!store_.unlocked()) return Error(ErrorCode::wrong_passphrase);
  PushRequest req = make_push_request(store_.info().acked_seq);
  auto bytes = send(
      [&](uint64_t counter) {
        req.request_counter = counter;
        return encode(req);
      },
      true);
  if (!bytes) return bytes.error();
  auto reply = decode_push_reply_or_error(*bytes, options_.limits);
  if (!reply) return reply.error();
  const uint64_t compared = req.changes.empty() ? req.first_seq - 1 : req.changes.back().version.seq.value;
  auto result = take_push_reply(*reply, compared);
  if (result) result->sent = req.changes.size();
  if (result && reply->refusal == PushReply::Refusal::none && !req.audit_notes.empty())
    if (auto d = drop_audit_notes(store_, req.device_now_ms); !d) return d.error();
  return result;
}

Result<PushResult> DeviceSync::take_push_reply(const PushReply& given, uint64_t compared) {
  PushResult result;
  const StoreInfo& info = store_.info();
  const PushReply* reply = &given;
  switch (reply->refusal) {
    case PushReply::Refusal::none: break;
    case PushReply::Refusal::unknown_device: return Error(ErrorCode::unknown_device, {info.device.hex()});
    case PushReply::Refusal::revoked: return Error(ErrorCode::device_revoked, {info.device.hex()});
    case PushReply::Refusal::malformed:
      return Error(ErrorCode::sync_refused, {bilingual("推送请求格式有误", "the push request is malformed")});
    case PushReply::Refusal::stale_counter: {
      SyncState s2 = store_.info().sync;
      s2.request_counter = std::max(s2.request_counter, reply->last_counter_seen);
      WriteBatch b;
      b.sync = s2;
      b.clock = store_.clock();
      if (auto w = store_.write(b); !w) return w.error();
      result.acked_seq = store_.info().acked_seq;
      return result;
    }
    case PushReply::Refusal::rolled_back: {
      if (auto h = handle_push_refusal(*reply); !h) return h.error();
      result.rolled_back = true;
      result.acked_seq = store_.info().acked_seq;
      return result;
    }
  }
  const OutcomeCounts n = count_outcomes(*reply);
  result.applied = n.applied;
  result.conflicts = n.conflicts;
  result.quarantined = n.quarantined;
  result.duplicates = n.duplicates;
  result.restamped = n.restamped;
  // The server's acknowledgement is the truth, even when lower than ours (a restored server). Higher
  // than what it compared, it must not cover a logged change it never saw (this store was restored
  // from an older copy and may hold other content under those sequences): that one is sent next.
  uint64_t acked = reply->acked_seq;
  if (acked > compared)
    if (auto after = store_.changes_range(compared, 1); !after.empty() && after.front().version.seq.value <= acked)
      acked = compared;
  // The server holds sequences this store never made: restored from an older copy. They must never
  // be made again, and their values come back with a pull from cursor 0.
  const bool restored_store = reply->acked_seq >= info.next_seq;
  // An acknowledgement lower than ours under the same epoch: the server's files were put back from a
  // copy without a new epoch. Its log numbers rows again that our cursor has passed: pull from 0.
  const bool restored_server = reply->acked_seq < info.acked_seq && reply->server_epoch == info.sync.server_epoch;
  // The pull from cursor 0 is asked for first and the acknowledgement stored last, so a crash in
  // between never leaves an acknowledged sequence that a new edit could take.
  if (restored_store || restored_server ||
      (!info.sync.server_epoch.empty() && reply->server_epoch != info.sync.server_epoch)) {
    SyncState s2 = store_.info().sync;
    s2.full_pull_needed = true;
    s2.own_values = true;
    if (restored_store || restored_server) s2.cursor = 0;
    WriteBatch b;
    b.sync = s2;
    b.clock = store_.clock();
    if (auto w = store_.write(b); !w) return w.error();
  }
  if (restored_store) {
    if (auto r = store_.renumber_changes(info.next_seq - 1, reply->acked_seq + 1); !r) return r.error();
    own_.reset();
  }
  WriteBatch b;
  b.acked_seq = acked;
  b.clock = store_.clock();
  b.crash_point = "device.push.before_commit";
  if (auto w = store_.write(b); !w) return w.error();
  crash_point("device.push.after_commit");
  result.acked_seq = acked;
  result.done = store_.changes_range(acked, 1).empty();
  return result;
}

// SPEC §5 Epochs: the server holds (device, seq) with other content, so this store was restored from
// an older copy. Everything up to reply.acked_seq matched; what follows is renumbered after the
// highest sequence the server holds (nobody has seen those ids), and the device pulls from cursor 0
// (getting back, with their values, the changes it had lost) before pushing again.
Status DeviceSync::handle_push_refusal(const PushReply& reply) {
  // Three steps, each durable, in an order a crash cannot harm: the pull from cursor 0 is asked for
  // first (it never takes a version whose id this store reuses: the merge keeps its own content),
  // with the own stamps of the changes about to be renumbered put back; then the changes after the matching prefix are renumbered right after what the server holds, so
  // the log pushed next is gap-free; last everything up to highest_seq_held is acknowledged (what
  // the server holds there comes back on the pull).
  SyncState st = store_.info().sync;
  st.cursor = 0;
  st.own_values = true;
  st.full_pull_needed = true;
  Editor first(store_, EditContext{store_.info().config.default_collector, now_()});
  first.batch().sync = st;
  // Those changes were never re-stamped: a re-stamp pulled before the refusal named a reused
  // sequence and was about the server's change there (docs/decisions.md 224).
  for (auto& c : store_.changes_after(reply.acked_seq))
    if (auto s = first.state(c.entity); s && own_stamp(*s, c)) first.put_state(*s);
  if (auto w = first.commit(); !w) return w;
  // What the server decided about its changes at the reused sequences (a quarantine pulled before
  // the refusal) stays with those sequences: the renumbered changes are new and were never decided.
  std::vector<std::pair<uint64_t, OwnStatus>> decided;
  for (auto& [seq, status] : store_.own_statuses())
    if (seq > reply.acked_seq) decided.emplace_back(seq, status);
  if (auto r = store_.renumber_changes(reply.acked_seq, reply.highest_seq_held + 1); !r) return r;
  own_.reset();
  WriteBatch b;
  for (auto& [seq, status] : store_.own_statuses())
    if (seq > reply.acked_seq) b.own_status.emplace_back(seq, OwnStatus::normal);
  for (auto& d : decided) b.own_status.push_back(d);
  b.acked_seq = reply.highest_seq_held;
  b.clock = store_.clock();
  return store_.write(b);
}

Result<std::string> DeviceSync::send(const std::function<std::string(uint64_t)>& make, bool push) {
  const bool sign = options_.signer.has_value();
  for (int attempt = 0;; ++attempt) {
    uint64_t counter = 0;
    if (push || sign) {
      // The counter is stored before the request leaves, so a crash never reuses it.
      SyncState st = store_.info().sync;
      counter = ++st.request_counter;
      WriteBatch b;
      b.sync = st;
      b.clock = store_.clock();
      if (auto w = store_.write(b); !w) return w.error();
    }
    std::string frame = make(counter);
    if (sign) frame = encode(sign_request(options_.signer->device, counter, std::move(frame), options_.signer->sign_priv));
    auto bytes = transport_.exchange(frame);
    if (bytes && sign) bytes = take_audit_head(std::move(*bytes));
    if (!bytes || !sign || attempt > 0) return bytes;
    // A stale counter (this store was restored from an older copy): resume above the server's, once.
    if (!bytes->empty() && static_cast<uint8_t>((*bytes)[0]) == static_cast<uint8_t>(MessageType::error_reply)) {
      auto e = decode_error_reply(*bytes, options_.limits);
      if (e && e->code == sync::reply_code::stale_counter) {
        SyncState st = store_.info().sync;
        st.request_counter = std::max(st.request_counter, e->last_counter);
        WriteBatch b;
        b.sync = st;
        b.clock = store_.clock();
        if (auto w = store_.write(b); !w) return w.error();
        continue;
      }
    }
    return bytes;
  }
}

Result<std::string> DeviceSync::take_audit_head(std::string reply) {
  if (reply.empty() || static_cast<uint8_t>(reply[0]) != static_cast<uint8_t>(MessageType::signed_reply)) return reply;
  auto r = decode_signed_reply(reply, options_.limits);
  if (!r) return r.error();
  if (auto st = keep_audit_head(store_, r->head, options_.signer->server_sign_pub); !st) return st.error();
  return std::move(r->body);
}

Status keep_audit_head(DeviceStore& store, const sync::AuditHead& head, std::string_view server_sign_pub) {
  if (!server_sign_pub.empty() && !verify_audit_head(head, server_sign_pub))
    return Error(ErrorCode::sync_refused, {bilingual("县服务器回复中的审计链头签名无效（可能不是本县服务器的回复）",
                                                     "the audit head in the server's reply is not signed by the county server's key")});
  auto seen = store.sync_config(std::string(kAuditHeadConfig));
  if (seen && seen->first >= head.seq) return ok_status();
  ByteWriter w;
  write_audit_head(w, head);
  WriteBatch b;
  b.configs.push_back({std::string(kAuditHeadConfig), {head.seq, w.take()}});
  b.clock = store.clock();
  return store.write(b);
}

std::optional<sync::AuditHead> kept_audit_head(const DeviceStore& store) {
  auto seen = store.sync_config(std::string(kAuditHeadConfig));
  if (!seen) return std::nullopt;
  try {
    ByteReader r(seen->second);
    sync::AuditHead h;
    h.seq = r.varint();
    h.hash = std::string(r.raw(32));
    h.signature = std::string(r.raw(64));
    return h;
  } catch (const Failure&) {
    return std::nullopt;
  }
}

PullRequest DeviceSync::make_pull_request() const {
  const StoreInfo& info = store_.info();
  PullRequest req;
  req.device = info.device;
  req.server_epoch_seen = info.sync.server_epoch;
  req.cursor = info.sync.cursor;
  req.max_records = options_.page_records;
  req.own_values = info.sync.own_values;
  return req;
}

Result<PullResult> DeviceSync::pull_once() {
  if (!store_.unlocked()) return Error(ErrorCode::wrong_passphrase);
  PullRequest req = make_pull_request();
  auto bytes = send([&](uint64_t) { return encode(req); }, false);
  if (!bytes) return bytes.error();
  auto page = decode_pull_page_or_error(*bytes, options_.limits);
  if (!page) return page.error();
  push_first_ = false;
  if (auto st = apply_page(*page); !st) return st.error();
  PullResult r;
  r.records = page->records.size();
  // A page may ask for cursor 0 again; one that reveals reused ids asks for a push first.
  r.more = !push_first_ && (page->more || store_.info().sync.full_pull_needed);
  return r;
}

Status DeviceSync::apply_page(const PullPage& page) {
  const StoreInfo& info = store_.info();
  const DeviceId me = info.device;
  SyncState st = info.sync;
  const bool new_epoch = page.server_epoch != st.server_epoch;
  const bool catching_up = st.own_values || new_epoch;

  // Own versions the server holds with other content under ids this store has reused: the store was
  // restored from an older copy and made new changes since. Nothing of the page is applied (putting
  // the server's versions back now would have them renumbered with the new ones); the next push is
  // refused as rolled back and its recovery renumbers the new changes after what the server holds,
  // then pulls everything back from cursor 0.
  for (auto& rec : page.records) {
    auto* v = std::get_if<VersionRecord>(&rec);
    if (!v || v->change.version.device != me) continue;
    uint64_t seq = v->change.version.seq.value;
    if (seq >= info.next_seq || !store_.has_change(seq)) continue;
    if (!own_ || own_->next_seq != info.next_seq) own_ = std::make_shared<OwnIndex>(store_);
    const FieldChange* held = own_->find(seq);
    // A change the server applied to a merge's survivor comes back under the survivor's id: the
    // same change (SPEC §8).
    if (held && !same_change_content(*held, v->change) && !same_change_but_entity(*held, v->change)) {
      push_first_ = true;
      return ok_status();
    }
  }

  // Own versions the store does not have: the store was restored from an older copy. Their ids must
  // never be reused: move next_seq past them, then take the page again from cursor 0 with values.
  uint64_t highest_own = 0;
  bool own_without_values = false;
  for (auto& rec : page.records) {
    if (auto* v = std::get_if<VersionRecord>(&rec); v && v->change.version.device == me)
      highest_own = std::max(highest_own, v->change.version.seq.value);
    if (auto* o = std::get_if<OwnVersionRecord>(&rec); o && o->version.seq.value >= info.next_seq) {
      highest_own = std::max(highest_own, o->version.seq.value);
      own_without_values = true;
    }
    // A decision about an own change this store never made (held in quarantine, so no version of it
    // comes back): its sequence must not be reused either, or the decision would be taken for the
    // new change that reuses it.
    if (auto* dr = std::get_if<DecisionRecord>(&rec); dr && dr->version.device == me)
      highest_own = std::max(highest_own, dr->version.seq.value);
  }
  if (highest_own >= info.next_seq) {
    if (auto r = store_.renumber_changes(info.next_seq - 1, highest_own + 1); !r) return r;
    own_.reset();
    if (own_without_values) {
      st.cursor = 0;
      st.own_values = true;
      st.full_pull_needed = true;  // sync() goes on pulling even when this page was the last
      WriteBatch b;
      b.sync = st;
      b.clock = store_.clock();
      return store_.write(b);
    }
  }

  Editor ed(store_, EditContext{info.config.default_collector, now_()});
  auto own = [this]() -> const OwnIndex& {
    if (!own_ || own_->next_seq != store_.info().next_seq) own_ = std::make_shared<OwnIndex>(store_);
    return *own_;
  };
  std::map<uint64_t, OwnStatus> status;
  for (auto& [seq, s] : store_.own_statuses()) status[seq] = s;
  auto refused = [&](uint64_t seq) {
    auto it = status.find(seq);
    return it != status.end() && it->second != OwnStatus::normal;
  };
  auto set_status = [&](uint64_t seq, OwnStatus s) {
    status[seq] = s;
    ed.batch().own_status.emplace_back(seq, s);
  };
  Hlc seen;
  auto state_of = [&](EntityType type, const EntityId& id) {
    if (auto s = ed.state(id)) return std::move(*s);
    EntityState s;
    s.type = type;
    s.id = id;
    return s;
  };
  auto put = [&](EntityState&& s) {
    seen = std::max(seen, max_ts(s));
    if (has_live(s)) ed.put_state(s);
    else ed.remove(s.id);
  };
  // The server's state of an entity plus the device's own changes it has not refused.
  auto rebuild = [&](EntityState s) {
    if (auto it = own().by_entity.find(s.id); it != own().by_entity.end())
      for (const FieldChange* c : it->second)
        if (!refused(c->version.seq.value)) merge_apply(s, *c, options_.merge_mode);
    put(std::move(s));
  };
  auto restamp = [&](const VersionId& v, Hlc ts) {
    const FieldChange* c = own().find(v.seq.value);
    if (!c) return;
    auto s = state_of(c->type, c->entity);
    adopt_stamp(s, v, ts, 0);
    put(std::move(s));
  };
  // The merge links (SPEC §5 digest); a pull from cursor 0 learns them all again.
  sync::MergeLinks links = st.cursor == 0 || new_epoch ? sync::MergeLinks{} : device_merge_links(store_);
  const std::string links_before = format_merge_links(device_merge_links(store_));
  auto drop_links_into = [&](const EntityId& id) { std::erase_if(links, [&](auto& l) { return l.second == id; }); };
  std::set<uint64_t> restored;
  // Own changes the server applied to a merge's survivor (a merged_into decision just before the
  // change as sent): the log keeps the entity it was addressed to, the state takes it on the survivor.
  std::map<uint64_t, EntityId> moved;
  for (auto& rec : page.records) {
    if (auto* r = std::get_if<VersionRecord>(&rec)) {
      const FieldChange& c = r->change;
      auto to = c.version.device == me ? moved.find(c.version.seq.value) : moved.end();
      auto s = state_of(c.type, to != moved.end() ? to->second : c.entity);
      if (c.version.device == me) {
        // From cursor 0 the device's own changes come with values: one the log lacks is put back.
        if (!restored.count(c.version.seq.value) && !store_.has_change(c.version.seq.value)) {
          restored.insert(c.version.seq.value);
          ed.batch().restored_changes.push_back(c);
        }
        if (refused(c.version.seq.value)) set_status(c.version.seq.value, OwnStatus::normal);
        // id_reused: this store made other content under that id (restored from an older copy; the
        // push that follows is refused and renumbers it): its own version keeps its stamp.
        FieldChange applied;
        const FieldChange* cp = &c;
        if (to != moved.end()) {
          applied = c;
          applied.entity = to->second;
          cp = &applied;
        }
        if (merge_apply(s, *cp, options_.merge_mode, r->server_ms) != MergeOutcome::id_reused)
          adopt_stamp(s, c.version, c.ts, r->server_ms);
      } else {
        merge_apply(s, c, options_.merge_mode, r->server_ms);
      }
      put(std::move(s));
    } else if (auto* o = std::get_if<OwnVersionRecord>(&rec)) {
      for (auto& d : o->decisions)
        if (d.kind == Decision::Kind::restamped) restamp(o->version, d.ts);
    } else if (auto* d = std::get_if<DecisionRecord>(&rec)) {
      uint64_t seq = d->version.seq.value;
      switch (d->decision.kind) {
        case Decision::Kind::restamped: restamp(d->version, d->decision.ts); break;
        case Decision::Kind::quarantined: set_status(seq, OwnStatus::quarantined); break;  // a state record follows
        case Decision::Kind::rejected: set_status(seq, OwnStatus::rejected); break;
        case Decision::Kind::released:
          set_status(seq, OwnStatus::normal);
          if (const FieldChange* c = own().find(seq)) {
            auto s = state_of(c->type, c->entity);
            merge_apply(s, *c, options_.merge_mode);
            put(std::move(s));
          }
          break;
        case Decision::Kind::merged_into: moved[seq] = d->decision.entity; break;
        case Decision::Kind::conflict: break;
      }
    } else if (auto* n = std::get_if<NoticeRecord>(&rec)) {
      StoredNotice sn;
      sn.server_seq = n->server_seq;
      sn.kind = static_cast<uint8_t>(n->kind);
      sn.type = n->type;
      sn.entity = n->entity;
      sn.field = n->field;
      sn.version = n->version;
      sn.reason_zh = n->reason_zh;
      sn.reason_en = n->reason_en;
      ed.batch().notices.push_back(std::move(sn));
      // The entity this device changed was merged away (perhaps before this device held it: a keyed
      // create, or a merge before its cursor): it is a tombstone here too.
      if (n->kind == NoticeRecord::Kind::redirected) ed.remove(n->entity);
    } else if (auto* c = std::get_if<ConfigRecord>(&rec)) {
      ed.batch().configs.push_back({c->key, {c->version, c->value}});
    } else if (auto* e = std::get_if<ScopeEnterRecord>(&rec)) {
      rebuild(e->state);
      // The merges into it in force follow as MergeRecords; it is merged away no more (an unmerge).
      drop_links_into(e->state.id);
      links.erase(e->state.id);
    } else if (auto* l = std::get_if<ScopeLeaveRecord>(&rec)) {
      ed.remove(l->entity);
      drop_links_into(l->entity);
    } else if (auto* m = std::get_if<MergeRecord>(&rec)) {
      // The merged-away entity is a tombstone: dropped here (its unpushed edits are still pushed, and
      // the server applies them to the survivor, whose whole state follows in this page).
      ed.remove(m->merged_away);
      links[m->merged_away] = m->survivor;
    }
    // ConflictRecord: the merge state shows the conflict already. ReviewDecisionRecord is produced by
    // a later issue (review).
  }
  ed.observe(seen);
  if (auto text = format_merge_links(links); text != links_before) {
    auto held = store_.sync_config(std::string(kMergeLinksConfig));
    ed.batch().configs.push_back({std::string(kMergeLinksConfig), {(held ? held->first : 0) + 1, std::move(text)}});
  }
  st.server_epoch = page.server_epoch;
  st.cursor = page.next_cursor;
  st.own_values = page.more && catching_up;
  if (!page.more) st.full_pull_needed = false;
  ed.batch().sync = st;
  auto done = ed.commit("device.pull.before_commit");
  if (done) crash_point("device.pull.after_commit");
  if (!restored.empty()) own_.reset();  // the log gained changes
  return done;
}

Result<SyncReport> DeviceSync::sync() {
  SyncReport report;
  SyncProgress progress;
  progress.to_push = store_.pending_change_count();
  auto tell = [&](bool pulling) {
    if (!options_.progress) return;
    progress.pulling = pulling;
    progress.pushed = report.pushed;
    progress.to_push = std::max(progress.to_push, report.pushed + store_.pending_change_count());
    progress.pulled_records = report.pulled_records;
    progress.pages = report.pages;
    progress.exchanges = report.exchanges;
    options_.progress(progress);
  };
  auto over = [&] { return ++report.exchanges > static_cast<uint64_t>(options_.max_exchanges); };
  auto give_up = [] {
    return Error(ErrorCode::network, {bilingual("同步往返次数超过上限，已停止", "too many exchanges in one sync; stopped")});
  };
  auto pull_all = [&]() -> Status {
    for (;;) {
      if (over()) return give_up();
      auto r = pull_once();
      if (!r) return r.error();
      ++report.pages;
      report.pulled_records += r->records;
      tell(true);
      if (!r->more) return ok_status();
    }
  };
  std::string epoch_before = store_.info().sync.server_epoch;
  // Push everything, then pull everything. A rolled-back refusal or a new server epoch asks for a
  // pull from cursor 0 first; the loop then pushes again. Bounded by max_exchanges.
  for (;;) {
    // A device that has never pulled (or must start again) pulls before it pushes: from cursor 0 its
    // own changes would come back with their values, and before its push there are none to send.
    if (store_.info().sync.full_pull_needed || store_.info().sync.cursor == 0)
      if (auto st = pull_all(); !st) return st.error();
    bool refused = false;
    for (bool done = false; !done && !refused;) {
      if (over()) return give_up();
      auto r = push_once();
      if (!r) return r.error();
      report.pushed += r->sent;
      report.applied += r->applied;
      report.conflicts += r->conflicts;
      report.quarantined += r->quarantined;
      report.duplicates += r->duplicates;
      report.restamped += r->restamped;
      done = r->done;
      refused = store_.info().sync.full_pull_needed;
      if (r->rolled_back) report.rolled_back_recovered = true;
      tell(false);
    }
    if (refused) continue;
    if (auto st = pull_all(); !st) return st.error();
    if (!store_.info().sync.full_pull_needed) break;
  }
  report.new_server_epoch = !epoch_before.empty() && epoch_before != store_.info().sync.server_epoch;
  // What the county configured (period, region tree) takes effect once the stream is in.
  auto applied = apply_received_config_report(store_);
  if (!applied) return applied.error();
  report.period_changed = applied->period_changed;
  report.region_tree_changed = applied->region_tree_changed;
  return report;
}

RetriedSync sync_with_retry(DeviceSync& sync, const DeviceId& device, const RetryPolicy& policy, const RetryHooks& hooks) {
  const int64_t deadline = hooks.steady_ms() + policy.timeout_ms;
  uint64_t seed = policy.jitter_seed;
  if (!seed)
    for (uint8_t b : device.bytes) seed = seed * 131 + b;
  std::mt19937_64 rng(seed);
  int64_t wait_ms = policy.first_wait_ms;
  for (int tries = 1;; ++tries) {
    auto r = sync.sync();
    // Only a failure to reach the server (or a busy one) is worth another try.
    if (r || r.error().code() != ErrorCode::network) return {std::move(r), tries};
    const int64_t left = deadline - hooks.steady_ms();
    if (left <= 0) return {std::move(r), tries};
    const int64_t half = std::max<int64_t>(wait_ms / 2, 1);
    const int64_t wait = std::min(half + static_cast<int64_t>(rng() % static_cast<uint64_t>(half + 1)), left);
    if (hooks.on_retry) hooks.on_retry(r.error(), wait);
    hooks.sleep(wait);
    wait_ms = std::min(wait_ms * 2, policy.max_wait_ms);
  }
}

std::string device_scope_digest(const DeviceStore& store, const Scope& scope) {
  const Schema& schema = store.schema();
  std::map<EntityId, EntityState> states;
  store.scan(std::nullopt, [&](EntityRow&& row) { states.emplace(row.entity.id, to_state(row.entity, row.merge)); });
  std::unordered_map<EntityId, std::vector<std::string>, IdHash> memo;
  std::function<std::vector<std::string>(const EntityId&, int)> villages = [&](const EntityId& id, int depth) {
    if (auto it = memo.find(id); it != memo.end()) return it->second;
    std::vector<std::string> out;
    auto it = states.find(id);
    if (it != states.end() && depth < 8) {
      out = own_villages(schema, it->second);
      for (auto& p : parents_of(schema, it->second)) out = village_union(std::move(out), villages(p, depth + 1));
    }
    memo[id] = out;
    return out;
  };
  const auto from = merged_from(device_merge_links(store));
  std::string out;
  for (auto& [id, s] : states) {
    if (!scope_holds_any(scope, villages(id, 0))) continue;
    out += id.hex();
    out += '\n';
    out += digest(s);
    out += '\n';
    append_merge_lines(out, from, id);
  }
  return out;
}

sync::MergeLinks device_merge_links(const DeviceStore& store) {
  auto held = store.sync_config(std::string(kMergeLinksConfig));
  return held ? sync::parse_merge_links(held->second) : sync::MergeLinks{};
}

}  // namespace tz::ops
