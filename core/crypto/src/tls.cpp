// TLS identity: an ECDSA P-256 key and an X.509 certificate signed with the server's Ed25519 key
// (X509_sign with a NULL digest: Ed25519 signs the whole TBSCertificate itself).
#include "tz/crypto/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <memory>
#include <string>

#include "openssl_support.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/util/error.hpp"

namespace tz::crypto {
namespace {

using namespace detail;
using Pkey = PkeyPtr;
using Cert = X509Ptr;
using Bio = BioPtr;



void check(int rc, const char* what) {
  if (rc != 1) fail(what);
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

void set_cn(X509_NAME* name, std::string_view cn) {
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.data()),
                                   static_cast<int>(cn.size()), -1, 0),
        "X509_NAME_add_entry_by_txt");
}

void add_ext(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) fail("X509V3_EXT_conf_nid " + value);
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Cert parse_certificate(std::string_view cert) {
  if (cert.empty() || cert.size() > (1u << 20)) return nullptr;
  Cert x;
  if (cert.substr(0, 11) == "-----BEGIN ") {
    Bio bio(BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size())));
    if (bio) x.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(cert.data());
    x.reset(d2i_X509(nullptr, &p, static_cast<long>(cert.size())));
  }
  ERR_clear_error();
  return x;
}

}  // namespace

TlsIdentity make_tls_identity(std::string_view signing_priv, std::string_view common_name, int valid_days) {
  if (signing_priv.size() != 32) fail("Ed25519 signing key must be 32 bytes");
  if (valid_days < 1) throw Failure(ErrorCode::invalid_input, {bilingual("证书有效天数必须至少为 1", "certificate validity must be at least 1 day")});
  if (common_name.empty()) throw Failure(ErrorCode::invalid_input, {bilingual("证书名称不能为空", "certificate common name must not be empty")});
  Pkey signer(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                           reinterpret_cast<const unsigned char*>(signing_priv.data()), 32));
  if (!signer) fail("EVP_PKEY_new_raw_private_key(Ed25519)");
  Pkey tls_key(EVP_EC_gen("P-256"));
  if (!tls_key) fail("EVP_EC_gen(P-256)");

  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), 2), "X509_set_version");  // v3
  // A random positive 127-bit serial, so two certificates of one server never share one.
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial), "RAND_bytes");
  serial[0] &= 0x7f;
  std::unique_ptr<BIGNUM, BnFree> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) fail("serial number");
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), valid_days, 0, nullptr))
    fail("certificate validity");
  set_cn(X509_get_subject_name(cert.get()), common_name);
  set_cn(X509_get_issuer_name(cert.get()), kTlsIssuerName);
  check(X509_set_pubkey(cert.get(), tls_key.get()), "X509_set_pubkey");
  std::string cn(common_name);
  add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), NID_ext_key_usage, "serverAuth");
  add_ext(cert.get(), NID_subject_alt_name, (is_ip_address(cn) ? "IP:" : "DNS:") + cn);
  // Ed25519 takes no separate digest: md must be NULL.
  if (X509_sign(cert.get(), signer.get(), nullptr) <= 0) fail("X509_sign(Ed25519)");

  TlsIdentity out;
  Bio cbio(BIO_new(BIO_s_mem()));
  Bio kbio(BIO_new(BIO_s_mem()));
  if (!cbio || !kbio) fail("BIO_new");
  check(PEM_write_bio_X509(cbio.get(), cert.get()), "PEM_write_bio_X509");
  check(PEM_write_bio_PrivateKey(kbio.get(), tls_key.get(), nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  out.cert_pem = bio_string(cbio.get());
  out.key_pem = bio_string(kbio.get());
  return out;
}

std::string certificate_sha256(std::string_view cert) {
  Cert x = parse_certificate(cert);
  if (!x) return {};
  int n = i2d_X509(x.get(), nullptr);
  if (n <= 0) {
    ERR_clear_error();
    return {};
  }
  std::string der(static_cast<size_t>(n), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(x.get(), &p);
  return sha256(der);
}

bool certificate_signed_by(std::string_view cert, std::string_view signing_pub) {
  if (signing_pub.size() != 32) return false;
  Cert x = parse_certificate(cert);
  if (!x) return false;
  Pkey pub(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(signing_pub.data()), 32));
  if (!pub) {
    ERR_clear_error();
    return false;
  }
  bool ok = X509_verify(x.get(), pub.get()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace tz::crypto
