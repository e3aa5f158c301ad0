// How a device reaches the server: one request's bytes out, one reply's bytes back (a sealed
// protocol frame each way). HTTP (Sync II) and USB bundles implement it; LoopbackTransport calls a
// SyncServer in the same process. A transport failure (nothing came back) is an error; a refusal by
// the server is a reply.
#pragma once

#include <string>
#include <string_view>

#include "tz/util/error.hpp"

namespace tz::sync {

class SyncServer;

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends a request frame and returns the reply frame. ErrorCode::network when nothing came back.
  virtual Result<std::string> exchange(std::string_view request) = 0;
};

// In-process: hands the bytes to SyncServer::handle. Not thread-safe (neither is the server).
class LoopbackTransport final : public Transport {
 public:
  explicit LoopbackTransport(SyncServer& server) : server_(server) {}
  Result<std::string> exchange(std::string_view request) override;

 private:
  SyncServer& server_;
};

}  // namespace tz::sync
