// What the two sync simulators share (sim_common.hpp).
#include "sim_common.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tz/sync/server.hpp"
#include "tz/sync/server_store.hpp"
#include "tz/util/civil_time.hpp"

namespace tz::sim {

const std::vector<std::string> kVillages = {"522632100207", "522632100208", "522632100209", "522632101001"};
const std::vector<sync::Scope> kScopes = {{"522632"},
                                          {"522632100"},
                                          {"522632100207"},
                                          {"522632100208", "522632101001"},
                                          {"522632100207", "522632100208"}};
const std::vector<std::string> kIds17 = {"52263219800101001", "52263219851212002", "52263219900505003",
                                         "52263219950707004", "52263220000303005", "52263219700909006"};
const std::vector<std::string> kNames = {"张三", "李四", "王五"};
const std::vector<std::string> kTexts = {"甲", "乙", "丙"};
const std::vector<std::string> kReasons = {"迁出", "死亡", "重复录入"};

std::vector<std::string> first(const std::vector<std::string>& pool, size_t n) {
  return {pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(std::min(n, pool.size()))};
}

std::string msg(const Error& e) { return std::string(e.name()) + ": " + e.message(Lang::en); }

std::string short_id(const EntityId& id) { return id.hex().substr(0, 8); }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// ---------------------------------------------------------------------------------------------
// FaultyTransport

void FaultCounts::add(const FaultCounts& o) {
  using F = FaultCounts;
  add_members(*this, o,
              {&F::exchanges, &F::drop_request, &F::drop_reply, &F::duplicate, &F::reorder, &F::late_delivery,
               &F::cut_request, &F::cut_reply});
}

std::string FaultCounts::str() const {
  std::ostringstream o;
  o << "exchanges " << exchanges << ", dropped requests " << drop_request << ", dropped replies " << drop_reply
    << ", duplicated " << duplicate << ", held back " << reorder << " (delivered late " << late_delivery
    << "), cut requests " << cut_request << ", cut replies " << cut_reply;
  return o.str();
}

FaultyTransport::FaultyTransport(sync::SyncServer& server, Oracle& oracle, std::mt19937_64& rng)
    : loop_(server), oracle_(oracle), rng_(rng) {}

std::string FaultyTransport::run(std::string_view request) {
  auto reply = loop_.exchange(request);
  if (!reply) return {};
  oracle_.observe_exchange(request, *reply);
  return *reply;
}

void FaultyTransport::deliver_held() {
  auto held = std::move(held_);
  held_.clear();
  for (auto& r : held) {
    run(r);
    ++counts.late_delivery;
  }
}

Result<std::string> FaultyTransport::exchange(std::string_view request) {
  ++counts.exchanges;
  auto lost = [] { return Error(ErrorCode::network, {"simulated network failure"}); };
  if (!faults) return run(request);
  std::uniform_real_distribution<double> u(0, 1);
  // Reorder: a request held back earlier reaches the server now, before this one.
  if (!held_.empty() && u(rng_) < 0.3) {
    auto r = std::move(held_.front());
    held_.erase(held_.begin());
    run(r);
    ++counts.late_delivery;
  }
  if (u(rng_) >= fault_rate) return run(request);
  switch (std::uniform_int_distribution<int>(0, 5)(rng_)) {
    case 0:  // the server never sees it
      ++counts.drop_request;
      return lost();
    case 1: {  // the server ran it; the reply is lost
      ++counts.drop_reply;
      run(request);
      return lost();
    }
    case 2: {  // delivered twice
      ++counts.duplicate;
      auto first = run(request);
      auto second = run(request);
      return u(rng_) < 0.5 ? first : second;
    }
    case 3:  // held back, delivered later (after others)
      ++counts.reorder;
      held_.emplace_back(request);
      return lost();
    case 4: {  // cut off in the middle
      ++counts.cut_request;
      std::string cut(request.substr(0, std::uniform_int_distribution<size_t>(0, request.size() - 1)(rng_)));
      auto reply = run(cut);
      if (reply.empty()) return lost();
      return reply;
    }
    default: {  // the reply is cut off
      ++counts.cut_reply;
      auto reply = run(request);
      if (reply.empty()) return lost();
      return reply.substr(0, std::uniform_int_distribution<size_t>(0, reply.size() - 1)(rng_));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// RunLog

std::string RunLog::report(std::string_view kind, const std::string& counts, size_t max_violations,
                           size_t last_events) const {
  std::ostringstream o;
  o << "seed " << seed << kind << ": " << violations.size() << " violation(s)\n";
  for (size_t i = 0; i < violations.size() && i < max_violations; ++i) o << "  " << to_string(violations[i]) << "\n";
  o << "faults: " << faults.str() << "\n" << counts << "\nlast events:\n";
  for (size_t i = events.size() > last_events ? events.size() - last_events : 0; i < events.size(); ++i)
    o << "  " << events[i] << "\n";
  return o.str();
}

// ---------------------------------------------------------------------------------------------
// SimCore

SimCore::SimCore(const RunOptions& o, const ServerSetup& setup)
    : opt_(o),
      rng_(o.seed),
      dir_(test::tmpfs_dir(), setup.dir_prefix),
      schema_(*setup.schema),
      tree_(region::RegionTree::parse_csv(setup.tree_csv, "shipped").take()),
      oracle_(&schema_) {
  log_.seed = o.seed;
  vctx_.today = china_date_of(kStartMs);
  vctx_.period_year = 2026;
  vctx_.settings = &schema_.settings();
  vctx_.counties = setup.counties;
  vctx_.tree = &tree_;
  const auto& hs = schema_.entity(EntityType::household);
  const auto& ps = schema_.entity(EntityType::person);
  f_village_ = hs.require("village_code").id;
  f_hhno_ = hs.require("household_no").id;
  f_head_ = hs.require("head_name").id;
  f_mode_ = hs.require("relocation_mode").id;
  hh_fields_ = {f_head_, hs.require("address").id, hs.require("relocation_site").id};
  f_hh_ = ps.require("household_id").id;
  f_name_ = ps.require("name").id;
  f_idn_ = ps.require("id_number").id;
  person_fields_ = {f_name_, ps.require("ethnicity").id, ps.require("skills").id, ps.require("remarks").id};

  server_store_ = sync::open_sqlite_server_store(dir_.path() / "server").take();
  sync::ServerOptions so;
  so.merge_mode = o.merge_mode;
  so.max_page_records = 1 + rnd(20);
  server_ = std::make_unique<sync::SyncServer>(*server_store_, schema_, vctx_, [this] { return now_ms_; }, so);
  net_ = std::make_unique<FaultyTransport>(*server_, oracle_, rng_);
  net_->faults = o.faults;
}

SimCore::~SimCore() = default;

RunLog SimCore::run_steps() {
  try {
    for (step_ = 1; step_ <= opt_.steps; ++step_) {
      now_ms_ += 1000 + static_cast<int64_t>(rnd(120000));
      one_step();
      if (step_ % opt_.check_every == 0 && check_running()) break;
    }
    if (log_.violations.empty()) finish();
  } catch (const Failure& f) {
    violation(0, "exception at step " + std::to_string(step_) + ": " + msg(f.error()));
  } catch (const std::exception& e) {
    violation(0, "exception at step " + std::to_string(step_) + ": " + e.what());
  }
  log_.faults = net_->counts;
  return std::move(log_);
}

int SimCore::pick_action(std::initializer_list<int> weights) {
  int total = 0;
  for (int w : weights) total += w;
  int r = static_cast<int>(rnd(static_cast<size_t>(total))), a = 0;
  for (int w : weights) {
    if (r < w) break;
    r -= w;
    ++a;
  }
  return a;
}

void SimCore::place(SimDevice& d, int i) {
  d.scope = kScopes[static_cast<size_t>(i) % kScopes.size()];
  for (auto& v : kVillages)
    if (oracle_scope_holds(d.scope, v)) d.villages.push_back(v);
  const int64_t hour = 3600 * 1000;
  d.offset_ms = i == 0   ? 0
                : i == 1 ? hour + static_cast<int64_t>(rnd(5 * hour))
                         : static_cast<int64_t>(rnd(12 * hour)) - 6 * hour;
  d.collector = i % 2 ? "李强" : "王芳";
}

void SimCore::event(const std::string& text) {
  log_.events.push_back("step " + std::to_string(step_) + ": " + text);
}

void SimCore::violation(int inv, const std::string& what) {
  for (auto& v : log_.violations)
    if (v.what == what) return;
  log_.violations.push_back({inv, what});
}

void SimCore::take(const std::vector<Violation>& vs, const std::string& when) {
  for (auto& v : vs) violation(v.invariant, when + v.what);
}

ServerView SimCore::snapshot() const {
  ServerView v;
  server_->store().scan_entities([&](const sync::EntityRecord& r) { v.entities[r.state.id] = r.state; });
  for (auto& c : server_->quarantine()) v.quarantined.insert(c.change.version);
  return v;
}

bool SimCore::check_running() {
  take_apply_merges();
  auto view = snapshot();
  take(oracle_.observed(), "");
  take(oracle_.check_no_lost_writes(view), "at step " + std::to_string(step_) + ": ");
  return !log_.violations.empty();
}

void SimCore::quiesce() {
  ++step_;
  net_->faults = false;
  net_->deliver_held();
}

void SimCore::check_server_final() {
  take_apply_merges();
  auto view = snapshot();
  take(oracle_.observed(), "");
  take(oracle_.check_no_lost_writes(view), "final: ");
  take(oracle_.check_server_state(view), "final: ");
  take(oracle_.check_attribution(view), "final: ");
}

bool SimCore::review(uint64_t& releases, uint64_t& rejects) {
  auto q = server_->quarantine();
  if (q.empty()) return false;
  const VersionId id = pick(q).change.version;
  if (rnd(2)) {
    auto st = server_->release(id);
    if (!st) {
      violation(0, "SyncServer::release(" + id.str() + ") failed: " + msg(st.error()));
      return false;
    }
    std::optional<Hlc> ts;
    if (auto held = server_->store().change(id)) ts = held->change.ts;
    oracle_.released(id, ts);
    ++releases;
    event("reviewer releases " + id.str());
  } else {
    auto st = server_->reject(id, bilingual("模拟驳回", "simulated rejection"));
    if (!st) {
      violation(0, "SyncServer::reject(" + id.str() + ") failed: " + msg(st.error()));
      return false;
    }
    oracle_.rejected(id);
    ++rejects;
    event("reviewer rejects " + id.str());
  }
  return true;
}

void SimCore::take_server_changes() {
  const uint64_t made = std::stoull(server_->store().meta_value("merge_device_seq").value_or("0"));
  for (; merge_changes_seen_ < made; ++merge_changes_seen_) {
    auto c = server_->store().change(VersionId{sync::merge_device_id(), Seq{merge_changes_seen_ + 1}});
    if (!c) {
      violation(0, "the server's merge change " + std::to_string(merge_changes_seen_ + 1) + " is missing");
      return;
    }
    oracle_.accept(c->change, sync::ChangeOutcome::Kind::applied);
  }
}

uint64_t SimCore::take_apply_merges() {
  uint64_t found = 0;
  for (auto& [away, survivor] : server_->merges()) {
    if (oracle_.target(away) == survivor) continue;
    if (!(survivor < away)) violation(0, "merged on apply: " + short_id(away) + " survived by the larger id " + short_id(survivor));
    oracle_.merged(away, survivor);
    event("the server merged " + short_id(away) + " into " + short_id(survivor) + " on apply");
    ++found;
  }
  take_server_changes();
  return found;
}

bool SimCore::merge_or_unmerge(uint64_t& merges, uint64_t& unmerges) {
  take_apply_merges();
  auto active = server_->merges();
  if (!active.empty() && rnd(2)) {
    const auto [away, survivor] = pick(active);
    auto u = server_->unmerge(away);
    if (!u) {
      violation(0, "SyncServer::unmerge(" + short_id(away) + ") failed: " + msg(u.error()));
      return false;
    }
    oracle_.unmerged(away);
    take_server_changes();
    ++unmerges;
    event("county unmerges " + short_id(away) + " from " + short_id(survivor));
    return true;
  }
  const EntityType type = rnd(3) ? EntityType::person : EntityType::household;
  std::set<EntityId> survivors;
  for (auto& [a, s] : active) survivors.insert(s);
  std::vector<EntityId> candidates;
  server_->store().scan_entities([&](const sync::EntityRecord& r) {
    if (r.state.type == type && !r.state.fields.empty() && !server_->merged_into(r.state.id)) candidates.push_back(r.state.id);
  });
  if (candidates.size() < 2) return false;
  EntityId a = pick(candidates), b = pick(candidates);
  if (a == b) return false;
  if (b < a) std::swap(a, b);
  if (survivors.count(b)) return false;  // refused by the server: unmerge that first
  auto m = server_->merge(a, b);
  if (!m) {
    violation(0, "SyncServer::merge(" + short_id(a) + ", " + short_id(b) + ") failed: " + msg(m.error()));
    return false;
  }
  oracle_.merged(b, a);
  take_server_changes();
  ++merges;
  event("county merges " + std::string(entity_type_name(type)) + " " + short_id(b) + " into " + short_id(a) + " (" +
        std::to_string(m->versions) + " versions, " + std::to_string(m->children) + " children)");
  return true;
}

void SimCore::count_outcomes(uint64_t& accepted, uint64_t& quarantined, uint64_t& restamped,
                             uint64_t& conflict_fields, uint64_t& deleted) const {
  accepted = oracle_.entries().size();
  quarantined = oracle_.count(Oracle::Status::quarantined) + oracle_.count(Oracle::Status::released) +
                oracle_.count(Oracle::Status::rejected);
  for (auto& [id, e] : oracle_.entries()) restamped += e.restamped;
  for (auto& [id, e] : oracle_.expected()) {
    deleted += e.deleted;
    for (auto& [f, live] : e.live) {
      std::set<std::string> values;
      for (auto& v : live) values.insert(v.value);
      conflict_fields += values.size() > 1;
    }
  }
}

}  // namespace tz::sim
