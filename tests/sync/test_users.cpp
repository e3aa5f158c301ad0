// Users of the HTTP API (users.hpp): hashes, sessions that expire, the lockout and its survival
// across a reopened store, scope checks. The clock is the argument the caller passes.
#include <catch2/catch.hpp>

#include "server_fixture.hpp"
#include "tz/sync/users.hpp"

using namespace tz;
using namespace tz::sync;
using namespace tz::test;

namespace {

constexpr int64_t kMinute = 60 * 1000;

UserPolicy cheap_policy() {
  UserPolicy p;
  p.kdf_n = 1 << 10;  // tests: the cost is a parameter; the product's default is 2^15
  return p;
}

}  // namespace

TEST_CASE("A user's password is kept as a salted scrypt hash and checked at login", "[sync][users]") {
  ServerFixture f;
  const auto p = cheap_policy();
  auto u = add_user(*f.store, "wang", "reviewer", "rsj", {kTownship}, "correct horse", kNowMs, p);
  REQUIRE(u);
  CHECK(u->hash.size() == 32);
  CHECK(u->salt.size() == 16);
  CHECK(u->hash.find("correct horse") == std::string::npos);
  auto other = add_user(*f.store, "li", "reviewer", "fpb", {kTownship}, "correct horse", kNowMs, p);
  REQUIRE(other);
  CHECK(other->hash != u->hash);  // salted

  CHECK(add_user(*f.store, "wang", "admin", "rsj", {"522632"}, "another pass", kNowMs, p).error().code() ==
        ErrorCode::already_exists);
  CHECK(add_user(*f.store, "zhao", "boss", "rsj", {"522632"}, "another pass", kNowMs, p).error().code() == ErrorCode::invalid_input);
  CHECK(add_user(*f.store, "zhao", "admin", "rsj", {"522632"}, "short", kNowMs, p).error().code() == ErrorCode::invalid_input);
  CHECK(add_user(*f.store, "zhao", "admin", "rsj", {}, "long enough", kNowMs, p).error().code() == ErrorCode::invalid_input);

  auto s = login(*f.store, "wang", "correct horse", kNowMs, p);
  REQUIRE(s);
  CHECK(s->expires_ms == kNowMs + p.session_ms);
  auto who = session_user(*f.store, s->token, kNowMs + 1);
  REQUIRE(who);
  CHECK(who->name == "wang");
  CHECK(login(*f.store, "wang", "wrong horse", kNowMs, p).error().code() == ErrorCode::unauthenticated);
  CHECK(login(*f.store, "nobody", "correct horse", kNowMs, p).error().code() == ErrorCode::unauthenticated);
  CHECK(f.store->session(s->token) == std::nullopt);  // the token itself is not what is stored
}

TEST_CASE("A session expires and ends at logout or when its user is disabled", "[sync][users]") {
  ServerFixture f;
  auto p = cheap_policy();
  p.session_ms = 30 * kMinute;
  REQUIRE(add_user(*f.store, "wang", "reviewer", "rsj", {kTownship}, "correct horse", kNowMs, p));
  auto s = login(*f.store, "wang", "correct horse", kNowMs, p).take();
  CHECK(session_user(*f.store, s.token, kNowMs + 30 * kMinute - 1));
  auto expired = session_user(*f.store, s.token, kNowMs + 30 * kMinute);
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code() == ErrorCode::unauthenticated);
  CHECK_THAT(expired.error().message(Lang::zh), Catch::Contains("过期"));

  auto s2 = login(*f.store, "wang", "correct horse", kNowMs, p).take();
  REQUIRE(logout(*f.store, s2.token));
  CHECK_FALSE(session_user(*f.store, s2.token, kNowMs + 1));

  auto s3 = login(*f.store, "wang", "correct horse", kNowMs, p).take();
  REQUIRE(set_user_disabled(*f.store, "wang", true));
  CHECK_FALSE(session_user(*f.store, s3.token, kNowMs + 1));
  CHECK(login(*f.store, "wang", "correct horse", kNowMs, p).error().code() == ErrorCode::unauthenticated);
  REQUIRE(set_user_disabled(*f.store, "wang", false));
  CHECK(login(*f.store, "wang", "correct horse", kNowMs, p));
  CHECK(set_user_disabled(*f.store, "nobody", true).error().code() == ErrorCode::not_found);
}

TEST_CASE("Five failed logins in 15 minutes lock the account until the window passes even across a reopened store",
          "[sync][users]") {
  ServerFixture f;
  const auto p = cheap_policy();
  REQUIRE(add_user(*f.store, "wang", "reviewer", "rsj", {kTownship}, "correct horse", kNowMs, p));
  // Four failures spread over more than the window do not lock: the first has aged out.
  CHECK_FALSE(login(*f.store, "wang", "x", kNowMs, p));
  for (int i = 1; i <= 4; ++i) CHECK_FALSE(login(*f.store, "wang", "x", kNowMs + 15 * kMinute + i, p));
  // 4 within the window: the right password still works, and clears them.
  REQUIRE(login(*f.store, "wang", "correct horse", kNowMs + 15 * kMinute + 10, p));
  const int64_t t0 = kNowMs + 20 * kMinute;
  for (int i = 0; i < 5; ++i) CHECK(login(*f.store, "wang", "x", t0 + i * kMinute, p).error().code() == ErrorCode::unauthenticated);
  auto locked = login(*f.store, "wang", "correct horse", t0 + 5 * kMinute, p);
  REQUIRE_FALSE(locked);
  CHECK(locked.error().code() == ErrorCode::locked_out);
  CHECK(error_info(locked.error().code()).http_status == 429);

  // The lockout is in the store: a restart does not lift it.
  f.close();
  f.open();
  CHECK(login(*f.store, "wang", "correct horse", t0 + 14 * kMinute, p).error().code() == ErrorCode::locked_out);
  // Locked until the first of the five failures is 15 minutes old.
  CHECK(login(*f.store, "wang", "correct horse", t0 + 15 * kMinute - 1, p).error().code() == ErrorCode::locked_out);
  CHECK(login(*f.store, "wang", "correct horse", t0 + 15 * kMinute, p));
  // Another user is not affected by wang's failures.
  REQUIRE(add_user(*f.store, "li", "reviewer", "fpb", {kTownship}, "correct horse", kNowMs, p));
  CHECK(login(*f.store, "li", "correct horse", t0 + 5 * kMinute, p));
}

TEST_CASE("A user's scope covers its own villages and townships and a county scope covers everything", "[sync][users]") {
  UserRecord town;
  town.scope = {kTownship};
  CHECK(user_covers(town, {kVillageA}));
  CHECK_FALSE(user_covers(town, {kVillageC}));
  CHECK_FALSE(user_covers(town, {}));
  CHECK(user_covers_region(town, kVillageB));
  CHECK(user_covers_region(town, kTownship));
  CHECK_FALSE(user_covers_region(town, "522632"));
  UserRecord county;
  county.scope = {"522632"};
  CHECK(user_covers(county, {kVillageC}));
  CHECK(user_covers(county, {}));
  CHECK(user_covers_region(county, "522632100"));
  CHECK(parse_agency("人社局") == "rsj");
  CHECK(parse_agency("扶贫办") == "fpb");
  CHECK(parse_agency("fpb") == "fpb");
  CHECK_FALSE(parse_agency("财政局"));
}
