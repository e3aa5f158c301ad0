// Offline bundle and token file formats (bundle.hpp). Decoded through the sync codec's bounded
// reader: every length is checked against the bytes left before anything is allocated.
#include "tz/sync/bundle.hpp"

#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/util/bytes.hpp"
#include "wire_codec.hpp"

namespace tz::sync {

namespace {

using detail::decode_body;
using detail::Label;
using detail::num;
using detail::WireReader;

constexpr Label kBundle{"数据包", "bundle"};
constexpr Label kTokenFileLabel{"令牌文件", "token file"};
constexpr size_t kHashSize = 32;
constexpr size_t kSaltSize = 16;

Error bundle_error(std::string zh, std::string en) {
  return Error(ErrorCode::invalid_input, {bilingual(std::move(zh), std::move(en))});
}

std::string_view seal_context(BundleKind k) { return k == BundleKind::device ? kBundleSealContext : kResponseSealContext; }
std::string_view sign_context(BundleKind k) { return k == BundleKind::device ? kBundleSignContext : kResponseSignContext; }

std::string sign_input(BundleKind kind, std::string_view manifest) {
  std::string m(sign_context(kind));
  m += crypto::sha256(manifest);
  return m;
}

// Reads varint(len) and returns the next len bytes, or nullopt when fewer are left.
std::optional<std::string_view> length_prefixed(std::string_view& in) {
  ByteReader r(in);
  uint64_t n = 0;
  try {
    n = r.varint();
  } catch (const Failure&) {
    return std::nullopt;
  }
  size_t used = in.size() - r.remaining();
  if (n > r.remaining()) return std::nullopt;
  auto out = in.substr(used, static_cast<size_t>(n));
  in.remove_prefix(used + static_cast<size_t>(n));
  return out;
}

}  // namespace

std::string seal_bundle(BundleKind kind, std::string_view recipient_box_pub, std::string_view sign_priv, std::string header,
                        const std::vector<std::string>& parts) {
  ByteWriter m;
  m.str(header);
  m.varint(parts.size());
  for (auto& p : parts) m.raw(crypto::sha256(p));
  ByteWriter c;
  c.str(m.data());
  c.raw(crypto::ed25519_sign(sign_priv, sign_input(kind, m.data())));
  c.varint(parts.size());
  for (auto& p : parts) c.str(p);
  std::string sealed = crypto::seal_to(recipient_box_pub, c.data(), seal_context(kind));
  ByteWriter f;
  f.raw(kBundleMagic);
  f.u8(kBundleFormatVersion);
  f.u8(static_cast<uint8_t>(kind));
  f.raw(recipient_box_pub);
  f.str(sealed);
  return f.take();
}

Result<OpenedBundle> open_bundle(std::string_view file, BundleKind kind, std::string_view my_box_pub,
                                 std::string_view my_box_priv, const Limits& limits) {
  const bool to_server = kind == BundleKind::device;
  if (file.size() < kBundleMagic.size() || file.substr(0, kBundleMagic.size()) != kBundleMagic)
    return bundle_error("不是台账数据包（文件开头不对）", "not a taizhang bundle (the file does not start like one)");
  file.remove_prefix(kBundleMagic.size());
  if (file.size() < 2) return bundle_error("数据包不完整（可能复制时被截断）", "the bundle is incomplete (cut short when copied?)");
  const auto version = static_cast<uint8_t>(file[0]);
  if (version != kBundleFormatVersion)
    return bundle_error("数据包格式版本 " + num(version) + " 不受支持（本程序读取版本 " + num(kBundleFormatVersion) + "），请使用相同版本的程序",
                        "bundle format version " + num(version) + " is not supported (this program reads version " +
                            num(kBundleFormatVersion) + "); use a program of the same version");
  const auto k = static_cast<uint8_t>(file[1]);
  if (k != static_cast<uint8_t>(kind))
    return to_server ? bundle_error("这是县服务器的回复数据包，不是设备导出的数据包（应在设备上用 field-cli bundle import 导入）",
                                    "this is a response bundle from the county server, not a device's bundle (import it on the device)")
                     : bundle_error("这是设备导出的数据包，不是县服务器的回复（应在县服务器上用 sync-server bundle import 导入）",
                                    "this is a device's bundle, not a response from the county server (import it on the server)");
  file.remove_prefix(2);
  if (file.size() < crypto::kKeySize) return bundle_error("数据包不完整（可能复制时被截断）", "the bundle is incomplete (cut short when copied?)");
  if (file.substr(0, crypto::kKeySize) != my_box_pub)
    return to_server ? bundle_error("这个数据包是加密给另一个县服务器的，本服务器无法打开",
                                    "this bundle is encrypted to another county server; this server cannot open it")
                     : bundle_error("这个回复数据包是给另一台设备的，不是本设备", "this response bundle is for another device, not this one");
  file.remove_prefix(crypto::kKeySize);
  auto sealed = length_prefixed(file);
  if (!sealed) return bundle_error("数据包不完整（可能复制时被截断）", "the bundle is incomplete (cut short when copied?)");
  if (!file.empty())
    return bundle_error("数据包末尾有 " + num(file.size()) + " 个多余字节（文件已被改动）",
                        num(file.size()) + " bytes follow the bundle (the file was altered)");
  std::optional<std::string> contents;
  try {
    contents = crypto::open_sealed(my_box_priv, *sealed, seal_context(kind));
  } catch (const Failure&) {
    contents.reset();
  }
  if (!contents) return bundle_error("数据包已损坏或被改动，无法解密", "the bundle is damaged or was altered; it does not decrypt");
  auto opened = decode_body<OpenedBundle>(*contents, limits, kBundle, [&](WireReader& r) {
    OpenedBundle b;
    b.kind = kind;
    b.manifest = r.str({"清单", "manifest"}, r.limits().max_uncompressed);
    b.signature = r.fixed({"签名", "signature"}, crypto::kSignatureSize);
    size_t n = r.count({"部分", "part"}, 1, 100000);
    for (size_t i = 0; i < n; ++i) {
      WireReader::Scope s(r, {"部分", "part"}, i);
      b.parts.push_back(r.str({"内容", "content"}, r.limits().max_uncompressed));
    }
    return b;
  });
  if (!opened) return opened.error();
  auto hashes = decode_body<std::vector<std::string>>(opened->manifest, limits, {"数据包清单", "bundle manifest"}, [&](WireReader& r) {
    opened->header = r.str({"头部", "header"}, r.limits().max_uncompressed);
    size_t n = r.count({"哈希", "hash"}, kHashSize, 100000);
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) out.push_back(r.fixed({"哈希", "hash"}, kHashSize));
    return out;
  });
  if (!hashes) return hashes.error();
  if (hashes->size() != opened->parts.size())
    return bundle_error("数据包清单列出 " + num(hashes->size()) + " 个部分，实有 " + num(opened->parts.size()) + " 个",
                        "the bundle's manifest lists " + num(hashes->size()) + " parts but it holds " + num(opened->parts.size()));
  for (size_t i = 0; i < hashes->size(); ++i)
    if (crypto::sha256(opened->parts[i]) != (*hashes)[i])
      return bundle_error("数据包第 " + num(i + 1) + " 部分与清单不符（被改动）",
                          "part " + num(i + 1) + " of the bundle does not match its manifest (altered)");
  return opened;
}

bool verify_bundle_signature(const OpenedBundle& b, std::string_view signer_pub) {
  return crypto::ed25519_verify(signer_pub, sign_input(b.kind, b.manifest), b.signature);
}

std::string encode(const DeviceBundleHeader& h) {
  ByteWriter w;
  w.raw(h.device.view());
  w.varint(h.number);
  w.svarint(h.created_ms);
  w.varint(h.acked_at_export);
  return w.take();
}

Result<DeviceBundleHeader> decode_device_bundle_header(std::string_view bytes) {
  return decode_body<DeviceBundleHeader>(bytes, Limits{}, {"数据包头部", "bundle header"}, [](WireReader& r) {
    DeviceBundleHeader h;
    h.device = DeviceId::from_bytes(r.fixed({"设备号", "device id"}, 16));
    h.number = r.varint();
    h.created_ms = r.svarint();
    h.acked_at_export = r.varint();
    return h;
  });
}

std::string encode(const ResponseHeader& h) {
  ByteWriter w;
  w.raw(h.device.view());
  w.varint(h.number);
  w.svarint(h.created_ms);
  w.varint(h.acked_at_export);
  w.u8(h.registered ? 1 : 0);
  write_audit_head(w, h.head);
  w.varint(h.start_cursor);
  w.str(h.epoch_seen);
  w.varint(h.last_sent.size());
  for (auto s : h.last_sent) w.varint(s);
  return w.take();
}

Result<ResponseHeader> decode_response_header(std::string_view bytes) {
  return decode_body<ResponseHeader>(bytes, Limits{}, {"回复头部", "response header"}, [](WireReader& r) {
    ResponseHeader h;
    h.device = DeviceId::from_bytes(r.fixed({"设备号", "device id"}, 16));
    h.number = r.varint();
    h.created_ms = r.svarint();
    h.acked_at_export = r.varint();
    h.registered = r.flag({"已登记", "registered"});
    h.head.seq = r.varint();
    h.head.hash = r.fixed({"审计链头", "audit head"}, 32);
    h.head.signature = r.fixed({"签名", "signature"}, crypto::kSignatureSize);
    h.start_cursor = r.varint();
    h.epoch_seen = r.str({"服务器纪元", "server epoch"});
    size_t n = r.count({"推送回复", "push reply"}, 1, 100000);
    for (size_t i = 0; i < n; ++i) h.last_sent.push_back(r.varint());
    return h;
  });
}

// --- token files ---

namespace {

std::string token_file_key(std::string_view code, std::string_view salt) {
  return crypto::scrypt(normalise_enrolment_code(code), salt, crypto::ScryptParams{}, 32);
}

std::string token_file_signed_part(const TokenFile& t) {
  ByteWriter w;
  w.str(t.token);
  w.str(encode_grant(t.grant));
  return w.take();
}

std::string token_file_sign_input(std::string_view signed_part) {
  std::string m(kTokenFileContext);
  m += crypto::sha256(signed_part);
  return m;
}

}  // namespace

std::string normalise_enrolment_code(std::string_view code) {
  std::string out;
  for (char c : code)
    if (c >= '0' && c <= '9') out += c;
  return out;
}

std::string new_enrolment_code() {
  std::string raw = crypto::random_bytes(12), out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i && i % 4 == 0) out += '-';
    out += static_cast<char>('0' + static_cast<unsigned char>(raw[i]) % 10);
  }
  return out;
}

std::string write_token_file(const TokenFile& t, std::string_view code, std::string_view sign_priv) {
  std::string part = token_file_signed_part(t);
  std::string signature = crypto::ed25519_sign(sign_priv, token_file_sign_input(part));
  std::string salt = crypto::random_bytes(kSaltSize);
  std::string sealed = crypto::aead_seal(token_file_key(code, salt), part + signature, kTokenFileContext);
  ByteWriter f;
  f.raw(kTokenFileMagic);
  f.u8(1);
  f.raw(salt);
  f.str(sealed);
  return f.take();
}

Result<TokenFile> read_token_file(std::string_view file, std::string_view code) {
  auto bad = [](std::string zh, std::string en) { return Error(ErrorCode::invalid_input, {bilingual(std::move(zh), std::move(en))}); };
  if (file.substr(0, kTokenFileMagic.size()) != kTokenFileMagic)
    return bad("不是登记令牌文件（文件开头不对）", "not an enrolment token file (the file does not start like one)");
  file.remove_prefix(kTokenFileMagic.size());
  if (file.empty()) return bad("登记令牌文件不完整（可能复制时被截断）", "the token file is incomplete (cut short when copied?)");
  if (static_cast<uint8_t>(file[0]) != 1)
    return bad("登记令牌文件格式版本 " + num(static_cast<uint8_t>(file[0])) + " 不受支持",
               "token file format version " + num(static_cast<uint8_t>(file[0])) + " is not supported");
  file.remove_prefix(1);
  if (file.size() < kSaltSize) return bad("登记令牌文件不完整（可能复制时被截断）", "the token file is incomplete (cut short when copied?)");
  std::string salt(file.substr(0, kSaltSize));
  file.remove_prefix(kSaltSize);
  auto sealed = length_prefixed(file);
  if (!sealed || !file.empty()) return bad("登记令牌文件不完整或已被改动", "the token file is incomplete or was altered");
  if (normalise_enrolment_code(code).size() != 12)
    return bad("登记码应为 12 位数字（管理员生成令牌文件时给出）", "the enrolment code must be 12 digits (given when the token file was made)");
  auto plain = crypto::aead_open(token_file_key(code, salt), *sealed, kTokenFileContext);
  if (!plain) return bad("登记码不对，或令牌文件已损坏", "wrong enrolment code, or the token file is damaged");
  if (plain->size() < crypto::kSignatureSize) return bad("登记令牌文件内容损坏", "the token file's content is damaged");
  std::string_view part = std::string_view(*plain).substr(0, plain->size() - crypto::kSignatureSize);
  std::string_view signature = std::string_view(*plain).substr(plain->size() - crypto::kSignatureSize);
  auto fields = decode_body<std::pair<std::string, std::string>>(part, Limits{}, kTokenFileLabel, [](WireReader& r) {
    std::pair<std::string, std::string> p;
    p.first = r.str({"令牌", "token"});
    p.second = r.str({"授权", "grant"}, r.limits().max_uncompressed);
    return p;
  });
  if (!fields) return fields.error();
  auto info = decode_token(fields->first);
  if (!info) return info.error();
  if (!crypto::ed25519_verify(info->server_sign_pub, token_file_sign_input(part), signature))
    return bad("登记令牌文件的签名与其中的服务器密钥不符", "the token file is not signed by the server key it names");
  auto grant = decode_grant(fields->second);
  if (!grant) return grant.error();
  if (grant->county != info->county)
    return bad("登记令牌文件的县代码不一致", "the token file's county codes differ");
  return TokenFile{fields->first, std::move(*grant)};
}

// --- recovery ---

namespace {
constexpr std::string_view kRecoveryRequestMagic = "TZRECREQ";
constexpr std::string_view kRecoveryKeyMagic = "TZRECKEY";

Result<std::string_view> after_magic(std::string_view file, std::string_view magic, Label what) {
  if (file.substr(0, magic.size()) != magic || file.size() < magic.size() + 1)
    return detail::invalid(what, "文件开头不对", "the file does not start like one");
  if (static_cast<uint8_t>(file[magic.size()]) != 1)
    return detail::invalid(what, "格式版本 " + num(static_cast<uint8_t>(file[magic.size()])) + " 不受支持",
                           "format version " + num(static_cast<uint8_t>(file[magic.size()])) + " is not supported");
  return file.substr(magic.size() + 1);
}
}  // namespace

std::string encode(const RecoveryRequest& r) {
  ByteWriter w;
  w.raw(kRecoveryRequestMagic);
  w.u8(1);
  w.raw(r.device.view());
  w.raw(r.recovery_pub);
  return w.take();
}

Result<RecoveryRequest> decode_recovery_request(std::string_view file) {
  constexpr Label kWhat{"恢复请求", "recovery request"};
  auto body = after_magic(file, kRecoveryRequestMagic, kWhat);
  if (!body) return body.error();
  return decode_body<RecoveryRequest>(*body, Limits{}, kWhat, [](WireReader& r) {
    RecoveryRequest q;
    q.device = DeviceId::from_bytes(r.fixed({"设备号", "device id"}, 16));
    q.recovery_pub = r.fixed({"恢复公钥", "recovery key"}, crypto::kKeySize);
    return q;
  });
}

std::string recovery_signature_input(const DeviceId& device, std::string_view sealed) {
  std::string m(kRecoverContext);
  m.append(device.view());
  m += crypto::sha256(sealed);
  return m;
}

std::string encode(const RecoveryKeyFile& k) {
  ByteWriter w;
  w.raw(kRecoveryKeyMagic);
  w.u8(1);
  w.raw(k.device.view());
  w.str(k.sealed);
  w.raw(k.signature);
  return w.take();
}

Result<RecoveryKeyFile> decode_recovery_key_file(std::string_view file) {
  constexpr Label kWhat{"恢复密钥文件", "recovery key file"};
  auto body = after_magic(file, kRecoveryKeyMagic, kWhat);
  if (!body) return body.error();
  return decode_body<RecoveryKeyFile>(*body, Limits{}, kWhat, [](WireReader& r) {
    RecoveryKeyFile k;
    k.device = DeviceId::from_bytes(r.fixed({"设备号", "device id"}, 16));
    k.sealed = r.str({"密封的数据密钥", "sealed data key"});
    k.signature = r.fixed({"签名", "signature"}, crypto::kSignatureSize);
    return k;
  });
}

}  // namespace tz::sync
