// HttpServer and HttpTransport over cpp-httplib 0.11.4 (Debian's shared library: this file is
// compiled with the cflags of its pkg-config file, so the class layouts match the library's).
#include "tz/net/http.hpp"

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tz/crypto/tls.hpp"

namespace tz::net {
namespace {

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string json_error(int status, std::string_view message) {
  return "{\"error\":\"" + json_escape(message) + "\",\"status\":" + std::to_string(status) + "}";
}

const char* reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "no such endpoint";
    case 405: return "method not allowed";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 416: return "range not satisfiable";
    case 503: return "server busy";
    default: return status >= 500 ? "server error" : "request refused";
  }
}

// httplib matches handler paths as regular expressions; taizhang paths are literal.
std::string literal_pattern(const std::string& path) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{})";
  std::string out;
  for (char c : path) {
    if (kSpecial.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// Set on the thread that answers connections the bounded queue had no room for: the pre-routing
// handler answers every request there with 503 before its body is read.
thread_local bool t_busy_lane = false;

// httplib's ThreadPool queues without bound and has a fixed number of workers, each serving one
// connection until it closes: a client that connects and stalls (a started TLS handshake, a request
// line it never finishes) holds its worker for up to the read timeout, and as many stalled clients as
// workers stopped every device (decision 87). This queue starts `threads` workers and, when a
// connection arrives with no worker idle, starts another, up to `max_threads` (decision 121): the
// stalled clients hold threads, not the service. Beyond max_threads at most `max_queued` connections
// wait; a connection beyond that goes to one "busy lane" thread that answers 503 (Connection: close)
// without running a handler. The busy lane has its own bound; past it the acceptor waits for room,
// so the kernel's listen backlog takes the pressure. Workers, once started, stay until shutdown
// (a bounded number of threads asleep on a condition variable).
class BoundedTaskQueue final : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t threads, size_t max_threads, size_t max_queued, std::atomic<uint64_t>& rejected,
                   std::atomic<size_t>& waiting, std::atomic<size_t>& active, std::atomic<size_t>& workers)
      : max_threads_(std::max(threads, max_threads)),
        capacity_(max_threads_ + max_queued),
        busy_cap_(std::max<size_t>(16, max_queued)),
        rejected_(rejected),
        waiting_(waiting),
        active_gauge_(active),
        workers_gauge_(workers) {
    std::lock_guard<std::mutex> lk(mu_);
    for (size_t i = 0; i < threads; ++i) start_worker();
    busy_lane_ = std::thread([this] { run(busy_jobs_, true); });
  }
  ~BoundedTaskQueue() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      if (jobs_.size() + active_ < capacity_) {
        jobs_.push_back(std::move(fn));
        if (jobs_.size() > idle_ && workers_.size() < max_threads_) start_worker();
        publish();
        break;
      }
      if (busy_jobs_.size() < busy_cap_) {
        busy_jobs_.push_back(std::move(fn));
        rejected_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      room_.wait(lk);
    }
    lk.unlock();
    work_.notify_all();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      shutdown_ = true;
    }
    work_.notify_all();
    // No worker starts once shutdown_ is set (enqueue is not called after shutdown).
    for (auto& t : workers_) t.join();
    busy_lane_.join();
  }

 private:
  void start_worker() {  // under mu_
    ++idle_;  // idle from now on, before the thread runs: the next connection does not start another
    workers_.emplace_back([this] { run(jobs_, false); });
    workers_gauge_.store(workers_.size(), std::memory_order_relaxed);
  }
  // The gauges: connections waiting for a worker (only when every worker allowed is busy; read by
  // the handlers for fairness) and connections being served. Under mu_.
  void publish() {
    waiting_.store(workers_.size() >= max_threads_ && jobs_.size() > idle_ ? jobs_.size() - idle_ : 0, std::memory_order_relaxed);
    active_gauge_.store(active_, std::memory_order_relaxed);
  }

  void run(std::deque<std::function<void()>>& queue, bool busy_lane) {
    t_busy_lane = busy_lane;
    for (bool counted = !busy_lane;;) {  // start_worker counted a worker idle already
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lk(mu_);
        if (!busy_lane && !counted) ++idle_;
        counted = false;
        work_.wait(lk, [&] { return !queue.empty() || shutdown_; });
        if (!busy_lane) --idle_;
        if (queue.empty()) return;  // shut down and drained
        fn = std::move(queue.front());
        queue.pop_front();
        if (!busy_lane) {
          ++active_;
          publish();
        }
      }
      fn();  // serves the connection and closes its socket
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (!busy_lane) {
          --active_;
          publish();
        }
      }
      room_.notify_all();
    }
  }

  const size_t max_threads_, capacity_, busy_cap_;
  std::atomic<uint64_t>& rejected_;
  std::atomic<size_t>& waiting_;
  std::atomic<size_t>& active_gauge_;
  std::atomic<size_t>& workers_gauge_;
  std::mutex mu_;
  std::condition_variable work_, room_;
  std::deque<std::function<void()>> jobs_, busy_jobs_;
  size_t active_ = 0, idle_ = 0;
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
  std::thread busy_lane_;
};

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return {};
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpServer

struct HttpServer::Impl {
  ServerOptions o;
  std::unique_ptr<httplib::Server> svr;
  std::string tls_error;  // why the TLS context could not be set up
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::atomic<uint64_t> rejected{0};
  std::atomic<size_t> waiting{0}, active{0}, workers{0};
  bool started = false;
  std::mutex stop_mu;

  bool setup_tls(SSL_CTX& ctx) {
    BIO* cb = BIO_new_mem_buf(o.cert_pem.data(), static_cast<int>(o.cert_pem.size()));
    X509* cert = cb ? PEM_read_bio_X509(cb, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(o.key_pem.data(), static_cast<int>(o.key_pem.size()));
    EVP_PKEY* key = kb ? PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(kb);
    bool ok = false;
    if (!cert) {
      tls_error = bilingual("TLS 证书不是有效的 PEM", "the TLS certificate is not valid PEM");
    } else if (!key) {
      tls_error = bilingual("TLS 私钥不是有效的 PEM", "the TLS private key is not valid PEM");
    } else if (SSL_CTX_use_certificate(&ctx, cert) != 1 || SSL_CTX_use_PrivateKey(&ctx, key) != 1 ||
               SSL_CTX_check_private_key(&ctx) != 1) {
      tls_error = bilingual("TLS 私钥与证书不匹配", "the TLS private key does not match the certificate");
    } else {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      ok = true;
    }
    if (!ok) openssl_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
  }
};

// A write to a connection the other side closed (a client gone mid-reply, a server that dropped an
// idle keep-alive connection) raises SIGPIPE inside OpenSSL or httplib, which would end the whole
// process: a sync server or a collector's sync. Both sides read the failed write as an error instead.
// Process-wide, once, by whichever of HttpServer or HttpTransport comes first.
static void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

HttpServer::HttpServer(ServerOptions o) : impl_(std::make_unique<Impl>()) {
  ignore_sigpipe();
  Impl& im = *impl_;
  im.o = std::move(o);
  if (im.o.threads == 0) im.o.threads = 1;
  if (im.o.keep_alive_max < 1) im.o.keep_alive_max = 1;
  if (im.o.tls) {
    im.svr = std::make_unique<httplib::SSLServer>([&im](SSL_CTX& ctx) { return im.setup_tls(ctx); });
  } else {
    im.svr = std::make_unique<httplib::Server>();
  }
  httplib::Server& s = *im.svr;
  s.set_payload_max_length(im.o.max_body);
  s.set_read_timeout(im.o.read_timeout_s, 0);
  s.set_write_timeout(im.o.write_timeout_s, 0);
  s.set_keep_alive_max_count(static_cast<size_t>(im.o.keep_alive_max));
  s.set_keep_alive_timeout(im.o.keep_alive_timeout_s);
  // httplib writes headers and body separately: without TCP_NODELAY, Nagle plus delayed ACKs add
  // ~40 ms to every exchange on a kept-alive connection (90 ms measured per round trip).
  s.set_tcp_nodelay(true);
  // The listening socket: SO_REUSEADDR (httplib's default is SO_REUSEPORT, which would let a second
  // process bind the same port and take half the connections), and TCP_DEFER_ACCEPT, so that a client
  // that connects and says nothing stays in the kernel for a while instead of holding a worker.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    int defer_s = 5;
    setsockopt(sock, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof defer_s);
  });
  s.new_task_queue = [&im] {
    return new BoundedTaskQueue(im.o.threads, im.o.max_threads, im.o.max_queued, im.rejected, im.waiting, im.active, im.workers);
  };
  s.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (!t_busy_lane) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 503;
    res.set_header("Connection", "close");
    res.set_header("Retry-After", "1");
    res.set_content(json_error(503, "server busy: too many connections waiting; retry later"), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const Failure& f) {
      what = f.error().message(Lang::en);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::cerr << "[taizhang http] " << req.method << ' ' << req.path << " from " << req.remote_addr
              << ": handler failed: " << what << std::endl;
    res.status = 500;
    res.set_content(json_error(500, "internal error: " + what), "application/json");
  });
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // the handler's own body
    res.set_content(json_error(res.status, reason(res.status)), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
}

HttpServer::~HttpServer() { stop(); }

namespace {

// Each worker serves one connection at a time and, kept alive, waits on it for the client's next
// request: with more clients than workers, those connected first would keep the workers and the others
// wait in the queue (p99 of a 20-device load was 6 s). So a reply is sent with Connection: close
// whenever other connections are waiting: the client reconnects (one TLS handshake, ~5 ms) behind
// them. A lone client keeps its connection.
httplib::Server::Handler wrap(Handler h, const std::atomic<size_t>* waiting) {
  return [h = std::move(h), waiting](const httplib::Request& req, httplib::Response& res) {
    HttpRequest in;
    in.method = req.method;
    in.path = req.path;
    in.body = req.body;
    in.remote_addr = req.remote_addr;
    for (const auto& [k, v] : req.headers) in.headers.emplace(k, v);
    for (const auto& [k, v] : req.params) in.params.emplace(k, v);
    HttpResponse out = h(in);
    if (waiting->load(std::memory_order_relaxed) > 0) res.set_header("Connection", "close");
    res.status = out.status;
    res.set_content(std::move(out.body), out.content_type.c_str());
  };
}

}  // namespace

void HttpServer::get(const std::string& path, Handler h) {
  impl_->svr->Get(literal_pattern(path), wrap(std::move(h), &impl_->waiting));
}
void HttpServer::post(const std::string& path, Handler h) {
  impl_->svr->Post(literal_pattern(path), wrap(std::move(h), &impl_->waiting));
}

uint64_t HttpServer::rejected_busy() const { return impl_->rejected.load(); }
size_t HttpServer::waiting() const { return impl_->waiting.load(); }
size_t HttpServer::active() const { return impl_->active.load(); }
size_t HttpServer::workers() const { return impl_->workers.load(); }

Result<int> HttpServer::start() {
  Impl& im = *impl_;
  if (im.started) return Error(ErrorCode::internal, {bilingual("服务器已经启动过", "the server was already started")});
  if (!im.svr->is_valid()) {
    return Error(ErrorCode::invalid_input,
                 {im.tls_error.empty() ? bilingual("无法建立 TLS 环境", "the TLS context could not be set up") : im.tls_error});
  }
  int port = im.o.port;
  if (port == 0) {
    port = im.svr->bind_to_any_port(im.o.host);
  } else if (!im.svr->bind_to_port(im.o.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::string where = im.o.host + ":" + std::to_string(im.o.port);
    return Error(ErrorCode::io_error, {bilingual("无法在 " + where + " 上监听（地址被占用或无效）",
                                                 "cannot listen on " + where + " (address in use or invalid)")});
  }
  im.started = true;
  im.thread = std::thread([&im] {
    im.svr->listen_after_bind();
    im.listen_returned = true;
  });
  // httplib 0.11.4 has no wait_until_ready(): poll is_running(), which listen_after_bind sets
  // before its accept loop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!im.svr->is_running()) {
    if (im.listen_returned || std::chrono::steady_clock::now() > deadline) {
      stop();
      return Error(ErrorCode::io_error, {bilingual("服务器未能开始监听", "the server did not start listening")});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return port;
}

void HttpServer::stop() {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lk(im.stop_mu);
  if (!im.thread.joinable()) return;
  // httplib's stop() acts only while is_running() (listen_after_bind sets it first thing) and must
  // be called once: a second call while the accept loop winds down trips its assertion in a build
  // that keeps asserts. start() returns only once it is running; its failure path may get here
  // earlier, so wait for one or the other.
  while (!im.listen_returned && !im.svr->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!im.listen_returned) im.svr->stop();
  im.thread.join();
}

// ---------------------------------------------------------------------------------------------
// HttpTransport

namespace {

struct Pin {
  std::string sign_pub;
  std::atomic<bool> refused{false};
};

// Replaces OpenSSL's chain verification for the client's context (SSL_CTX_set_cert_verify_callback,
// decision 51): the peer's leaf certificate must carry a signature by the pinned Ed25519 key. The
// pin travels as the callback's argument, so several transports never share state.
int verify_pinned(X509_STORE_CTX* store, void* arg) {
  auto* pin = static_cast<Pin*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  bool ok = false;
  if (leaf != nullptr) {
    unsigned char* der = nullptr;
    int n = i2d_X509(leaf, &der);
    if (n > 0) {
      ok = tz::crypto::certificate_signed_by(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(n)),
                                             pin->sign_pub);
    }
    OPENSSL_free(der);
  }
  if (!ok) {
    pin->refused = true;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_SIGNATURE_FAILURE);
  } else {
    X509_STORE_CTX_set_error(store, X509_V_OK);
  }
  return ok ? 1 : 0;
}

struct ParsedUrl {
  bool https = false;
  std::string host;
  int port = 0;
  std::string prefix;  // without a trailing '/'
};

std::optional<ParsedUrl> parse_url(const std::string& url) {
  ParsedUrl p;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    p.https = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) p.prefix = rest.substr(slash);
  while (!p.prefix.empty() && p.prefix.back() == '/') p.prefix.pop_back();
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    p.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port_text = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.find(':');
    p.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (p.host.empty() || authority.find('@') != std::string::npos) return std::nullopt;
  if (port_text.empty()) {
    p.port = p.https ? 443 : 80;
  } else {
    if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    p.port = std::stoi(port_text);
    if (p.port < 1 || p.port > 65535) return std::nullopt;
  }
  return p;
}

uint64_t header_bytes(const httplib::Headers& headers) {
  uint64_t n = 0;
  for (const auto& [k, v] : headers) n += k.size() + 2 + v.size() + 2;  // "k: v\r\n"
  return n;
}

}  // namespace

struct HttpTransport::Impl {
  std::string url;
  ClientOptions o;
  std::optional<Error> config_error;
  std::unique_ptr<Pin> pin;  // outlives the client (declared first, destroyed last)
  ParsedUrl parsed;
  std::unique_ptr<httplib::ClientImpl> cli;
  std::mutex mu;
  std::atomic<uint64_t> sent{0}, received{0}, connections{0};
  std::string bearer;  // guarded by mu

  Error network(const std::string& target, const std::string& zh, const std::string& en) const {
    return Error(ErrorCode::network, {bilingual(target + "：" + zh, target + ": " + en)});
  }

  Result<std::string> call(bool is_post, const std::string& path, std::string_view body) {
    std::lock_guard<std::mutex> lk(mu);
    if (config_error) return *config_error;
    std::string full = parsed.prefix + path;
    std::string target = url + path;
    httplib::Headers headers{{"Accept-Encoding", "identity"}};
    if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
    auto attempt = [&] {
      if (pin) pin->refused = false;
      return is_post ? cli->Post(full, headers, body.data(), body.size(), "application/octet-stream")
                     : cli->Get(full, headers);
    };
    uint64_t opened = connections.load();
    httplib::Result r = attempt();
    // A kept-alive connection the server has since closed (its idle timeout, a restart) fails on
    // first use, and httplib 0.11.4 does not notice beforehand. When the failed attempt ran on a
    // reused connection, retry once on a fresh one. Sync requests tolerate the rare case where the
    // server did process the first attempt: a repeated push is recognised as a retry and a
    // repeated signed request is answered stale_counter.
    if (!r && connections.load() == opened && (r.error() == httplib::Error::Write || r.error() == httplib::Error::Read)) {
      cli->stop();
      r = attempt();
    }
    if (!r) {
      if (pin && pin->refused) return Error(ErrorCode::server_identity, {url});
      httplib::Error e = r.error();
      std::string what = httplib::to_string(e);
      switch (e) {
        case httplib::Error::Connection:
          return network(target, "连接失败（" + what + "）", "could not connect (" + what + ")");
        case httplib::Error::ConnectionTimeout:
          return network(target, "连接超时", "connection timed out");
        case httplib::Error::SSLConnection:
          return network(target, "TLS 握手失败（" + what + "）", "the TLS handshake failed (" + what + ")");
        case httplib::Error::Read:
          return network(target, "读取回复失败或超时", "reading the reply failed or timed out");
        case httplib::Error::Write:
          return network(target, "发送请求失败或超时", "sending the request failed or timed out");
        default:
          return network(target, "请求失败（" + what + "）", "the request failed (" + what + ")");
      }
    }
    const httplib::Response& res = *r;
    if (res.status == 200 || res.get_header_value("Content-Type") == "application/octet-stream") return res.body;
    std::string excerpt = res.body.substr(0, 300);
    std::string status = std::to_string(res.status);
    std::string zh, en;
    switch (res.status) {
      case 413: zh = "请求过大，服务器拒收（413）"; en = "the request is too large for the server (413)"; break;
      case 503: zh = "服务器繁忙（503），请稍后重试"; en = "the server is busy (503); retry later"; break;
      case 500: zh = "服务器内部错误（500）"; en = "the server failed internally (500)"; break;
      case 404: zh = "服务器没有这个地址（404）"; en = "the server has no such endpoint (404)"; break;
      default: zh = "服务器回复 HTTP " + status; en = "the server answered HTTP " + status;
    }
    if (!excerpt.empty()) {
      zh += "：" + excerpt;
      en += ": " + excerpt;
    }
    // A busy or failing server may answer the next try; a request it refused as such (too large, an
    // unknown endpoint) would be refused again: not a network failure, so not retried.
    if (res.status >= 500) return network(target, zh, en);
    return Error(ErrorCode::sync_refused, {bilingual(target + "：" + zh, target + ": " + en)});
  }
};

HttpTransport::HttpTransport(std::string base_url, std::string pinned_sign_pub, ClientOptions o)
    : impl_(std::make_unique<Impl>()) {
  ignore_sigpipe();
  Impl& im = *impl_;
  im.url = std::move(base_url);
  while (!im.url.empty() && im.url.back() == '/') im.url.pop_back();
  im.o = o;
  auto parsed = parse_url(im.url);
  if (!parsed) {
    im.config_error = Error(ErrorCode::invalid_input,
                            {bilingual("服务器地址 " + im.url + " 无效（应为 https://主机[:端口]）",
                                       "server URL " + im.url + " is not valid (expected https://HOST[:PORT])")});
    return;
  }
  im.parsed = *parsed;
  if (im.parsed.https) {
    if (pinned_sign_pub.size() != 32) {
      im.config_error = Error(ErrorCode::invalid_input,
                              {bilingual("连接 " + im.url + " 需要登记时记下的服务器签名公钥（32 字节）",
                                         "connecting to " + im.url +
                                             " needs the server signing key pinned at enrolment (32 bytes)")});
      return;
    }
    im.pin = std::make_unique<Pin>();
    im.pin->sign_pub = std::move(pinned_sign_pub);
    auto ssl = std::make_unique<httplib::SSLClient>(im.parsed.host, im.parsed.port);
    // httplib's own verification (CA store, host name) is off; ours is on the context instead.
    ssl->enable_server_certificate_verification(false);
    SSL_CTX* ctx = ssl->ssl_context();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, verify_pinned, im.pin.get());
    im.cli = std::move(ssl);
  } else {
    if (!pinned_sign_pub.empty() || !im.o.allow_plain) {
      im.config_error = Error(ErrorCode::invalid_input,
                              {bilingual("不允许以明文 HTTP 连接 " + im.url + "，请使用 https://",
                                         "plain HTTP to " + im.url + " is not allowed; use https://")});
      return;
    }
    im.cli = std::make_unique<httplib::ClientImpl>(im.parsed.host, im.parsed.port);
  }
  httplib::ClientImpl& c = *im.cli;
  c.set_connection_timeout(o.connect_timeout_s, 0);
  c.set_read_timeout(o.read_timeout_s, 0);
  c.set_write_timeout(o.write_timeout_s, 0);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);  // see the server's
  c.set_compress(false);
  c.set_decompress(false);
  std::atomic<uint64_t>* connections = &im.connections;
  c.set_socket_options([connections](socket_t sock) {
    connections->fetch_add(1, std::memory_order_relaxed);
    httplib::default_socket_options(sock);
  });
  std::atomic<uint64_t>* sent = &im.sent;
  std::atomic<uint64_t>* received = &im.received;
  c.set_logger([sent, received](const httplib::Request& req, const httplib::Response& res) {
    // "METHOD PATH HTTP/1.1\r\n" + headers + "\r\n" + body
    uint64_t out = req.method.size() + 1 + req.path.size() + 11 + header_bytes(req.headers) + 2 + req.body.size();
    // "HTTP/1.1 STATUS REASON\r\n" + headers + "\r\n" + body
    uint64_t in = res.version.size() + 1 + std::to_string(res.status).size() + 1 + res.reason.size() + 2 +
                  header_bytes(res.headers) + 2 + res.body.size();
    sent->fetch_add(out, std::memory_order_relaxed);
    received->fetch_add(in, std::memory_order_relaxed);
  });
}

HttpTransport::~HttpTransport() {
  if (impl_->cli) impl_->cli->stop();
}

Result<std::string> HttpTransport::exchange(std::string_view request) {
  return impl_->call(true, "/api/v1/sync", request);
}
Result<std::string> HttpTransport::post(const std::string& path, std::string_view body) {
  return impl_->call(true, path, body);
}
Result<std::string> HttpTransport::get(const std::string& path) { return impl_->call(false, path, {}); }
void HttpTransport::set_bearer_token(std::string token) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->bearer = std::move(token);
}

uint64_t HttpTransport::bytes_sent() const { return impl_->sent.load(); }
uint64_t HttpTransport::bytes_received() const { return impl_->received.load(); }
uint64_t HttpTransport::handshakes() const {
  if (impl_->pin && impl_->cli) {
    return static_cast<uint64_t>(SSL_CTX_sess_connect_good(static_cast<httplib::SSLClient&>(*impl_->cli).ssl_context()));
  }
  return impl_->connections.load();
}

}  // namespace tz::net
