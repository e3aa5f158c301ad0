// tz::crypto TLS identity: certificates signed by the Ed25519 signing key, verified by it and only
// by it, with the subject, issuer, key type and extensions devices and OpenSSL expect.
#include <catch2/catch.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

#include "test_keys.hpp"
#include "tz/crypto/tls.hpp"
#include "tz/util/error.hpp"

using namespace tz::crypto;

namespace {

X509* parse_pem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return x;
}

std::string to_der(const std::string& pem) {
  X509* x = parse_pem(pem);
  REQUIRE(x != nullptr);
  unsigned char* der = nullptr;
  int n = i2d_X509(x, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  X509_free(x);
  return out;
}

std::string name_cn(const X509_NAME* name) {
  char buf[256];
  int n = X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

}  // namespace

TEST_CASE("tls identity: the certificate is signed by the signing key and by no other", "[crypto][tls]") {
  auto signer = tz::test::ed25519_test_key();
  auto other = tz::test::ed25519_test_key();
  TlsIdentity id = make_tls_identity(signer.priv, "127.0.0.1", 30);
  REQUIRE(id.cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  REQUIRE(id.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK(certificate_signed_by(id.cert_pem, signer.pub));
  CHECK(certificate_signed_by(to_der(id.cert_pem), signer.pub));
  CHECK_FALSE(certificate_signed_by(id.cert_pem, other.pub));
  CHECK_FALSE(certificate_signed_by(to_der(id.cert_pem), other.pub));

  // Two identities of one server: different keys and serials, both signed by it.
  TlsIdentity again = make_tls_identity(signer.priv, "127.0.0.1", 30);
  CHECK(again.cert_pem != id.cert_pem);
  CHECK(again.key_pem != id.key_pem);
  CHECK(certificate_signed_by(again.cert_pem, signer.pub));
}

TEST_CASE("tls identity: subject issuer key type and extensions", "[crypto][tls]") {
  auto signer = tz::test::ed25519_test_key();
  TlsIdentity id = make_tls_identity(signer.priv, "county.example", 10);
  X509* x = parse_pem(id.cert_pem);
  REQUIRE(x != nullptr);
  CHECK(name_cn(X509_get_subject_name(x)) == "county.example");
  CHECK(name_cn(X509_get_issuer_name(x)) == std::string(kTlsIssuerName));
  CHECK(X509_get_signature_nid(x) == NID_ED25519);
  EVP_PKEY* pub = X509_get0_pubkey(x);
  REQUIRE(pub != nullptr);
  CHECK(EVP_PKEY_is_a(pub, "EC"));
  CHECK(X509_check_host(x, "county.example", 0, 0, nullptr) == 1);
  CHECK((X509_get_extended_key_usage(x) & XKU_SSL_SERVER) != 0);
  // Valid now, and not for longer than asked.
  CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
  CHECK(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
  time_t eleven_days = time(nullptr) + 11 * 86400;
  CHECK(X509_cmp_time(X509_get0_notAfter(x), &eleven_days) < 0);
  // The private key belongs to the certificate.
  BIO* kb = BIO_new_mem_buf(id.key_pem.data(), static_cast<int>(id.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  REQUIRE(key != nullptr);
  CHECK(X509_check_private_key(x, key) == 1);
  EVP_PKEY_free(key);
  X509_free(x);

  TlsIdentity ip = make_tls_identity(signer.priv, "127.0.0.1", 10);
  X509* xi = parse_pem(ip.cert_pem);
  REQUIRE(xi != nullptr);
  CHECK(X509_check_ip_asc(xi, "127.0.0.1", 0) == 1);
  X509_free(xi);
}

TEST_CASE("tls identity: a tampered or malformed certificate and bad keys are refused", "[crypto][tls]") {
  auto signer = tz::test::ed25519_test_key();
  TlsIdentity id = make_tls_identity(signer.priv, "127.0.0.1", 30);
  std::string der = to_der(id.cert_pem);
  std::string tampered = der;
  tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x01);
  CHECK_FALSE(certificate_signed_by(tampered, signer.pub));
  CHECK_FALSE(certificate_signed_by("", signer.pub));
  CHECK_FALSE(certificate_signed_by("-----BEGIN CERTIFICATE-----\nnot base64\n", signer.pub));
  CHECK_FALSE(certificate_signed_by(der.substr(0, der.size() - 10), signer.pub));
  CHECK_FALSE(certificate_signed_by(der, signer.pub.substr(0, 31)));
  CHECK_FALSE(certificate_signed_by(der, ""));

  auto code_of = [](auto&& f) {
    try {
      f();
    } catch (const tz::Failure& e) {
      return e.error().code();
    }
    return tz::ErrorCode::ok;
  };
  CHECK(code_of([&] { (void)make_tls_identity(signer.priv.substr(0, 31), "x", 1); }) == tz::ErrorCode::crypto_error);
  CHECK(code_of([&] { (void)make_tls_identity(signer.priv, "x", 0); }) == tz::ErrorCode::invalid_input);
  CHECK(code_of([&] { (void)make_tls_identity(signer.priv, "", 1); }) == tz::ErrorCode::invalid_input);
}
