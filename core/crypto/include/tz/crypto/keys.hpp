// Public-key primitives over OpenSSL 3 (SPEC §6): Ed25519 signatures, X25519 key agreement, HKDF-SHA256
// and a sealed box (X25519 with an ephemeral key + HKDF-SHA256 + AES-256-GCM; OpenSSL 3.0 has no HPKE).
// Keys travel as raw 32-byte strings; no OpenSSL type appears here. Malformed keys throw tz::Failure
// (ErrorCode::crypto_error); a signature that does not verify or a box that does not open is an
// expected result (false / nullopt), never an exception.
// Pure functions of their arguments (and the CSPRNG); safe from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tz::crypto {

inline constexpr size_t kKeySize = 32;        // Ed25519 / X25519 raw keys
inline constexpr size_t kSignatureSize = 64;  // Ed25519
inline constexpr size_t kSealOverhead = 32 + 12 + 16;  // ephemeral pub + nonce + tag

struct KeyPair {
  std::string priv, pub;  // raw 32-byte keys
};

KeyPair ed25519_generate();
// The public key of a raw private key (the RFC 8032 seed).
std::string ed25519_public(std::string_view priv);
std::string ed25519_sign(std::string_view priv, std::string_view message);  // 64 bytes
// False for a wrong-sized key or signature, a key that is not a curve point, or any mismatch.
bool ed25519_verify(std::string_view pub, std::string_view message, std::string_view signature);

KeyPair x25519_generate();
std::string x25519_public(std::string_view priv);
// The raw shared secret (RFC 7748). Throws for a low-order peer key (all-zero result).
std::string x25519_shared(std::string_view priv, std::string_view peer_pub);

// RFC 5869 extract-and-expand; len at most 255 * 32.
std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info, size_t len);

// X25519 (ephemeral) + HKDF-SHA256 + AES-256-GCM: ephemeral pub (32) || Aead seal. context is bound in
// (HKDF info and AEAD aad), so a box made for one purpose does not open for another. The HKDF salt is
// ephemeral pub || recipient pub.
std::string seal_to(std::string_view recipient_pub, std::string_view plaintext, std::string_view context);
// nullopt for a short box, a wrong key or context, or any alteration.
std::optional<std::string> open_sealed(std::string_view recipient_priv, std::string_view sealed,
                                       std::string_view context);

}  // namespace tz::crypto
