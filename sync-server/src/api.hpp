// The JSON API of `serve` for people (SPEC §11; decision 300): login and logout, and the review
// endpoints behind users, roles and region scopes — notices, quarantine (list, release, reject),
// conflicts and reconciliation. Every endpoint but login needs "Authorization: Bearer TOKEN";
// refusals are 401 (no, ended or expired session), 403 (wrong role, region out of scope), 429
// (account locked), with {"error": message, "code": name, "status": N} in Chinese, or English with
// "Accept-Language: en" or "?lang=en".
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "tz/net/http.hpp"
#include "tz/ops/resources.hpp"
#include "tz/sync/server.hpp"
#include "tz/sync/users.hpp"

namespace tz::server_cli {

struct ApiEnv {
  // Runs fn with the folder's server store and a SyncServer over it, serialised with every other
  // request on that store.
  std::function<void(const std::function<void(sync::ServerStore&, sync::SyncServer&)>&)> with_store;
  const ops::Resources* res = nullptr;
  std::filesystem::path dir;  // the data folder (reconciliation reads the county admin replica)
  sync::UserPolicy policy;
};

// A handler that also reports its outcome ("ok", "refused") for the request counters.
using CountedHandler = std::function<net::HttpResponse(const net::HttpRequest&, std::string& outcome)>;
// Wraps a counted handler with serve's request log and counters.
using Wrap = std::function<net::Handler(const std::string& route, CountedHandler h)>;

void add_api_routes(net::HttpServer& http, const ApiEnv& env, const Wrap& wrap);

}  // namespace tz::server_cli
