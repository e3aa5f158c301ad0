// Users of the county server's HTTP API (SPEC §6, §11; decision 300): reviewers and admins of 人社局
// or 扶贫办, each with a region scope; passwords kept as salted scrypt hashes; sessions that expire;
// a lockout after repeated failed logins, kept in the server store so a restart does not reset it.
// Knows nothing of HTTP: serve maps these results to statuses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tz/sync/server_store.hpp"

namespace tz::sync {

struct UserPolicy {
  int64_t session_ms = 8LL * 3600 * 1000;        // a session lasts this long from login
  size_t max_failures = 5;                       // failed logins within the window that lock the account
  int64_t failure_window_ms = 15LL * 60 * 1000;  // the window, and how long a lockout lasts
  uint64_t kdf_n = 1ULL << 15;                   // scrypt N for new passwords (r = 8, p = 1)
};

// "reviewer" / "admin"; "rsj" / "fpb" (also 人社局 / 扶贫办, returned as the code); nullopt otherwise.
std::optional<std::string> parse_role(std::string_view text);
std::optional<std::string> parse_agency(std::string_view text);
std::string agency_label(const std::string& code, Lang lang);  // 人社局 / 扶贫办
std::string role_label(const std::string& code, Lang lang);    // 审核员 / 管理员

// Adds a user. invalid_input for a bad name (1–32 characters, no spaces or control characters),
// role, agency, empty scope or a password shorter than 8 characters; already_exists when the name
// is taken.
Result<UserRecord> add_user(ServerStore& store, const std::string& name, const std::string& role,
                            const std::string& agency, const Scope& scope, std::string_view password, int64_t now_ms,
                            const UserPolicy& policy = {});
// Disables (or enables again) a user; disabling ends the user's sessions. not_found for an unknown name.
Status set_user_disabled(ServerStore& store, const std::string& name, bool disabled);

struct Session {
  std::string token;  // what the client sends as "Authorization: Bearer TOKEN"
  UserRecord user;
  int64_t expires_ms = 0;
};

// Checks the password. unauthenticated for an unknown or disabled user or a wrong password (one
// message for all three); locked_out while max_failures failures lie within the window (even with
// the right password). A failure is recorded; a success clears them.
Result<Session> login(ServerStore& store, const std::string& name, std::string_view password, int64_t now_ms,
                      const UserPolicy& policy = {});
// The user of a session token: unauthenticated when the token is unknown, ended, expired or its
// user disabled.
Result<UserRecord> session_user(ServerStore& store, std::string_view token, int64_t now_ms);
// Ends the session (unknown tokens are ignored).
Status logout(ServerStore& store, std::string_view token);

// Whether the user's scope holds one of the villages; a scope holding the county code (6 digits)
// holds everything, including records whose villages are unknown.
bool user_covers(const UserRecord& u, const std::vector<std::string>& villages);
// Whether the user's scope holds the region code (a scope code that prefixes it).
bool user_covers_region(const UserRecord& u, std::string_view code);

}  // namespace tz::sync
