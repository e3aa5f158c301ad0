// HTTP(S) for taizhang over Debian's cpp-httplib 0.11.4. This layer is the only place that includes
// httplib.h (and only in its .cpp files, compiled with the flags of the cpp-httplib pkg-config file,
// SPEC §2); no httplib or OpenSSL type appears here.
//
// HttpServer serves registered handlers over TLS (a certificate and key given as PEM) or plain HTTP,
// with a bounded task queue (503 beyond it), read/write timeouts, keep-alive limits, a payload
// limit (413) and an exception handler (500 with a JSON body; the handler's exception is logged to
// stderr). HttpTransport is the device side: one kept-alive connection to the server, pinned to the
// server's Ed25519 signing key (the TLS certificate must be signed by it, SPEC §6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "tz/sync/transport.hpp"
#include "tz/util/error.hpp"

namespace tz::net {

struct HttpRequest {
  std::string method, path, body, remote_addr;
  std::multimap<std::string, std::string> headers;  // as received (names as the client spelt them)
  std::multimap<std::string, std::string> params;   // the query string's parameters, decoded
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/octet-stream";
  std::string body;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port (start() returns the one bound)
  bool tls = true;
  std::string cert_pem, key_pem;  // required when tls
  size_t threads = 32;            // worker threads started at once; each serves one connection at a time
  size_t max_threads = 256;       // more are started while connections find none idle, up to this
  size_t max_queued = 256;        // connections waiting once max_threads are busy; beyond it, 503
  size_t max_body = 64u << 20;    // request payload limit; beyond it, 413 and the handler never runs
  int read_timeout_s = 30, write_timeout_s = 30;
  int keep_alive_max = 100;       // requests on one connection
  int keep_alive_timeout_s = 2;   // idle seconds before the server closes a kept-alive connection
};

// Handlers may be called from several worker threads at once. A handler that throws gets its
// request answered with 500 and {"error": ..., "status": 500}; the server goes on serving.
// Statuses >= 400 that the server makes itself (404, 413, 503, 400) carry a JSON body of the same
// shape; a handler's own error responses are sent as the handler made them.
class HttpServer {
 public:
  explicit HttpServer(ServerOptions o);
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register before start(). path is matched exactly (no patterns).
  void get(const std::string& path, Handler h);
  void post(const std::string& path, Handler h);

  // Binds, listens on a thread and waits until it serves; returns the port. invalid_input for a
  // bad certificate or key; io_error when the address cannot be bound. Once only.
  Result<int> start();
  // Stops accepting, lets the workers finish (a kept-alive idle connection is closed within about
  // keep_alive_timeout_s) and joins. Idempotent.
  void stop();

  // Connections answered 503 because the task queue was full (for /metrics and tests).
  uint64_t rejected_busy() const;
  // Connections accepted and waiting for a worker now (only once max_threads are busy).
  size_t waiting() const;
  // Connections being served now, and worker threads started (threads <= workers <= max_threads).
  size_t active() const;
  size_t workers() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ClientOptions {
  int connect_timeout_s = 5, read_timeout_s = 30, write_timeout_s = 30;
  // http:// URLs are refused unless this is set and no key is pinned (loopback tests, SPEC §6).
  bool allow_plain = false;
};

// POSTs sync frames to BASE_URL + "/api/v1/sync" on one kept-alive connection. A request that
// fails with a read or write error on a reused connection (closed by the server meanwhile) is sent
// once more on a fresh connection. base_url: "https://HOST[:PORT]" or "http://HOST[:PORT]", optionally with
// a path prefix; IPv6 hosts in brackets. https:// requires pinned_sign_pub (the server's raw
// 32-byte Ed25519 signing key): the handshake is refused unless the server's certificate is
// signed by it, whatever CA or name it claims.
//
// Errors (messages in Chinese and English naming the URL):
//  - ErrorCode::server_identity: the certificate is not signed by the pinned key ("服务器证书与登记时
//    的不一致…" / "the server's certificate is not signed by the key pinned at enrolment…"); nothing
//    was sent;
//  - ErrorCode::network: nothing came back (connect, TLS, read or write failure, timeout), or an
//    HTTP status other than 200 whose body is not a protocol frame (413, 503, 500, 404 ...; the
//    message gives the status and the start of the server's JSON error).
// A reply with Content-Type application/octet-stream is a protocol frame and is returned whatever
// its status (a refusal by the server is a reply). A bad URL or a missing pin: invalid_input.
//
// Thread safety: calls are serialised internally; the counters may be read from any thread.
class HttpTransport final : public tz::sync::Transport {
 public:
  HttpTransport(std::string base_url, std::string pinned_sign_pub, ClientOptions o = {});
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  Result<std::string> exchange(std::string_view request) override;           // POST /api/v1/sync
  Result<std::string> post(const std::string& path, std::string_view body);  // e.g. /api/v1/enrol
  Result<std::string> get(const std::string& path);                          // e.g. /healthz
  // Sends "Authorization: Bearer TOKEN" with every later request (a review API session); empty: none.
  void set_bearer_token(std::string token);

  // HTTP message bytes both ways, counted from what httplib reports after each exchange: the
  // request line, every header line as sent, the blank line and the body; the status line, every
  // header line as received, the blank line and the body (responses are never compressed: the
  // transport sends Accept-Encoding: identity). TLS record overhead and handshakes are not counted.
  uint64_t bytes_sent() const;
  uint64_t bytes_received() const;
  // Completed TLS handshakes (for http://, TCP connections opened).
  uint64_t handshakes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tz::net
