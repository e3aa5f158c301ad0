// Real device stores syncing with a real server store through the loopback transport (SPEC §5):
// convergence by digests, unpushed edits kept visible, scope changes, a rolled-back device store, a
// restored server (new epoch), a lost acknowledgement of re-stamped changes, and quarantine.
#include <catch2/catch.hpp>

#include <deque>
#include <filesystem>

#include "server_fixture.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/editor.hpp"
#include "tz/ops/review.hpp"

using namespace tz;
using namespace tz::sync;
using tz::test::kVillageA;
using tz::test::kVillageB;
using tz::test::kVillageC;

namespace {

const EntityType H = EntityType::household;
const EntityType P = EntityType::person;
const std::string kSecret(32, 's');

// A transport that can lose the replies to the next pushes (the server ran the request; the device
// hears nothing).
class LossyTransport final : public Transport {
 public:
  explicit LossyTransport(SyncServer& s) : loop_(s) {}
  Result<std::string> exchange(std::string_view request) override {
    auto reply = loop_.exchange(request);
    bool push = !request.empty() && static_cast<uint8_t>(request[0]) == static_cast<uint8_t>(MessageType::push_request);
    if (push && lose_push_replies_ > 0) {
      --lose_push_replies_;
      return Error(ErrorCode::network, {"reply lost"});
    }
    return reply;
  }
  int lose_push_replies_ = 0;

 private:
  LoopbackTransport loop_;
};

struct Device {
  std::filesystem::path dir;
  std::unique_ptr<DeviceStore> store;
  Scope scope;
  int64_t clock_offset = 0;
};

struct World {
  std::unique_ptr<tz::test::ServerFixture> f = std::make_unique<tz::test::ServerFixture>();
  std::unique_ptr<LossyTransport> net = std::make_unique<LossyTransport>(*f->server);
  tz::test::TempDir dir;
  std::deque<Device> devices;  // stable references

  Device& add(const Scope& scope, int64_t clock_offset = 0) {
    Device d;
    d.dir = dir.path() / ("d" + std::to_string(devices.size()));
    d.store = tz::test::make_store(d.dir, kSecret);
    d.scope = scope;
    d.clock_offset = clock_offset;
    REQUIRE(f->server->register_device(d.store->info().device, scope));
    devices.push_back(std::move(d));
    return devices.back();
  }
  Result<ops::SyncReport> sync(Device& d) {
    ops::DeviceSync s(*d.store, *net, [this, &d] { return f->now + d.clock_offset; });
    return s.sync();
  }
  // Pulls every page without pushing first (sync() would push).
  void pull_only(Device& d) {
    ops::DeviceSync s(*d.store, *net, [this, &d] { return f->now + d.clock_offset; });
    for (int pages = 0;; ++pages) {
      REQUIRE(pages < 10);
      auto r = s.pull_once();
      REQUIRE(r);
      if (!r->more) break;
    }
  }
  void sync_ok(Device& d) {
    auto r = sync(d);
    if (!r) FAIL(r.error().message(Lang::en));
  }
  // Everyone pushes, then everyone pulls (SPEC §5 Convergence), then the digests must agree.
  void converge() {
    for (auto& d : devices) sync_ok(d);
    for (auto& d : devices) sync_ok(d);
    for (auto& d : devices) {
      INFO("device " << d.store->info().device.hex());
      CHECK(ops::device_scope_digest(*d.store, d.scope) == f->server->scope_digest(d.scope));
    }
  }
  ops::EditContext ctx(Device& d, const std::string& collector = "王芳") {
    f->now += 1000;
    return ops::EditContext{collector, f->now + d.clock_offset};
  }
  // Restarts the server on a copy of its folder taken earlier (a restore): a new epoch.
  void restore_server(const std::filesystem::path& copy, bool new_epoch = true) {
    net.reset();
    f->close();
    std::filesystem::remove_all(f->folder());
    std::filesystem::copy(copy, f->folder(), std::filesystem::copy_options::recursive);
    f->open();
    if (new_epoch) {
      f->store->begin();
      f->store->new_epoch();
      f->store->commit(nullptr, nullptr);
    }
    net = std::make_unique<LossyTransport>(*f->server);
  }
  std::filesystem::path copy_server() {
    auto to = dir.path() / ("server-copy-" + std::to_string(++copies));
    net.reset();
    f->close();
    std::filesystem::copy(f->folder(), to, std::filesystem::copy_options::recursive);
    f->open();
    net = std::make_unique<LossyTransport>(*f->server);
    return to;
  }
  int copies = 0;
};

FieldId fid(EntityType t, const char* name) { return tz::test::field_id(t, name); }

EntityId new_household(World& w, Device& d, const std::string& village, const std::string& no) {
  ops::Editor ed(*d.store, w.ctx(d));
  EntityId id = d.store->natural_keys().household(village, no);
  auto& e = ed.get_or_create(H, id);
  ed.set(e, fid(H, "village_code"), village);
  ed.set(e, fid(H, "household_no"), no);
  REQUIRE(ed.commit());
  return id;
}

EntityId new_person(World& w, Device& d, const EntityId& hh, const std::string& id17, const std::string& name) {
  ops::Editor ed(*d.store, w.ctx(d));
  std::string idn = tz::test::idc(id17);
  EntityId id = d.store->natural_keys().person(idn);
  auto& e = ed.get_or_create(P, id);
  ed.set(e, fid(P, "household_id"), hh.hex());
  ed.set(e, fid(P, "name"), name);
  ed.set(e, fid(P, "id_number"), idn);
  REQUIRE(ed.commit());
  return id;
}

void set_field(World& w, Device& d, const EntityId& id, EntityType t, const char* field, const std::string& value) {
  ops::Editor ed(*d.store, w.ctx(d));
  Entity* e = ed.find(id);
  REQUIRE(e);
  ed.set(*e, fid(t, field), value);
  REQUIRE(ed.commit());
}

std::vector<std::string> values_of(Device& d, const EntityId& id, EntityType t, const char* field) {
  std::vector<std::string> out;
  auto e = d.store->get(id);
  if (!e) return out;
  auto it = e->fields.find(fid(t, field));
  if (it == e->fields.end()) return out;
  for (auto& v : it->second.live) out.push_back(v.value);
  std::sort(out.begin(), out.end());
  return out;
}

// Puts back a copy of a device's store taken earlier (a restore from an older copy).
void restore_device(Device& d, const std::filesystem::path& copy) {
  d.store.reset();
  std::filesystem::remove_all(d.dir);
  std::filesystem::copy(copy, d.dir, std::filesystem::copy_options::recursive);
  d.store = open_device_store(d.dir, "correct horse", tz::test::resources().schema).take();
}
std::filesystem::path copy_device(World& w, Device& d, const std::string& name) {
  auto copy = w.dir.path() / name;
  d.store.reset();
  std::filesystem::copy(d.dir, copy, std::filesystem::copy_options::recursive);
  d.store = open_device_store(d.dir, "correct horse", tz::test::resources().schema).take();
  return copy;
}


// Two devices of village A holding one household with one person, synced: most tests start here.
struct Pair {
  World w;
  Device& a = w.add({kVillageA});
  Device& b = w.add({kVillageA});
  EntityId hh = new_household(w, a, kVillageA, "0001");
  EntityId p = new_person(w, a, hh, "52263219900101001", "张三");
  Pair() { w.converge(); }
};

}  // namespace

TEST_CASE("Two devices editing one field offline converge with the conflict on both", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  CHECK(values_of(b, p, P, "name") == std::vector<std::string>{"张三"});
  set_field(w, a, p, P, "name", "张叁");
  set_field(w, b, p, P, "name", "章三");
  w.converge();
  for (auto* d : {&a, &b}) CHECK(values_of(*d, p, P, "name") == std::vector<std::string>{"张叁", "章三"});
  // Attribution survives the trip: b sees a's collector and device time on a's version.
  auto e = b.store->get(p);
  bool found = false;
  for (auto& v : e->fields.at(fid(P, "name")).live)
    if (v.value == "张叁") {
      found = true;
      CHECK(v.id.device == a.store->info().device);
      CHECK(v.collector == "王芳");
      CHECK(v.device_ms > 0);
    }
  CHECK(found);
}

TEST_CASE("The same keyed person created on two devices is one entity and a field merge", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA});
  auto& b = w.add({kVillageA});
  auto hh_a = new_household(w, a, kVillageA, "0001");
  auto hh_b = new_household(w, b, kVillageA, "0001");
  CHECK(hh_a == hh_b);
  auto pa = new_person(w, a, hh_a, "52263219900101001", "张三");
  auto pb = new_person(w, b, hh_b, "52263219900101001", "张三");
  CHECK(pa == pb);
  w.converge();
  // Equal values are one value, kept as two versions.
  auto e = a.store->get(pa);
  CHECK(e->fields.at(fid(P, "name")).live.size() == 2);
  CHECK_FALSE(e->fields.at(fid(P, "name")).conflict());
}

TEST_CASE("Unpushed local edits stay visible after a pull", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  set_field(w, b, p, P, "phone", "13800000000");  // not pushed
  set_field(w, a, p, P, "name", "张叁");
  w.sync_ok(a);
  ops::DeviceSync s(*b.store, *w.net, [&] { return w.f->now; });
  for (;;) {
    auto r = s.pull_once();
    REQUIRE(r);
    if (!r->more) break;
  }
  CHECK(values_of(b, p, P, "phone") == std::vector<std::string>{"13800000000"});
  CHECK(values_of(b, p, P, "name") == std::vector<std::string>{"张叁"});
  CHECK(b.store->pending_change_count() > 0);
  w.converge();
}

TEST_CASE("Scope changes give devices the full state of what entered and drop what left", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA});
  auto& b = w.add({kVillageB});
  auto& t = w.add({tz::test::kTownship});
  auto hh = new_household(w, a, kVillageA, "0001");
  auto p = new_person(w, a, hh, "52263219900101001", "张三");
  w.converge();
  CHECK(b.store->get(p) == std::nullopt);
  CHECK(t.store->get(p) != std::nullopt);
  // The household moves to village B: it and its person leave a and enter b.
  set_field(w, t, hh, H, "village_code", kVillageB);
  w.converge();
  CHECK(a.store->get(p) == std::nullopt);
  CHECK(a.store->get(hh) == std::nullopt);
  CHECK(values_of(b, p, P, "name") == std::vector<std::string>{"张三"});
  // Widened: a now holds village B too; narrowed again: it drops them.
  REQUIRE(w.f->server->set_scope(a.store->info().device, {kVillageA, kVillageB}));
  a.scope = {kVillageA, kVillageB};
  w.converge();
  CHECK(values_of(a, p, P, "name") == std::vector<std::string>{"张三"});
  REQUIRE(w.f->server->set_scope(a.store->info().device, {kVillageA}));
  a.scope = {kVillageA};
  w.converge();
  CHECK(a.store->get(p) == std::nullopt);
}

TEST_CASE("A keyed create outside the scope is quarantined and the sender is told", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA});
  auto& c = w.add({kVillageC});
  auto hh_c = new_household(w, c, kVillageC, "0001");
  auto p = new_person(w, c, hh_c, "52263219900101001", "张三");
  w.converge();
  auto hh_a = new_household(w, a, kVillageA, "0009");
  CHECK(new_person(w, a, hh_a, "52263219900101001", "张三") == p);
  w.converge();
  CHECK(a.store->get(p) == std::nullopt);  // held for the reviewer, no longer live on a
  CHECK(w.f->server->quarantine().size() == 3);
  auto notices = a.store->notices();
  CHECK(notices.size() == 3);
  for (auto& n : notices) CHECK(n.entity == p);
  // Released by the reviewer: applied and live everywhere in scope, and on its sender again.
  for (auto& q : w.f->server->quarantine()) REQUIRE(w.f->server->release(q.change.version));
  w.converge();
  auto both = std::vector<std::string>{hh_a.hex(), hh_c.hex()};
  std::sort(both.begin(), both.end());
  CHECK(values_of(c, p, P, "household_id") == both);
  CHECK(a.store->get(p) != std::nullopt);
}

TEST_CASE("A device store restored from an older copy is refused and recovers by renumbering", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  // A copy of a's store now; a then edits and syncs; then the copy is put back.
  auto copy = copy_device(w, a, "a-copy");
  set_field(w, a, p, P, "phone", "13800000001");
  w.converge();
  restore_device(a, copy);
  // The restored store reuses the sequence number of the lost edit for a new one.
  set_field(w, a, p, P, "education", "04");
  auto r = w.sync(a);
  REQUIRE(r);
  CHECK(r->rolled_back_recovered);
  w.converge();
  // Nothing lost: the lost phone came back from the server, the new edit reached b.
  CHECK(values_of(a, p, P, "phone") == std::vector<std::string>{"13800000001"});
  CHECK(values_of(b, p, P, "education") == std::vector<std::string>{"04"});
  // a's log is whole again: gap-free, its lost change restored, the new one renumbered after it.
  auto log = a.store->changes_after(0);
  for (size_t i = 0; i < log.size(); ++i) CHECK(log[i].version.seq.value == i + 1);
}

TEST_CASE("A retry after a lost acknowledgement of re-stamped changes is a duplicate", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA}, 4 * 3600 * 1000);  // four hours ahead
  auto& b = w.add({kVillageA});
  auto hh = new_household(w, a, kVillageA, "0001");
  w.net->lose_push_replies_ = 1;
  CHECK_FALSE(w.sync(a));
  auto r = w.sync(a);
  REQUIRE(r);
  CHECK(r->duplicates == 2);
  CHECK(r->restamped == 2);
  w.converge();
  // Everyone holds the server's stamp, not the device's clock.
  auto e = b.store->get(hh);
  for (auto& [f, fv] : e->fields)
    for (auto& v : fv.live) CHECK(v.ts.ms <= w.f->now);
}

TEST_CASE("A restored server with a new epoch makes devices re-push and re-pull with nothing lost", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  auto backup = w.copy_server();
  set_field(w, a, p, P, "phone", "13800000001");
  set_field(w, b, p, P, "education", "04");
  w.converge();
  std::string before = w.f->server->scope_digest({kVillageA});
  w.restore_server(backup);
  w.converge();
  CHECK(w.f->server->scope_digest({kVillageA}) == before);
  CHECK(values_of(a, p, P, "education") == std::vector<std::string>{"04"});
  CHECK(values_of(b, p, P, "phone") == std::vector<std::string>{"13800000001"});
}

TEST_CASE("A held change released later takes the server's stamp on its sender too", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA}, 4 * 3600 * 1000);  // four hours ahead: every change is re-stamped
  auto& b = w.add({kVillageA});
  auto hh = new_household(w, a, kVillageA, "0001");
  auto p = new_person(w, a, hh, "52263219900101001", "张三");
  set_field(w, a, p, P, "education", "4");  // not a code of the server's schema: held
  w.converge();
  REQUIRE(w.f->server->quarantine().size() == 1);
  CHECK(values_of(a, p, P, "education").empty());  // no longer live on its sender
  REQUIRE(w.f->server->release(w.f->server->quarantine()[0].change.version));
  w.converge();  // the digests compare stamps: a must hold the server's, not its own clock's
  CHECK(values_of(a, p, P, "education") == std::vector<std::string>{"4"});
  CHECK(values_of(b, p, P, "education") == std::vector<std::string>{"4"});
}


TEST_CASE("A restored device store that made more changes than it lost recovers with nothing lost", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  auto copy = copy_device(w, a, "a-copy");
  set_field(w, a, p, P, "phone", "13800000001");  // lost with the restore
  w.converge();
  restore_device(a, copy);
  // Three new edits where one was lost: the renumbered ones must follow what the server holds.
  set_field(w, a, p, P, "education", "04");
  set_field(w, a, p, P, "remarks", "甲");
  set_field(w, a, p, P, "skills", "乙");
  auto r = w.sync(a);
  if (!r) FAIL(r.error().message(Lang::en));
  CHECK(r->rolled_back_recovered);
  CHECK(a.store->pending_change_count() == 0);
  w.converge();
  CHECK(values_of(a, p, P, "phone") == std::vector<std::string>{"13800000001"});
  CHECK(values_of(b, p, P, "education") == std::vector<std::string>{"04"});
  CHECK(values_of(b, p, P, "remarks") == std::vector<std::string>{"甲"});
  CHECK(values_of(b, p, P, "skills") == std::vector<std::string>{"乙"});
}

TEST_CASE("A restored device store whose lost change is held in quarantine recovers with nothing lost", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  auto copy = copy_device(w, a, "a-copy");
  set_field(w, a, hh, H, "relocation_mode", "99");  // refused by a single-field rule: quarantined
  w.converge();
  REQUIRE(w.f->server->quarantine().size() == 1);
  restore_device(a, copy);
  set_field(w, a, p, P, "education", "04");
  auto r = w.sync(a);
  if (!r) FAIL(r.error().message(Lang::en));
  CHECK(r->rolled_back_recovered);
  CHECK(a.store->pending_change_count() == 0);
  w.converge();
  CHECK(values_of(b, p, P, "education") == std::vector<std::string>{"04"});
  CHECK(w.f->server->quarantine().size() == 1);
}

TEST_CASE("A change released after its entity left the sender's scope does not reappear there", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA});
  auto& t = w.add({tz::test::kTownship});
  auto hh = new_household(w, a, kVillageA, "0001");
  auto p = new_person(w, a, hh, "52263219900101001", "张三");
  w.converge();
  set_field(w, a, p, P, "phone", "13800000001");  // not pushed yet
  set_field(w, t, hh, H, "village_code", kVillageB);
  w.sync_ok(t);
  w.converge();  // a's edit arrives after the move: outside its scope, held
  REQUIRE(w.f->server->quarantine().size() == 1);
  CHECK(a.store->get(p) == std::nullopt);
  REQUIRE(w.f->server->release(w.f->server->quarantine().front().change.version));
  w.converge();
  CHECK(values_of(t, p, P, "phone") == std::vector<std::string>{"13800000001"});
  // The person is in village B: a holds nothing of it (no partial entity with the released field).
  CHECK(a.store->get(p) == std::nullopt);
}

TEST_CASE("A restored device store that syncs before editing never reuses a sequence the server holds", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  auto copy = copy_device(w, a, "a-copy");
  bool quarantined = GENERATE(false, true);
  INFO("the lost change is " << (quarantined ? "held in quarantine" : "applied"));
  if (quarantined) set_field(w, a, hh, H, "relocation_mode", "99");
  else set_field(w, a, p, P, "phone", "13800000001");
  w.converge();
  restore_device(a, copy);
  w.sync_ok(a);  // nothing to push: the server's acknowledgement is beyond the restored log
  set_field(w, a, p, P, "education", "04");
  w.converge();
  CHECK(a.store->pending_change_count() == 0);
  CHECK(values_of(b, p, P, "education") == std::vector<std::string>{"04"});
  if (!quarantined) CHECK(values_of(a, p, P, "phone") == std::vector<std::string>{"13800000001"});
}

TEST_CASE("A released change re-stamped at release carries the server's stamp on its sender", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA}, 4 * 3600 * 1000);  // four hours ahead: the release re-stamps
  auto& b = w.add({kVillageA});
  auto hh = new_household(w, a, kVillageA, "0001");
  w.converge();
  set_field(w, a, hh, H, "relocation_mode", "99");  // refused by a single-field rule: quarantined
  w.converge();
  REQUIRE(w.f->server->quarantine().size() == 1);
  REQUIRE(w.f->server->release(w.f->server->quarantine().front().change.version));
  w.converge();  // the digests compare timestamps: a must hold the server's stamp
  CHECK(values_of(a, hh, H, "relocation_mode") == std::vector<std::string>{"99"});
  CHECK(values_of(b, hh, H, "relocation_mode") == std::vector<std::string>{"99"});
}

TEST_CASE("A server restored from a copy without a new epoch is noticed and nothing is lost", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  auto backup = w.copy_server();
  set_field(w, a, p, P, "phone", "13800000001");
  set_field(w, b, p, P, "education", "04");
  w.converge();
  w.restore_server(backup, false);  // the files put back as they were: the same epoch
  // b pushes first: the server's log grows again over the sequences a has already seen.
  set_field(w, b, p, P, "remarks", "甲");
  w.sync_ok(b);
  w.converge();
  CHECK(values_of(a, p, P, "remarks") == std::vector<std::string>{"甲"});
  CHECK(values_of(a, p, P, "education") == std::vector<std::string>{"04"});
  CHECK(values_of(b, p, P, "phone") == std::vector<std::string>{"13800000001"});
}

TEST_CASE("Syncing a store opened without its passphrase is a clear error and changes nothing", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA});
  auto hh = new_household(w, a, kVillageA, "0001");
  a.store.reset();
  a.store = open_device_store_locked(a.dir, tz::test::resources().schema).take();
  ops::DeviceSync s(*a.store, *w.net, [&] { return w.f->now; });
  Result<ops::SyncReport> r = Error(ErrorCode::internal);
  REQUIRE_NOTHROW(r = s.sync());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ErrorCode::wrong_passphrase);
  CHECK_FALSE(s.pull_once());
  a.store.reset();
  a.store = open_device_store(a.dir, "correct horse", tz::test::resources().schema).take();
  CHECK(a.store->pending_change_count() == 2);
  w.sync_ok(a);
  CHECK(w.f->server->scope_digest({kVillageA}).find(hh.hex()) != std::string::npos);
}

TEST_CASE("A restored device store that only pulls gets back its lost changes before it edits", "[sync][device]") {
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  auto copy = copy_device(w, a, "a-copy");
  set_field(w, a, p, P, "phone", "13800000001");
  w.converge();
  restore_device(a, copy);
  w.pull_only(a);
  CHECK(values_of(a, p, P, "phone") == std::vector<std::string>{"13800000001"});
  set_field(w, a, p, P, "education", "04");
  w.converge();
  CHECK(values_of(b, p, P, "education") == std::vector<std::string>{"04"});
}

TEST_CASE("A restored store that pulls a re-stamp of the change it lost keeps its own stamp on the new one", "[sync][device]") {
  // docs/decisions.md 224 (long simulator seed 100135).
  Pair pair;
  auto& [w, a, b, hh, p] = pair;
  auto copy = copy_device(w, a, "a-copy");
  a.clock_offset = 4 * 3600 * 1000;  // four hours ahead: the server re-stamps the edit
  set_field(w, a, p, P, "phone", "13800000001");
  w.converge();
  // The copy is put back and the clock set right; the new edit reuses the lost edit's sequence.
  restore_device(a, copy);
  a.clock_offset = 0;
  set_field(w, a, hh, H, "address", "甲");
  const VersionId reused = a.store->changes_after(a.store->info().acked_seq).front().version;
  const Hlc own_stamp = a.store->get(hh)->fields.at(fid(H, "address")).live.front().ts;
  // A pull before the push brings the server's re-stamp of its change at that sequence (the lost edit).
  w.pull_only(a);
  auto r = w.sync(a);
  if (!r) FAIL(r.error().message(Lang::en));
  CHECK(r->rolled_back_recovered);
  w.converge();  // the digests compare stamps: a's new edit must carry its own, as on the server
  auto live = a.store->get(hh)->fields.at(fid(H, "address")).live;
  REQUIRE(live.size() == 1);
  CHECK(live.front().id.seq.value > reused.seq.value);
  CHECK(live.front().ts == own_stamp);
  CHECK(values_of(a, p, P, "phone") == std::vector<std::string>{"13800000001"});
  CHECK(values_of(b, hh, H, "address") == std::vector<std::string>{"甲"});
}

TEST_CASE("A store restored from a copy made before its first sync recovers without duplicate versions", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA});
  auto& b = w.add({kVillageA});
  auto copy = copy_device(w, a, "a-never-synced");  // cursor 0: its first pull brings own values
  auto hh = new_household(w, a, kVillageA, "0001");
  auto p = new_person(w, a, hh, "52263219900101001", "张三");
  w.converge();
  restore_device(a, copy);
  // New changes under the ids the server holds with other content; the first of them the same edit
  // at another time (a new change, not a retry).
  new_household(w, a, kVillageA, "0001");
  new_household(w, a, kVillageA, "0002");
  auto r = w.sync(a);
  if (!r) FAIL(r.error().message(Lang::en));
  CHECK(r->rolled_back_recovered);
  w.converge();  // equal digests: no version of a's twice under two ids, none lost
  CHECK(values_of(a, p, P, "name") == std::vector<std::string>{"张三"});
  CHECK(b.store->get(a.store->natural_keys().household(kVillageA, "0002")) != std::nullopt);
  auto log = a.store->changes_after(0);
  for (size_t i = 0; i < log.size(); ++i) CHECK(log[i].version.seq.value == i + 1);
}

TEST_CASE("A sync that cannot reach the server is retried with growing jittered waits until it succeeds or time runs out", "[sync][device][retry]") {
  World w;
  auto& d = w.add({tz::test::kTownship});
  new_household(w, d, tz::test::kVillageA, "0001");
  int64_t steady = 0;
  std::vector<int64_t> waits;
  ops::RetryHooks hooks;
  hooks.steady_ms = [&] { return steady; };
  hooks.sleep = [&](int64_t ms) { steady += ms; };
  hooks.on_retry = [&](const Error& e, int64_t ms) {
    CHECK(e.code() == ErrorCode::network);
    waits.push_back(ms);
  };
  ops::RetryPolicy policy;  // 500 ms doubling to 8 s, 30 s in all

  SECTION("two lost replies: three tries, each wait between half and all of its doubling value") {
    w.net->lose_push_replies_ = 2;
    ops::DeviceSync s(*d.store, *w.net, [&] { return w.f->now; });
    auto r = ops::sync_with_retry(s, d.store->info().device, policy, hooks);
    REQUIRE(r.result.ok());
    CHECK(r.tries == 3);
    REQUIRE(waits.size() == 2);
    CHECK(waits[0] >= 250);
    CHECK(waits[0] <= 500);
    CHECK(waits[1] >= 500);
    CHECK(waits[1] <= 1000);
    CHECK(d.store->info().acked_seq + 1 == d.store->info().next_seq);
  }
  SECTION("a server that never answers: gives up with the network error once the time is spent") {
    w.net->lose_push_replies_ = 1000;
    policy.timeout_ms = 5000;
    ops::DeviceSync s(*d.store, *w.net, [&] { return w.f->now; });
    auto r = ops::sync_with_retry(s, d.store->info().device, policy, hooks);
    REQUIRE_FALSE(r.result.ok());
    CHECK(r.result.error().code() == ErrorCode::network);
    CHECK(steady == 5000);  // the last wait is cut to what was left
    CHECK(r.tries == static_cast<int>(waits.size()) + 1);
  }
  SECTION("a refusal is not retried") {
    auto& stranger = w.add({tz::test::kTownship});
    REQUIRE(w.f->server->revoke_device(stranger.store->info().device));
    ops::DeviceSync s(*stranger.store, *w.net, [&] { return w.f->now; });
    new_household(w, stranger, tz::test::kVillageA, "0002");
    auto r = ops::sync_with_retry(s, stranger.store->info().device, policy, hooks);
    REQUIRE_FALSE(r.result.ok());
    CHECK(r.result.error().code() != ErrorCode::network);
    CHECK(r.tries == 1);
    CHECK(waits.empty());
  }
}

// A household of village A with two persons named 张三 made on d, everyone converged: the household,
// the smaller person id (a merge's survivor) and the larger.
std::tuple<EntityId, EntityId, EntityId> two_namesakes(World& w, Device& d) {
  auto hh = new_household(w, d, kVillageA, "0001");
  auto p1 = new_person(w, d, hh, "52263219900101001", "张三");
  auto p2 = new_person(w, d, hh, "52263219900101002", "张三");
  w.converge();
  return {hh, std::min(p1, p2), std::max(p1, p2)};
}

TEST_CASE("A merge reaches devices and an edit to the merged-away person lands on the survivor", "[sync][device][merge]") {
  World w;
  auto& a = w.add({kVillageA});
  auto& b = w.add({kVillageA});
  auto& c = w.add({kVillageB});
  auto hh = new_household(w, a, kVillageA, "0001");
  auto p1 = new_person(w, a, hh, "52263219900101001", "张三");
  auto p2 = new_person(w, a, hh, "52263219900101002", "张三");
  const EntityId keep = std::min(p1, p2), away = std::max(p1, p2);
  set_field(w, a, away, P, "phone", "13800000002");
  w.converge();
  // b edits the person that is about to be merged away, offline: its edit replaces the phone.
  set_field(w, b, away, P, "phone", "13900000002");
  REQUIRE(w.f->server->merge(keep, away));
  w.converge();
  for (auto* d : {&a, &b}) {
    CHECK(d->store->get(away) == std::nullopt);
    CHECK(values_of(*d, keep, P, "phone") == std::vector<std::string>{"13900000002"});
    CHECK(values_of(*d, keep, P, "name") == std::vector<std::string>{"张三", "张三"});
  }
  CHECK(c.store->get(keep) == std::nullopt);
  // b heard that its change went to the survivor.
  bool told = false;
  for (auto& n : b.store->notices()) told |= n.kind == static_cast<uint8_t>(NoticeRecord::Kind::redirected) && n.entity == away;
  CHECK(told);
  // Undone: both come back on the devices, with the edit on the merged-away one.
  REQUIRE(w.f->server->unmerge(away));
  w.converge();
  for (auto* d : {&a, &b}) {
    CHECK(values_of(*d, away, P, "phone") == std::vector<std::string>{"13900000002"});
    CHECK(values_of(*d, keep, P, "phone").empty());
    CHECK(values_of(*d, keep, P, "name") == std::vector<std::string>{"张三"});
  }
}

TEST_CASE("A device that starts after a merge and an unmerge converges from cursor 0", "[sync][device][merge]") {
  World w;
  auto& a = w.add({kVillageA});
  auto [hh, keep, away] = two_namesakes(w, a);
  REQUIRE(w.f->server->merge(keep, away));
  set_field(w, a, keep, P, "phone", "13800000001");
  w.converge();
  auto& late = w.add({kVillageA});
  w.converge();
  CHECK(late.store->get(away) == std::nullopt);
  REQUIRE(w.f->server->unmerge(away));
  auto& later = w.add({kVillageA});
  w.converge();
  CHECK(values_of(later, away, P, "name") == std::vector<std::string>{"张三"});
  CHECK(values_of(later, keep, P, "phone") == std::vector<std::string>{"13800000001"});
}

TEST_CASE("A merge is in the SPEC §5 digest: a device differs until it pulls it and learns it when the survivor enters its scope",
          "[sync][device][merge]") {
  World w;
  auto& a = w.add({kVillageA});
  auto& b = w.add({kVillageA});
  auto& c = w.add({kVillageB});
  auto& t = w.add({tz::test::kTownship});
  auto [hh, keep, away] = two_namesakes(w, a);
  const std::string link = "merged " + away.hex() + "\n";
  auto digest_of = [](Device& d) { return ops::device_scope_digest(*d.store, d.scope); };
  REQUIRE(w.f->server->merge(keep, away));
  const std::string merged_a = w.f->server->scope_digest({kVillageA});
  CHECK(merged_a.find(link) != std::string::npos);
  CHECK(w.f->server->scope_digest({kVillageB}).find(link) == std::string::npos);
  // b has not pulled the merge: its digest differs (and lacks the link) until it does.
  CHECK(digest_of(b) != merged_a);
  CHECK(digest_of(b).find(link) == std::string::npos);
  w.sync_ok(b);
  CHECK(digest_of(b) == merged_a);
  CHECK(ops::device_merge_links(*b.store).at(away) == keep);
  // The link counts on its own: the same states without it are another digest.
  {
    auto held = b.store->sync_config(std::string(ops::kMergeLinksConfig));
    REQUIRE(held);
    WriteBatch wb;
    wb.configs.push_back({std::string(ops::kMergeLinksConfig), {held->first + 1, ""}});
    wb.clock = b.store->clock();
    REQUIRE(b.store->write(wb));
    CHECK(digest_of(b) != merged_a);
    wb.configs = {{std::string(ops::kMergeLinksConfig), {held->first + 2, held->second}}};
    REQUIRE(b.store->write(wb));
    CHECK(digest_of(b) == merged_a);
  }
  w.converge();
  // The household moves to village B: the survivor enters c's scope with its link, and leaves a's
  // and b's, which drop the link.
  set_field(w, t, hh, H, "village_code", kVillageB);
  w.converge();
  CHECK(ops::device_merge_links(*c.store).at(away) == keep);
  CHECK(digest_of(c).find(link) != std::string::npos);
  CHECK(ops::device_merge_links(*a.store).empty());
  CHECK(w.f->server->scope_digest({kVillageA}).find(link) == std::string::npos);
  // Unmerged: c differs until it pulls the unmerge, then holds no link.
  REQUIRE(w.f->server->unmerge(away));
  CHECK(digest_of(c) != w.f->server->scope_digest({kVillageB}));
  w.converge();
  CHECK(ops::device_merge_links(*c.store).empty());
  CHECK(digest_of(c).find(link) == std::string::npos);
}

TEST_CASE("A store restored from a copy gets its redirected change back under the entity it was sent to", "[sync][device][merge]") {
  // docs/decisions.md 220 (long simulator seeds 100335, 100512, 100590).
  World w;
  auto& a = w.add({kVillageA});
  auto& b = w.add({kVillageA});
  auto [hh, keep, away] = two_namesakes(w, a);
  auto copy = copy_device(w, b, "b-copy");
  // b edits the person about to be merged away; the change lands on the survivor.
  set_field(w, b, away, P, "phone", "13900000002");
  REQUIRE(w.f->server->merge(keep, away));
  w.converge();
  CHECK(values_of(b, keep, P, "phone") == std::vector<std::string>{"13900000002"});
  // b's store is put back from the copy taken before that edit, and catches up from cursor 0.
  restore_device(b, copy);
  w.converge();
  CHECK(values_of(b, keep, P, "phone") == std::vector<std::string>{"13900000002"});
  bool logged_as_sent = false;
  for (auto& c : b.store->changes_after(0))
    if (c.value == "13900000002") logged_as_sent = c.entity == away;
  CHECK(logged_as_sent);
  // Unmerged: the edit goes back to the merged-away person on every device, the restored one too.
  REQUIRE(w.f->server->unmerge(away));
  w.converge();
  for (auto* d : {&a, &b}) {
    CHECK(values_of(*d, away, P, "phone") == std::vector<std::string>{"13900000002"});
    CHECK(values_of(*d, keep, P, "phone").empty());
  }
}

TEST_CASE("A device's own write of a review decision is quarantined and the reviewer's decision stands everywhere", "[sync][device][review]") {
  // Device a approves a record the county sent back, bypassing field-cli (the Editor writes the field
  // as a crafted push would carry it); the county admin replica's decisions still apply.
  Pair t;
  auto& admin = t.w.add({"522632"});
  REQUIRE(in_write_txn(*t.w.f->store, [&] { t.w.f->store->put_meta_value(kMetaAdminDevice, admin.store->info().device.hex()); }));
  t.w.converge();
  REQUIRE(ops::decide_review(*admin.store, t.p, false, "工资不符", t.w.ctx(admin)));
  t.w.converge();
  for (auto* d : {&t.a, &t.b, &admin}) CHECK(ops::review_status_of(*d->store, t.p).state == ReviewState::returned);
  CHECK(t.w.f->server->quarantine().empty());

  // The fraud: a's own approval of the person and of the household.
  REQUIRE(ops::decide_review(*t.a.store, t.p, true, "", t.w.ctx(t.a)));
  CHECK(ops::review_status_of(*t.a.store, t.p).state == ReviewState::approved);  // only until it syncs
  set_field(t.w, t.a, t.hh, H, "review", "approve:" + t.a.store->info().device.hex() + ":1");
  t.w.converge();
  auto held = t.w.f->server->quarantine();
  REQUIRE(held.size() == 2);
  for (auto& q : held) {
    CHECK(q.change.version.device == t.a.store->info().device);
    CHECK(q.reason.find("只能由县审核人员设定") != std::string::npos);
    CHECK(q.reason.find("can only be set by the county's reviewers") != std::string::npos);
  }
  // The decision stands on the server (its digest is what converge compared), on the sender and on the others.
  for (auto* d : {&t.a, &t.b, &admin}) {
    auto st = ops::review_status_of(*d->store, t.p);
    CHECK(st.state == ReviewState::returned);
    CHECK(st.reason == "工资不符");
    CHECK(values_of(*d, t.hh, H, "review").empty());
  }
  // The sender is told, naming the field.
  size_t told = 0;
  for (auto& n : t.a.store->notices())
    if (n.kind == static_cast<uint8_t>(NoticeRecord::Kind::quarantined) && n.reason_zh.find("“审核结论”只能由县审核人员设定") != std::string::npos)
      ++told;
  CHECK(told == 1);

  // The county's approval through its replica applies and reaches every device.
  REQUIRE(ops::decide_review(*admin.store, t.p, true, "", t.w.ctx(admin)));
  REQUIRE(ops::decide_review(*admin.store, t.hh, true, "", t.w.ctx(admin)));
  t.w.converge();
  CHECK(t.w.f->server->quarantine().size() == 2);
  for (auto* d : {&t.a, &t.b, &admin}) {
    CHECK(ops::review_status_of(*d->store, t.p).state == ReviewState::approved);
    CHECK(ops::review_status_of(*d->store, t.hh).state == ReviewState::approved);
  }
}

TEST_CASE("A push is cut by the bytes of its changes as well as by their count and every change arrives", "[sync][device]") {
  World w;
  auto& a = w.add({kVillageA});
  auto hh = new_household(w, a, kVillageA, "0001");
  for (int i = 0; i < 6; ++i) {
    auto p = new_person(w, a, hh, "5226321990010100" + std::to_string(i), "张" + std::to_string(i));
    set_field(w, a, p, P, "phone", "1391234567" + std::to_string(i));
  }
  const uint64_t total = a.store->info().next_seq - 1;
  ops::DeviceSyncOptions opt;
  opt.push_bytes = 500;  // every change counts at least 96 bytes: at most 5 a request
  ops::DeviceSync s(*a.store, *w.net, [&w] { return w.f->now; }, opt);
  REQUIRE(total > 10);
  for (uint64_t after = 0; after < total;) {
    auto req = s.make_push_request(after);
    REQUIRE_FALSE(req.changes.empty());
    CHECK(req.changes.size() <= 5);
    CHECK(req.changes.front().version.seq.value == after + 1);
    after = req.changes.back().version.seq.value;
  }
  int requests = 0;
  for (;; ++requests) {
    REQUIRE(requests < 100);
    auto r = s.push_once();
    REQUIRE(r);
    if (r->done) break;
  }
  CHECK(requests >= 3);
  CHECK(a.store->info().acked_seq == total);
  w.converge();
}
