// Offline bundles on the device (bundle.hpp).
#include "tz/ops/bundle.hpp"

#include "tz/ops/config.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/util/crash_point.hpp"

namespace tz::ops {

namespace {

using namespace tz::sync;

Error not_enrolled() {
  return Error(ErrorCode::invalid_input, {bilingual("本机尚未登记（先运行 field-cli enroll）", "this device is not enrolled (run field-cli enroll first)")});
}

// A DeviceSync that never talks: bundles hand it requests and replies themselves.
class NoTransport final : public Transport {
 public:
  Result<std::string> exchange(std::string_view) override {
    return Error(ErrorCode::internal, {"an offline bundle has no transport"});
  }
};

}  // namespace

Result<BundleExport> export_bundle(DeviceStore& store, std::function<int64_t()> now, DeviceSyncOptions options) {
  if (!store.unlocked()) return Error(ErrorCode::wrong_passphrase);
  auto id = store.identity();
  if (!id) return not_enrolled();
  NoTransport none;
  DeviceSync ds(store, none, now, options);
  BundleExport out;
  // The bundle's number is a request counter, stored before the file exists.
  SyncState st = store.info().sync;
  out.number = ++st.request_counter;
  WriteBatch b;
  b.sync = st;
  b.clock = store.clock();
  if (auto w = store.write(b); !w) return w.error();

  const StoreInfo& info = store.info();
  std::vector<std::string> parts;
  if (!id->registration.empty()) {
    parts.push_back(id->registration);
    out.registration = true;
  }
  // Consecutive runs after the acknowledgement; with nothing pending one empty push, whose reply
  // still tells the acknowledged sequence (as a network push does).
  int64_t notes_up_to = -1;  // the audit notes this bundle carries: recorded up to then
  for (uint64_t after = info.acked_seq;;) {
    PushRequest req = ds.make_push_request(after);
    req.request_counter = out.number;
    for (auto& a : req.audit_notes) notes_up_to = std::max(notes_up_to, a.device_ms);
    if (req.changes.empty()) {
      if (out.changes == 0) parts.push_back(encode(req));
      break;
    }
    if (out.first_seq == 0) out.first_seq = req.changes.front().version.seq.value;
    out.last_seq = after = req.changes.back().version.seq.value;
    out.changes += req.changes.size();
    parts.push_back(encode(req));
  }
  if (notes_up_to >= 0) {
    WriteBatch nb;
    nb.configs.push_back({std::string(kBundleAuditNotesConfig), {out.number, std::to_string(notes_up_to)}});
    nb.clock = store.clock();
    if (auto w = store.write(nb); !w) return w.error();
  }
  PullRequest pull = ds.make_pull_request();
  out.cursor = pull.cursor;
  parts.push_back(encode(pull));
  DeviceBundleHeader h;
  h.device = info.device;
  h.number = out.number;
  h.created_ms = now();
  h.acked_at_export = info.acked_seq;
  try {
    out.file = seal_bundle(BundleKind::device, id->server_box_pub, id->sign_priv, encode(h), parts);
  } catch (const Failure& f) {
    return f.error();
  }
  return out;
}

Result<BundleImportReport> import_response(DeviceStore& store, std::string_view file, std::function<int64_t()> now,
                                           DeviceSyncOptions options) {
  if (!store.unlocked()) return Error(ErrorCode::wrong_passphrase);
  auto id = store.identity();
  if (!id) return not_enrolled();
  auto opened = open_bundle(file, BundleKind::response, id->box_pub, id->box_priv, options.limits);
  if (!opened) return opened.error();
  if (!verify_bundle_signature(*opened, id->server_sign_pub))
    return Error(ErrorCode::sync_refused, {bilingual("回复数据包不是本县服务器签发的（签名与登记时记下的服务器密钥不符），未做任何改动",
                                                     "the response bundle is not signed by the county server's key pinned at enrolment; nothing was changed")});
  auto header = decode_response_header(opened->header);
  if (!header) return header.error();
  const StoreInfo& info = store.info();
  if (header->device != info.device)
    return Error(ErrorCode::sync_refused, {bilingual("这个回复数据包是给设备 " + header->device.hex() + " 的，不是本设备（" + info.device.hex() + "）",
                                                     "this response bundle is for device " + header->device.hex() + ", not this one (" +
                                                         info.device.hex() + ")")});
  if (!verify_audit_head(header->head, id->server_sign_pub))
    return Error(ErrorCode::sync_refused, {bilingual("回复数据包中的审计链头签名无效", "the audit head in the response bundle does not verify")});
  // Every part decoded before anything is applied.
  std::vector<PushReply> replies;
  std::vector<PullPage> pages;
  for (auto& part : opened->parts) {
    const auto type = part.empty() ? uint8_t{0} : static_cast<uint8_t>(part[0]);
    if (type == static_cast<uint8_t>(MessageType::push_reply) && pages.empty()) {
      auto r = decode_push_reply(part, options.limits);
      if (!r) return r.error();
      replies.push_back(std::move(*r));
    } else if (type == static_cast<uint8_t>(MessageType::pull_page)) {
      auto p = decode_pull_page(part, options.limits);
      if (!p) return p.error();
      pages.push_back(std::move(*p));
    } else {
      return Error(ErrorCode::invalid_input, {bilingual("回复数据包中有不应有的内容", "the response bundle holds a part it may not hold")});
    }
  }
  if (replies.size() != header->last_sent.size())
    return Error(ErrorCode::invalid_input, {bilingual("回复数据包的推送回复与头部不一致", "the response bundle's push replies do not match its header")});

  BundleImportReport rep;
  rep.audit_head_seq = header->head.seq;
  rep.registered = header->registered;
  auto seen = store.sync_config(std::string(kBundleResponseConfig));
  if (seen && seen->first >= header->number) {
    rep.already = true;
    rep.acked_seq = info.acked_seq;
    return rep;
  }
  if (auto st = keep_audit_head(store, header->head, id->server_sign_pub); !st) return st.error();
  // The registration is bound: later bundles need not carry it.
  if (header->registered && !id->registration.empty()) {
    DeviceIdentity next = *id;
    next.registration.clear();
    if (auto st = store.set_identity(next); !st) return st.error();
  }

  NoTransport none;
  DeviceSync ds(store, none, now, options);
  // Acknowledgements as a push reply gives them, unless this device has moved on since it exported
  // (a network sync or another response acknowledged more): then they are older than what it knows
  // (an acknowledgement below its own, or a rolled-back refusal about a log renumbered since, would be
  // taken for a restored server or store) and are skipped.
  if (!replies.empty() && store.info().acked_seq != header->acked_at_export) rep.acks_skipped = true;
  for (size_t i = 0; i < replies.size() && !rep.acks_skipped; ++i) {
    const PushReply& r = replies[i];
    if (r.refusal != PushReply::Refusal::none && r.refusal != PushReply::Refusal::rolled_back) continue;
    auto taken = ds.take_push_reply(r, header->last_sent[i]);
    if (!taken) return taken.error();
    // The audit notes the bundle carried (its first push) are in the county's chain now.
    if (i == 0 && r.refusal == PushReply::Refusal::none)
      if (auto carried = store.sync_config(std::string(kBundleAuditNotesConfig)); carried && carried->first == header->number)
        if (auto d = drop_audit_notes(store, std::stoll(carried->second)); !d) return d.error();
    rep.applied += taken->applied;
    rep.conflicts += taken->conflicts;
    rep.quarantined += taken->quarantined;
    rep.duplicates += taken->duplicates;
    rep.restamped += taken->restamped;
    if (r.refusal == PushReply::Refusal::rolled_back) {
      rep.rolled_back = true;
      rep.highest_seq_held = r.highest_seq_held;
      break;
    }
  }
  // The stream, when it continues this device's cursor (from cursor 0 when the device must start
  // again: after a rolled-back refusal, a new server epoch or a restored store).
  const SyncState& st = store.info().sync;
  if (!pages.empty()) {
    // A device that must start again (full_pull_needed) needs a stream from 0: asked from 0, or
    // restarted by the server itself under a new epoch (as over the network: the server restarts
    // from 0 when the epoch the device saw is not its own), which a restore makes.
    const bool restarted = pages.front().server_epoch != header->epoch_seen;
    if ((st.full_pull_needed && header->start_cursor != 0 && !restarted) || st.cursor != header->start_cursor ||
        st.server_epoch != header->epoch_seen) {
      rep.pages_skipped = true;
    } else {
      for (auto& page : pages) {
        if (auto a = ds.apply_page(page); !a) return a.error();
        ++rep.pages;
        rep.pulled_records += page.records.size();
        if (store.info().sync.cursor != page.next_cursor) break;  // not applied as it came: export again
      }
    }
  }
  rep.more = store.info().sync.full_pull_needed || (!pages.empty() && pages.back().more) || rep.rolled_back;
  crash_point("device.bundle_import.after_pages");
  auto applied = apply_received_config_report(store);
  if (!applied) return applied.error();
  rep.period_changed = applied->period_changed;
  WriteBatch done;
  done.configs.push_back({std::string(kBundleResponseConfig), {header->number, ""}});
  done.clock = store.clock();
  done.crash_point = "device.bundle_import.before_commit";
  if (auto w = store.write(done); !w) return w.error();
  crash_point("device.bundle_import.after_commit");
  rep.acked_seq = store.info().acked_seq;
  return rep;
}

}  // namespace tz::ops
