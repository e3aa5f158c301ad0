// tz::net over real loopback sockets: TLS with a certificate signed by the pinned Ed25519 key, a
// different certificate on the same address refused (MITM), the payload limit, a throwing handler,
// the bounded task queue's 503, plain HTTP only when allowed, byte and handshake counters, stop.
// Every server binds 127.0.0.1 port 0; synchronisation is by promises, never by sleeping.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_keys.hpp"
#include "tz/crypto/tls.hpp"
#include "tz/net/http.hpp"

using namespace tz::net;

namespace {

ServerOptions tls_options(const tz::test::TestKeyPair& signer) {
  auto id = tz::crypto::make_tls_identity(signer.priv, "127.0.0.1", 1);
  ServerOptions o;
  o.cert_pem = id.cert_pem;
  o.key_pem = id.key_pem;
  o.threads = 2;
  o.keep_alive_timeout_s = 1;
  return o;
}

struct EchoServer {
  std::atomic<int> calls{0};
  HttpServer server;
  int port = 0;

  explicit EchoServer(ServerOptions o, int fixed_port = 0) : server([&] {
      o.port = fixed_port;
      return o;
    }()) {
    server.post("/api/v1/sync", [this](const HttpRequest& r) {
      ++calls;
      HttpResponse res;
      res.body = "echo:" + r.body;
      return res;
    });
    server.post("/boom", [this](const HttpRequest&) -> HttpResponse {
      ++calls;
      throw std::runtime_error("handler exploded on purpose");
    });
    server.get("/healthz", [](const HttpRequest&) {
      HttpResponse res;
      res.content_type = "text/plain";
      res.body = "ok";
      return res;
    });
    auto p = server.start();
    REQUIRE(p.ok());
    port = *p;
  }
  std::string https() const { return "https://127.0.0.1:" + std::to_string(port); }
};

bool mentions(const tz::Error& e, std::string_view s) {
  return e.message(tz::Lang::en).find(s) != std::string::npos && e.message(tz::Lang::zh).size() > 0;
}

}  // namespace

TEST_CASE("net: the pinned server echoes over TLS on one kept-alive connection", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  EchoServer es(tls_options(signer));
  HttpTransport t(es.https(), signer.pub);
  auto r1 = t.exchange("hello");
  REQUIRE(r1.ok());
  CHECK(*r1 == "echo:hello");
  std::string big(100000, 'x');
  auto r2 = t.exchange(big);
  REQUIRE(r2.ok());
  CHECK(*r2 == "echo:" + big);
  CHECK(es.calls == 2);
  CHECK(t.handshakes() == 1);
  // Bodies plus request and status lines and headers: more than the bodies, not much more.
  uint64_t bodies_out = 5 + big.size(), bodies_in = 10 + 5 + big.size();
  CHECK(t.bytes_sent() > bodies_out + 2 * 40);
  CHECK(t.bytes_sent() < bodies_out + 2 * 400);
  CHECK(t.bytes_received() > bodies_in + 2 * 40);
  CHECK(t.bytes_received() < bodies_in + 2 * 400);
  auto h = t.get("/healthz");
  REQUIRE(h.ok());
  CHECK(*h == "ok");
  CHECK(t.handshakes() == 1);
}

TEST_CASE("net: a certificate not signed by the pinned key is refused and no handler runs", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  auto intruder = tz::test::ed25519_test_key();
  int port = 0;
  {
    EchoServer genuine(tls_options(signer));
    port = genuine.port;
    HttpTransport first(genuine.https(), signer.pub);
    REQUIRE(first.exchange("before").ok());
    genuine.server.stop();
  }
  // An impostor takes over the same address with its own certificate (self-issued under the same
  // issuer name, signed by another Ed25519 key).
  EchoServer impostor(tls_options(intruder), port);
  REQUIRE(impostor.port == port);
  HttpTransport t("https://127.0.0.1:" + std::to_string(port), signer.pub);
  auto r = t.exchange("secret frame");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == tz::ErrorCode::server_identity);
  CHECK(mentions(r.error(), "not signed by the key pinned at enrolment"));
  CHECK(r.error().message(tz::Lang::zh).find("服务器证书与登记时的不一致") != std::string::npos);
  CHECK(mentions(r.error(), "127.0.0.1:" + std::to_string(port)));
  CHECK(impostor.calls == 0);
  CHECK(t.handshakes() == 0);
  CHECK(t.bytes_sent() == 0);

  // The same impostor is accepted by a device that pinned its key: the refusal is the pin's doing.
  HttpTransport theirs(impostor.https(), intruder.pub);
  CHECK(theirs.exchange("x").ok());
  CHECK(impostor.calls == 1);
}

TEST_CASE("net: an oversized body gets 413 and the handler never runs", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  auto o = tls_options(signer);
  o.max_body = 1024;
  EchoServer es(o);
  HttpTransport t(es.https(), signer.pub);
  auto r = t.exchange(std::string(4096, 'z'));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == tz::ErrorCode::sync_refused);
  CHECK(mentions(r.error(), "413"));
  CHECK(es.calls == 0);
  auto ok = t.exchange(std::string(1000, 'a'));
  REQUIRE(ok.ok());
  CHECK(es.calls == 1);
}

TEST_CASE("net: a throwing handler gets 500 with a JSON error and the server goes on", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  EchoServer es(tls_options(signer));
  HttpTransport t(es.https(), signer.pub);
  auto r = t.post("/boom", "x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == tz::ErrorCode::network);
  CHECK(mentions(r.error(), "(500)"));
  CHECK(mentions(r.error(), "\"error\":\"internal error: handler exploded on purpose\""));
  auto again = t.exchange("still here");
  REQUIRE(again.ok());
  CHECK(*again == "echo:still here");
  auto missing = t.post("/api/v1/nothing", "x");
  REQUIRE_FALSE(missing.ok());
  CHECK(mentions(missing.error(), "(404)"));
  CHECK(missing.error().code() == tz::ErrorCode::sync_refused);
  CHECK(es.calls == 2);
}

TEST_CASE("net: beyond the bounded queue a connection gets 503 without running a handler", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  auto o = tls_options(signer);
  o.threads = 1;
  o.max_threads = 1;  // no worker started beyond the one (decision 121)
  o.max_queued = 0;
  HttpServer server(o);
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> slow_calls{0}, echo_calls{0};
  server.post("/slow", [&](const HttpRequest&) {
    if (++slow_calls == 1) {
      entered.set_value();
      released.wait();
    }
    return HttpResponse{200, "application/octet-stream", "slow done"};
  });
  server.post("/api/v1/sync", [&](const HttpRequest& r) {
    ++echo_calls;
    return HttpResponse{200, "application/octet-stream", r.body};
  });
  auto port = server.start();
  REQUIRE(port.ok());
  std::string url = "https://127.0.0.1:" + std::to_string(*port);

  auto first = std::async(std::launch::async, [&] {
    HttpTransport a(url, signer.pub);
    return a.post("/slow", "a");
  });
  entered.get_future().wait();  // the only worker is busy inside /slow
  {
    HttpTransport b(url, signer.pub);
    auto r = b.exchange("b");
    REQUIRE_FALSE(r.ok());
    CHECK(mentions(r.error(), "(503)"));
    CHECK(echo_calls == 0);
    CHECK(server.rejected_busy() == 1);
  }
  release.set_value();
  auto a = first.get();
  REQUIRE(a.ok());
  CHECK(*a == "slow done");
  // The worker is free again once it has seen client a close its connection: b's retry is served
  // (a retry that comes before the worker noticed is answered 503 again, as a device would see it).
  HttpTransport c(url, signer.pub);
  auto ok = c.exchange("c");
  for (int tries = 0; !ok.ok() && mentions(ok.error(), "(503)") && tries < 10000; ++tries) {
    std::this_thread::yield();
    ok = c.exchange("c");
  }
  REQUIRE(ok.ok());
  CHECK(*ok == "c");
  CHECK(slow_calls == 1);
}

TEST_CASE("net: a connection that finds no worker idle gets a new one up to max_threads and then 503", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  auto o = tls_options(signer);
  o.threads = 1;
  o.max_threads = 2;
  o.max_queued = 0;
  HttpServer server(o);
  std::promise<void> first_in, second_in, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  server.post("/slow", [&](const HttpRequest&) {
    const int n = ++calls;
    if (n == 1) first_in.set_value();
    if (n == 2) second_in.set_value();
    if (n <= 2) released.wait();
    return HttpResponse{200, "application/octet-stream", "done"};
  });
  auto port = server.start();
  REQUIRE(port.ok());
  std::string url = "https://127.0.0.1:" + std::to_string(*port);
  auto slow = [&] {
    HttpTransport t(url, signer.pub);
    return t.post("/slow", "x");
  };
  auto a = std::async(std::launch::async, slow);
  first_in.get_future().wait();  // the first worker is held
  CHECK(server.workers() == 1);
  auto b = std::async(std::launch::async, slow);
  second_in.get_future().wait();  // served all the same, by a second worker
  CHECK(server.workers() == 2);
  CHECK(server.active() == 2);
  {
    HttpTransport c(url, signer.pub);  // beyond max_threads and the queue: 503
    auto r = c.post("/slow", "x");
    REQUIRE_FALSE(r.ok());
    CHECK(mentions(r.error(), "(503)"));
  }
  release.set_value();
  REQUIRE(a.get().ok());
  REQUIRE(b.get().ok());
  CHECK(server.workers() == 2);
  CHECK(calls == 2);
}

TEST_CASE("net: a kept-alive connection is closed after its reply when another connection waits for a worker", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  auto o = tls_options(signer);
  o.threads = 1;
  o.max_threads = 1;  // connections wait only once every worker allowed is busy
  o.max_queued = 4;
  o.keep_alive_timeout_s = 30;  // without the rule, b would wait this long behind a's idle connection
  HttpServer server(o);
  std::promise<void> second_entered;
  std::atomic<int> calls{0};
  server.post("/api/v1/sync", [&](const HttpRequest& r) {
    // a's second request answers only once b's connection is queued behind it.
    if (++calls == 2) {
      second_entered.set_value();
      while (server.waiting() == 0) std::this_thread::yield();
    }
    return HttpResponse{200, "application/octet-stream", r.body};
  });
  auto port = server.start();
  REQUIRE(port.ok());
  std::string url = "https://127.0.0.1:" + std::to_string(*port);
  HttpTransport a(url, signer.pub);
  REQUIRE(a.exchange("a1").ok());  // alone: the connection is kept
  auto a2 = std::async(std::launch::async, [&] { return a.exchange("a2"); });
  second_entered.get_future().wait();
  auto b = std::async(std::launch::async, [&] {
    HttpTransport tb(url, signer.pub);
    return tb.exchange("b");
  });
  REQUIRE(a2.get().ok());
  auto rb = b.get();  // served once a's connection was closed, not after a's 30 s keep-alive
  REQUIRE(rb.ok());
  CHECK(*rb == "b");
  CHECK(a.handshakes() == 1);
  REQUIRE(a.exchange("a3").ok());
  CHECK(a.handshakes() == 2);  // a reconnected: its connection was closed after "a2"
  CHECK(server.rejected_busy() == 0);
}

TEST_CASE("net: plain HTTP only when explicitly allowed and nothing is pinned", "[net]") {
  ServerOptions o;
  o.tls = false;
  o.threads = 2;
  EchoServer es(o);
  std::string url = "http://127.0.0.1:" + std::to_string(es.port);

  auto refused = HttpTransport(url, "").exchange("x");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == tz::ErrorCode::invalid_input);
  auto signer = tz::test::ed25519_test_key();
  ClientOptions allow;
  allow.allow_plain = true;
  auto pinned_plain = HttpTransport(url, signer.pub, allow).exchange("x");
  REQUIRE_FALSE(pinned_plain.ok());
  CHECK(pinned_plain.error().code() == tz::ErrorCode::invalid_input);
  CHECK(es.calls == 0);

  HttpTransport t(url, "", allow);
  auto r = t.exchange("plain");
  REQUIRE(r.ok());
  CHECK(*r == "echo:plain");
  CHECK(t.handshakes() == 1);  // connections, for http://
  CHECK(t.bytes_sent() > 5);

  // A TLS client to a plain server: nothing useful comes back.
  HttpTransport tls_to_plain("https://127.0.0.1:" + std::to_string(es.port), signer.pub);
  auto bad = tls_to_plain.exchange("x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == tz::ErrorCode::network);
}

TEST_CASE("net: bad URLs a missing pin and bad TLS material are refused up front", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  for (const char* url : {"ftp://x", "https://", "https://host:99999", "https://host:x", "127.0.0.1:80"}) {
    auto r = HttpTransport(url, signer.pub).exchange("x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == tz::ErrorCode::invalid_input);
    CHECK(mentions(r.error(), url));
  }
  auto nopin = HttpTransport("https://127.0.0.1:1", "").exchange("x");
  REQUIRE_FALSE(nopin.ok());
  CHECK(nopin.error().code() == tz::ErrorCode::invalid_input);

  ServerOptions o = tls_options(signer);
  o.key_pem = tz::crypto::make_tls_identity(signer.priv, "127.0.0.1", 1).key_pem;  // another key
  HttpServer mismatched(o);
  auto r = mismatched.start();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == tz::ErrorCode::invalid_input);
  CHECK(mentions(r.error(), "does not match"));
  ServerOptions garbage;
  garbage.cert_pem = "not a certificate";
  garbage.key_pem = "not a key";
  auto g = HttpServer(garbage).start();
  REQUIRE_FALSE(g.ok());
  CHECK(mentions(g.error(), "not valid PEM"));
}

TEST_CASE("net: a connection refused names the URL and stop joins with a client attached", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  auto es = std::make_unique<EchoServer>(tls_options(signer));
  std::string url = es->https();
  HttpTransport t(url, signer.pub);
  REQUIRE(t.exchange("x").ok());
  es->server.stop();  // with t's kept-alive connection open
  es->server.stop();  // idempotent
  es.reset();
  auto r = t.exchange("y");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == tz::ErrorCode::network);
  CHECK(mentions(r.error(), url + "/api/v1/sync"));
}

TEST_CASE("net: small exchanges on an open connection cost a few hundred bytes each", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  EchoServer es(tls_options(signer));
  HttpTransport t(es.https(), signer.pub);
  REQUIRE(t.exchange("warm up").ok());
  uint64_t sent0 = t.bytes_sent(), recv0 = t.bytes_received();
  auto t0 = std::chrono::steady_clock::now();
  const int n = 50;
  std::string frame(120, 'f');  // about the size of a one-field edit push
  for (int i = 0; i < n; ++i) REQUIRE(t.exchange(frame).ok());
  auto ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count() / 1000.0;
  uint64_t per_round_trip = (t.bytes_sent() - sent0 + t.bytes_received() - recv0) / n;
  WARN("round trip: " << ms / n << " ms, " << per_round_trip << " HTTP bytes");
  CHECK(t.handshakes() == 1);
  CHECK(per_round_trip < 2 * frame.size() + 600);
}

TEST_CASE("net: a regenerated certificate signed by the same key keeps the device connected", "[net]") {
  auto signer = tz::test::ed25519_test_key();
  auto first = std::make_unique<EchoServer>(tls_options(signer));
  int port = first->port;
  HttpTransport t(first->https(), signer.pub);
  REQUIRE(t.exchange("one").ok());
  // The server restarts with a fresh TLS key and certificate from the same signer. The transport's
  // kept-alive connection is now dead: the next exchange notices, reconnects once and is accepted.
  first.reset();
  EchoServer second(tls_options(signer), port);
  auto r = t.exchange("two");
  if (!r.ok()) FAIL(r.error().message(tz::Lang::en));
  CHECK(*r == "echo:two");
  CHECK(t.handshakes() == 2);
  CHECK(second.calls == 1);
}
