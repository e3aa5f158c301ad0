// The county server's TLS identity (SPEC §6): a TLS key whose certificate is issued and signed by
// the server's long-lived Ed25519 signing key. Devices pin the signing key, not the certificate, so
// a regenerated certificate does not strand them and a certificate not signed by it is refused.
// No OpenSSL type appears here; certificates and keys travel as PEM (or DER) strings.
#pragma once

#include <string>
#include <string_view>

namespace tz::crypto {

// The issuer name written into every certificate make_tls_identity makes.
inline constexpr std::string_view kTlsIssuerName = "taizhang county server";

struct TlsIdentity {
  std::string cert_pem;  // X.509 v3, subject CN = common_name, issuer CN = kTlsIssuerName
  std::string key_pem;   // the TLS private key (PKCS#8 PEM), for the server only
};

// A fresh ECDSA P-256 TLS key (decision 50) with a certificate valid from one hour ago for
// valid_days days, signed with signing_priv (a raw 32-byte Ed25519 private key). The certificate
// names common_name as its subject and as subjectAltName (IP address when it parses as one, DNS
// name otherwise); extended key usage serverAuth. Throws tz::Failure (crypto_error) for a signing
// key of the wrong size or an OpenSSL failure, invalid_input for valid_days < 1.
TlsIdentity make_tls_identity(std::string_view signing_priv, std::string_view common_name, int valid_days = 3650);

// Whether cert (PEM or DER) parses as an X.509 certificate and carries a valid signature by the
// raw 32-byte Ed25519 public key signing_pub. False for anything else (never throws).
// SHA-256 of the certificate's DER form (PEM or DER given); "" when it does not parse.
std::string certificate_sha256(std::string_view cert);
bool certificate_signed_by(std::string_view cert, std::string_view signing_pub);

}  // namespace tz::crypto
