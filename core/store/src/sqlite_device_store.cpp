// The device store on SQLite (WAL, synchronous=FULL). The only file that includes SQLiteCpp; its
// exceptions become tz errors here. Tables and blob layouts: docs/storage.md.
#include "tz/sqlite/support.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "entity_codec.hpp"
#include "tz/store/device_store.hpp"
#include "tz/util/bytes.hpp"
#include "tz/util/crash_point.hpp"
#include "tz/util/sorted.hpp"

namespace tz {

namespace {

using sqlite::bind_blob;
using sqlite::blob_of;

// SQLite's page cache for a store's connection, in KiB.
constexpr int kCacheKiB = 65536;
void set_cache_kib(SQLite::Database& db, int kib) { db.exec("PRAGMA cache_size=-" + std::to_string(kib)); }

constexpr int kFormatVersion = 2;
constexpr size_t kChangesPerGroup = 256;
constexpr const char* kDbName = "store.db";

// What format 2 added to format 1 besides the `merge` column of `entities` (docs/storage.md).
constexpr const char* kFormat2Tables =
    "CREATE INDEX lookup_entity ON lookup(entity);"
    "CREATE TABLE own_status(seq INTEGER PRIMARY KEY, status INTEGER NOT NULL);"
    "CREATE TABLE notices(server_seq INTEGER NOT NULL, version BLOB NOT NULL, kind INTEGER NOT NULL,"
    "  type INTEGER NOT NULL, entity BLOB NOT NULL, field INTEGER NOT NULL, reason BLOB NOT NULL,"
    "  PRIMARY KEY(server_seq, version)) WITHOUT ROWID;"
    "CREATE TABLE sync_config(key TEXT PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;";

nlohmann::json config_to_json(const StoreConfig& c) {
  return {{"county", c.county},
          {"collectors", c.collectors},
          {"default_collector", c.default_collector},
          {"period_year", c.period.year},
          {"as_of", c.period.is_set() ? format_date(c.period.as_of) : ""},
          {"region_tree_version", c.region_tree_version}};
}

StoreConfig config_from_json(const nlohmann::json& j) {
  StoreConfig c;
  c.county = j.value("county", "");
  c.collectors = j.value("collectors", std::vector<std::string>{});
  c.default_collector = j.value("default_collector", "");
  c.period.year = j.value("period_year", 0);
  if (auto d = parse_date(j.value("as_of", ""))) c.period.as_of = *d;
  c.region_tree_version = j.value("region_tree_version", "");
  return c;
}

nlohmann::json sync_to_json(const SyncState& s) {
  return {{"server_epoch", s.server_epoch},
          {"cursor", s.cursor},
          {"own_values", s.own_values},
          {"request_counter", s.request_counter},
          {"full_pull_needed", s.full_pull_needed}};
}

SyncState sync_from_json(const nlohmann::json& j) {
  SyncState s;
  s.server_epoch = j.value("server_epoch", "");
  s.cursor = j.value("cursor", uint64_t{0});
  s.own_values = j.value("own_values", true);
  s.request_counter = j.value("request_counter", uint64_t{0});
  s.full_pull_needed = j.value("full_pull_needed", false);
  return s;
}

// A version id as a notice key: the device, then the seq big-endian (so keys sort by seq).
std::string version_key(const VersionId& v) {
  std::string out(v.device.view());
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v.seq.value >> (8 * i)) & 0xff));
  return out;
}

VersionId version_from_key(std::string_view key) {
  if (key.size() != 24) throw Failure(ErrorCode::store_corrupt, {"notice version"});
  VersionId v{DeviceId::from_bytes(key.substr(0, 16)), Seq{0}};
  for (size_t i = 16; i < 24; ++i) v.seq.value = (v.seq.value << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

// meta `identity`: u8(version) str(sign_priv) str(sign_pub) str(box_priv) str(box_pub) str(server_url)
// str(server_sign_pub) str(server_box_pub) varint(n) str(scope){n} [str(registration) in version 2],
// sealed with AAD `identity`. Version 1 (no registration) is written when there is none, so stores
// read by older builds stay readable.
std::string encode_identity(const DeviceIdentity& id) {
  ByteWriter w;
  w.u8(id.registration.empty() ? 1 : 2);
  for (auto* f : {&id.sign_priv, &id.sign_pub, &id.box_priv, &id.box_pub, &id.server_url, &id.server_sign_pub,
                  &id.server_box_pub})
    w.str(*f);
  w.varint(id.scope.size());
  for (auto& s : id.scope) w.str(s);
  if (!id.registration.empty()) w.str(id.registration);
  return w.take();
}

DeviceIdentity decode_identity(std::string_view bytes) {
  ByteReader r(bytes);
  const uint8_t version = r.u8();
  if (version != 1 && version != 2) throw Failure(ErrorCode::store_corrupt, {"identity version"});
  DeviceIdentity id;
  for (auto* f : {&id.sign_priv, &id.sign_pub, &id.box_priv, &id.box_pub, &id.server_url, &id.server_sign_pub,
                  &id.server_box_pub})
    *f = r.str();
  auto n = r.checked_count(r.varint(), 1);
  for (size_t i = 0; i < n; ++i) id.scope.push_back(r.str());
  if (version == 2) id.registration = r.str();
  if (!r.done()) throw Failure(ErrorCode::store_corrupt, {"trailing bytes in identity"});
  return id;
}

class SqliteDeviceStore final : public DeviceStore {
 public:
  SqliteDeviceStore(std::unique_ptr<SQLite::Database> db, const Schema& schema)
      : db_(std::move(db)), schema_(schema) {
    for (auto t : kEntityTypes)
      for (auto& f : schema_.entity(t).fields)
        if (f.pii) pii_[static_cast<size_t>(t)].push_back(f.id);
  }

  const StoreInfo& info() const override { return info_; }
  const Schema& schema() const override { return schema_; }
  bool unlocked() const override { return aead_ != nullptr; }

  const crypto::NaturalKeys& natural_keys() const override {
    if (!keys_) throw Failure(ErrorCode::wrong_passphrase);
    return *keys_;
  }

  std::optional<EntityRow> get_row(const EntityId& id) const override {
    try {
      auto& st = stmt("SELECT type, village, parent, flags, pub, sec, merge FROM entities WHERE id = ?");
      st.bind(1, id.bytes.data(), 16);
      std::optional<EntityRow> out;
      if (st.executeStep()) out = row_from(id, st, 0);
      st.reset();
      return out;
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
  }

  std::vector<std::optional<EntityRow>> get_rows(const std::vector<EntityId>& ids) const override {
    std::vector<std::optional<EntityRow>> out;
    out.reserve(ids.size());
    try {
      SQLite::Transaction read(*db_, SQLite::TransactionBehavior::DEFERRED);
      for (auto& id : ids) out.push_back(get_row(id));
      read.commit();
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
    return out;
  }

  std::optional<Entity> get(const EntityId& id) const override {
    auto r = get_row(id);
    if (!r) return std::nullopt;
    return std::move(r->entity);
  }

  void scan(std::optional<EntityType> type, const std::function<void(EntityRow&&)>& fn) const override {
    try {
      SQLite::Statement st(*db_, type ? "SELECT type, village, parent, flags, pub, sec, merge, id FROM entities WHERE type = ?"
                                      : "SELECT type, village, parent, flags, pub, sec, merge, id FROM entities");
      if (type) st.bind(1, static_cast<int>(*type));
      while (st.executeStep()) {
        auto id = EntityId::from_bytes(blob_of(st.getColumn(7)));
        fn(row_from(id, st, 0));
      }
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
  }

  std::vector<EntityRow> load_rows(unsigned threads) const override {
    // Rows are read in chunks (their columns copied out of SQLite's pages); each chunk is decrypted
    // and decoded by a helper thread while the reader goes on, or by the reader itself when every
    // helper is busy (or there is none), so at most `threads` chunks of raw bytes are held at once.
    // One pass over every page: SQLite's page cache would only fill with pages never read again
    // (64 MB of fresh memory for a county), so it is kept small while this runs.
    struct SmallCache {
      SQLite::Database& db;
      explicit SmallCache(SQLite::Database& d) : db(d) { set_cache_kib(db, 2048); }
      ~SmallCache() {
        try {
          set_cache_kib(db, kCacheKiB);
        } catch (...) {  // the size is a hint: a failure to restore it changes no data
        }
      }
    } small_cache(*db_);
    constexpr size_t kChunk = 2048;
    using Chunk = std::vector<RawRow>;
    auto decode = [](Chunk& raw, std::vector<EntityRow>& out, const crypto::Aead* aead) {
      out.reserve(raw.size());
      for (auto& r : raw) out.push_back(decoded(std::move(r), aead));
    };
    std::deque<std::vector<EntityRow>> parts;  // stable addresses while helpers fill them
    struct Pending {
      std::future<void> done;
      std::unique_ptr<Chunk> raw;
    };
    std::deque<Pending> pending;
    auto finish_one = [&] {
      auto done = std::move(pending.front().done);
      done.wait();  // the helper is done with its chunk before the chunk goes
      pending.pop_front();
      done.get();   // rethrows a helper's failure (a record failing authentication)
    };
    // On a failure, the helpers still running finish before their chunks go away.
    auto drain = [&] {
      for (auto& p : pending)
        if (p.done.valid()) p.done.wait();
    };
    const unsigned helpers = threads > 0 ? threads - 1 : 0;
    try {
      SQLite::Statement st(*db_, "SELECT type, village, parent, flags, pub, sec, merge, id FROM entities");
      bool more = true;
      while (more) {
        auto chunk = std::make_unique<Chunk>();
        chunk->reserve(kChunk);
        while (chunk->size() < kChunk && (more = st.executeStep()))
          chunk->push_back(raw_row(EntityId::from_bytes(blob_of(st.getColumn(7))), st, 0));
        if (chunk->empty()) break;
        auto& out = parts.emplace_back();
        while (!pending.empty() && pending.front().done.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
          finish_one();
        if (pending.size() < helpers) {
          // Each helper decrypts with its own context: an Aead is not shared between threads.
          Chunk* raw = chunk.get();
          pending.push_back({std::async(std::launch::async,
                                        [this, raw, &out, &decode] {
                                          std::unique_ptr<crypto::Aead> own;
                                          if (aead_) own = record_aead(data_key_);
                                          decode(*raw, out, own.get());
                                        }),
                             std::move(chunk)});
        } else {
          decode(*chunk, out, aead_.get());
        }
      }
      while (!pending.empty()) finish_one();
    } catch (const SQLite::Exception& e) {
      drain();
      throw Failure(sql_error(e));
    } catch (...) {
      drain();
      throw;
    }
    size_t n = 0;
    for (auto& p : parts) n += p.size();
    std::vector<EntityRow> rows;
    rows.reserve(n);
    for (auto& p : parts) {
      std::move(p.begin(), p.end(), std::back_inserter(rows));
      std::vector<EntityRow>().swap(p);
    }
    return rows;
  }

  std::vector<EntityId> lookup(LookupKind kind, std::string_view key) const override {
    std::vector<EntityId> out;
    if (!lookup_mac_) return out;
    try {
      auto& st = stmt("SELECT entity FROM lookup WHERE kind = ? AND hash = ?");
      std::string h = lookup_hash(kind, key);
      st.bind(1, static_cast<int>(kind));
      st.bind(2, h.data(), static_cast<int>(h.size()));
      while (st.executeStep()) out.push_back(EntityId::from_bytes(blob_of(st.getColumn(0))));
      st.reset();
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
    return out;
  }

  std::vector<EntityRow> children(const EntityId& parent) const override {
    std::vector<EntityRow> out;
    try {
      auto& st = stmt("SELECT type, village, parent, flags, pub, sec, merge, id FROM entities WHERE parent = ?");
      st.bind(1, parent.bytes.data(), 16);
      while (st.executeStep()) out.push_back(row_from(EntityId::from_bytes(blob_of(st.getColumn(7))), st, 0));
      st.reset();
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
    return out;
  }

  void scan_flags(EntityType type,
                  const std::function<void(const EntityId&, const std::string&, uint32_t)>& fn) const override {
    try {
      SQLite::Statement st(*db_, "SELECT id, village, flags FROM entities WHERE type = ?");
      st.bind(1, static_cast<int>(type));
      while (st.executeStep())
        fn(EntityId::from_bytes(blob_of(st.getColumn(0))), st.getColumn(1).getString(),
           static_cast<uint32_t>(st.getColumn(2).getInt64()));
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
  }

  uint64_t entity_count(EntityType type) const override {
    SQLite::Statement st(*db_, "SELECT count(*) FROM entities WHERE type = ?");
    st.bind(1, static_cast<int>(type));
    st.executeStep();
    return static_cast<uint64_t>(st.getColumn(0).getInt64());
  }

  std::vector<FieldChange> changes_after(uint64_t seq) const override { return read_changes(seq, SIZE_MAX); }

  std::vector<FieldChange> changes_range(uint64_t after, size_t limit) const override {
    return read_changes(after, limit);
  }

  bool has_change(uint64_t seq) const override {
    try {
      auto& st = stmt("SELECT last_seq FROM changes WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1");
      st.bind(1, static_cast<int64_t>(seq));
      bool found = st.executeStep() && static_cast<uint64_t>(st.getColumn(0).getInt64()) >= seq;
      st.reset();
      return found;
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
  }

  std::vector<std::pair<uint64_t, OwnStatus>> own_statuses() const override {
    std::vector<std::pair<uint64_t, OwnStatus>> out;
    try {
      SQLite::Statement st(*db_, "SELECT seq, status FROM own_status ORDER BY seq");
      while (st.executeStep())
        out.emplace_back(static_cast<uint64_t>(st.getColumn(0).getInt64()), static_cast<OwnStatus>(st.getColumn(1).getInt()));
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
    return out;
  }

  std::vector<StoredNotice> notices() const override {
    if (!aead_) throw Failure(ErrorCode::wrong_passphrase);
    std::vector<StoredNotice> out;
    try {
      SQLite::Statement st(*db_,
                           "SELECT server_seq, version, kind, type, entity, field, reason FROM notices "
                           "ORDER BY server_seq, version");
      while (st.executeStep()) {
        StoredNotice n;
        n.server_seq = static_cast<uint64_t>(st.getColumn(0).getInt64());
        n.version = version_from_key(blob_of(st.getColumn(1)));
        n.kind = static_cast<uint8_t>(st.getColumn(2).getInt());
        n.type = static_cast<EntityType>(st.getColumn(3).getInt());
        n.entity = EntityId::from_bytes(blob_of(st.getColumn(4)));
        n.field = static_cast<FieldId>(st.getColumn(5).getInt());
        auto plain = aead_->open(blob_of(st.getColumn(6)), notice_aad(n.server_seq, n.version));
        if (!plain) throw Failure(ErrorCode::store_corrupt, {"notice " + std::to_string(n.server_seq) + " fails authentication"});
        ByteReader r(*plain);
        n.reason_zh = r.str();
        n.reason_en = r.str();
        if (!r.done()) throw Failure(ErrorCode::store_corrupt, {"trailing bytes in notice"});
        out.push_back(std::move(n));
      }
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
    return out;
  }

  std::optional<std::pair<uint64_t, std::string>> sync_config(const std::string& key) const override {
    try {
      auto& st = stmt("SELECT version, value FROM sync_config WHERE key = ?");
      st.bind(1, key);
      std::optional<std::pair<uint64_t, std::string>> out;
      if (st.executeStep()) out.emplace(static_cast<uint64_t>(st.getColumn(0).getInt64()), blob_of(st.getColumn(1)));
      st.reset();
      return out;
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
  }

  Status renumber_changes(uint64_t after, uint64_t new_first) override {
    if (in_txn_) return Error(ErrorCode::internal, {"a write transaction is already open"});
    if (!aead_) return Error(ErrorCode::wrong_passphrase);
    if (new_first <= after) return Error(ErrorCode::invalid_input, {"changes can only be renumbered upwards"});
    if (auto st = begin_write(); !st) return st;
    try {
      // The log after `after` (a group may straddle it: its earlier part is kept as it is).
      std::vector<FieldChange> kept, moved;
      {
        SQLite::Statement st(*db_, "SELECT first_seq, body FROM changes WHERE last_seq > ? ORDER BY first_seq");
        st.bind(1, static_cast<int64_t>(after));
        while (st.executeStep())
          for (auto& c : open_group(static_cast<uint64_t>(st.getColumn(0).getInt64()), blob_of(st.getColumn(1))))
            (c.version.seq.value > after ? moved : kept).push_back(std::move(c));
      }
      std::vector<uint64_t> old_seqs;  // sorted: the log is read in order
      old_seqs.reserve(moved.size());
      for (auto& c : moved) old_seqs.push_back(c.version.seq.value);
      auto renumber = [&](VersionId& id) {
        if (id.device != info_.device || id.seq.value <= after) return false;
        auto it = std::lower_bound(old_seqs.begin(), old_seqs.end(), id.seq.value);
        if (it == old_seqs.end() || *it != id.seq.value) return false;
        id.seq.value = new_first + static_cast<uint64_t>(it - old_seqs.begin());
        return true;
      };
      auto renumber_all = [&](std::vector<VersionId>& ids) {
        bool any = false;
        for (auto& id : ids) any |= renumber(id);
        if (any) std::sort(ids.begin(), ids.end());
        return any;
      };

      // Earlier groups stay where they are; only a base naming a moved version changes.
      rewrite_change_groups(
          [&](std::vector<FieldChange>& group) {
            bool any = false;
            for (auto& c : group) any |= renumber_all(c.base);
            return any;
          },
          static_cast<int64_t>(after));
      for (auto& c : kept) renumber_all(c.base);
      for (auto& c : moved) {
        renumber(c.version);
        renumber_all(c.base);
      }
      SQLite::Statement drop(*db_, "DELETE FROM changes WHERE last_seq > ?");
      drop.bind(1, static_cast<int64_t>(after));
      drop.exec();
      insert_changes(kept);
      insert_changes(moved);

      // A version id lives only in the entity its change is about.
      std::vector<EntityId> ids;
      for (auto& c : moved) ids.push_back(c.entity);
      sort_unique(ids);
      for (auto& id : ids) {
        auto row = get_row(id);
        if (!row) continue;
        bool any = false;
        for (auto& [f, fv] : row->entity.fields) {
          bool field_any = false;
          for (auto& v : fv.live) field_any |= renumber(v.id);
          if (field_any)
            std::sort(fv.live.begin(), fv.live.end(), [](const Version& a, const Version& b) { return a.id < b.id; });
          any |= field_any;
        }
        for (auto& [f, sup] : row->merge.superseded) any |= renumber_all(sup);
        FlatMap<VersionId, std::vector<VersionId>> bases;
        for (auto& [del, base] : row->merge.deletion_bases) {
          VersionId key = del;
          any |= renumber(key);
          any |= renumber_all(base);
          bases[key] = std::move(base);
        }
        row->merge.deletion_bases = std::move(bases);
        if (any) put_row(*row);
      }

      // Statuses move with their changes.
      std::vector<std::pair<VersionId, int>> statuses;
      {
        SQLite::Statement st(*db_, "SELECT seq, status FROM own_status WHERE seq > ?");
        st.bind(1, static_cast<int64_t>(after));
        while (st.executeStep())
          statuses.emplace_back(VersionId{info_.device, Seq{static_cast<uint64_t>(st.getColumn(0).getInt64())}},
                                st.getColumn(1).getInt());
      }
      SQLite::Statement drop_status(*db_, "DELETE FROM own_status WHERE seq > ?");
      drop_status.bind(1, static_cast<int64_t>(after));
      drop_status.exec();
      for (auto& [v, status] : statuses) {
        renumber(v);
        put_own_status(v.seq.value, static_cast<OwnStatus>(status));
      }
      txn_next_seq_ = new_first + moved.size();
    } catch (const SQLite::Exception& e) {
      rollback_write();
      return sql_error(e);
    } catch (const Failure& f) {
      rollback_write();
      return f.error();
    }
    return commit_write({});
  }

  uint64_t pending_change_count() const override {
    return info_.next_seq - 1 > info_.acked_seq ? info_.next_seq - 1 - info_.acked_seq : 0;
  }

  Hlc tick(int64_t physical_ms) override { return clock_.tick(physical_ms); }
  Hlc clock() const override { return clock_.last(); }

  Status write(WriteBatch& b) override {
    if (in_txn_) return write_part(b);
    if (auto st = begin_write(); !st) return st;
    if (auto st = write_part(b); !st) {
      rollback_write();
      return st;
    }
    return commit_write(b.crash_point);
  }

  Status begin_write() override {
    if (in_txn_) return Error(ErrorCode::internal, {"a write transaction is already open"});
    try {
      db_->exec("BEGIN IMMEDIATE");
    } catch (const SQLite::Exception& e) {
      return sql_error(e);
    }
    in_txn_ = true;
    txn_derived_period_.clear();
    txn_sync_.reset();
    txn_acked_seq_.reset();
    txn_next_seq_ = info_.next_seq;
    txn_clock_ = clock_.last();
    return ok_status();
  }

  Status commit_write(const std::string& crash_point_name) override {
    if (!in_txn_) return Error(ErrorCode::internal, {"no write transaction is open"});
    try {
      put_meta("next_seq", std::to_string(txn_next_seq_));
      put_meta("hlc", std::to_string(txn_clock_.ms) + ":" + std::to_string(txn_clock_.counter));
      if (!txn_derived_period_.empty()) put_meta("derived_period", txn_derived_period_);
      if (!crash_point_name.empty()) crash_point(crash_point_name);
      db_->exec("COMMIT");
      in_txn_ = false;
      info_.next_seq = txn_next_seq_;
      clock_.observe(txn_clock_);
      if (!txn_derived_period_.empty()) info_.derived_period = txn_derived_period_;
      if (txn_sync_) info_.sync = *txn_sync_;
      if (txn_acked_seq_) info_.acked_seq = *txn_acked_seq_;
    } catch (const SQLite::Exception& e) {
      rollback_write();
      return sql_error(e);
    }
    return ok_status();
  }

  void rollback_write() override {
    reset_statements();
    if (!in_txn_) return;
    in_txn_ = false;
    try {
      db_->exec("ROLLBACK");
    } catch (...) {
      // SQLite has already rolled back (e.g. after SQLITE_FULL); nothing is left to undo.
    }
  }

  ~SqliteDeviceStore() override { rollback_write(); }

  // Adds one batch to the open transaction. Everything is checked before anything is written, so a
  // refused batch leaves the transaction as it was.
  Status write_part(WriteBatch& b) {
    // Without the passphrase only plaintext columns may change (flags after a period change).
    if (!aead_ && (!b.entities.empty() || !b.changes.empty() || !b.lookups.empty() || !b.removed.empty() ||
                   !b.lookups_replaced.empty() || !b.restored_changes.empty() || !b.notices.empty()))
      return Error(ErrorCode::wrong_passphrase);
    uint64_t expect = txn_next_seq_;
    for (auto& c : b.changes) {
      if (c.version.seq.value != expect || c.version.device != info_.device)
        return Error(ErrorCode::internal, {"change sequence out of order"});
      ++expect;
    }
    std::vector<FieldChange> restored = b.restored_changes;
    std::sort(restored.begin(), restored.end(),
              [](const FieldChange& x, const FieldChange& y) { return x.version.seq < y.version.seq; });
    for (size_t i = 0; i < restored.size(); ++i) {
      const auto& v = restored[i].version;
      if (v.device != info_.device || v.seq.value == 0 || v.seq.value >= txn_next_seq_ ||
          (i > 0 && restored[i - 1].version.seq == v.seq))
        return Error(ErrorCode::invalid_input, {"restored change " + v.str() + " is not a missing own change"});
    }
    try {
      for (auto& c : restored)
        if (log_holds(c.version.seq.value))
          return Error(ErrorCode::invalid_input, {"restored change " + c.version.str() + " is already in the log"});
      for (auto& id : b.removed) {
        auto& del = stmt("DELETE FROM entities WHERE id = ?");
        del.bind(1, id.bytes.data(), 16);
        del.exec();
        del.reset();
      }
      for (auto* ids : {&b.removed, &b.lookups_replaced})
        for (auto& id : *ids) {
          auto& del = stmt("DELETE FROM lookup WHERE entity = ?");
          del.bind(1, id.bytes.data(), 16);
          del.exec();
          del.reset();
        }
      // In key order: B-tree pages fill instead of splitting at random.
      std::vector<const EntityRow*> rows;
      rows.reserve(b.entities.size());
      for (auto& row : b.entities) rows.push_back(&row);
      std::sort(rows.begin(), rows.end(), [](const EntityRow* x, const EntityRow* y) { return x->entity.id < y->entity.id; });
      for (const EntityRow* row : rows) put_row(*row);
      insert_changes(b.changes);
      insert_changes(restored);
      auto& upd = stmt("UPDATE entities SET village = ?, flags = ? WHERE id = ?");
      for (auto& u : b.row_updates) {
        upd.bind(1, u.village);
        upd.bind(2, static_cast<int64_t>(u.flags));
        upd.bind(3, u.id.bytes.data(), 16);
        upd.exec();
        upd.reset();
      }
      auto& look = stmt("INSERT OR IGNORE INTO lookup(kind, hash, entity) VALUES (?, ?, ?)");
      for (auto& l : b.lookups) {
        std::string h = lookup_hash(l.kind, l.key);
        look.bind(1, static_cast<int>(l.kind));
        look.bind(2, h.data(), static_cast<int>(h.size()));
        look.bind(3, l.entity.bytes.data(), 16);
        look.exec();
        look.reset();
      }
      for (auto& [seq, status] : b.own_status) put_own_status(seq, status);
      for (auto& n : b.notices) put_notice(n);
      for (auto& [key, record] : b.configs) {
        auto& put = stmt(
            "INSERT INTO sync_config(key, version, value) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
            "version = excluded.version, value = excluded.value WHERE excluded.version > sync_config.version");
        put.bind(1, key);
        put.bind(2, static_cast<int64_t>(record.first));
        put.bind(3, record.second.data(), static_cast<int>(record.second.size()));
        put.exec();
        put.reset();
      }
      if (b.sync) put_meta("sync", sync_to_json(*b.sync).dump());
      if (b.acked_seq) put_meta("acked_seq", std::to_string(*b.acked_seq));
      if (!b.derived_period.empty()) txn_derived_period_ = b.derived_period;
      if (b.sync) txn_sync_ = b.sync;
      if (b.acked_seq) txn_acked_seq_ = b.acked_seq;
      txn_next_seq_ = expect;
      txn_clock_ = std::max(txn_clock_, b.clock);
    } catch (const SQLite::Exception& e) {
      reset_statements();
      return sql_error(e);
    } catch (const Failure& f) {
      reset_statements();
      return f.error();
    }
    return ok_status();
  }

  Status set_config(const StoreConfig& config) override {
    try {
      SQLite::Transaction txn(*db_);
      put_meta("config", config_to_json(config).dump());
      if (!config.region_tree_csv.empty()) put_meta("region_tree", config.region_tree_csv);
      txn.commit();
      info_.config = config;
      if (config.region_tree_csv.empty()) info_.config.region_tree_csv = get_meta("region_tree").value_or("");
    } catch (const SQLite::Exception& e) {
      return sql_error(e);
    }
    return ok_status();
  }

  bool enrolled() const override { return get_meta("identity").has_value(); }

  std::optional<DeviceIdentity> identity() const override {
    if (!aead_) return std::nullopt;
    auto sealed = get_meta("identity");
    if (!sealed) return std::nullopt;
    auto plain = aead_->open(*sealed, "identity");
    if (!plain) throw Failure(ErrorCode::store_corrupt, {"identity fails authentication"});
    return decode_identity(*plain);
  }

  Status set_identity(const DeviceIdentity& identity) override {
    if (!aead_) return Error(ErrorCode::wrong_passphrase);
    if (in_txn_) return Error(ErrorCode::internal, {"a write transaction is already open"});
    try {
      SQLite::Transaction txn(*db_, SQLite::TransactionBehavior::IMMEDIATE);
      put_meta("identity", aead_->seal(encode_identity(identity), "identity"));
      txn.commit();
    } catch (const SQLite::Exception& e) {
      reset_statements();
      return sql_error(e);
    }
    return ok_status();
  }

  std::string escrow_data_key() const override { return data_key_; }

  Status rekey(const std::vector<std::pair<EntityId, EntityId>>& ids, std::string_view county_secret) override {
    if (!aead_) return Error(ErrorCode::wrong_passphrase);
    if (in_txn_) return Error(ErrorCode::internal, {"a write transaction is already open"});
    if (county_secret.empty()) return Error(ErrorCode::invalid_input, {"county secret is empty"});
    if (info_.ever_synced())
      return Error(ErrorCode::invalid_input,
                   {bilingual("本设备已与服务器同步过，不能再更换县级密钥重算编号",
                              "this store has already synced with a server; its ids can no longer be re-keyed")});
    std::unordered_map<EntityId, EntityId, IdHash> map;
    for (auto& [from, to] : ids)
      if (from != to) map.emplace(from, to);
    // Which fields hold entity ids, per type.
    std::vector<FieldId> refs[8];
    for (auto t : kEntityTypes)
      for (auto& f : schema_.entity(t).fields)
        if (f.type == FieldType::ref) refs[static_cast<size_t>(t)].push_back(f.id);
    auto is_ref = [&](EntityType t, FieldId f) {
      auto& r = refs[static_cast<size_t>(t)];
      return std::find(r.begin(), r.end(), f) != r.end();
    };
    auto moved_value = [&](std::string& value) {
      auto id = EntityId::from_hex(value);
      if (!id) return false;
      auto it = map.find(*id);
      if (it == map.end()) return false;
      value = it->second.hex();
      return true;
    };
    if (auto st = begin_write(); !st) return st;
    try {
      // Entities: moved, or naming a moved entity in a ref field or their parent column.
      std::vector<EntityRow> rewritten;
      std::vector<EntityId> dropped;
      {
        SQLite::Statement st(*db_, "SELECT type, village, parent, flags, pub, sec, merge, id FROM entities");
        while (st.executeStep()) {
          auto row = row_from(EntityId::from_bytes(blob_of(st.getColumn(7))), st, 0);
          bool changed = false;
          if (auto it = map.find(row.entity.id); it != map.end()) {
            dropped.push_back(row.entity.id);
            row.entity.id = it->second;
            changed = true;
          }
          if (row.parent)
            if (auto it = map.find(*row.parent); it != map.end()) {
              row.parent = it->second;
              changed = true;
            }
          for (auto& [f, fv] : row.entity.fields)
            if (is_ref(row.entity.type, f))
              for (auto& v : fv.live) changed |= moved_value(v.value);
          if (changed) rewritten.push_back(std::move(row));
        }
      }
      for (auto& id : dropped) {
        auto& del = stmt("DELETE FROM entities WHERE id = ?");
        del.bind(1, id.bytes.data(), 16);
        del.exec();
        del.reset();
      }
      for (auto& row : rewritten) put_row(row);
      for (auto& [from, to] : map) {
        for (const char* sql : {"UPDATE lookup SET entity = ? WHERE entity = ?", "UPDATE notices SET entity = ? WHERE entity = ?"}) {
          auto& upd = stmt(sql);
          upd.bind(1, to.bytes.data(), 16);
          upd.bind(2, from.bytes.data(), 16);
          upd.exec();
          upd.reset();
        }
      }
      // The change log: entity ids and ref values, every run sealed again.
      rewrite_change_groups([&](std::vector<FieldChange>& group) {
        bool any = false;
        for (auto& c : group) {
          if (auto it = map.find(c.entity); it != map.end()) {
            c.entity = it->second;
            any = true;
          }
          if (is_ref(c.type, c.field)) any |= moved_value(c.value);
        }
        return any;
      });
      put_meta("county_secret", aead_->seal(county_secret, "county_secret"));
    } catch (const SQLite::Exception& e) {
      rollback_write();
      return sql_error(e);
    } catch (const Failure& f) {
      rollback_write();
      return f.error();
    }
    if (auto st = commit_write("device.rekey.before_commit"); !st) return st;
    install_county_secret(std::string(county_secret));
    return ok_status();
  }

  // --- set-up, used by the factory functions below ---

  void create_schema() {
    db_->exec(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE entities(id BLOB PRIMARY KEY, type INTEGER NOT NULL, village TEXT NOT NULL DEFAULT '',"
        "  parent BLOB, flags INTEGER NOT NULL DEFAULT 0, pub BLOB NOT NULL, sec BLOB NOT NULL, merge BLOB) WITHOUT ROWID;"
        "CREATE INDEX entities_parent ON entities(parent) WHERE parent IS NOT NULL;"
        "CREATE TABLE changes(first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, body BLOB NOT NULL);"
        "CREATE TABLE lookup(kind INTEGER NOT NULL, hash BLOB NOT NULL, entity BLOB NOT NULL,"
        "  PRIMARY KEY(kind, hash, entity)) WITHOUT ROWID;");
    db_->exec(kFormat2Tables);
  }

  // Brings a format 1 store to format 2 (once, in one transaction; a concurrent opener waits and
  // finds it done).
  void upgrade_format() {
    if (std::stoi(require_meta("format")) != 1) return;
    SQLite::Transaction txn(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    if (std::stoi(require_meta("format")) != 1) return;
    db_->exec("ALTER TABLE entities ADD COLUMN merge BLOB");
    db_->exec(kFormat2Tables);
    put_meta("format", std::to_string(kFormatVersion));
    txn.commit();
  }

  void put_meta(const std::string& key, std::string_view value) {
    auto& st = stmt("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
    st.bind(1, key);
    st.bind(2, value.data(), static_cast<int>(value.size()));
    st.exec();
    st.reset();
  }

  std::optional<std::string> get_meta(const std::string& key) const {
    SQLite::Statement st(*db_, "SELECT value FROM meta WHERE key = ?");
    st.bind(1, key);
    if (!st.executeStep()) return std::nullopt;
    return blob_of(st.getColumn(0));
  }

  std::string require_meta(const std::string& key) const {
    auto v = get_meta(key);
    if (!v) throw Failure(ErrorCode::store_corrupt, {"meta " + key + " missing"});
    return *v;
  }

  // Reads the plaintext meta into info_.
  void load_info() {
    upgrade_format();
    if (std::stoi(require_meta("format")) != kFormatVersion)
      throw Failure(ErrorCode::store_corrupt, {"unsupported store format"});
    info_.device = DeviceId::from_bytes(require_meta("device_id"));
    info_.epoch = require_meta("epoch");
    info_.next_seq = std::stoull(require_meta("next_seq"));
    info_.acked_seq = std::stoull(get_meta("acked_seq").value_or("0"));
    info_.created_ms = std::stoll(require_meta("created_ms"));
    info_.last_sync_ms = std::stoll(get_meta("last_sync_ms").value_or("0"));
    info_.schema_version = std::stoi(require_meta("schema_version"));
    info_.derived_period = get_meta("derived_period").value_or("");
    info_.config = config_from_json(nlohmann::json::parse(require_meta("config")));
    info_.config.region_tree_csv = get_meta("region_tree").value_or("");
    if (auto sync = get_meta("sync")) info_.sync = sync_from_json(nlohmann::json::parse(*sync));
    auto hlc = require_meta("hlc");
    auto colon = hlc.find(':');
    clock_ = HybridClock(Hlc{std::stoll(hlc.substr(0, colon)), static_cast<uint32_t>(std::stoul(hlc.substr(colon + 1)))});
  }

  // The cipher of the records' personal fields, under a key derived from the data key (one per
  // thread that decrypts: an Aead keeps its context between calls).
  static std::unique_ptr<crypto::Aead> record_aead(const std::string& data_key) {
    return std::make_unique<crypto::Aead>(crypto::hmac_sha256(data_key, "taizhang/store/enc"));
  }

  // Derives the working keys from the unwrapped data key.
  void unlock(const std::string& data_key) {
    data_key_ = data_key;
    aead_ = record_aead(data_key);
    lookup_mac_ = std::make_unique<crypto::Hmac>(crypto::hmac_sha256(data_key, "taizhang/store/lookup"));
  }

  void install_county_secret(const std::string& secret) { keys_ = std::make_unique<crypto::NaturalKeys>(secret); }

  crypto::Aead& aead() { return *aead_; }
  SQLite::Database& db() { return *db_; }
  // SQLite's error as the catalogue's, naming this store's file (a full disk, read-only storage...).
  Error sql_error(const SQLite::Exception& e) const { return sqlite::error_of(e, db_->getFilename()); }

 private:
  // A prepared statement, made once per SQL text.
  SQLite::Statement& stmt(const char* sql) const {
    auto& slot = statements_[sql];
    if (!slot) slot = std::make_unique<SQLite::Statement>(*db_, sql);
    return *slot;
  }

  void reset_statements() {
    for (auto& [sql, st] : statements_) {
      try {
        st->reset();
      } catch (...) {
      }
    }
  }

  void put_row(const EntityRow& row) {
    const auto& pii = pii_[static_cast<size_t>(row.entity.type)];
    // Deletion reasons are free text a collector typed: sealed like personal fields.
    auto sealed = [&](FieldId f) { return f == kDeletedField || std::find(pii.begin(), pii.end(), f) != pii.end(); };
    std::string pub = store_codec::encode_fields(row.entity, [&](FieldId f) { return !sealed(f); });
    std::string sec = aead_->seal(store_codec::encode_fields(row.entity, sealed), row.entity.id.view());
    auto& put = stmt(
        "INSERT OR REPLACE INTO entities(id, type, village, parent, flags, pub, sec, merge) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    put.bind(1, row.entity.id.bytes.data(), 16);
    put.bind(2, static_cast<int>(row.entity.type));
    put.bind(3, row.village);
    if (row.parent)
      put.bind(4, row.parent->bytes.data(), 16);
    else
      put.bind(4);
    put.bind(5, static_cast<int64_t>(row.flags));
    put.bind(6, pub.data(), static_cast<int>(pub.size()));
    put.bind(7, sec.data(), static_cast<int>(sec.size()));
    if (row.merge.empty()) {
      put.bind(8);
    } else {
      std::string merge = store_codec::encode_merge(row.merge);
      put.bind(8, merge.data(), static_cast<int>(merge.size()));
    }
    put.exec();
    put.reset();
  }

  // Own changes sorted by seq, as groups of up to kChangesPerGroup consecutive seqs.
  void insert_changes(const std::vector<FieldChange>& changes) {
    auto& add = stmt("INSERT INTO changes(first_seq, last_seq, body) VALUES (?, ?, ?)");
    for (size_t i = 0; i < changes.size();) {
      size_t end = i + 1;
      while (end < changes.size() && end - i < kChangesPerGroup &&
             changes[end].version.seq.value == changes[end - 1].version.seq.value + 1)
        ++end;
      auto first = changes[i].version.seq.value;
      std::string body = seal_group(first, changes, i, end);
      add.bind(1, static_cast<int64_t>(first));
      add.bind(2, static_cast<int64_t>(changes[end - 1].version.seq.value));
      add.bind(3, body.data(), static_cast<int>(body.size()));
      add.exec();
      add.reset();
      i = end;
    }
  }

  // Changes [i, end) as the change log group that starts at seq first, sealed (open_group reverses it).
  std::string seal_group(uint64_t first, const std::vector<FieldChange>& changes, size_t i, size_t end) const {
    return aead_->seal(store_codec::encode_changes(changes, i, end), "changes:" + std::to_string(first));
  }

  // Reads the change log groups whose last seq is at most up_to (all by default), in order; edit
  // changes a group in place and says whether it did; each group it changed is sealed again in place.
  template <typename Edit>
  void rewrite_change_groups(Edit edit, int64_t up_to = std::numeric_limits<int64_t>::max()) {
    std::vector<std::pair<uint64_t, std::vector<FieldChange>>> edited;
    {
      SQLite::Statement st(*db_, "SELECT first_seq, body FROM changes WHERE last_seq <= ? ORDER BY first_seq");
      st.bind(1, up_to);
      while (st.executeStep()) {
        auto first = static_cast<uint64_t>(st.getColumn(0).getInt64());
        auto group = open_group(first, blob_of(st.getColumn(1)));
        if (edit(group)) edited.emplace_back(first, std::move(group));
      }
    }
    for (auto& [first, group] : edited) {
      std::string body = seal_group(first, group, 0, group.size());
      SQLite::Statement upd(*db_, "UPDATE changes SET body = ? WHERE first_seq = ?");
      upd.bind(1, body.data(), static_cast<int>(body.size()));
      upd.bind(2, static_cast<int64_t>(first));
      upd.exec();
    }
  }

  std::vector<FieldChange> open_group(uint64_t first, const std::string& body) const {
    auto plain = aead_->open(body, "changes:" + std::to_string(first));
    if (!plain) throw Failure(ErrorCode::store_corrupt, {"change log group " + std::to_string(first)});
    std::vector<FieldChange> group;
    store_codec::decode_changes(*plain, group);
    return group;
  }

  // At most limit changes with seq > after, in order (groups never overlap, so by first_seq).
  std::vector<FieldChange> read_changes(uint64_t after, size_t limit) const {
    if (!aead_) throw Failure(ErrorCode::wrong_passphrase);
    std::vector<FieldChange> out;
    try {
      SQLite::Statement st(*db_, "SELECT first_seq, body FROM changes WHERE last_seq > ? ORDER BY first_seq");
      st.bind(1, static_cast<int64_t>(after));
      while (out.size() < limit && st.executeStep())
        for (auto& c : open_group(static_cast<uint64_t>(st.getColumn(0).getInt64()), blob_of(st.getColumn(1))))
          if (c.version.seq.value > after && out.size() < limit) out.push_back(std::move(c));
    } catch (const SQLite::Exception& e) {
      throw Failure(sql_error(e));
    }
    return out;
  }

  // Whether the change log holds the own change with this seq.
  bool log_holds(uint64_t seq) {
    auto& st = stmt("SELECT last_seq FROM changes WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1");
    st.bind(1, static_cast<int64_t>(seq));
    bool held = st.executeStep() && static_cast<uint64_t>(st.getColumn(0).getInt64()) >= seq;
    st.reset();
    return held;
  }

  void put_own_status(uint64_t seq, OwnStatus status) {
    if (status == OwnStatus::normal) {
      auto& del = stmt("DELETE FROM own_status WHERE seq = ?");
      del.bind(1, static_cast<int64_t>(seq));
      del.exec();
      del.reset();
      return;
    }
    auto& put = stmt("INSERT OR REPLACE INTO own_status(seq, status) VALUES (?, ?)");
    put.bind(1, static_cast<int64_t>(seq));
    put.bind(2, static_cast<int>(status));
    put.exec();
    put.reset();
  }

  static std::string notice_aad(uint64_t server_seq, const VersionId& v) {
    return "notice:" + std::to_string(server_seq) + ":" + v.str();
  }

  // Reasons may quote a value, so they are sealed; the rest of a notice is ids and codes.
  void put_notice(const StoredNotice& n) {
    ByteWriter w;
    w.str(n.reason_zh);
    w.str(n.reason_en);
    std::string reason = aead_->seal(w.data(), notice_aad(n.server_seq, n.version));
    std::string key = version_key(n.version);
    auto& put = stmt(
        "INSERT OR IGNORE INTO notices(server_seq, version, kind, type, entity, field, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    put.bind(1, static_cast<int64_t>(n.server_seq));
    put.bind(2, key.data(), static_cast<int>(key.size()));
    put.bind(3, static_cast<int>(n.kind));
    put.bind(4, static_cast<int>(n.type));
    put.bind(5, n.entity.bytes.data(), 16);
    put.bind(6, static_cast<int>(n.field));
    put.bind(7, reason.data(), static_cast<int>(reason.size()));
    put.exec();
    put.reset();
  }

  std::string lookup_hash(LookupKind kind, std::string_view key) const {
    std::string msg(1, static_cast<char>(kind));
    msg.append(key);
    return lookup_mac_->mac(msg).substr(0, 16);
  }

  // A row's stored columns (type, village, parent, flags, pub, sec, merge from `base` on), copied out
  // of SQLite so that they outlive the statement's step and can be decoded on another thread.
  struct RawRow {
    EntityId id;
    int type = 0;
    std::string village;
    std::optional<EntityId> parent;
    uint32_t flags = 0;
    std::string pub, sec, merge;
    bool merged = false;  // the merge column is not NULL
  };

  RawRow raw_row(const EntityId& id, SQLite::Statement& st, int base) const {
    RawRow r;
    r.id = id;
    r.type = st.getColumn(base).getInt();
    r.village = st.getColumn(base + 1).getString();
    if (!st.getColumn(base + 2).isNull()) r.parent = EntityId::from_bytes(blob_of(st.getColumn(base + 2)));
    r.flags = static_cast<uint32_t>(st.getColumn(base + 3).getInt64());
    r.pub = blob_of(st.getColumn(base + 4));
    if (aead_) r.sec = blob_of(st.getColumn(base + 5));
    r.merged = !st.getColumn(base + 6).isNull();
    if (r.merged) r.merge = blob_of(st.getColumn(base + 6));
    return r;
  }

  // Decodes a raw row: its public fields, merge extras and (with a key) its sealed personal fields.
  static EntityRow decoded(RawRow&& r, const crypto::Aead* aead) {
    EntityRow row;
    row.entity.id = r.id;
    row.entity.type = static_cast<EntityType>(r.type);
    row.village = std::move(r.village);
    row.parent = r.parent;
    row.flags = r.flags;
    store_codec::decode_fields(r.pub, row.entity);
    if (r.merged) store_codec::decode_merge(r.merge, row.merge);
    if (aead) {
      auto plain = aead->open(r.sec, row.entity.id.view());
      if (!plain) throw Failure(ErrorCode::store_corrupt, {"record " + row.entity.id.hex() + " fails authentication"});
      store_codec::decode_fields(*plain, row.entity);
    }
    return row;
  }

  EntityRow row_from(const EntityId& id, SQLite::Statement& st, int base) const {
    return decoded(raw_row(id, st, base), aead_.get());
  }

  std::unique_ptr<SQLite::Database> db_;
  const Schema& schema_;
  StoreInfo info_;
  HybridClock clock_;
  std::vector<FieldId> pii_[8];
  std::unique_ptr<crypto::Aead> aead_;
  std::unique_ptr<crypto::Hmac> lookup_mac_;
  std::unique_ptr<crypto::NaturalKeys> keys_;
  std::string data_key_;  // kept for escrow at enrolment; empty when locked
  bool in_txn_ = false;
  std::string txn_derived_period_;
  std::optional<SyncState> txn_sync_;
  std::optional<uint64_t> txn_acked_seq_;
  uint64_t txn_next_seq_ = 0;
  Hlc txn_clock_;
  mutable std::unordered_map<std::string_view, std::unique_ptr<SQLite::Statement>> statements_;

  friend Result<std::unique_ptr<DeviceStore>> open_impl(const std::filesystem::path&, const std::string*, const Schema&);
};

std::unique_ptr<SQLite::Database> open_db(const std::filesystem::path& file, int flags) {
  sqlite::prepare_library();
  auto db = std::make_unique<SQLite::Database>(file.string(), flags, 5000);
  db->exec("PRAGMA page_size=8192");  // takes effect only when the file is created
  db->exec("PRAGMA journal_mode=WAL");
  db->exec("PRAGMA synchronous=FULL");
  db->exec("PRAGMA temp_store=MEMORY");
  set_cache_kib(*db, kCacheKiB);
  return db;
}

std::string wrap_aad() { return "taizhang/store/data-key"; }

}  // namespace

std::string period_key(const Period& p) { return p.is_set() ? std::to_string(p.year) + ":" + format_date(p.as_of) : ""; }

bool device_store_exists(const std::filesystem::path& dir) { return std::filesystem::exists(dir / kDbName); }

Result<std::unique_ptr<DeviceStore>> create_device_store(const std::filesystem::path& dir, std::string_view passphrase,
                                                         const Schema& schema, const StoreConfig& config,
                                                         const ScryptCost& cost, std::string county_secret,
                                                         std::optional<DeviceId> device_id) {
  if (device_store_exists(dir)) return Error(ErrorCode::already_exists, {(dir / kDbName).string()});
  if (passphrase.empty()) return Error(ErrorCode::invalid_input, {"passphrase is empty"});
  try {
    std::filesystem::create_directories(dir);
    auto tmp = dir / (std::string(kDbName) + ".creating");
    std::filesystem::remove(tmp);
    {
      auto store = std::make_unique<SqliteDeviceStore>(
          open_db(tmp, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE), schema);
      SQLite::Transaction txn(store->db());
      store->create_schema();
      std::string salt = crypto::random_bytes(16);
      std::string data_key = crypto::random_bytes(32);
      std::string kek = crypto::scrypt(passphrase, salt, crypto::ScryptParams{cost.n, cost.r, cost.p}, 32);
      store->put_meta("format", std::to_string(kFormatVersion));
      store->put_meta("device_id", device_id.value_or(crypto::random_device_id()).view());
      store->put_meta("epoch", crypto::to_hex(crypto::random_bytes(16)));
      store->put_meta("next_seq", "1");
      store->put_meta("hlc", "0:0");
      store->put_meta("created_ms", "0");
      store->put_meta("schema_version", std::to_string(schema.version()));
      store->put_meta("kdf", "scrypt:" + std::to_string(cost.n) + ":" + std::to_string(cost.r) + ":" + std::to_string(cost.p));
      store->put_meta("kdf_salt", salt);
      store->put_meta("wrapped_key", crypto::aead_seal(kek, data_key, wrap_aad()));
      store->unlock(data_key);
      if (county_secret.empty()) county_secret = crypto::random_bytes(32);
      store->put_meta("county_secret", store->aead().seal(county_secret, "county_secret"));
      store->put_meta("config", config_to_json(config).dump());
      store->put_meta("derived_period", period_key(config.period));  // no persons yet: trivially valid
      if (!config.region_tree_csv.empty()) store->put_meta("region_tree", config.region_tree_csv);
      txn.commit();
      store->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    // The store appears under its real name only once complete.
    for (auto suffix : {"", "-wal", "-shm"}) {
      auto from = dir / (std::string(kDbName) + ".creating" + suffix);
      if (std::filesystem::exists(from)) std::filesystem::rename(from, dir / (std::string(kDbName) + suffix));
    }
    return open_device_store(dir, passphrase, schema);
  } catch (const SQLite::Exception& e) {
    return sqlite::error_of(e);
  } catch (const std::filesystem::filesystem_error& e) {
    return Error(ErrorCode::io_error, {e.what()});
  } catch (const Failure& f) {
    return f.error();
  }
}

namespace {

// Unlocked by the passphrase, or by the raw data key itself (recovery), or neither (locked).
Result<std::unique_ptr<DeviceStore>> open_impl(const std::filesystem::path& dir, const std::string* passphrase,
                                               const Schema& schema, const std::string* given_key = nullptr) {
  if (!device_store_exists(dir)) return Error(ErrorCode::store_missing, {dir.string()});
  try {
    auto store = std::make_unique<SqliteDeviceStore>(open_db(dir / kDbName, SQLite::OPEN_READWRITE), schema);
    store->load_info();
    if (passphrase || given_key) {
      std::optional<std::string> data_key;
      if (given_key) {
        data_key = *given_key;
      } else {
        auto kdf = store->require_meta("kdf");
        crypto::ScryptParams p;
        if (std::sscanf(kdf.c_str(), "scrypt:%lu:%u:%u", &p.n, &p.r, &p.p) != 3)
          return Error(ErrorCode::store_corrupt, {"kdf parameters"});
        std::string kek = crypto::scrypt(*passphrase, store->require_meta("kdf_salt"), p, 32);
        data_key = crypto::aead_open(kek, store->require_meta("wrapped_key"), wrap_aad());
      }
      if (!data_key || data_key->size() != crypto::kAeadKeySize) return Error(ErrorCode::wrong_passphrase);
      store->unlock(*data_key);
      auto secret = store->aead().open(store->require_meta("county_secret"), "county_secret");
      if (!secret && given_key) return Error(ErrorCode::wrong_passphrase);  // another store's key
      if (!secret) return Error(ErrorCode::store_corrupt, {"county secret"});
      store->install_county_secret(*secret);
    }
    return std::unique_ptr<DeviceStore>(std::move(store));
  } catch (const SQLite::Exception& e) {
    return sqlite::error_of(e);
  } catch (const Failure& f) {
    return f.error();
  } catch (const std::exception& e) {
    return Error(ErrorCode::store_corrupt, {e.what()});
  }
}

}  // namespace

Result<std::unique_ptr<DeviceStore>> open_device_store(const std::filesystem::path& dir, std::string_view passphrase,
                                                       const Schema& schema) {
  std::string p(passphrase);
  return open_impl(dir, &p, schema);
}

Result<std::unique_ptr<DeviceStore>> open_device_store_locked(const std::filesystem::path& dir, const Schema& schema) {
  return open_impl(dir, nullptr, schema);
}

Result<std::unique_ptr<DeviceStore>> open_device_store_with_key(const std::filesystem::path& dir, std::string_view data_key,
                                                                const Schema& schema) {
  std::string k(data_key);
  return open_impl(dir, nullptr, schema, &k);
}

Status set_store_passphrase(const std::filesystem::path& dir, std::string_view data_key, std::string_view passphrase,
                            const Schema& schema, const ScryptCost& cost) {
  if (passphrase.empty()) return Error(ErrorCode::invalid_input, {"passphrase is empty"});
  // The key must open this store before it is wrapped again.
  if (auto opened = open_device_store_with_key(dir, data_key, schema); !opened) return opened.error();
  try {
    auto store = std::make_unique<SqliteDeviceStore>(open_db(dir / kDbName, SQLite::OPEN_READWRITE), schema);
    std::string salt = crypto::random_bytes(16);
    std::string kek = crypto::scrypt(passphrase, salt, crypto::ScryptParams{cost.n, cost.r, cost.p}, 32);
    SQLite::Transaction txn(store->db());
    store->put_meta("kdf", "scrypt:" + std::to_string(cost.n) + ":" + std::to_string(cost.r) + ":" + std::to_string(cost.p));
    store->put_meta("kdf_salt", salt);
    store->put_meta("wrapped_key", crypto::aead_seal(kek, data_key, wrap_aad()));
    txn.commit();
    return ok_status();
  } catch (const SQLite::Exception& e) {
    return sqlite::error_of(e);
  } catch (const Failure& f) {
    return f.error();
  }
}

}  // namespace tz
