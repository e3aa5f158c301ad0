// Ed25519, X25519, HKDF-SHA256 and the sealed box over OpenSSL 3 (EVP_PKEY raw keys, EVP_DigestSign,
// EVP_PKEY_derive, EVP_KDF "HKDF"). Every OpenSSL object is held by a unique_ptr with its free function.
#include "tz/crypto/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <utility>

#include "tz/crypto/crypto.hpp"
#include "openssl_support.hpp"
#include "tz/util/error.hpp"

namespace tz::crypto {

namespace {

using namespace detail;




void check_size(std::string_view key, const char* what) {
  if (key.size() != kKeySize) {
    fail(std::string(what) + " must be " + std::to_string(kKeySize) + " bytes, got " + std::to_string(key.size()));
  }
}

PkeyPtr private_key(int type, std::string_view priv, const char* what) {
  check_size(priv, what);
  PkeyPtr k(EVP_PKEY_new_raw_private_key(type, nullptr, u8(priv), priv.size()));
  if (!k) fail(std::string(what) + " rejected");
  return k;
}

// nullptr (no exception) when OpenSSL refuses the bytes as a key.
PkeyPtr public_key(int type, std::string_view pub) {
  if (pub.size() != kKeySize) return nullptr;
  PkeyPtr k(EVP_PKEY_new_raw_public_key(type, nullptr, u8(pub), pub.size()));
  if (!k) ERR_clear_error();
  return k;
}

std::string raw_public(const EVP_PKEY* k) {
  std::string out(kKeySize, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(k, u8(out), &len) != 1 || len != kKeySize) fail("raw public key export failed");
  return out;
}

KeyPair generate(int type, const char* name) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    fail(std::string(name) + " key generation failed");
  }
  PkeyPtr k(raw);
  KeyPair kp;
  kp.priv.assign(kKeySize, '\0');
  size_t len = kp.priv.size();
  if (EVP_PKEY_get_raw_private_key(k.get(), u8(kp.priv), &len) != 1 || len != kKeySize) {
    fail(std::string(name) + " private key export failed");
  }
  kp.pub = raw_public(k.get());
  return kp;
}

}  // namespace

KeyPair ed25519_generate() { return generate(EVP_PKEY_ED25519, "Ed25519"); }

std::string ed25519_public(std::string_view priv) {
  return raw_public(private_key(EVP_PKEY_ED25519, priv, "Ed25519 private key").get());
}

std::string ed25519_sign(std::string_view priv, std::string_view message) {
  PkeyPtr k = private_key(EVP_PKEY_ED25519, priv, "Ed25519 private key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1) fail("Ed25519 sign init failed");
  std::string sig(kSignatureSize, '\0');
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), u8(sig), &len, u8(message), message.size()) != 1 || len != kSignatureSize) {
    fail("Ed25519 signing failed");
  }
  return sig;
}

bool ed25519_verify(std::string_view pub, std::string_view message, std::string_view signature) {
  if (signature.size() != kSignatureSize) return false;
  PkeyPtr k = public_key(EVP_PKEY_ED25519, pub);
  if (!k) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) fail("EVP_MD_CTX_new failed");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  int ok = EVP_DigestVerify(ctx.get(), u8(signature), signature.size(), u8(message), message.size());
  ERR_clear_error();
  return ok == 1;
}

KeyPair x25519_generate() { return generate(EVP_PKEY_X25519, "X25519"); }

std::string x25519_public(std::string_view priv) {
  return raw_public(private_key(EVP_PKEY_X25519, priv, "X25519 private key").get());
}

std::string x25519_shared(std::string_view priv, std::string_view peer_pub) {
  PkeyPtr mine = private_key(EVP_PKEY_X25519, priv, "X25519 private key");
  check_size(peer_pub, "X25519 public key");
  PkeyPtr peer = public_key(EVP_PKEY_X25519, peer_pub);
  if (!peer) fail("X25519 public key rejected");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(mine.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    fail("X25519 key agreement setup failed");
  }
  std::string out(kKeySize, '\0');
  size_t len = out.size();
  // OpenSSL refuses an all-zero result (a low-order peer point) here.
  if (EVP_PKEY_derive(ctx.get(), u8(out), &len) != 1 || len != kKeySize) fail("X25519 key agreement failed");
  return out;
}

std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info, size_t len) {
  if (len == 0 || len > 255 * kSha256Size) fail("HKDF-SHA256 output length out of range");
  KdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) fail("HKDF unavailable");
  KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) fail("EVP_KDF_CTX_new failed");
  char digest[] = "SHA256";
  // OSSL_PARAM wants non-const pointers; OpenSSL only reads these.
  std::string ikm_c(ikm), salt_c(salt), info_c(info);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_c.data(), ikm_c.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_c.data(), salt_c.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_c.data(), info_c.size()),
      OSSL_PARAM_construct_end(),
  };
  std::string out(len, '\0');
  if (EVP_KDF_derive(ctx.get(), u8(out), out.size(), params) != 1) fail("HKDF-SHA256 failed");
  OPENSSL_cleanse(ikm_c.data(), ikm_c.size());
  return out;
}

namespace {
std::string box_key(std::string_view shared, std::string_view eph_pub, std::string_view recipient_pub,
                    std::string_view context) {
  std::string salt;
  salt.reserve(2 * kKeySize);
  salt.append(eph_pub);
  salt.append(recipient_pub);
  return hkdf_sha256(shared, salt, context, kAeadKeySize);
}
}  // namespace

std::string seal_to(std::string_view recipient_pub, std::string_view plaintext, std::string_view context) {
  check_size(recipient_pub, "X25519 recipient key");
  KeyPair eph = x25519_generate();
  std::string shared = x25519_shared(eph.priv, recipient_pub);
  std::string key = box_key(shared, eph.pub, recipient_pub, context);
  std::string out = eph.pub;
  out += Aead(key).seal(plaintext, context);
  OPENSSL_cleanse(shared.data(), shared.size());
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(eph.priv.data(), eph.priv.size());
  return out;
}

std::optional<std::string> open_sealed(std::string_view recipient_priv, std::string_view sealed,
                                       std::string_view context) {
  if (sealed.size() < kSealOverhead) return std::nullopt;
  std::string_view eph_pub = sealed.substr(0, kKeySize);
  std::string recipient_pub = x25519_public(recipient_priv);
  std::string shared;
  try {
    shared = x25519_shared(recipient_priv, eph_pub);
  } catch (const Failure&) {
    return std::nullopt;  // an altered ephemeral key that is not a usable point
  }
  std::string key = box_key(shared, eph_pub, recipient_pub, context);
  auto out = Aead(key).open(sealed.substr(kKeySize), context);
  OPENSSL_cleanse(shared.data(), shared.size());
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

}  // namespace tz::crypto
