// The review API of `serve` (api.hpp; decision 300).
#include "api.hpp"

#include <nlohmann/json.hpp>

#include "admin_folder.hpp"
#include "review_json.hpp"
#include "tz/cli/args.hpp"
#include "tz/cli/output.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/model/id_number.hpp"
#include "tz/dedup/dedup.hpp"
#include "tz/ops/conflicts.hpp"
#include "tz/ops/county_config.hpp"
#include "tz/ops/policy.hpp"
#include "tz/ops/report.hpp"
#include "tz/ops/dedup.hpp"
#include "tz/ops/reconcile.hpp"
#include "tz/ops/records.hpp"
#include "tz/ops/review.hpp"
#include "tz/sync/audit.hpp"
#include "tz/util/civil_time.hpp"
#include "tz/util/text.hpp"

namespace tz::server_cli {

using nlohmann::json;

namespace {

// Who may call what. Reading (notices, quarantine, conflicts) is for both roles; the reviewer's own
// work — releasing or rejecting held changes, reconciliation — for reviewers only (SPEC §1: the admin
// runs the server and manages devices and users; reviewers review).
enum class Need { any_user, reviewer };

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string param(const net::HttpRequest& rq, const std::string& name) {
  auto it = rq.params.find(name);
  return it == rq.params.end() ? std::string() : it->second;
}

std::string header(const net::HttpRequest& rq, const std::string& name) {
  for (auto& [k, v] : rq.headers)
    if (lower(k) == name) return v;
  return {};
}

// Chinese unless ?lang=en or an Accept-Language that starts with en.
Lang lang_of(const net::HttpRequest& rq) {
  const std::string q = param(rq, "lang");
  if (!q.empty()) return q == "en" ? Lang::en : Lang::zh;
  return lower(text::trim(header(rq, "accept-language"))).rfind("en", 0) == 0 ? Lang::en : Lang::zh;
}

net::HttpResponse reply(const json& j, int status = 200) { return {status, "application/json; charset=utf-8", j.dump()}; }

net::HttpResponse error_reply(const Error& e, Lang lang, std::string& outcome) {
  outcome = "refused";
  const int status = error_info(e.code()).http_status;
  return reply({{"error", e.message(lang)}, {"code", std::string(e.name())}, {"status", status}}, status);
}

Error forbidden(const std::string& zh, const std::string& en) { return Error(ErrorCode::forbidden, {bilingual(zh, en)}); }
Error bad_request(const std::string& zh, const std::string& en) { return Error(ErrorCode::invalid_input, {bilingual(zh, en)}); }

json user_json(const sync::UserRecord& u) {
  return {{"name", u.name}, {"role", u.role}, {"agency", u.agency}, {"agency_name", sync::agency_label(u.agency, Lang::zh)}, {"scope", u.scope}};
}

// The ?region= of a list request: nullopt when absent; an error when malformed or out of the user's scope.
Result<std::optional<std::string>> region_of(const net::HttpRequest& rq, const sync::UserRecord& u) {
  const std::string r = text::trim(param(rq, "region"));
  if (r.empty()) return std::optional<std::string>();
  if (!text::all_digits(r) || (r.size() != 6 && r.size() != 9 && r.size() != 12))
    return bad_request("region=" + r + "：应为 6 位县、9 位乡镇或 12 位村代码", "region=" + r + ": must be a 6-, 9- or 12-digit code");
  if (!sync::user_covers_region(u, r))
    return forbidden("区域 " + r + " 不在用户 " + u.name + " 的管辖范围内", "region " + r + " is outside the scope of user " + u.name);
  return std::optional<std::string>(r);
}

bool in_region(const std::optional<std::string>& region, const std::vector<std::string>& villages) {
  if (!region) return true;
  for (auto& v : villages)
    if (v.rfind(*region, 0) == 0) return true;
  return false;
}

// The villages a record belongs to as the server holds it; for a held change to an entity the server
// does not have yet, the village it names itself (a household's 村代码).
std::vector<std::string> villages_of(const sync::ServerStore& store, const Schema& schema, const FieldChange& c) {
  std::vector<std::string> out;
  if (auto e = store.entity(c.entity)) out = e->villages;
  if (c.type == EntityType::household) {
    const FieldDef* f = schema.entity(c.type).field(c.field);
    if (f && f->name == "village_code") out.push_back(c.value);
  }
  return out;
}

Result<VersionId> version_of(const std::string& text) {
  auto colon = text.find(':');
  std::optional<DeviceId> dev;
  if (colon != std::string::npos) dev = DeviceId::from_hex(lower(text.substr(0, colon)));
  const std::string seq = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (!dev || seq.empty() || seq.size() > 18 || !text::all_digits(seq))
    return bad_request("变更编号“" + text + "”应为 设备:序号", "change id \"" + text + "\" must be DEVICE:SEQ");
  return VersionId{*dev, Seq{std::stoull(seq)}};
}

// What a guarded handler works with.
struct Call {
  const net::HttpRequest& rq;
  sync::ServerStore& store;
  sync::SyncServer& server;
  const sync::UserRecord& user;
  Lang lang;
  std::string& outcome;
  net::HttpResponse fail(const Error& e) const { return error_reply(e, lang, outcome); }
};

std::string token_of(const net::HttpRequest& rq) {
  const std::string auth = header(rq, "authorization");
  return lower(auth.substr(0, 7)) == "bearer " ? text::trim(auth.substr(7)) : std::string();
}

}  // namespace

void add_api_routes(net::HttpServer& http, const ApiEnv& env, const Wrap& wrap) {
  const Schema& schema = env.res->schema;

  // A handler behind a session: the user is found (401), the role checked (403), then fn runs with
  // the store, a server and the user, serialised with every other request on the store.
  using Fn = std::function<net::HttpResponse(const Call&)>;
  auto guarded = [&env, &wrap](const std::string& route, Need need, Fn fn) {
    return wrap(route, [&env, need, fn = std::move(fn)](const net::HttpRequest& rq, std::string& outcome) {
      const Lang lang = lang_of(rq);
      net::HttpResponse rs;
      env.with_store([&](sync::ServerStore& store, sync::SyncServer& server) {
        auto user = sync::session_user(store, token_of(rq), cli::now_ms());
        if (!user) {
          rs = error_reply(user.error(), lang, outcome);
          return;
        }
        if (need == Need::reviewer && user->role != "reviewer") {
          rs = error_reply(forbidden("此操作只限审核员，用户 " + user->name + " 是" + sync::role_label(user->role, Lang::zh),
                                     "only reviewers may do this; user " + user->name + " is " + sync::role_label(user->role, Lang::en)),
                           lang, outcome);
          return;
        }
        rs = fn(Call{rq, store, server, *user, lang, outcome});
      });
      return rs;
    });
  };

  http.post("/api/v1/login", wrap("/api/v1/login", [&env](const net::HttpRequest& rq, std::string& outcome) {
              const Lang lang = lang_of(rq);
              json body = json::parse(rq.body, nullptr, false);
              if (body.is_discarded() || !body.is_object() || !body.contains("name") || !body["name"].is_string() ||
                  !body.contains("password") || !body["password"].is_string())
                return error_reply(bad_request("请求体应为 {\"name\": 用户名, \"password\": 密码}",
                                               "the body must be {\"name\": NAME, \"password\": PASSWORD}"),
                                   lang, outcome);
              net::HttpResponse rs;
              env.with_store([&](sync::ServerStore& store, sync::SyncServer&) {
                auto s = sync::login(store, body["name"].get<std::string>(), body["password"].get<std::string>(), cli::now_ms(),
                                     env.policy);
                if (!s) {
                  rs = error_reply(s.error(), lang, outcome);
                  return;
                }
                rs = reply({{"ok", true},
                            {"token", s->token},
                            {"expires", format_china_time(s->expires_ms)},
                            {"expires_ms", s->expires_ms},
                            {"user", user_json(s->user)}});
              });
              return rs;
            }));

  http.post("/api/v1/logout", guarded("/api/v1/logout", Need::any_user, [](const Call& c) {
              if (auto st = sync::logout(c.store, token_of(c.rq)); !st) return c.fail(st.error());
              return reply({{"ok", true}});
            }));

  http.get("/api/v1/me", guarded("/api/v1/me", Need::any_user, [](const Call& c) {
             json j = user_json(c.user);
             j["ok"] = true;
             return reply(j);
           }));

  // Notices sent to devices (quarantine decisions, verification findings, ...) about records in scope.
  http.get("/api/v1/notices", guarded("/api/v1/notices", Need::any_user, [&schema](const Call& c) {
             auto region = region_of(c.rq, c.user);
             if (!region) return c.fail(region.error());
             json arr = json::array();
             for (auto& [target, n] : c.server.notices()) {
               // The record's villages; a notice about a change the server never applied (held, rejected)
               // goes by the change itself.
               std::vector<std::string> villages;
               if (auto held = n.version.seq.value ? c.store.change(n.version) : std::nullopt)
                 villages = villages_of(c.store, schema, held->change);
               else if (!n.entity.is_zero())
                 if (auto e = c.store.entity(n.entity)) villages = e->villages;
               if (!sync::user_covers(c.user, villages) || !in_region(*region, villages)) continue;
               const FieldDef* f = n.field ? schema.entity(n.type).field(n.field) : nullptr;
               arr.push_back({{"seq", n.server_seq},
                              {"kind", ops::notice_kind_name(static_cast<uint8_t>(n.kind))},
                              {"kind_label", ops::notice_kind_label(static_cast<uint8_t>(n.kind), c.lang)},
                              {"device", target.hex()},
                              {"type", n.entity.is_zero() ? json(nullptr) : json(std::string(entity_type_name(n.type)))},
                              {"entity", n.entity.is_zero() ? json(nullptr) : json(n.entity.hex())},
                              {"field", f ? json(f->name) : json(nullptr)},
                              {"villages", villages},
                              {"reason", c.lang == Lang::zh ? n.reason_zh : n.reason_en}});
             }
             return reply({{"ok", true}, {"count", arr.size()}, {"notices", arr}});
           }));

  // Changes held in quarantine whose records lie in scope.
  http.get("/api/v1/quarantine", guarded("/api/v1/quarantine", Need::any_user, [&schema](const Call& c) {
             auto region = region_of(c.rq, c.user);
             if (!region) return c.fail(region.error());
             json arr = json::array();
             for (auto& q : c.server.quarantine()) {
               auto villages = villages_of(c.store, schema, q.change);
               if (!sync::user_covers(c.user, villages) || !in_region(*region, villages)) continue;
               json j = quarantined_json(q, schema, c.lang);
               j["villages"] = villages;
               arr.push_back(std::move(j));
             }
             return reply({{"ok", true}, {"count", arr.size()}, {"changes", arr}});
           }));

  // {"id": "DEVICE:SEQ"} (release) or {"id": ..., "reason": TEXT} (reject), by a reviewer whose scope
  // holds the record.
  for (const bool reject : {false, true}) {
    const std::string route = reject ? "/api/v1/quarantine/reject" : "/api/v1/quarantine/release";
    http.post(route, guarded(route, Need::reviewer, [&schema, reject](const Call& c) {
                json body = json::parse(c.rq.body, nullptr, false);
                const bool shaped = !body.is_discarded() && body.is_object() && body.contains("id") && body["id"].is_string() &&
                                    (!reject || (body.contains("reason") && body["reason"].is_string() &&
                                                 !text::trim(body["reason"].get<std::string>()).empty()));
                if (!shaped)
                  return c.fail(reject ? bad_request("请求体应为 {\"id\": 变更编号, \"reason\": 原因}",
                                                     "the body must be {\"id\": CHANGE, \"reason\": TEXT}")
                                       : bad_request("请求体应为 {\"id\": 变更编号}", "the body must be {\"id\": CHANGE}"));
                auto id = version_of(body["id"].get<std::string>());
                if (!id) return c.fail(id.error());
                auto held = c.store.change(*id);
                if (!held || held->status != sync::StoredChange::Status::quarantined)
                  return c.fail(Error(ErrorCode::not_found, {bilingual("隔离区中的变更 " + id->str(), "quarantined change " + id->str())}));
                if (!sync::user_covers(c.user, villages_of(c.store, schema, held->change)))
                  return c.fail(forbidden("变更 " + id->str() + " 的记录不在用户 " + c.user.name + " 的管辖范围内",
                                          "the record of change " + id->str() + " is outside the scope of user " + c.user.name));
                const std::string reason = reject ? text::trim(body["reason"].get<std::string>()) : "";
                auto st = reject ? c.server.reject(*id, reason) : c.server.release(*id);
                if (!st) return c.fail(st.error());
                // Who decided, in the audit chain beside the decision itself (recorded as the county's).
                if (auto a = sync::record_audit(c.store, cli::now_ms(), reject ? "reject" : "release", c.user.name,
                                                sync::audit_summary({{"change", id->str()}, {"via", std::string("api")}}));
                    !a)
                  return c.fail(a.error());
                return reply({{"ok", true}, {"id", id->str()}, {"decision", reject ? "rejected" : "released"}, {"by", c.user.name}});
              }));
  }

  // Fields with more than one live value, on records in scope.
  http.get("/api/v1/conflicts", guarded("/api/v1/conflicts", Need::any_user, [&schema](const Call& c) {
             auto region = region_of(c.rq, c.user);
             if (!region) return c.fail(region.error());
             json arr = json::array();
             c.store.scan_entities([&](const sync::EntityRecord& e) {
               if (!sync::user_covers(c.user, e.villages) || !in_region(*region, e.villages)) return;
               for (auto& [fid, fs] : e.state.fields) {
                 if (fid == kDeletedField || !in_conflict(fs)) continue;
                 const FieldDef* f = schema.entity(e.state.type).field(fid);
                 json shown = json::array();
                 for (auto& v : tz::values(fs)) {
                   json versions = json::array();
                   for (auto& ver : v.versions) versions.push_back({{"id", ver.id.str()}, {"collector", ver.collector}});
                   const bool id_field = f && f->type == FieldType::id_number;
                   shown.push_back({{"value", id_field ? idn::mask_id(v.value) : v.value}, {"versions", versions}});
                 }
                 arr.push_back({{"type", std::string(entity_type_name(e.state.type))},
                                {"entity", e.state.id.hex()},
                                {"field", f ? f->name : std::to_string(fid)},
                                {"label", f ? f->label(c.lang) : std::to_string(fid)},
                                {"villages", e.villages},
                                {"values", shown}});
               }
             });
             return reply({{"ok", true}, {"count", arr.size()}, {"conflicts", arr}});
           }));

  // The review of people and households (SPEC §8; decisions 303, 312), through the county admin replica
  // as the commands do. POST {"id": RECORD, "decision": "approve"|"send_back", "reason": TEXT}: RECORD is
  // a record id, a person's 身份证号 or a household's 村代码/户编号; the decision is attributed to the user.
  // GET: the people and households in scope sent back or changed since their approval.
  auto with_replica = [&env](const Call& c, auto&& fn) -> net::HttpResponse {
    const int64_t now = cli::now_ms();
    auto folder = AdminFolder::open(env.dir, *env.res, [now] { return now; });
    if (!folder) return c.fail(folder.error());
    if (!(*folder)->period()) return c.fail(Error(ErrorCode::period_unset));
    auto replica = (*folder)->replica();
    if (!replica) return c.fail(replica.error());
    return fn(**folder, **replica, now);
  };
  http.post("/api/v1/review", guarded("/api/v1/review", Need::reviewer, [with_replica](const Call& c) {
              json body = json::parse(c.rq.body, nullptr, false);
              const bool shaped = !body.is_discarded() && body.is_object() && body.contains("id") && body["id"].is_string() &&
                                  body.contains("decision") && body["decision"].is_string() &&
                                  (body["decision"] == "approve" || body["decision"] == "send_back");
              if (!shaped)
                return c.fail(bad_request("请求体应为 {\"id\": 记录, \"decision\": \"approve\" 或 \"send_back\", \"reason\": 原因}",
                                          "the body must be {\"id\": RECORD, \"decision\": \"approve\" or \"send_back\", \"reason\": TEXT}"));
              const bool approve = body["decision"] == "approve";
              const std::string reason = body.contains("reason") && body["reason"].is_string() ? text::trim(body["reason"].get<std::string>()) : "";
              return with_replica(c, [&](AdminFolder& folder, DeviceStore& store, int64_t now) {
                auto record = ops::locate(store, body["id"].get<std::string>(), china_date_of(now));
                if (!record) return c.fail(record.error());
                auto row = store.get_row(*record);
                if (!row || !sync::user_covers(c.user, {row->village}))
                  return c.fail(forbidden("记录 " + body["id"].get<std::string>() + " 不在用户 " + c.user.name + " 的管辖范围内",
                                          "record " + body["id"].get<std::string>() + " is outside the scope of user " + c.user.name));
                auto status = ops::decide_review(store, *record, approve, reason, ops::EditContext{c.user.name, now});
                if (!status) return c.fail(status.error());
                if (auto pushed = folder.sync_replica(); !pushed) return c.fail(pushed.error());
                const std::string type(entity_type_name(row->entity.type));
                // The decision in the audit chain, by the reviewer; the reason only as its hash (it may name a person).
                if (auto a = sync::record_audit(folder.store(), now, approve ? "review approve" : "review send-back", c.user.name,
                                                sync::audit_summary({{"entity", record->hex()},
                                                                     {"type", type},
                                                                     {"approved_versions", uint64_t{status->approved.size()}},
                                                                     {"reason_sha256", reason.empty() ? std::string()
                                                                                                      : crypto::to_hex(crypto::sha256(reason))}}));
                    !a)
                  return c.fail(a.error());
                return reply({{"ok", true},
                              {"type", type},
                              {"id", record->hex()},
                              {"state", review_state_label(status->state, Lang::en)},
                              {"label", review_state_label(status->state, c.lang)},
                              {"by", c.user.name}});
              });
            }));
  http.get("/api/v1/review", guarded("/api/v1/review", Need::any_user, [with_replica](const Call& c) {
             auto region = region_of(c.rq, c.user);
             if (!region) return c.fail(region.error());
             return with_replica(c, [&](AdminFolder&, DeviceStore& store, int64_t) {
               json people = json::array(), households = json::array();
               for (auto& item : ops::review_items(store)) {
                 auto row = store.get_row(item.record);
                 if (!row || !sync::user_covers(c.user, {row->village}) || !in_region(*region, {row->village})) continue;
                 (item.type == EntityType::household ? households : people)
                     .push_back({{"id", item.record.hex()},
                                 {"village", row->village},
                                 {"state", review_state_label(item.status.state, Lang::en)},
                                 {"label", review_state_label(item.status.state, c.lang)},
                                 {"reason", item.status.reason}});
               }
               return reply(
                   {{"ok", true}, {"count", people.size() + households.size()}, {"people", people}, {"households", households}});
             });
           }));

  // --- deduplication (SPEC §8): the probable pairs in the user's scope (IDs masked), and the
  // reviewer's decisions: merge, unmerge, dismiss. Both persons of a pair must be in the user's scope.
  auto person_in_scope = [](const Call& c, DeviceStore& store, const EntityId& id) {
    auto row = store.get_row(id);
    return row && sync::user_covers(c.user, {row->village});
  };
  http.get("/api/v1/duplicates", guarded("/api/v1/duplicates", Need::any_user, [with_replica, person_in_scope](const Call& c) {
             auto region = region_of(c.rq, c.user);
             if (!region) return c.fail(region.error());
             return with_replica(c, [&](AdminFolder& folder, DeviceStore& store, int64_t now) {
               const auto r = ops::find_duplicates(store, ops::dismissed_pairs(folder.store()), china_date_of(now), 2);
               auto shown = [&](const EntityId& id) -> json {
                 auto it = r.persons.find(id);
                 if (it == r.persons.end()) return {{"id", id.hex()}};
                 const auto& p = it->second;
                 return {{"id", id.hex()},
                         {"name", p.name},
                         {"id_number", p.id_number.empty() ? json(nullptr) : json(idn::mask_id(p.id_number))},
                         {"village", p.village}};
               };
               auto visible = [&](const EntityId& id) {
                 auto it = r.persons.find(id);
                 return person_in_scope(c, store, id) && it != r.persons.end() && in_region(*region, {it->second.village});
               };
               json arr = json::array();
               for (auto& p : r.probable) {
                 if (!visible(p.a) || !visible(p.b)) continue;
                 json reasons = json::array();
                 for (auto reason : p.reasons) reasons.push_back(std::string(dedup::reason_code(reason)));
                 arr.push_back({{"a", shown(p.a)}, {"b", shown(p.b)}, {"score", p.score}, {"reasons", reasons}});
               }
               return reply({{"ok", true}, {"count", arr.size()}, {"pairs", arr}});
             });
           }));
  // {"a": PERSON, "b": PERSON} (entity ids or 身份证号): merge (the smaller id survives) or dismiss.
  for (const bool merge : {true, false}) {
    const std::string route = merge ? "/api/v1/merge" : "/api/v1/dismiss";
    http.post(route, guarded(route, Need::reviewer, [with_replica, person_in_scope, merge](const Call& c) {
                json body = json::parse(c.rq.body, nullptr, false);
                if (body.is_discarded() || !body.is_object() || !body.contains("a") || !body["a"].is_string() || !body.contains("b") ||
                    !body["b"].is_string())
                  return c.fail(bad_request("请求体应为 {\"a\": 人员, \"b\": 人员}", "the body must be {\"a\": PERSON, \"b\": PERSON}"));
                return with_replica(c, [&](AdminFolder& folder, DeviceStore& store, int64_t now) {
                  EntityId ids[2];
                  for (int i = 0; i < 2; ++i) {
                    const std::string ref = body[i == 0 ? "a" : "b"].get<std::string>();
                    auto located = ops::locate(store, ref, china_date_of(now));
                    if (!located) return c.fail(located.error());
                    if (!person_in_scope(c, store, *located))
                      return c.fail(forbidden("记录 " + ref + " 不在用户 " + c.user.name + " 的管辖范围内",
                                              "record " + ref + " is outside the scope of user " + c.user.name));
                    ids[i] = *located;
                  }
                  if (ids[0] == ids[1]) return c.fail(bad_request("两次给出了同一记录", "the same record was given twice"));
                  auto [keep, away] = dedup::ordered(ids[0], ids[1]);
                  if (!merge) {
                    ops::DedupDecision d;
                    d.a = keep;
                    d.b = away;
                    d.by = c.user.name;
                    d.server_ms = now;
                    if (auto st = ops::record_dedup_decision(folder.store(), d, c.user.name); !st) return c.fail(st.error());
                    return reply({{"ok", true}, {"decision", "dismissed"}, {"a", keep.hex()}, {"b", away.hex()}, {"by", c.user.name}});
                  }
                  auto m = folder.server().merge(keep, away);
                  if (!m) return c.fail(m.error());
                  if (auto pushed = folder.sync_replica(); !pushed) return c.fail(pushed.error());
                  if (auto a = sync::record_audit(folder.store(), now, "merge", c.user.name,
                                                  sync::audit_summary({{"survivor", keep.hex()}, {"merged_away", away.hex()},
                                                                       {"via", std::string("api")}}));
                      !a)
                    return c.fail(a.error());
                  return reply({{"ok", true}, {"decision", "merged"}, {"survivor", keep.hex()}, {"merged_away", away.hex()},
                                {"versions", m->versions}, {"children", m->children}, {"conflicts", m->conflicts}, {"by", c.user.name}});
                });
              }));
  }
  // {"id": the merged-away entity id}.
  http.post("/api/v1/unmerge", guarded("/api/v1/unmerge", Need::reviewer, [with_replica, person_in_scope](const Call& c) {
              json body = json::parse(c.rq.body, nullptr, false);
              std::optional<EntityId> away;
              if (!body.is_discarded() && body.is_object() && body.contains("id") && body["id"].is_string())
                away = EntityId::from_hex(text::trim(body["id"].get<std::string>()));
              if (!away) return c.fail(bad_request("请求体应为 {\"id\": 被合并掉的记录编号}", "the body must be {\"id\": MERGED-AWAY ID}"));
              return with_replica(c, [&](AdminFolder& folder, DeviceStore& store, int64_t now) {
                auto survivor = folder.server().merged_into(*away);
                if (!survivor)
                  return c.fail(Error(ErrorCode::not_found, {bilingual("被合并掉的记录 " + away->hex(), "merged-away record " + away->hex())}));
                if (!person_in_scope(c, store, *survivor))
                  return c.fail(forbidden("记录 " + survivor->hex() + " 不在用户 " + c.user.name + " 的管辖范围内",
                                          "record " + survivor->hex() + " is outside the scope of user " + c.user.name));
                auto m = folder.server().unmerge(*away);
                if (!m) return c.fail(m.error());
                if (auto pushed = folder.sync_replica(); !pushed) return c.fail(pushed.error());
                if (auto a = sync::record_audit(folder.store(), now, "unmerge", c.user.name,
                                                sync::audit_summary({{"survivor", m->survivor.hex()}, {"merged_away", away->hex()},
                                                                     {"via", std::string("api")}}));
                    !a)
                  return c.fail(a.error());
                return reply({{"ok", true}, {"decision", "unmerged"}, {"survivor", m->survivor.hex()}, {"merged_away", away->hex()},
                              {"by", c.user.name}});
              });
            }));

  // --- reports and lists (SPEC §9; decision 408): read-only, for both roles, within the user's scope;
  // IDs always masked. ?format=json (default) or csv; ?region=CODE, else the user's scope (the lists,
  // standards and subsidies need one code: a user with several gives ?region=).
  auto one_region = [](const Call& c) -> Result<std::string> {
    auto region = region_of(c.rq, c.user);
    if (!region) return region.error();
    if (*region) return **region;
    if (c.user.scope.size() == 1) return c.user.scope.front();
    return bad_request("用户 " + c.user.name + " 管辖多个区域，请用 region= 指定其一",
                       "user " + c.user.name + " has several regions; choose one with region=");
  };
  auto format_of = [](const Call& c) -> Result<std::string> {
    const std::string f = param(c.rq, "format").empty() ? "json" : param(c.rq, "format");
    if (f != "json" && f != "csv") return bad_request("format=" + f + "：应为 json 或 csv", "format=" + f + ": must be json or csv");
    return f;
  };
  auto csv_reply = [](const std::string& bytes) { return net::HttpResponse{200, "text/csv; charset=utf-8", bytes}; };
  // The region (one code) and the format of a list, standards or subsidies request.
  struct OneRegion {
    std::string region, format;
  };
  auto one_region_and_format = [one_region, format_of](const Call& c) -> Result<OneRegion> {
    auto region = one_region(c);
    if (!region) return region.error();
    auto format = format_of(c);
    if (!format) return format.error();
    return OneRegion{*region, *format};
  };
  http.get("/api/v1/report", guarded("/api/v1/report", Need::any_user, [with_replica, format_of, csv_reply](const Call& c) {
             auto region = region_of(c.rq, c.user);
             if (!region) return c.fail(region.error());
             auto format = format_of(c);
             if (!format) return c.fail(format.error());
             const std::string unit = param(c.rq, "unit").empty() ? "person" : param(c.rq, "unit");
             if (unit != "person" && unit != "wan")
               return c.fail(bad_request("unit=" + unit + "：应为 person 或 wan", "unit=" + unit + ": must be person or wan"));
             const auto u = unit == "wan" ? ops::ReportUnit::wan : ops::ReportUnit::person;
             return with_replica(c, [&](AdminFolder&, DeviceStore& store, int64_t) {
               auto tree = ops::region_tree_of(store);
               ops::ReportOptions o;
               o.lang = c.lang;
               o.roots = *region ? std::vector<std::string>{**region} : c.user.scope;
               auto r = ops::make_report(store, tree ? &*tree : nullptr, o);
               if (!r) return c.fail(r.error());
               if (*format == "csv") return csv_reply(ops::render_report_csv(*r, u, c.lang));
               return reply(cli::report_json(*r, u, c.lang));
             });
           }));
  for (const std::string& kind : ops::list_kinds()) {
    const std::string route = "/api/v1/lists/" + kind;
    http.get(route, guarded(route, Need::any_user, [&env, with_replica, one_region_and_format, csv_reply, kind](const Call& c) {
               auto rq = one_region_and_format(c);
               if (!rq) return c.fail(rq.error());
               return with_replica(c, [&](AdminFolder&, DeviceStore& store, int64_t) {
                 auto tree = ops::region_tree_of(store);
                 ops::ListOptions o{kind, rq->region, false, c.lang};
                 auto t = ops::make_list(store, *env.res, tree ? &*tree : nullptr, o);
                 if (!t) return c.fail(t.error());
                 if (rq->format == "csv") return csv_reply(ops::render_csv(*t));
                 return reply(cli::list_json(*t, kind));
               });
             }));
  }
  for (const bool standards : {true, false}) {
    const std::string route = standards ? "/api/v1/standards" : "/api/v1/subsidies";
    http.get(route, guarded(route, Need::any_user, [&env, with_replica, one_region_and_format, csv_reply, standards](const Call& c) {
               auto rq = one_region_and_format(c);
               if (!rq) return c.fail(rq.error());
               return with_replica(c, [&](AdminFolder&, DeviceStore& store, int64_t) {
                 auto tree = ops::region_tree_of(store);
                 auto policy = ops::load_policy(*env.res);
                 if (!policy) return c.fail(policy.error());
                 std::vector<ops::Table> tables;
                 if (standards) {
                   auto people = ops::work_standards(store, *policy, rq->region);
                   if (!people) return c.fail(people.error());
                   tables = ops::work_standards_tables(*people, *policy, tree ? &*tree : nullptr, c.lang);
                 } else {
                   auto lines = ops::compute_subsidies(store, *policy, rq->region);
                   if (!lines) return c.fail(lines.error());
                   tables = ops::subsidy_tables(*lines, store.schema(), tree ? &*tree : nullptr, c.lang);
                 }
                 if (rq->format == "csv") return csv_reply(ops::render_tables_csv(tables));
                 return reply(cli::tables_json(tables));
               });
             }));
  }

  // The body is the external list (CSV); ?kind=社保|用工备案|国家系统, ?region=CODE. People outside the
  // reviewer's scope are neither listed nor reported as missing (decision 301). A 用工备案 list keeps the
  // county's filed headcounts, as the command does (decision 312), audited under the reviewer's name.
  http.post("/api/v1/reconcile", guarded("/api/v1/reconcile", Need::reviewer, [with_replica](const Call& c) {
              auto region = region_of(c.rq, c.user);
              if (!region) return c.fail(region.error());
              auto kind = ops::parse_reconcile_kind(text::trim(param(c.rq, "kind")));
              if (!kind)
                return c.fail(bad_request("kind=" + param(c.rq, "kind") + "：应为 社保、用工备案 或 国家系统",
                                          "kind=" + param(c.rq, "kind") + ": must be 社保, 用工备案 or 国家系统"));
              // Each department reconciles the lists of its own system (decision 317).
              if (const std::string owner = ops::reconcile_owner(*kind); !owner.empty() && owner != c.user.agency)
                return c.fail(forbidden("这类名单由" + sync::agency_label(owner, Lang::zh) + "比对，" +
                                            sync::agency_label(c.user.agency, Lang::zh) + "的账户不能比对",
                                        "this kind of list is reconciled by the " + sync::agency_label(owner, Lang::en) +
                                            "; an account of the " + sync::agency_label(c.user.agency, Lang::en) + " cannot"));
              // The county's people are read through the admin replica, as `sync-server list` does.
              return with_replica(c, [&](AdminFolder& folder, DeviceStore& store, int64_t now) {
                ops::ReconcileOptions o;
                o.kind = *kind;
                o.region = region->value_or("");
                o.today = china_date_of(now);
                const sync::UserRecord& user = c.user;
                o.in_scope = [&user](const std::string& village) { return sync::user_covers(user, {village}); };
                auto rep = ops::reconcile(store, c.rq.body, o);
                if (!rep) return c.fail(rep.error());
                if (!rep->problems.empty()) {
                  c.outcome = "refused";
                  json j{{"error", c.lang == Lang::zh ? "外部名单有问题，未比对" : "the external list has problems; nothing compared"},
                         {"code", "invalid_input"},
                         {"status", 422},
                         {"problems", problems_json(rep->problems, c.lang)}};
                  return reply(j, 422);
                }
                auto filed = ops::keep_filed_headcounts(folder.store(), *rep);
                if (!filed) return c.fail(filed.error());
                json j = reconcile_json(*rep, c.lang, false, true);
                if (*filed) {
                  j["filed_headcounts"] = rep->employer_headcounts;
                  if (auto a = sync::record_audit(folder.store(), now, "filed headcounts", c.user.name,
                                                  sync::audit_summary({{"file_sha256", crypto::to_hex(crypto::sha256(c.rq.body))},
                                                                       {"employers", uint64_t{rep->employer_headcounts.size()}},
                                                                       {"via", std::string("api")}}));
                      !a)
                    return c.fail(a.error());
                }
                j["ok"] = true;
                return reply(j);
              });
            }));
}

}  // namespace tz::server_cli
