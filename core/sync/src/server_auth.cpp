// The server's identity and the authenticated entry points (SPEC §6; docs/sync-protocol.md "Identity
// and enrolment"): create/load the server identity, enrolment tokens, handle_enrol and handle_signed.
// Kept apart from server.cpp: it reaches the sync logic only through push() and pull().
#include <algorithm>

#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/sync/audit.hpp"
#include "tz/sync/server.hpp"

namespace tz::sync {

namespace {

// The configuration keys a grant carries (set_config's keys).
constexpr std::string_view kGrantConfigKeys[] = {"schema", "thresholds", "period", "region_tree"};

std::string reply(std::string_view code, std::string zh, std::string en, uint64_t last_counter = 0) {
  ErrorReply e;
  e.code = std::string(code);
  e.message_zh = std::move(zh);
  e.message_en = std::move(en);
  e.last_counter = last_counter;
  return encode(e);
}
std::string reply(const Error& e) { return reply(e.name(), e.message(Lang::zh), e.message(Lang::en)); }

// Runs f in one write transaction; f's Status decides commit or rollback.
template <typename F>
auto in_txn(ServerStore& store, F f) -> decltype(f()) {
  store.begin();
  try {
    auto out = f();
    if (out) store.commit(nullptr, nullptr);
    else store.rollback();
    return out;
  } catch (...) {
    store.rollback();
    throw;
  }
}

// A push or pull reply with the chain's head signed in (SignedReply): read afresh, never cached.
std::string with_audit_head(const ServerStore& store, std::string reply_frame) {
  auto priv = store.meta_value("sign_priv");
  if (!priv) throw Failure(ErrorCode::not_found, {bilingual("县服务器的签名密钥", "the server's signing key")});
  SignedReply r;
  r.head = signed_audit_head(store, *priv);
  r.body = std::move(reply_frame);
  return encode(r);
}

}  // namespace

Result<ServerIdentity> create_server_identity(ServerStore& store, const std::string& county, const std::string& county_name) {
  if (county.size() != 6 || !std::all_of(county.begin(), county.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Error(ErrorCode::invalid_input, {bilingual("县代码“" + county + "”应为 6 位数字", "county code '" + county + "' must be 6 digits")});
  if (county_name.empty())
    return Error(ErrorCode::invalid_input, {bilingual("县名不能为空", "the county name must not be empty")});
  try {
    return in_txn(store, [&]() -> Result<ServerIdentity> {
      if (auto have = store.meta_value("county"))
        return Error(ErrorCode::already_exists, {bilingual("县服务器（县代码 " + *have + "）", "the county server (county " + *have + ")")});
      ServerIdentity id;
      id.county = county;
      id.county_name = county_name;
      id.county_secret = crypto::random_bytes(32);
      id.sign = crypto::ed25519_generate();
      id.box = crypto::x25519_generate();
      store.put_meta_value("county", id.county);
      store.put_meta_value("county_name", id.county_name);
      store.put_meta_value("county_secret", id.county_secret);
      store.put_meta_value("sign_priv", id.sign.priv);
      store.put_meta_value("sign_pub", id.sign.pub);
      store.put_meta_value("box_priv", id.box.priv);
      store.put_meta_value("box_pub", id.box.pub);
      return id;
    });
  } catch (const Failure& f) {
    return f.error();
  }
}

Result<ServerIdentity> load_server_identity(const ServerStore& store) {
  try {
    ServerIdentity id;
    struct Slot {
      const char* key;
      std::string* out;
      size_t size;  // 0: any
    } slots[] = {{"county", &id.county, 0},          {"county_name", &id.county_name, 0}, {"county_secret", &id.county_secret, 0},
                 {"sign_priv", &id.sign.priv, 32}, {"sign_pub", &id.sign.pub, 32},      {"box_priv", &id.box.priv, 32},
                 {"box_pub", &id.box.pub, 32}};
    for (auto& s : slots) {
      auto v = store.meta_value(s.key);
      if (!v)
        return Error(ErrorCode::not_found,
                     {bilingual(std::string("县服务器的") + s.key + "（请先运行 sync-server init 生成服务器身份）",
                                std::string("the server's ") + s.key + " (run sync-server init to make the server identity)")});
      if (s.size != 0 && v->size() != s.size)
        return Error(ErrorCode::store_corrupt, {std::string("meta ") + s.key + " has " + std::to_string(v->size()) + " bytes"});
      *s.out = std::move(*v);
    }
    if (crypto::ed25519_public(id.sign.priv) != id.sign.pub || crypto::x25519_public(id.box.priv) != id.box.pub)
      return Error(ErrorCode::store_corrupt, {"the server's private and public keys do not match"});
    return id;
  } catch (const Failure& f) {
    return f.error();
  }
}

Result<std::string> SyncServer::create_token(const Scope& scope, const std::vector<std::string>& collectors, int64_t expires_ms) {
  auto id = load_server_identity(store_);
  if (!id) return id.error();
  int64_t now = clock_();
  if (expires_ms <= now)
    return Error(ErrorCode::invalid_input, {bilingual("令牌有效期已过（到期时间早于现在）", "the token's expiry is not in the future")});
  if (scope.empty())
    return Error(ErrorCode::invalid_input, {bilingual("令牌的范围不能为空", "the token's scope must not be empty")});
  TokenInfo info;
  info.secret = crypto::random_bytes(kTokenSecretSize);
  info.county = id->county;
  info.server_sign_pub = id->sign.pub;
  info.server_box_pub = id->box.pub;
  info.expires_ms = expires_ms;
  TokenRecord rec;
  rec.id = token_id(info.secret);
  rec.scope = scope;
  rec.collectors = collectors;
  rec.expires_ms = expires_ms;
  rec.created_ms = now;
  try {
    auto st = in_txn(store_, [&]() -> Status {
      store_.put_token(rec);
      return ok_status();
    });
    if (!st) return st.error();
  } catch (const Failure& f) {
    return f.error();
  }
  return encode_token(info);
}

std::vector<TokenRecord> SyncServer::tokens() const { return store_.tokens(); }

Result<DeviceRecord> SyncServer::bind_enrolment(const EnrolRequest& req, bool check_expiry, EnrolRefusal& refusal) {
  const std::string tid = token_id(req.token_secret);
  const std::string dev_hex = req.device.hex();
  int64_t now = clock_();
  auto refuse = [&](std::string_view code, std::string zh, std::string en) {
    refusal = EnrolRefusal{std::string(code), std::move(zh), std::move(en)};
    return Error(ErrorCode::sync_refused, {bilingual(refusal.zh, refusal.en)});
  };
  auto revoked = [&]() {
    Error e(ErrorCode::device_revoked, {dev_hex});
    refusal = EnrolRefusal{std::string(e.name()), e.message(Lang::zh), e.message(Lang::en)};
    return e;
  };
  auto st = in_txn(store_, [&]() -> Result<DeviceRecord> {
    auto token = store_.token(tid);
    if (!token)
      return refuse(reply_code::token_unknown, "县服务器不认识这个登记令牌，请向管理员索取新令牌",
                    "the county server does not know this enrolment token; ask the admin for a new one");
    auto dev = store_.device(req.device);
    if (token->used_by) {
      // The same device sending the same request again (its reply was lost) gets the grant again.
      bool same = *token->used_by == req.device && dev && dev->sign_pub == req.sign_pub && dev->box_pub == req.box_pub &&
                  dev->token == tid;
      if (!same)
        return refuse(reply_code::token_used, "这个登记令牌已被另一台设备使用，请向管理员索取新令牌",
                      "this enrolment token was used by another device; ask the admin for a new one");
      if (dev->revoked) return revoked();
      return *dev;
    }
    if (check_expiry && now > token->expires_ms)
      return refuse(reply_code::token_expired, "登记令牌已过期，请向管理员索取新令牌",
                    "the enrolment token has expired; ask the admin for a new one");
    // A device the server knows (registered, or enrolled before under another token) keeps its id,
    // its acknowledged sequence and its changes; its keys, scope and collectors are the new token's.
    DeviceRecord d;
    if (dev) {
      if (dev->revoked) return revoked();
      d = *dev;
    } else {
      d.id = req.device;
    }
    bool scope_changed = dev && dev->scope != token->scope;
    d.sign_pub = req.sign_pub;
    d.box_pub = req.box_pub;
    d.escrow = req.escrow;
    d.collectors = token->collectors;
    d.token = tid;
    if (!scope_changed) d.scope = token->scope;
    store_.put_device(d);
    token->used_by = req.device;
    token->used_ms = now;
    store_.put_token(*token);
    return d;  // a scope change is logged by set_scope below, in its own transaction
  });
  if (!st) return st.error();
  DeviceRecord dev = *st;
  // A device enrolled again under a token of another scope: set_scope logs what entered and left.
  if (auto tok = store_.token(tid); tok && dev.scope != tok->scope) {
    if (auto s = set_scope(dev.id, tok->scope); !s) return s.error();
    dev.scope = tok->scope;
  }
  return dev;
}

EnrolGrant SyncServer::grant_for(const ServerIdentity& id, const Scope& scope, const std::vector<std::string>& collectors) const {
  EnrolGrant g;
  g.county = id.county;
  g.county_name = id.county_name;
  g.county_secret = id.county_secret;
  g.scope = scope;
  g.collectors = collectors;
  for (auto key : kGrantConfigKeys)
    if (auto c = store_.config(std::string(key))) g.configs.push_back(GrantConfig{std::string(key), c->first, c->second});
  g.server_epoch = store_.epoch();
  return g;
}

std::string SyncServer::handle_enrol(std::string_view request) {
  try {
    if (auto v = version_refusal(request)) return encode(*v);
    auto req = decode_enrol_request(request, options_.limits);
    if (!req) return reply(req.error());
    if (!crypto::ed25519_verify(req->sign_pub, enrol_signature_input(*req), req->signature))
      return reply(reply_code::bad_signature, "登记请求的签名无效", "the enrolment request's signature does not verify");
    auto id = load_server_identity(store_);
    if (!id) return reply(id.error());
    EnrolRefusal refusal;
    auto dev = bind_enrolment(*req, true, refusal);
    if (!dev) return refusal.code.empty() ? reply(dev.error()) : reply(refusal.code, refusal.zh, refusal.en);
    EnrolReply r;
    r.device = dev->id;
    r.sealed_grant = crypto::seal_to(dev->box_pub, encode_grant(grant_for(*id, dev->scope, dev->collectors)), kEnrolGrantContext);
    r.signature = crypto::ed25519_sign(id->sign.priv, enrol_reply_signature_input(r.device, r.sealed_grant));
    return encode(r);
  } catch (const Failure& e) {
    return reply(e.error());
  } catch (const std::exception& e) {
    return reply(Error(ErrorCode::internal, {e.what()}));
  }
}

std::string SyncServer::handle_signed(std::string_view request) {
  try {
    if (auto v = version_refusal(request)) return encode(*v);
    auto req = decode_signed_request(request, options_.limits);
    if (!req) return reply(req.error());
    const std::string hex = req->device.hex();
    auto dev = store_.device(req->device);
    if (!dev) return reply(Error(ErrorCode::unknown_device, {hex}));
    if (dev->revoked) return reply(Error(ErrorCode::device_revoked, {hex}));
    if (dev->sign_pub.empty())
      return reply(error_info(ErrorCode::unknown_device).name, "设备 " + hex + " 没有登记密钥，请用令牌重新登记",
                   "device " + hex + " has no registered keys; enrol it with a token");
    if (!verify_request(*req, dev->sign_pub))
      return reply(reply_code::bad_signature, "设备 " + hex + " 的请求签名无效，请求未被处理",
                   "the signature of device " + hex + "'s request does not verify; nothing was done");
    auto stale = [&](uint64_t last) {
      return reply(reply_code::stale_counter,
                   "请求计数 " + std::to_string(req->counter) + " 不大于服务器已收到的 " + std::to_string(last) + "（重放或乱序），请求未被处理",
                   "request counter " + std::to_string(req->counter) + " is not above the last one the server saw (" +
                       std::to_string(last) + "): replayed or reordered; nothing was done",
                   last);
    };
    if (req->counter <= dev->last_counter) return stale(dev->last_counter);
    if (auto v = version_refusal(req->body)) return encode(*v);
    auto mismatch = [&](const char* zh, const char* en) {
      return reply(Error(ErrorCode::invalid_input, {bilingual(zh, en)}));
    };
    auto type = req->body.empty() ? uint8_t{0} : static_cast<uint8_t>(req->body[0]);
    if (type == static_cast<uint8_t>(MessageType::push_request)) {
      auto push_req = decode_push_request(req->body, options_.limits);
      if (!push_req) return reply(push_req.error());
      if (push_req->device != req->device)
        return mismatch("签名请求：内层推送请求的设备与签名设备不同", "SignedRequest: the inner push names another device than the signer");
      if (push_req->request_counter != req->counter)
        return mismatch("签名请求：内层推送请求的计数与签名计数不同", "SignedRequest: the inner push's request counter differs from the signed counter");
      PushReply r = push(*push_req);
      if (r.refusal == PushReply::Refusal::stale_counter) return stale(r.last_counter_seen);
      return with_audit_head(store_, encode(r));
    }
    if (type == static_cast<uint8_t>(MessageType::pull_request)) {
      auto pull_req = decode_pull_request(req->body, options_.limits);
      if (!pull_req) return reply(pull_req.error());
      if (pull_req->device != req->device)
        return mismatch("签名请求：内层拉取请求的设备与签名设备不同", "SignedRequest: the inner pull names another device than the signer");
      // A pull changes nothing else, but its counter is spent before it runs (replay protection).
      uint64_t last = 0;
      auto st = in_txn(store_, [&]() -> Status {
        auto d = store_.device(req->device);
        if (!d) return Error(ErrorCode::unknown_device, {hex});
        if (req->counter <= d->last_counter) {
          last = d->last_counter;
          return Error(ErrorCode::sync_refused);
        }
        d->last_counter = req->counter;
        store_.put_device(*d);
        return ok_status();
      });
      if (!st) return st.error().code() == ErrorCode::sync_refused ? stale(last) : reply(st.error());
      auto page = pull(*pull_req);
      if (!page) return reply(page.error());
      return with_audit_head(store_, encode(*page));
    }
    return mismatch("签名请求：内层消息应为推送或拉取请求", "SignedRequest: the inner message must be a push or a pull request");
  } catch (const Failure& e) {
    return reply(e.error());
  } catch (const std::exception& e) {
    return reply(Error(ErrorCode::internal, {e.what()}));
  }
}

}  // namespace tz::sync
