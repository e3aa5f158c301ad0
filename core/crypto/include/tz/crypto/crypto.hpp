// Cryptographic primitives over OpenSSL: random bytes, SHA-256, HMAC-SHA256, scrypt, AES-256-GCM.
// Binary data travels as std::string; no OpenSSL type appears here. Failures throw tz::Failure
// (ErrorCode::crypto_error); an AEAD authentication failure is an expected result (nullopt).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tz::crypto {

inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr size_t kAeadOverhead = kAeadNonceSize + kAeadTagSize;  // sealed size - plaintext size

// n bytes from the OpenSSL CSPRNG.
std::string random_bytes(size_t n);

// 32-byte digests.
std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);

// A keyed HMAC-SHA256 for hot loops: the inner and outer hash states are absorbed once at
// construction and copied per call. Any key length is accepted (as with hmac_sha256).
// Thread safety: an object is used by one thread at a time, even through its const members (they
// reuse a scratch state); give each thread its own Hmac. Move-only; a moved-from object may only be
// destroyed or assigned to.
class Hmac {
 public:
  explicit Hmac(std::string_view key);
  ~Hmac();
  Hmac(Hmac&&) noexcept;
  Hmac& operator=(Hmac&&) noexcept;
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  std::string mac(std::string_view data) const;
  void mac_into(std::string_view data, unsigned char out[kSha256Size]) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// scrypt (RFC 7914). n must be a power of two > 1. Memory use is about 128 * r * n * p bytes
// (128 MiB for n = 2^17, r = 8, p = 1); the limit allows up to 1 GiB.
struct ScryptParams {
  uint64_t n = 1ULL << 15;
  uint32_t r = 8;
  uint32_t p = 1;
};
std::string scrypt(std::string_view passphrase, std::string_view salt, const ScryptParams& params,
                   size_t key_len = 32);

// AES-256-GCM with a 32-byte key and a random 12-byte nonce per message.
// seal returns nonce || ciphertext || tag; open returns nullopt on a short input or on any
// authentication failure (wrong key, altered nonce, ciphertext, tag or aad).
// Nonces come from the CSPRNG, drawn in batches per object (discarded in a forked child); as with
// any random 96-bit nonce, stay well below 2^32 seals per key.
// Thread safety: an object is used by one thread at a time, even through its const members (they
// reuse cipher contexts keyed once, and the nonce batch); give each thread its own Aead.
// Move-only; a moved-from object may only be destroyed or assigned to.
class Aead {
 public:
  explicit Aead(std::string_view key);  // throws unless key.size() == kAeadKeySize
  ~Aead();
  Aead(Aead&&) noexcept;
  Aead& operator=(Aead&&) noexcept;
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  std::string seal(std::string_view plaintext, std::string_view aad = {}) const;
  std::optional<std::string> open(std::string_view sealed, std::string_view aad = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-off conveniences; for many messages under one key, keep an Aead.
std::string aead_seal(std::string_view key, std::string_view plaintext, std::string_view aad = {});
std::optional<std::string> aead_open(std::string_view key, std::string_view sealed,
                                     std::string_view aad = {});

// Compares contents in time independent of where they differ (sizes are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

// Lower-case hex; from_hex accepts either case and returns nullopt on odd length or a non-hex digit.
std::string to_hex(std::string_view bytes);
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace tz::crypto
