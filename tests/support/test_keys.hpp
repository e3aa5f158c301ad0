// Test helper: a raw Ed25519 key pair made with OpenSSL directly, so the TLS and net tests do not
// depend on tz/crypto/keys.hpp. Link OpenSSL::Crypto.
#pragma once

#include <openssl/evp.h>

#include <stdexcept>
#include <string>

namespace tz::test {

struct TestKeyPair {
  std::string priv, pub;  // raw 32 bytes each
};

inline TestKeyPair ed25519_test_key() {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!k) throw std::runtime_error("Ed25519 keygen failed");
  TestKeyPair kp;
  kp.priv.resize(32);
  kp.pub.resize(32);
  size_t n = 32, m = 32;
  bool ok = EVP_PKEY_get_raw_private_key(k, reinterpret_cast<unsigned char*>(kp.priv.data()), &n) == 1 &&
            EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char*>(kp.pub.data()), &m) == 1 && n == 32 &&
            m == 32;
  EVP_PKEY_free(k);
  if (!ok) throw std::runtime_error("Ed25519 raw key export failed");
  return kp;
}

}  // namespace tz::test
