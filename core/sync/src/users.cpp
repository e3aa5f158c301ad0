// Users, sessions and the login lockout of the HTTP API (users.hpp; decision 300).
#include "tz/sync/users.hpp"

#include <algorithm>

#include "store_txn.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::sync {

namespace {

std::string session_id(std::string_view token) { return crypto::to_hex(crypto::sha256(token)); }

std::string hash_of(const UserRecord& u, std::string_view password) {
  return crypto::scrypt(password, u.salt, crypto::ScryptParams{u.kdf_n, u.kdf_r, u.kdf_p}, 32);
}

Error bad_login() {
  return Error(ErrorCode::unauthenticated, {bilingual("用户名或密码错误", "wrong user name or password")});
}

// The failures still inside the window.
std::vector<int64_t> recent(const std::vector<int64_t>& failures, int64_t now_ms, const UserPolicy& p) {
  std::vector<int64_t> out;
  for (auto t : failures)
    if (t > now_ms - p.failure_window_ms) out.push_back(t);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<std::string> parse_role(std::string_view t) {
  if (t == "reviewer" || t == "审核员") return std::string("reviewer");
  if (t == "admin" || t == "管理员") return std::string("admin");
  return std::nullopt;
}

std::optional<std::string> parse_agency(std::string_view t) {
  if (t == "rsj" || t == "人社局" || t == "县人社局") return std::string("rsj");
  if (t == "fpb" || t == "扶贫办" || t == "县扶贫办") return std::string("fpb");
  return std::nullopt;
}

std::string agency_label(const std::string& code, Lang lang) {
  if (code == "rsj") return lang == Lang::zh ? "人社局" : "human resources and social security bureau";
  if (code == "fpb") return lang == Lang::zh ? "扶贫办" : "poverty alleviation office";
  return code;
}

std::string role_label(const std::string& code, Lang lang) {
  if (code == "reviewer") return lang == Lang::zh ? "审核员" : "reviewer";
  if (code == "admin") return lang == Lang::zh ? "管理员" : "admin";
  return code;
}

Result<UserRecord> add_user(ServerStore& store, const std::string& name, const std::string& role,
                            const std::string& agency, const Scope& scope, std::string_view password, int64_t now_ms,
                            const UserPolicy& policy) {
  const bool name_ok = !name.empty() && name.size() <= 32 &&
                       std::none_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) <= ' '; });
  if (!name_ok)
    return Error(ErrorCode::invalid_input, {bilingual("用户名“" + name + "”应为 1 到 32 个字符，不含空格",
                                                     "user name \"" + name + "\" must be 1 to 32 characters without spaces")});
  if (!parse_role(role) || *parse_role(role) != role)
    return Error(ErrorCode::invalid_input, {bilingual("角色“" + role + "”应为 reviewer 或 admin",
                                                     "role \"" + role + "\" must be reviewer or admin")});
  if (!parse_agency(agency) || *parse_agency(agency) != agency)
    return Error(ErrorCode::invalid_input, {bilingual("部门“" + agency + "”应为 人社局(rsj) 或 扶贫办(fpb)",
                                                     "agency \"" + agency + "\" must be 人社局 (rsj) or 扶贫办 (fpb)")});
  if (scope.empty())
    return Error(ErrorCode::invalid_input, {bilingual("用户须有管辖范围（--scope）", "a user needs a region scope (--scope)")});
  if (password.size() < 8)
    return Error(ErrorCode::invalid_input, {bilingual("密码至少 8 个字符", "the password must have at least 8 characters")});
  UserRecord u;
  u.name = name;
  u.role = role;
  u.agency = agency;
  u.scope = scope;
  u.salt = crypto::random_bytes(16);
  u.kdf_n = policy.kdf_n;
  u.kdf_r = 8;
  u.kdf_p = 1;
  u.hash = hash_of(u, password);
  u.created_ms = now_ms;
  return in_txn(store, [&]() -> Result<UserRecord> {
    if (store.user(name)) return Error(ErrorCode::already_exists, {bilingual("用户 " + name, "user " + name)});
    store.put_user(u);
    return u;
  });
}

Status set_user_disabled(ServerStore& store, const std::string& name, bool disabled) {
  return in_txn(store, [&]() -> Status {
    auto u = store.user(name);
    if (!u) return Error(ErrorCode::not_found, {bilingual("用户 " + name, "user " + name)});
    u->disabled = disabled;
    store.put_user(*u);
    if (disabled) store.delete_sessions({}, name);
    return ok_status();
  });
}

Result<Session> login(ServerStore& store, const std::string& name, std::string_view password, int64_t now_ms,
                      const UserPolicy& policy) {
  auto found = store.user(name);
  if (!found || found->disabled) {
    // The same work as a real check, so the answer's timing does not tell which names exist.
    UserRecord dummy;
    dummy.salt = std::string(16, '\0');
    dummy.kdf_n = policy.kdf_n;
    dummy.kdf_r = 8;
    dummy.kdf_p = 1;
    (void)hash_of(dummy, password);
    return bad_login();
  }
  auto locked_until = [&](const UserRecord& u) -> std::optional<int64_t> {
    auto r = recent(u.failures, now_ms, policy);
    if (r.size() < policy.max_failures) return std::nullopt;
    return r[r.size() - policy.max_failures] + policy.failure_window_ms;
  };
  if (auto until = locked_until(*found)) return Error(ErrorCode::locked_out, {name, format_china_time(*until)});
  const bool good = crypto::constant_time_equal(hash_of(*found, password), found->hash);
  // One transaction that commits a failure as well as a success: the failure must count.
  store.begin();
  try {
    auto u = store.user(name);  // read again inside the transaction: another login may have counted a failure
    std::optional<Error> refused;
    if (!u || u->disabled) refused = bad_login();
    else if (auto until = locked_until(*u)) refused = Error(ErrorCode::locked_out, {name, format_china_time(*until)});
    if (refused) {
      store.rollback();
      return *refused;
    }
    if (!good) {
      u->failures = recent(u->failures, now_ms, policy);
      u->failures.push_back(now_ms);
      store.put_user(*u);
      store.commit(nullptr, nullptr);
      return bad_login();
    }
    u->failures.clear();
    store.put_user(*u);
    Session s;
    s.token = crypto::to_hex(crypto::random_bytes(32));
    s.user = *u;
    s.expires_ms = now_ms + policy.session_ms;
    store.put_session(SessionRecord{session_id(s.token), name, now_ms, s.expires_ms});
    store.commit(nullptr, nullptr);
    return s;
  } catch (...) {
    store.rollback();
    throw;
  }
}

Result<UserRecord> session_user(ServerStore& store, std::string_view token, int64_t now_ms) {
  if (token.empty()) return Error(ErrorCode::unauthenticated, {bilingual("请求未带会话令牌", "the request carries no session token")});
  auto s = store.session(session_id(token));
  if (!s) return Error(ErrorCode::unauthenticated, {bilingual("会话不存在或已退出", "unknown or ended session")});
  if (s->expires_ms <= now_ms)
    return Error(ErrorCode::unauthenticated, {bilingual("会话已于 " + format_china_time(s->expires_ms) + " 过期",
                                                       "the session expired at " + format_china_time(s->expires_ms))});
  auto u = store.user(s->user);
  if (!u || u->disabled) return Error(ErrorCode::unauthenticated, {bilingual("账号已停用", "the account is disabled")});
  return *u;
}

Status logout(ServerStore& store, std::string_view token) {
  const std::string id = session_id(token);
  return in_txn(store, [&]() -> Status {
    store.delete_sessions(id);
    return ok_status();
  });
}

bool user_covers(const UserRecord& u, const std::vector<std::string>& villages) {
  for (auto& c : u.scope)
    if (c.size() == 6) return true;
  return scope_holds_any(u.scope, villages);
}

bool user_covers_region(const UserRecord& u, std::string_view code) {
  for (auto& c : u.scope)
    if (code.substr(0, c.size()) == c) return true;
  return false;
}

}  // namespace tz::sync
