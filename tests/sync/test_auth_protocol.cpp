// The identity messages of the sync protocol: SignedRequest, EnrolRequest, EnrolReply, the grant, the
// token codec and ErrorReply.last_counter. Round trips, signatures bound to what they cover, and
// hostile bytes (truncations, a container length larger than the body, unknown versions) refused with
// a clear invalid_input naming the message.
#include <catch2/catch.hpp>

#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/util/bytes.hpp"

using namespace tz;
using namespace tz::sync;
using Catch::Matchers::Contains;

namespace {

DeviceId dev(uint8_t n) {
  std::string raw(16, '\x11');
  raw[15] = static_cast<char>(n);
  return DeviceId::from_bytes(raw);
}

std::string en(const Error& e) { return e.message(Lang::en); }

PullRequest sample_pull() {
  PullRequest p;
  p.device = dev(1);
  p.cursor = 42;
  p.max_records = 100;
  return p;
}

EnrolGrant sample_grant() {
  EnrolGrant g;
  g.county = "522632";
  g.county_name = "榕江县";
  g.county_secret = std::string(32, '\x07');
  g.scope = {"522632101001", "522632101002"};
  g.collectors = {"王芳", "李,四"};
  g.configs = {{"period", 3, "2026"}, {"region_tree", 1, std::string(5000, 'r')}};
  g.server_epoch = "abcdef";
  return g;
}

}  // namespace

TEST_CASE("A SignedRequest round trips and its signature covers device counter and body", "[sync][auth]") {
  auto k = crypto::ed25519_generate();
  std::string inner = encode(sample_pull());
  SignedRequest r = sign_request(dev(1), 9, inner, k.priv);
  CHECK(verify_request(r, k.pub));
  std::string frame = encode(r);
  CHECK(static_cast<uint8_t>(frame[0]) == static_cast<uint8_t>(MessageType::signed_request));
  auto back = decode_signed_request(frame);
  REQUIRE(back);
  CHECK(back->device == dev(1));
  CHECK(back->counter == 9);
  CHECK(back->body == inner);
  CHECK(back->signature == r.signature);
  CHECK(verify_request(*back, k.pub));

  auto other = *back;
  other.counter = 10;
  CHECK_FALSE(verify_request(other, k.pub));
  other = *back;
  other.device = dev(2);
  CHECK_FALSE(verify_request(other, k.pub));
  other = *back;
  other.body.back() ^= 1;
  CHECK_FALSE(verify_request(other, k.pub));
  CHECK_FALSE(verify_request(*back, crypto::ed25519_generate().pub));
  // The input is the documented one.
  std::string expected = "taizhang/request/v1" + std::string(dev(1).view()) + std::string("\0\0\0\0\0\0\0\x09", 8) + crypto::sha256(inner);
  CHECK(request_signature_input(dev(1), 9, inner) == expected);
}

TEST_CASE("A SignedRequest cut short or with a body length beyond the frame is refused", "[sync][auth]") {
  auto k = crypto::ed25519_generate();
  std::string frame = encode(sign_request(dev(1), 3, encode(sample_pull()), k.priv));
  for (size_t n = 0; n < frame.size(); ++n) {
    auto r = decode_signed_request(std::string_view(frame).substr(0, n));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::invalid_input);
  }
  // device, counter, signature, then a body length of 2^40.
  ByteWriter w;
  w.raw(dev(1).view());
  w.varint(3);
  w.raw(std::string(64, 's'));
  w.varint(uint64_t{1} << 40);
  w.raw("short");
  auto r = decode_signed_request(seal_frame(MessageType::signed_request, w.data()));
  REQUIRE_FALSE(r);
  CHECK_THAT(en(r.error()), Contains("SignedRequest: inner request length 1099511627776 exceeds the bytes left (5)"));
  // Trailing bytes.
  auto extra = decode_signed_request(frame + "x");
  REQUIRE_FALSE(extra);
  CHECK_THAT(en(extra.error()), Contains("1 trailing bytes"));
  // The whole-frame limit.
  Limits small;
  small.max_uncompressed = 20;
  CHECK_THAT(en(decode_signed_request(frame, small).error()), Contains("exceeds the limit of 20 bytes"));
  // A frame of another type is named by its type.
  auto other = decode_enrol_reply(frame);
  REQUIRE_FALSE(other);
  CHECK_THAT(en(other.error()), Contains("EnrolReply: the message is a SignedRequest"));
  CHECK_THAT(other.error().message(Lang::zh), Contains("登记回复：收到的是签名请求"));
}

TEST_CASE("An EnrolRequest round trips and its signature covers every field", "[sync][auth]") {
  auto sign = crypto::ed25519_generate();
  auto box = crypto::x25519_generate();
  EnrolRequest r;
  r.token_secret = std::string(16, 't');
  r.device = dev(4);
  r.sign_pub = sign.pub;
  r.box_pub = box.pub;
  r.escrow = "sealed data key";
  r.signature = crypto::ed25519_sign(sign.priv, enrol_signature_input(r));
  auto back = decode_enrol_request(encode(r));
  REQUIRE(back);
  CHECK(back->token_secret == r.token_secret);
  CHECK(back->device == r.device);
  CHECK(back->sign_pub == r.sign_pub);
  CHECK(back->box_pub == r.box_pub);
  CHECK(back->escrow == r.escrow);
  CHECK(crypto::ed25519_verify(sign.pub, enrol_signature_input(*back), back->signature));
  auto other = *back;
  other.escrow = "another";
  CHECK_FALSE(crypto::ed25519_verify(sign.pub, enrol_signature_input(other), back->signature));
  other = *back;
  other.box_pub = crypto::x25519_generate().pub;
  CHECK_FALSE(crypto::ed25519_verify(sign.pub, enrol_signature_input(other), back->signature));

  std::string frame = encode(r);
  for (size_t n = 0; n < frame.size(); ++n) CHECK_FALSE(decode_enrol_request(std::string_view(frame).substr(0, n)));
  // An escrow length larger than the body.
  ByteWriter w;
  w.raw(r.token_secret);
  w.raw(r.device.view());
  w.raw(r.sign_pub);
  w.raw(r.box_pub);
  w.varint(1000);
  w.raw("abc");
  auto bad = decode_enrol_request(seal_frame(MessageType::enrol_request, w.data()));
  REQUIRE_FALSE(bad);
  CHECK_THAT(en(bad.error()), Contains("EnrolRequest: escrow length 1000 exceeds the bytes left (3)"));
  // A key cut short.
  ByteWriter w2;
  w2.raw(r.token_secret);
  w2.raw(r.device.view());
  w2.raw(r.sign_pub.substr(0, 10));
  auto bad2 = decode_enrol_request(seal_frame(MessageType::enrol_request, w2.data()));
  REQUIRE_FALSE(bad2);
  CHECK_THAT(en(bad2.error()), Contains("EnrolRequest: signing key needs 32 bytes but only 10 are left"));
}

TEST_CASE("An EnrolReply and its sealed grant round trip and refuse damage", "[sync][auth]") {
  auto server = crypto::ed25519_generate();
  auto box = crypto::x25519_generate();
  EnrolGrant g = sample_grant();
  EnrolReply r;
  r.device = dev(5);
  r.sealed_grant = crypto::seal_to(box.pub, encode_grant(g), kEnrolGrantContext);
  r.signature = crypto::ed25519_sign(server.priv, enrol_reply_signature_input(r.device, r.sealed_grant));
  std::string frame = encode(r);
  auto back = decode_enrol_reply(frame);
  REQUIRE(back);
  CHECK(crypto::ed25519_verify(server.pub, enrol_reply_signature_input(back->device, back->sealed_grant), back->signature));
  auto plain = crypto::open_sealed(box.priv, back->sealed_grant, kEnrolGrantContext);
  REQUIRE(plain);
  auto g2 = decode_grant(*plain);
  REQUIRE(g2);
  CHECK(g2->county == g.county);
  CHECK(g2->county_name == g.county_name);
  CHECK(g2->county_secret == g.county_secret);
  CHECK(g2->scope == g.scope);
  CHECK(g2->collectors == g.collectors);
  REQUIRE(g2->configs.size() == 2);
  CHECK(g2->configs[1].key == "region_tree");
  CHECK(g2->configs[1].version == 1);
  CHECK(g2->configs[1].value == g.configs[1].value);
  CHECK(g2->server_epoch == g.server_epoch);

  for (size_t n = 0; n < frame.size(); ++n) CHECK_FALSE(decode_enrol_reply(std::string_view(frame).substr(0, n)));
  std::string grant = encode_grant(g);
  for (size_t n = 0; n < grant.size(); ++n) CHECK_FALSE(decode_grant(std::string_view(grant).substr(0, n)));
  CHECK_FALSE(decode_grant(grant + "x"));
  // A scope count far beyond the body.
  ByteWriter w;
  w.str("522632");
  w.str("x");
  w.str("s");
  w.varint(1u << 30);
  auto bad = decode_grant(w.data());
  REQUIRE_FALSE(bad);
  CHECK_THAT(en(bad.error()), Contains("EnrolGrant: scope count 1073741824 exceeds the bytes left (0)"));
  // An ErrorReply where an EnrolReply was expected becomes its error.
  ErrorReply e{std::string(reply_code::token_used), "令牌已用", "token used"};
  auto as_error = decode_enrol_reply_or_error(encode(e));
  REQUIRE_FALSE(as_error);
  CHECK(as_error.error().code() == ErrorCode::sync_refused);
  CHECK_THAT(en(as_error.error()), Contains("token used"));
}

TEST_CASE("ErrorReply carries the last counter", "[sync][auth]") {
  ErrorReply e{std::string(reply_code::stale_counter), "旧", "stale", 77};
  auto back = decode_error_reply(encode(e));
  REQUIRE(back);
  CHECK(back->code == "stale_counter");
  CHECK(back->last_counter == 77);
}

TEST_CASE("A frame of another protocol version gets a schema_version refusal in both languages", "[sync][auth]") {
  std::string frame = encode(sample_pull());
  CHECK_FALSE(version_refusal(frame).has_value());
  CHECK_FALSE(version_refusal("").has_value());
  frame[1] = 2;
  auto r = version_refusal(frame);
  REQUIRE(r);
  CHECK(r->code == "schema_version");
  CHECK_THAT(r->message_en, Contains("sync protocol version 2 differs from the county server's version 1"));
  CHECK_THAT(r->message_zh, Contains("同步协议版本 2"));
}

TEST_CASE("Enrolment tokens round trip and bad ones say what is wrong", "[sync][auth]") {
  TokenInfo t;
  t.secret = crypto::random_bytes(16);
  t.county = "522632";
  t.server_sign_pub = crypto::ed25519_generate().pub;
  t.server_box_pub = crypto::x25519_generate().pub;
  t.expires_ms = 1793505600000LL;
  std::string s = encode_token(t);
  CHECK(s.rfind("TZ1-", 0) == 0);
  CHECK(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4) == std::string::npos);
  for (auto text : {s, "  " + s + "\n"}) {
    auto back = decode_token(text);
    REQUIRE(back);
    CHECK(back->secret == t.secret);
    CHECK(back->county == t.county);
    CHECK(back->server_sign_pub == t.server_sign_pub);
    CHECK(back->server_box_pub == t.server_box_pub);
    CHECK(back->expires_ms == t.expires_ms);
  }
  auto err = [](const std::string& x) {
    auto r = decode_token(x);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::invalid_input);
    CHECK_THAT(r.error().message(Lang::zh), Contains("登记令牌"));
    return en(r.error());
  };
  CHECK_THAT(err("abc"), Contains("enrolment token: must start with TZ1-"));
  CHECK_THAT(err("TZ1-AAAA"), Contains("has 3 bytes instead of 94"));
  CHECK_THAT(err(s.substr(0, s.size() - 1)), Contains("cut short"));
  std::string bad = s;
  bad[10] = '*';
  CHECK_THAT(err(bad), Contains("not base64url"));
  TokenInfo t2 = t;
  t2.county = "52263x";
  CHECK_THAT(err(encode_token(t2)), Contains("the county code is not 6 digits"));
  CHECK(token_id(t.secret) == crypto::to_hex(crypto::sha256(t.secret)));
}
