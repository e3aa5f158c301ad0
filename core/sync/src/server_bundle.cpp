// The server side of offline bundles and token files (server.hpp import_bundle, create_token_file;
// docs/sync-protocol.md "Offline bundles"). Reaches the sync logic only through push(), pull() and
// bind_enrolment(), the same entry points as the network path.
#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/sync/audit.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/sync/server.hpp"

namespace tz::sync {

namespace {

// How much of the pull stream one response carries; the rest comes with the next bundle.
constexpr uint64_t kResponseMaxRecords = 200000;
constexpr uint64_t kResponseMaxPages = 100;

Error refused(std::string zh, std::string en) { return Error(ErrorCode::sync_refused, {bilingual(std::move(zh), std::move(en))}); }

}  // namespace

Result<SyncServer::TokenFileMade> SyncServer::create_token_file(const Scope& scope, const std::vector<std::string>& collectors,
                                                                int64_t expires_ms) {
  auto id = load_server_identity(store_);
  if (!id) return id.error();
  auto token = create_token(scope, collectors, expires_ms);
  if (!token) return token.error();
  try {
    TokenFileMade out;
    out.token = *token;
    out.code = new_enrolment_code();
    out.file = write_token_file(TokenFile{*token, grant_for(*id, scope, collectors)}, out.code, id->sign.priv);
    return out;
  } catch (const Failure& f) {
    return f.error();
  }
}

Result<SyncServer::BundleImport> SyncServer::import_bundle(std::string_view file) {
  try {
    auto id = load_server_identity(store_);
    if (!id) return id.error();
    auto opened = open_bundle(file, BundleKind::device, id->box.pub, id->box.priv, options_.limits);
    if (!opened) return opened.error();
    auto header = decode_device_bundle_header(opened->header);
    if (!header) return header.error();
    const std::string hex = header->device.hex();

    // Every part decoded and checked before anything is applied.
    std::optional<EnrolRequest> registration;
    std::vector<PushRequest> pushes;
    std::optional<PullRequest> pull_req;
    for (size_t i = 0; i < opened->parts.size(); ++i) {
      const std::string& part = opened->parts[i];
      if (auto v = version_refusal(part))
        return Error(ErrorCode::invalid_input, {bilingual(v->message_zh, v->message_en)});
      const auto type = part.empty() ? uint8_t{0} : static_cast<uint8_t>(part[0]);
      if (type == static_cast<uint8_t>(MessageType::enrol_request) && i == 0) {
        auto r = decode_enrol_request(part, options_.limits);
        if (!r) return r.error();
        registration = std::move(*r);
      } else if (type == static_cast<uint8_t>(MessageType::push_request) && !pull_req) {
        auto r = decode_push_request(part, options_.limits);
        if (!r) return r.error();
        pushes.push_back(std::move(*r));
      } else if (type == static_cast<uint8_t>(MessageType::pull_request) && !pull_req) {
        auto r = decode_pull_request(part, options_.limits);
        if (!r) return r.error();
        pull_req = std::move(*r);
      } else {
        return Error(ErrorCode::invalid_input, {bilingual("数据包第 " + std::to_string(i + 1) + " 部分不是应有的请求",
                                                          "part " + std::to_string(i + 1) + " of the bundle is not a request it may hold")});
      }
    }
    if (!pull_req) return Error(ErrorCode::invalid_input, {bilingual("数据包缺少拉取请求", "the bundle holds no pull request")});
    bool same_device = pull_req->device == header->device && (!registration || registration->device == header->device);
    for (auto& p : pushes) same_device = same_device && p.device == header->device;
    if (!same_device)
      return Error(ErrorCode::invalid_input, {bilingual("数据包中的请求属于另一台设备", "a request in the bundle names another device")});

    // The signer: the registration's key (checked to be the key it registers), else the registered one.
    BundleImport out;
    out.device = header->device;
    out.number = header->number;
    if (registration) {
      if (!crypto::ed25519_verify(registration->sign_pub, enrol_signature_input(*registration), registration->signature) ||
          !verify_bundle_signature(*opened, registration->sign_pub))
        return refused("数据包的签名无效（不是设备 " + hex + " 的密钥签的），未做任何处理",
                       "the bundle's signature does not verify (not signed by device " + hex + "'s key); nothing was done");
      auto before = store_.device(header->device);
      EnrolRefusal refusal;
      auto dev = bind_enrolment(*registration, false, refusal);
      if (!dev) {
        if (refusal.code == reply_code::token_used)
          return refused("设备 " + hex + " 的登记令牌已被另一台设备使用，数据包未被处理；请为这台设备生成新的令牌文件，重新登记（设备号和修改都会保留）后再导出",
                         "device " + hex + "'s enrolment token was used by another device; the bundle was not processed. Make a new token "
                         "file for this device, enrol it again (its id and changes are kept) and export again");
        return dev.error();
      }
      out.registered_now = !before || before->sign_pub != dev->sign_pub;
    } else {
      auto dev = store_.device(header->device);
      if (!dev) return Error(ErrorCode::unknown_device, {hex});
      if (dev->revoked) return Error(ErrorCode::device_revoked, {hex});
      if (dev->sign_pub.empty())
        return refused("设备 " + hex + " 没有登记密钥，请用令牌重新登记", "device " + hex + " has no registered keys; enrol it with a token");
      if (!verify_bundle_signature(*opened, dev->sign_pub))
        return refused("数据包的签名与设备 " + hex + " 登记的密钥不符，未做任何处理",
                       "the bundle is not signed by the key device " + hex + " registered; nothing was done");
    }
    auto dev = store_.device(header->device);
    if (!dev) return Error(ErrorCode::unknown_device, {hex});
    if (dev->revoked) return Error(ErrorCode::device_revoked, {hex});

    // Applied as network pushes: the same push(), with the next request counter (a bundle is
    // authenticated by its signature and may arrive in any order, so its own number is not a counter).
    ResponseHeader rh;
    rh.device = header->device;
    rh.number = header->number;
    rh.acked_at_export = header->acked_at_export;
    rh.registered = true;
    std::vector<std::string> parts;
    for (auto& p : pushes) {
      auto now_dev = store_.device(header->device);
      p.request_counter = now_dev->last_counter + 1;
      PushReply r = push(p);
      out.changes += p.changes.size();
      for (auto& o : r.outcomes) {
        switch (o.kind) {
          case ChangeOutcome::Kind::applied: ++out.applied; break;
          case ChangeOutcome::Kind::conflict: ++out.conflicts; break;
          case ChangeOutcome::Kind::quarantined: ++out.quarantined; break;
          case ChangeOutcome::Kind::duplicate: ++out.duplicates; break;
        }
        if (o.restamped) ++out.restamped;
      }
      rh.last_sent.push_back(p.changes.empty() ? p.first_seq - 1 : p.changes.back().version.seq.value);
      parts.push_back(encode(r));
      if (r.refusal == PushReply::Refusal::rolled_back) {
        out.rolled_back = true;
        out.highest_seq_held = r.highest_seq_held;
        break;
      }
      if (r.refusal != PushReply::Refusal::none) return refused("推送被拒绝", "the push was refused");
    }
    // The stream of the device's scope after its cursor, as its pulls would get it (not after a
    // rolled-back refusal: the device pulls again from cursor 0 with its next bundle).
    rh.start_cursor = pull_req->cursor;
    rh.epoch_seen = pull_req->server_epoch_seen;
    if (!out.rolled_back) {
      PullRequest q = *pull_req;
      for (;;) {
        auto page = pull(q);
        if (!page) return page.error();
        out.pulled_records += page->records.size();
        ++out.pages;
        const bool catching_up = q.own_values || page->server_epoch != q.server_epoch_seen;
        q.cursor = page->next_cursor;
        q.server_epoch_seen = page->server_epoch;
        q.own_values = page->more && catching_up;
        const bool more = page->more;
        parts.push_back(encode(*page));
        if (!more) break;
        if (out.pulled_records >= kResponseMaxRecords || out.pages >= kResponseMaxPages) {
          out.more = true;
          break;
        }
      }
    }
    if (auto st = record_audit(store_, clock_(), "bundle", "device:" + hex,
                               audit_summary({{"device", hex},
                                              {"bundle", header->number},
                                              {"sha256", crypto::to_hex(crypto::sha256(file))},
                                              {"registered_now", std::string(out.registered_now ? "yes" : "no")},
                                              {"changes", out.changes},
                                              {"applied", out.applied},
                                              {"conflicts", out.conflicts},
                                              {"quarantined", out.quarantined},
                                              {"duplicates", out.duplicates},
                                              {"rolled_back", std::string(out.rolled_back ? "yes" : "no")},
                                              {"pulled_records", out.pulled_records}}));
        !st)
      return st.error();
    rh.head = signed_audit_head(store_, id->sign.priv);
    rh.created_ms = clock_();
    auto now_dev = store_.device(header->device);
    out.response = seal_bundle(BundleKind::response, now_dev->box_pub, id->sign.priv, encode(rh), parts);
    return out;
  } catch (const Failure& f) {
    return f.error();
  } catch (const std::exception& e) {
    return Error(ErrorCode::internal, {e.what()});
  }
}

Result<std::string> SyncServer::recover_device(std::string_view request_file) {
  try {
    auto id = load_server_identity(store_);
    if (!id) return id.error();
    auto req = decode_recovery_request(request_file);
    if (!req) return req.error();
    const std::string hex = req->device.hex();
    auto dev = store_.device(req->device);
    if (!dev) return Error(ErrorCode::unknown_device, {hex});
    if (dev->revoked) return Error(ErrorCode::device_revoked, {hex});
    std::optional<std::string> data_key;
    if (!dev->escrow.empty()) data_key = crypto::open_sealed(id->box.priv, dev->escrow, kEscrowContext);
    if (!data_key)
      return Error(ErrorCode::not_found, {bilingual("设备 " + hex + " 托管的数据密钥（登记时未托管或无法打开）",
                                                    "device " + hex + "'s escrowed data key (none was escrowed, or it does not open)")});
    RecoveryKeyFile k;
    k.device = req->device;
    k.sealed = crypto::seal_to(req->recovery_pub, *data_key, kRecoverContext);
    k.signature = crypto::ed25519_sign(id->sign.priv, recovery_signature_input(k.device, k.sealed));
    if (auto st = record_audit(store_, clock_(), "admin", kCountyAdminActor,
                               audit_summary({{"command", std::string("device recover")},
                                              {"device", hex},
                                              {"recovery_key_sha256", crypto::to_hex(crypto::sha256(req->recovery_pub))}}));
        !st)
      return st.error();
    return encode(k);
  } catch (const Failure& f) {
    return f.error();
  }
}

}  // namespace tz::sync
