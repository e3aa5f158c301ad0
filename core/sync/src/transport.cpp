#include "tz/sync/transport.hpp"

#include "tz/sync/server.hpp"

namespace tz::sync {

Result<std::string> LoopbackTransport::exchange(std::string_view request) { return server_.handle(request); }

}  // namespace tz::sync
