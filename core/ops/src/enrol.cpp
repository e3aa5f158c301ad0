// Enrolment on the device (enrol.hpp).
#include "tz/ops/enrol.hpp"

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
    req.device = store.info().device;
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
  auto request = sync::decode_enrol_request(start.request_frame);
  if (!request) return request.error();
  if (reply->device != request->device)
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

}  // namespace tz::ops
