// tz::crypto: known-answer vectors (FIPS 180, RFC 4231, RFC 7914, GCM spec), the fast Hmac against
// the one-shot HMAC, and AES-256-GCM sealing, tamper detection and key-size checks.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tz/crypto/crypto.hpp"
#include "tz/util/error.hpp"

using namespace tz::crypto;

namespace {

std::string unhex(std::string_view h) {
  auto v = from_hex(h);
  REQUIRE(v.has_value());
  return *v;
}

template <typename F>
tz::ErrorCode code_thrown(F&& f) {
  try {
    f();
  } catch (const tz::Failure& e) {
    return e.error().code();
  }
  return tz::ErrorCode::ok;
}

}  // namespace

TEST_CASE("sha256 known answers", "[crypto]") {
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("hmac_sha256 RFC 4231 vectors", "[crypto]") {
  struct Vec {
    std::string key, data, mac;
  };
  const std::vector<Vec> vecs = {
      // Test case 1
      {std::string(20, '\x0b'), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      // Test case 2
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      // Test case 6: a key longer than the block is hashed first
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  for (const auto& v : vecs) {
    CHECK(to_hex(hmac_sha256(v.key, v.data)) == v.mac);
    Hmac h(v.key);
    CHECK(to_hex(h.mac(v.data)) == v.mac);
    unsigned char out[kSha256Size];
    h.mac_into(v.data, out);
    CHECK(to_hex(std::string(reinterpret_cast<const char*>(out), sizeof out)) == v.mac);
  }
}

TEST_CASE("Hmac equals hmac_sha256 on random inputs", "[crypto]") {
  // Key lengths around the 64-byte block boundary, including empty.
  for (size_t key_len : {0, 1, 16, 32, 63, 64, 65, 100, 200}) {
    std::string key = random_bytes(key_len);
    Hmac h(key);
    for (int i = 0; i < 200; ++i) {
      std::string data = random_bytes(static_cast<size_t>(i * 7 % 300));
      REQUIRE(h.mac(data) == hmac_sha256(key, data));
    }
  }
  // A moved object keeps working.
  Hmac a("k");
  Hmac b(std::move(a));
  CHECK(b.mac("x") == hmac_sha256("k", "x"));
}

TEST_CASE("scrypt RFC 7914 vectors", "[crypto]") {
  CHECK(to_hex(scrypt("", "", ScryptParams{16, 1, 1}, 64)) ==
        "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
        "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
  CHECK(to_hex(scrypt("password", "NaCl", ScryptParams{1024, 8, 16}, 64)) ==
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
        "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
  CHECK(scrypt("pw", "salt", ScryptParams{16, 1, 1}).size() == 32);
  CHECK(code_thrown([] { (void)scrypt("pw", "salt", ScryptParams{3, 8, 1}); }) == tz::ErrorCode::crypto_error);
}

TEST_CASE("scrypt default parameters fit the memory limit", "[crypto]") {
  CHECK(scrypt("correct horse", random_bytes(16), ScryptParams{}).size() == 32);
}

TEST_CASE("Aead opens the GCM specification vectors", "[crypto]") {
  Aead a(std::string(32, '\0'));
  const std::string nonce(12, '\0');
  // Test case 13: empty plaintext
  auto empty = a.open(nonce + unhex("530f8afbc74536b9a963b4f1c4cb738b"));
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  // Test case 14: one zero block
  auto block = a.open(nonce + unhex("cea7403d4d606b6e074ec5d3baf39d18") + unhex("d0d1c8a799996bf0265b98b5d48ab919"));
  REQUIRE(block.has_value());
  CHECK(*block == std::string(16, '\0'));
}

TEST_CASE("Aead round trip", "[crypto]") {
  const std::string key = random_bytes(kAeadKeySize);
  Aead a(key);
  for (size_t n : {0, 1, 15, 16, 17, 40, 1000, 70000}) {
    std::string pt = random_bytes(n);
    std::string sealed = a.seal(pt, "aad");
    CHECK(sealed.size() == n + kAeadOverhead);
    auto back = a.open(sealed, "aad");
    REQUIRE(back.has_value());
    CHECK(*back == pt);
    // The free functions agree with the object.
    CHECK(aead_open(key, sealed, "aad") == pt);
    CHECK(a.open(aead_seal(key, pt)) == pt);
  }
  // Two seals of the same plaintext differ (fresh nonce), also across nonce batches.
  std::vector<std::string> nonces;
  for (int i = 0; i < 300; ++i) nonces.push_back(a.seal("same").substr(0, kAeadNonceSize));
  std::sort(nonces.begin(), nonces.end());
  CHECK(std::adjacent_find(nonces.begin(), nonces.end()) == nonces.end());
}

TEST_CASE("Aead nonces are not reused across fork", "[crypto]") {
  Aead a(random_bytes(kAeadKeySize));
  (void)a.seal("warm");  // draws a batch of nonces before the fork
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string s = a.seal("child");
    ssize_t w = write(fds[1], s.data(), kAeadNonceSize);
    _exit(w == static_cast<ssize_t>(kAeadNonceSize) ? 0 : 1);
  }
  close(fds[1]);
  std::string child_nonce(kAeadNonceSize, '\0');
  ssize_t r = read(fds[0], child_nonce.data(), child_nonce.size());
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(r == static_cast<ssize_t>(kAeadNonceSize));
  CHECK(WIFEXITED(status));
  CHECK(a.seal("parent").substr(0, kAeadNonceSize) != child_nonce);
}

TEST_CASE("Aead rejects tampering and short input", "[crypto]") {
  const std::string key = random_bytes(kAeadKeySize);
  Aead a(key);
  const std::string pt = "110101199003077777 张三 13800138000";
  const std::string sealed = a.seal(pt, "row:42");

  auto flipped = [&](size_t i) {
    std::string s = sealed;
    s[i] = static_cast<char>(s[i] ^ 0x01);
    return s;
  };
  CHECK_FALSE(a.open(flipped(0), "row:42").has_value());                                  // nonce
  CHECK_FALSE(a.open(flipped(kAeadNonceSize), "row:42").has_value());                     // ciphertext
  CHECK_FALSE(a.open(flipped(sealed.size() - 5), "row:42").has_value());                  // ciphertext end
  CHECK_FALSE(a.open(flipped(sealed.size() - 1), "row:42").has_value());                  // tag
  CHECK_FALSE(a.open(sealed, "row:43").has_value());                                      // aad
  CHECK_FALSE(a.open(sealed).has_value());                                                // missing aad
  CHECK_FALSE(Aead(random_bytes(kAeadKeySize)).open(sealed, "row:42").has_value());       // wrong key
  CHECK_FALSE(a.open(sealed.substr(0, sealed.size() - 1), "row:42").has_value());         // truncated
  CHECK_FALSE(a.open(sealed.substr(0, kAeadOverhead - 1), "row:42").has_value());         // too short
  CHECK_FALSE(a.open("", "row:42").has_value());
  CHECK_FALSE(a.open(sealed + "x", "row:42").has_value());                                // extended
  // The object still works after failures.
  CHECK(a.open(sealed, "row:42") == pt);
}

TEST_CASE("wrong key sizes throw crypto_error", "[crypto]") {
  for (size_t n : {0, 16, 31, 33, 64}) {
    std::string key(n, 'k');
    CHECK(code_thrown([&] { Aead a(key); }) == tz::ErrorCode::crypto_error);
    CHECK(code_thrown([&] { (void)aead_seal(key, "x"); }) == tz::ErrorCode::crypto_error);
    CHECK(code_thrown([&] { (void)aead_open(key, std::string(40, 'x')); }) == tz::ErrorCode::crypto_error);
  }
}

TEST_CASE("random_bytes - constant_time_equal and hex", "[crypto]") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(33).size() == 33);
  CHECK(random_bytes(32) != random_bytes(32));

  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));

  for (int i = 0; i < 50; ++i) {
    std::string b = random_bytes(static_cast<size_t>(i));
    CHECK(from_hex(to_hex(b)) == b);
  }
  CHECK(to_hex(std::string("\x00\x7f\x80\xff", 4)) == "007f80ff");
  CHECK(from_hex("00FFaB") == std::string("\x00\xff\xab", 3));
  CHECK(from_hex("") == std::string());
  CHECK_FALSE(from_hex("abc").has_value());
  CHECK_FALSE(from_hex("zz").has_value());
  CHECK_FALSE(from_hex("0g").has_value());
}
