// The identity messages of the sync protocol (docs/sync-protocol.md "Identity and enrolment"):
// SignedRequest, EnrolRequest, EnrolReply, the sealed EnrolGrant and the enrolment token. Decoded
// through the sync codec's bounded reader (wire_codec.hpp): every length is checked against the
// bytes left and the limits before anything is allocated, and every error names the message and
// the element.
#include <algorithm>
#include <array>
#include <limits>

#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/sync/protocol.hpp"
#include "tz/util/bytes.hpp"
#include "wire_codec.hpp"

namespace tz::sync {

namespace {

using detail::decode_body;
using detail::decode_message;
using detail::invalid;
using detail::Label;
using detail::num;
using detail::WireReader;

constexpr Label kGrant{"登记授权", "EnrolGrant"};
constexpr Label kToken{"登记令牌", "enrolment token"};

DeviceId read_device(WireReader& r) { return DeviceId::from_bytes(r.fixed({"设备号", "device id"}, 16)); }

std::string be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}
uint64_t from_be64(std::string_view b) {
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out += kB64[(v >> (6 * k)) & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
  } else if (rest == 2) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
  }
  return out;
}

// nullopt: a character outside the alphabet, a length no encoding has, or nonzero padding bits.
std::optional<std::string> from_base64url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

// --- SignedRequest ---

std::string request_signature_input(const DeviceId& device, uint64_t counter, std::string_view body) {
  std::string m(kRequestSignContext);
  m.append(device.view());
  m += be64(counter);
  m += crypto::sha256(body);
  return m;
}

SignedRequest sign_request(const DeviceId& device, uint64_t counter, std::string body, std::string_view sign_priv) {
  SignedRequest r;
  r.device = device;
  r.counter = counter;
  r.signature = crypto::ed25519_sign(sign_priv, request_signature_input(device, counter, body));
  r.body = std::move(body);
  return r;
}

bool verify_request(const SignedRequest& r, std::string_view sign_pub) {
  return crypto::ed25519_verify(sign_pub, request_signature_input(r.device, r.counter, r.body), r.signature);
}

std::string encode(const SignedRequest& m) {
  ByteWriter w;
  w.reserve(m.body.size() + 100);
  w.raw(m.device.view());
  w.varint(m.counter);
  w.raw(m.signature);  // 64 bytes (another size is written as is and refused by decode)
  w.str(m.body);
  return seal_frame(MessageType::signed_request, w.data());
}

Result<SignedRequest> decode_signed_request(std::string_view bytes, const Limits& limits) {
  return decode_message<SignedRequest>(bytes, limits, MessageType::signed_request, [](WireReader& r) {
    SignedRequest m;
    m.device = read_device(r);
    m.counter = r.varint();
    m.signature = r.fixed({"签名", "signature"}, crypto::kSignatureSize);
    m.body = r.str({"内层请求", "inner request"}, r.limits().max_uncompressed);
    return m;
  });
}

// --- EnrolRequest ---

std::string enrol_signature_input(const EnrolRequest& r) {
  std::string m(kEnrolSignContext);
  m += r.token_secret;
  m.append(r.device.view());
  m += r.sign_pub;
  m += r.box_pub;
  m += crypto::sha256(r.escrow);
  return m;
}

std::string encode(const EnrolRequest& m) {
  ByteWriter w;
  w.raw(m.token_secret);
  w.raw(m.device.view());
  w.raw(m.sign_pub);
  w.raw(m.box_pub);
  w.str(m.escrow);
  w.raw(m.signature);
  return seal_frame(MessageType::enrol_request, w.data());
}

Result<EnrolRequest> decode_enrol_request(std::string_view bytes, const Limits& limits) {
  return decode_message<EnrolRequest>(bytes, limits, MessageType::enrol_request, [](WireReader& r) {
    EnrolRequest m;
    m.token_secret = r.fixed({"令牌密钥", "token secret"}, kTokenSecretSize);
    m.device = read_device(r);
    m.sign_pub = r.fixed({"签名公钥", "signing key"}, crypto::kKeySize);
    m.box_pub = r.fixed({"加密公钥", "encryption key"}, crypto::kKeySize);
    m.escrow = r.str({"数据密钥托管", "escrow"});
    m.signature = r.fixed({"签名", "signature"}, crypto::kSignatureSize);
    return m;
  });
}

// --- EnrolGrant and EnrolReply ---

std::string encode_grant(const EnrolGrant& g) {
  ByteWriter w;
  w.str(g.county);
  w.str(g.county_name);
  w.str(g.county_secret);
  w.varint(g.scope.size());
  for (auto& s : g.scope) w.str(s);
  w.varint(g.collectors.size());
  for (auto& c : g.collectors) w.str(c);
  w.varint(g.configs.size());
  for (auto& c : g.configs) {
    w.str(c.key);
    w.varint(c.version);
    w.str(c.value);
  }
  w.str(g.server_epoch);
  return w.take();
}

Result<EnrolGrant> decode_grant(std::string_view bytes, const Limits& limits) {
  return decode_body<EnrolGrant>(bytes, limits, kGrant, [](WireReader& r) {
    EnrolGrant g;
    g.county = r.str({"县代码", "county"});
    g.county_name = r.str({"县名", "county name"});
    g.county_secret = r.str({"县密钥", "county secret"});
    size_t n = r.count({"范围", "scope"}, 1, r.limits().max_records);
    for (size_t i = 0; i < n; ++i) g.scope.push_back(r.str({"范围", "scope"}));
    n = r.count({"采集员", "collector"}, 1, r.limits().max_records);
    for (size_t i = 0; i < n; ++i) g.collectors.push_back(r.str({"采集员", "collector"}));
    n = r.count({"配置", "config"}, 3, r.limits().max_records);
    for (size_t i = 0; i < n; ++i) {
      GrantConfig c;
      c.key = r.str({"配置名", "config key"});
      c.version = r.varint();
      // A region tree or schema may be large: bounded by the whole-message limit, not the value limit.
      c.value = r.str({"配置值", "config value"}, r.limits().max_uncompressed);
      g.configs.push_back(std::move(c));
    }
    g.server_epoch = r.str({"服务器纪元", "server epoch"});
    return g;
  });
}

std::string enrol_reply_signature_input(const DeviceId& device, std::string_view sealed_grant) {
  std::string m(kEnrolReplySignContext);
  m.append(device.view());
  m.append(sealed_grant);
  return m;
}

std::string encode(const EnrolReply& m) {
  ByteWriter w;
  w.raw(m.device.view());
  w.str(m.sealed_grant);
  w.raw(m.signature);
  return seal_frame(MessageType::enrol_reply, w.data());
}

Result<EnrolReply> decode_enrol_reply(std::string_view bytes, const Limits& limits) {
  return decode_message<EnrolReply>(bytes, limits, MessageType::enrol_reply, [](WireReader& r) {
    EnrolReply m;
    m.device = read_device(r);
    m.sealed_grant = r.str({"密封授权", "sealed grant"}, r.limits().max_uncompressed);
    m.signature = r.fixed({"签名", "signature"}, crypto::kSignatureSize);
    return m;
  });
}

Result<EnrolReply> decode_enrol_reply_or_error(std::string_view bytes, const Limits& limits) {
  return detail::decode_or_error<EnrolReply>(bytes, limits, decode_enrol_reply);
}

// --- the audit head and SignedReply ---

std::string audit_head_signature_input(uint64_t seq, std::string_view hash) {
  std::string m(kAuditHeadSignContext);
  m += be64(seq);
  m.append(hash);
  return m;
}

bool verify_audit_head(const AuditHead& head, std::string_view server_sign_pub) {
  return crypto::ed25519_verify(server_sign_pub, audit_head_signature_input(head.seq, head.hash), head.signature);
}

void write_audit_head(ByteWriter& w, const AuditHead& head) {
  w.varint(head.seq);
  w.raw(head.hash);       // 32 bytes
  w.raw(head.signature);  // 64 bytes
}

std::string encode(const SignedReply& m) {
  ByteWriter w;
  w.reserve(m.body.size() + 110);
  write_audit_head(w, m.head);
  w.str(m.body);
  return seal_frame(MessageType::signed_reply, w.data());
}

Result<SignedReply> decode_signed_reply(std::string_view bytes, const Limits& limits) {
  return decode_message<SignedReply>(bytes, limits, MessageType::signed_reply, [](WireReader& r) {
    SignedReply m;
    m.head.seq = r.varint();
    m.head.hash = r.fixed({"审计链头", "audit head"}, 32);
    m.head.signature = r.fixed({"签名", "signature"}, crypto::kSignatureSize);
    m.body = r.str({"内层回复", "inner reply"}, r.limits().max_uncompressed);
    return m;
  });
}

std::optional<ErrorReply> version_refusal(std::string_view frame) {
  if (frame.size() < 2 || static_cast<uint8_t>(frame[1]) == kProtocolVersion) return std::nullopt;
  auto v = static_cast<uint8_t>(frame[1]);
  ErrorReply e;
  e.code = std::string(reply_code::schema_version);
  e.message_zh = "同步协议版本 " + num(v) + " 与县服务器的版本 " + num(kProtocolVersion) + " 不一致，请使用与服务器相同版本的程序";
  e.message_en = "sync protocol version " + num(v) + " differs from the county server's version " + num(kProtocolVersion) +
                 "; use a program of the server's version";
  return e;
}

// --- tokens ---

namespace {
constexpr size_t kCountySize = 6;
constexpr size_t kTokenBytes = kTokenSecretSize + kCountySize + 2 * crypto::kKeySize + 8;
}  // namespace

std::string encode_token(const TokenInfo& t) {
  std::string raw;
  raw.reserve(kTokenBytes);
  raw += t.secret;
  raw += t.county;
  raw += t.server_sign_pub;
  raw += t.server_box_pub;
  raw += be64(static_cast<uint64_t>(t.expires_ms));
  return std::string(kTokenPrefix) + base64url(raw);
}

Result<TokenInfo> decode_token(std::string_view token) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!token.empty() && space(token.front())) token.remove_prefix(1);
  while (!token.empty() && space(token.back())) token.remove_suffix(1);
  if (token.substr(0, kTokenPrefix.size()) != kTokenPrefix)
    return invalid(kToken, "应以 " + std::string(kTokenPrefix) + " 开头（请完整复制 token create 输出的最后一行）",
                   "must start with " + std::string(kTokenPrefix) + " (copy the whole last line of token create)");
  auto raw = from_base64url(token.substr(kTokenPrefix.size()));
  if (!raw)
    return invalid(kToken, "含有无效字符或已被截断", "holds characters that are not base64url, or was cut short");
  if (raw->size() != kTokenBytes)
    return invalid(kToken, "长度不对（" + num(raw->size()) + " 字节，应为 " + num(kTokenBytes) + "），可能复制不完整",
                   "has " + num(raw->size()) + " bytes instead of " + num(kTokenBytes) + "; it may be copied incompletely");
  TokenInfo t;
  std::string_view v(*raw);
  t.secret = std::string(v.substr(0, kTokenSecretSize));
  v.remove_prefix(kTokenSecretSize);
  t.county = std::string(v.substr(0, kCountySize));
  v.remove_prefix(kCountySize);
  if (!std::all_of(t.county.begin(), t.county.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return invalid(kToken, "县代码不是 6 位数字", "the county code is not 6 digits");
  t.server_sign_pub = std::string(v.substr(0, crypto::kKeySize));
  v.remove_prefix(crypto::kKeySize);
  t.server_box_pub = std::string(v.substr(0, crypto::kKeySize));
  v.remove_prefix(crypto::kKeySize);
  t.expires_ms = static_cast<int64_t>(from_be64(v.substr(0, 8)));
  return t;
}

std::string token_id(std::string_view secret) { return crypto::to_hex(crypto::sha256(secret)); }

}  // namespace tz::sync
