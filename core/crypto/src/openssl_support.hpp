// What the crypto sources share over OpenSSL (private to core/crypto/src): owning pointers for its
// objects, the failure that carries its queued error, and byte-pointer casts.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "tz/util/error.hpp"

namespace tz::crypto::detail {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

using MdFree = Deleter<EVP_MD_free>;
using MdCtxFree = Deleter<EVP_MD_CTX_free>;
using CipherFree = Deleter<EVP_CIPHER_free>;
using CipherCtxFree = Deleter<EVP_CIPHER_CTX_free>;
using PkeyFree = Deleter<EVP_PKEY_free>;
using PkeyCtxFree = Deleter<EVP_PKEY_CTX_free>;
using KdfFree = Deleter<EVP_KDF_free>;
using KdfCtxFree = Deleter<EVP_KDF_CTX_free>;
using X509Free = Deleter<X509_free>;
using BioFree = Deleter<BIO_free>;
using ExtFree = Deleter<X509_EXTENSION_free>;
using BnFree = Deleter<BN_free>;

using MdPtr = std::unique_ptr<EVP_MD, MdFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherFree>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using KdfPtr = std::unique_ptr<EVP_KDF, KdfFree>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// Throws crypto_error with `what` and the first queued OpenSSL error, and clears the queue.
[[noreturn]] inline void fail(std::string what) {
  if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    what += ": ";
    what += buf;
  }
  ERR_clear_error();
  throw Failure(ErrorCode::crypto_error, {std::move(what)});
}

inline const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
inline unsigned char* u8(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace tz::crypto::detail
