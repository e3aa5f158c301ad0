// tz::crypto keys: RFC 8032 (Ed25519) and RFC 7748 (X25519) vectors, RFC 5869 (HKDF) case 1, signatures
// refused when anything changes, and the sealed box bound to its recipient and context.
#include <catch2/catch.hpp>

#include <string>

#include "tz/crypto/crypto.hpp"
#include "tz/crypto/keys.hpp"
#include "tz/util/error.hpp"

using namespace tz::crypto;

namespace {
std::string unhex(std::string_view h) {
  auto v = from_hex(h);
  REQUIRE(v.has_value());
  return *v;
}
}  // namespace

TEST_CASE("ed25519 RFC 8032 test vector 1", "[crypto][keys]") {
  std::string priv = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  std::string pub = unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  std::string sig = unhex(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(ed25519_public(priv) == pub);
  CHECK(ed25519_sign(priv, "") == sig);
  CHECK(ed25519_verify(pub, "", sig));
  CHECK_FALSE(ed25519_verify(pub, "x", sig));
}

TEST_CASE("ed25519 sign and verify and refuse changes", "[crypto][keys]") {
  KeyPair k = ed25519_generate();
  REQUIRE(k.priv.size() == kKeySize);
  REQUIRE(k.pub.size() == kKeySize);
  CHECK(ed25519_public(k.priv) == k.pub);
  std::string msg = "taizhang/request/v1 payload";
  std::string sig = ed25519_sign(k.priv, msg);
  REQUIRE(sig.size() == kSignatureSize);
  CHECK(ed25519_verify(k.pub, msg, sig));

  std::string tampered_msg = msg;
  tampered_msg[3] ^= 1;
  CHECK_FALSE(ed25519_verify(k.pub, tampered_msg, sig));
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    std::string bad = sig;
    bad[i] ^= 0x40;
    CHECK_FALSE(ed25519_verify(k.pub, msg, bad));
  }
  CHECK_FALSE(ed25519_verify(k.pub, msg, sig.substr(0, 63)));
  CHECK_FALSE(ed25519_verify(ed25519_generate().pub, msg, sig));
  CHECK_FALSE(ed25519_verify("short", msg, sig));
}

TEST_CASE("x25519 RFC 7748 section 6.1 vector", "[crypto][keys]") {
  std::string a_priv = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  std::string a_pub = unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  std::string b_priv = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  std::string b_pub = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  std::string shared = unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  CHECK(x25519_public(a_priv) == a_pub);
  CHECK(x25519_public(b_priv) == b_pub);
  CHECK(x25519_shared(a_priv, b_pub) == shared);
  CHECK(x25519_shared(b_priv, a_pub) == shared);
}

TEST_CASE("hkdf sha256 RFC 5869 test case 1", "[crypto][keys]") {
  std::string ikm(22, '\x0b');
  std::string salt = unhex("000102030405060708090a0b0c");
  std::string info = unhex("f0f1f2f3f4f5f6f7f8f9");
  CHECK(to_hex(hkdf_sha256(ikm, salt, info, 42)) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST_CASE("sealed box round trip and refusals", "[crypto][keys]") {
  KeyPair r = x25519_generate();
  std::string secret = "the county secret \x01\x02";
  std::string box = seal_to(r.pub, secret, "taizhang/enrol-grant/v1");
  CHECK(box.size() == secret.size() + kSealOverhead);
  auto opened = open_sealed(r.priv, box, "taizhang/enrol-grant/v1");
  REQUIRE(opened.has_value());
  CHECK(*opened == secret);
  // A fresh ephemeral key each time.
  CHECK(seal_to(r.pub, secret, "c") != seal_to(r.pub, secret, "c"));
  // Empty plaintext works.
  CHECK(open_sealed(r.priv, seal_to(r.pub, "", "c"), "c") == std::optional<std::string>(""));

  CHECK_FALSE(open_sealed(x25519_generate().priv, box, "taizhang/enrol-grant/v1").has_value());
  CHECK_FALSE(open_sealed(r.priv, box, "taizhang/escrow/v1").has_value());
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{44}, box.size() - 1}) {
    std::string bad = box;
    bad[i] ^= 0x01;
    CHECK_FALSE(open_sealed(r.priv, bad, "taizhang/enrol-grant/v1").has_value());
  }
  CHECK_FALSE(open_sealed(r.priv, box.substr(0, kSealOverhead - 1), "taizhang/enrol-grant/v1").has_value());
  CHECK_FALSE(open_sealed(r.priv, box.substr(0, box.size() - 1), "taizhang/enrol-grant/v1").has_value());
  // An all-zero ephemeral key (low order) does not open and does not throw.
  std::string zero = box;
  zero.replace(0, 32, std::string(32, '\0'));
  CHECK_FALSE(open_sealed(r.priv, zero, "taizhang/enrol-grant/v1").has_value());
}

TEST_CASE("malformed private keys throw crypto_error", "[crypto][keys]") {
  auto code = [](auto f) {
    try {
      f();
    } catch (const tz::Failure& e) {
      return e.error().code();
    }
    return tz::ErrorCode::ok;
  };
  CHECK(code([] { ed25519_sign("short", "m"); }) == tz::ErrorCode::crypto_error);
  CHECK(code([] { seal_to("short", "m", "c"); }) == tz::ErrorCode::crypto_error);
}
