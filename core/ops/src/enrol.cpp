// Enrolment on the device (enrol.hpp).
#include "tz/ops/enrol.hpp"

#include <algorithm>

#include "tz/ops/config.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/ops/rekey.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::ops {

Result<EnrolStart> begin_enrol(const DeviceStore& store, std::string_view token_string, std::string_view data_key) {
  auto token = sync::decode_token(token_string);
  if (!token) return token.error();
  try {
    EnrolStart s;
    s.token = std::move(*token);
    s.keys.sign = crypto::ed25519_generate();
    s.keys.box = crypto::x25519_generate();
    sync::EnrolRequest req;
    req.token_secret = s.token.secret;
    req.device = s.device = store.info().device;
    req.sign_pub = s.keys.sign.pub;
    req.box_pub = s.keys.box.pub;
    if (!data_key.empty()) req.escrow = crypto::seal_to(s.token.server_box_pub, data_key, sync::kEscrowContext);
    req.signature = crypto::ed25519_sign(s.keys.sign.priv, sync::enrol_signature_input(req));
    s.request_frame = encode(req);
    return s;
  } catch (const Failure& f) {
    return f.error();
  }
}

Result<sync::EnrolGrant> finish_enrol(const EnrolStart& start, std::string_view reply_frame) {
  auto reply = sync::decode_enrol_reply_or_error(reply_frame);
  if (!reply) return reply.error();
  auto refused = [](std::string zh, std::string en) {
    return Error(ErrorCode::sync_refused, {bilingual(std::move(zh), std::move(en))});
  };
  if (reply->device != start.device)
    return refused("登记回复是给另一台设备的", "the enrolment reply is for another device");
  if (!crypto::ed25519_verify(start.token.server_sign_pub, sync::enrol_reply_signature_input(reply->device, reply->sealed_grant),
                              reply->signature))
    return refused("登记回复的签名与令牌中的服务器密钥不符（可能连到了别的服务器）",
                   "the enrolment reply is not signed by the server key in the token (another server may have answered)");
  std::optional<std::string> plain;
  try {
    plain = crypto::open_sealed(start.keys.box.priv, reply->sealed_grant, sync::kEnrolGrantContext);
  } catch (const Failure& f) {
    return f.error();
  }
  if (!plain) return refused("登记授权无法用本设备的密钥打开", "the enrolment grant does not open with this device's key");
  auto grant = sync::decode_grant(*plain);
  if (!grant) return grant.error();
  if (grant->county != start.token.county)
    return refused("登记授权的县代码 " + grant->county + " 与令牌的 " + start.token.county + " 不同",
                   "the grant's county " + grant->county + " differs from the token's " + start.token.county);
  return grant;
}

namespace {

Status same_county(const DeviceStore& store, const std::string& token_county) {
  const auto& county = store.info().config.county;
  if (token_county == county) return ok_status();
  return Error(ErrorCode::invalid_input,
               {bilingual("令牌属于县 " + token_county + "，本机的台账属于县 " + county + "，不能登记",
                          "the token is for county " + token_county + " but this store is for county " + county)});
}

// What enrolment writes once the grant is in hand (enrol_store, enrol_from_token_file).
Result<EnrolOutcome> take_grant(DeviceStore& store, const EnrolStart& start, const sync::EnrolGrant& grant,
                                const std::string& server_url, std::string registration) {
  EnrolOutcome out;
  out.grant = grant;
  // A store that never synced takes the county's ids first, its roster jobs keyed for the county's
  // period year (read from the grant: the store's own period is still the one init gave it).
  if (!store.info().ever_synced()) {
    std::optional<int> year;
    for (const auto& c : grant.configs)
      if (c.key == kConfigPeriod)
        if (auto p = parse_period_config(c.value)) year = p->year;
    auto changed = rekey_store(store, grant.county_secret, year);
    if (!changed) return changed.error();
    out.rekeyed = *changed;
  }
  WriteBatch configs;
  for (const auto& c : grant.configs) configs.configs.push_back({c.key, {c.version, c.value}});
  if (!configs.configs.empty())
    if (auto st = store.write(configs); !st) return st.error();
  auto applied = apply_received_config_report(store);
  if (!applied) return applied.error();
  out.period_changed = applied->period_changed;

  StoreConfig config = store.info().config;
  for (const auto& c : grant.collectors)
    if (std::find(config.collectors.begin(), config.collectors.end(), c) == config.collectors.end())
      config.collectors.push_back(c);
  if (config.default_collector.empty() && !config.collectors.empty()) config.default_collector = config.collectors.front();
  if (auto st = store.set_config(config); !st) return st.error();

  DeviceIdentity id;
  id.sign_priv = start.keys.sign.priv;
  id.sign_pub = start.keys.sign.pub;
  id.box_priv = start.keys.box.priv;
  id.box_pub = start.keys.box.pub;
  id.server_url = server_url;
  id.server_sign_pub = start.token.server_sign_pub;
  id.server_box_pub = start.token.server_box_pub;
  id.scope = grant.scope;
  id.registration = std::move(registration);
  if (auto st = store.set_identity(id); !st) return st.error();
  return out;
}

}  // namespace

Result<EnrolOutcome> enrol_store(DeviceStore& store, std::string_view token_string, const std::string& server_url,
                                 const std::function<Result<std::string>(std::string_view)>& send) {
  if (!store.unlocked()) return Error(ErrorCode::wrong_passphrase);
  auto start = begin_enrol(store, token_string, store.escrow_data_key());
  if (!start) return start.error();
  if (auto st = same_county(store, start->token.county); !st) return st.error();
  auto reply = send(start->request_frame);
  if (!reply) return reply.error();
  auto grant = finish_enrol(*start, *reply);
  if (!grant) return grant.error();
  return take_grant(store, *start, *grant, server_url, "");
}

Result<EnrolOutcome> enrol_from_token_file(DeviceStore& store, std::string_view file, std::string_view code, int64_t now_ms) {
  if (!store.unlocked()) return Error(ErrorCode::wrong_passphrase);
  auto tf = sync::read_token_file(file, code);
  if (!tf) return tf.error();
  auto start = begin_enrol(store, tf->token, store.escrow_data_key());
  if (!start) return start.error();
  if (now_ms > start->token.expires_ms)
    return Error(ErrorCode::invalid_input, {bilingual("登记令牌文件已于 " + format_china_time(start->token.expires_ms) + " 过期，请向管理员索取新的令牌文件",
                                                      "the token file expired at " + format_china_time(start->token.expires_ms) +
                                                          "; ask the admin for a new one")});
  if (auto st = same_county(store, start->token.county); !st) return st.error();
  return take_grant(store, *start, tf->grant, "", start->request_frame);
}

}  // namespace tz::ops
