// `sync-server serve`: the county server over HTTPS (SPEC §6, §11; decision 70). One SyncServer at a
// time over the folder's server store (requests serialised by a mutex: SyncServer is not
// thread-safe); nothing is kept across requests that the admin commands, running beside serve on
// the same folder, may change — the validation context (region tree, period, today) is rebuilt when
// the store's configuration changed, checked at every request.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "tz/cli/output.hpp"
#include "tz/ops/resources.hpp"

namespace tz::server_cli {

struct ServeOptions {
  std::filesystem::path dir;
  std::string host = "127.0.0.1";  // decision 70: loopback unless the admin opens it
  int port = 8443;
  bool plain_http = false;
  std::string cert_file, key_file;  // both or neither; the certificate must be signed by the server key
  size_t threads = 32;
  size_t max_threads = 256;  // decision 121: more workers while connections find none idle
  size_t max_body = size_t{64} << 20;
  int timeout_s = 30;
  int64_t session_ms = 8LL * 3600 * 1000;  // how long a login session of the review API lasts
};

// An exclusive lock on DIR/serve.lock (flock), held by `serve` for as long as it runs: a second
// `serve` on the same folder, and `restore` into it, are refused while one runs. acquire() gives
// nullptr when another process holds it (and a lock holding nothing when DIR does not exist yet).
class ServeLock {
 public:
  static Result<std::unique_ptr<ServeLock>> acquire(const std::filesystem::path& dir);
  ~ServeLock();
  ServeLock(const ServeLock&) = delete;
  ServeLock& operator=(const ServeLock&) = delete;

 private:
  explicit ServeLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (host 0.0.0.0); false when it is none of those.
bool parse_listen(const std::string& text, std::string& host, int& port);

// Serves until SIGTERM or SIGINT; returns the exit code (0 after a clean stop). A user error (no
// server in the folder, a certificate not signed by the server key, an address that cannot be
// bound) throws cli::CliError with exit code 1.
int serve(const ServeOptions& o, const ops::Resources& res, const cli::Io& io);

}  // namespace tz::server_cli
