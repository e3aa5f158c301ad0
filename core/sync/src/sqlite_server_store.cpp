// The server store on SQLite (WAL, synchronous=FULL): the only file of the sync layer that includes
// SQLiteCpp. Rows hold the binary forms of state_codec; the plaintext columns are what queries need
// (ids, the villages a log row concerns, a change's status).
#include "tz/sqlite/support.hpp"

#include <algorithm>
#include <random>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "hash_filter.hpp"
#include "state_codec.hpp"
#include "tz/sync/server_store.hpp"
#include "tz/util/bytes.hpp"
#include "tz/util/crash_point.hpp"
#include "tz/util/parallel.hpp"

namespace tz::sync {

namespace {

using sqlite::bind_blob;
using sqlite::blob_of;

// 2: applied changes stored in blocks (change_blocks), entity rows in arrival order with a unique
// index on the id (decision 66); 3: a log row may stand for a run of consecutive version rows (the
// column n, decision 80); 4: links and match keys name entities by their row numbers, a link to a
// parent without a row yet waiting in links_waiting (decision 149). Older stores are converted on open.
constexpr int kFormatVersion = 4;
// A run of version rows of one entity, device and villages is stored as one log row of up to this
// many (decision 80); log_after reads from this far before the cursor to find the row holding it.
constexpr uint64_t kLogRun = 256;
// Applied changes are handed to the store's writer in runs of up to this many consecutive changes
// of one device, which it writes as block rows cut to fill whole pages (block_fill).
constexpr size_t kBlockRun = 4096;
// Log rows are handed to the writer in groups of this many (a hand-over per row would cost more
// than writing it).
constexpr size_t kLogGroup = 256;

// The bytes of a block's encoding from which it is cut so that its row fills pages (decision 150).
// change_blocks is a WITHOUT ROWID table, whose rows keep at most about a quarter of a page in the
// leaf (SQLite's maxLocal) and put the rest on overflow pages of page_size - 4 bytes each: a row of
// 5 KB took a leaf cell and a whole overflow page that was one third empty, 40% of the table's
// pages. A row of between minLocal + (page_size - 4) and maxLocal + (page_size - 4) bytes fills its
// overflow page exactly, the rest staying in the leaf; 32 bytes are the row's header, device id
// and sequences.
size_t block_fill(int64_t page_size) {
  const int64_t min_local = (page_size - 12) * 32 / 255 - 23;
  return static_cast<size_t>(min_local + (page_size - 4) - 32);
}

// Binds bytes without copying them (SQLITE_STATIC): for the hot statements, whose arguments outlive
// the step that reads them and are bound afresh before every step.
void bind_view(SQLite::Statement& st, int index, std::string_view bytes) {
  st.bindNoCopy(index, static_cast<const void*>(bytes.data()), static_cast<int>(bytes.size()));
}

std::string random_epoch() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    unsigned v = rd() & 0xff;
    out += hex[v >> 4];
    out += hex[v & 15];
  }
  return out;
}

// From this many entities a transaction writes, their states are encoded on another thread while
// they are written (put_entities); fewer are not worth a thread.
constexpr size_t kEncodeAheadRecords = 256;

constexpr const char* kBlocksTable =
    "CREATE TABLE change_blocks(device BLOB NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
    "  body BLOB NOT NULL, PRIMARY KEY(device, first_seq)) WITHOUT ROWID;";

// Entity rows are numbered in the order they arrive and found through a unique index on their
// random ids: a batch of new entities then fills a few pages at the end of the table instead of
// one page per entity all over it (each page a full page in the WAL at every commit).
constexpr const char* kEntitiesTable =
    "CREATE TABLE entities(n INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, type INTEGER NOT NULL,"
    "  last_seq INTEGER NOT NULL, villages TEXT NOT NULL, parents BLOB NOT NULL, state BLOB NOT NULL);";
// Links and match keys name entities by row number (decision 149): a batch's new rows are numbered
// in arrival order, so their links and keys fill the end of these trees instead of pages all over
// them (keyed by random ids, each such page was written again to the WAL at every commit). A link to
// a parent the store holds no row for yet (pushed later, or held in quarantine) waits by its id.
constexpr const char* kLinksTables =
    "CREATE TABLE links(parent INTEGER NOT NULL, child INTEGER NOT NULL, PRIMARY KEY(parent, child)) WITHOUT ROWID;"
    "CREATE TABLE links_waiting(parent BLOB NOT NULL, child INTEGER NOT NULL, PRIMARY KEY(parent, child)) WITHOUT ROWID;";
constexpr const char* kMatchKeysTable =
    "CREATE TABLE IF NOT EXISTS match_keys(n INTEGER PRIMARY KEY, key TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS match_keys_key ON match_keys(key);";

class SqliteServerStore final : public ServerStore {
 public:
  explicit SqliteServerStore(const std::filesystem::path& file)
      : conn_((sqlite::prepare_library(), file.string()), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
    db().exec(kSqliteServerStorePragmas);
    db().setBusyTimeout(10000);
    if (!table_exists("meta")) create();
    {
      SQLite::Statement page(db(), "PRAGMA page_size");
      page.executeStep();
      block_fill_ = block_fill(page.getColumn(0).getInt64());
    }
    if (std::stoi(meta("format")) == 1) {
      SQLite::Transaction txn(db());
      db().exec(kBlocksTable);
      db().exec("ALTER TABLE entities RENAME TO entities_v1;");
      db().exec(kEntitiesTable);
      db().exec("INSERT INTO entities(id, type, last_seq, villages, parents, state) "
               "SELECT id, type, last_seq, villages, parents, state FROM entities_v1 ORDER BY id; DROP TABLE entities_v1;");
      put_meta("format", "2");
      txn.commit();
    }
    if (std::stoi(meta("format")) == 2) {
      SQLite::Transaction txn(db());
      bool has_n = false;
      {
        SQLite::Statement cols(db(), "SELECT count(*) FROM pragma_table_info('log') WHERE name = 'n'");
        cols.executeStep();
        has_n = cols.getColumn(0).getInt() > 0;
      }
      if (!has_n) db().exec("ALTER TABLE log ADD COLUMN n INTEGER NOT NULL DEFAULT 1;");
      put_meta("format", "3");
      txn.commit();
    }
    if (std::stoi(meta("format")) == 3) {
      // Links and match keys by row number (decision 149).
      SQLite::Transaction txn(db());
      db().exec("ALTER TABLE links RENAME TO links_v3;");
      db().exec(kLinksTables);
      db().exec(
          "INSERT INTO links(parent, child) SELECT p.n, c.n FROM links_v3 l JOIN entities p ON p.id = l.parent "
          "  JOIN entities c ON c.id = l.child;"
          "INSERT INTO links_waiting(parent, child) SELECT l.parent, c.n FROM links_v3 l JOIN entities c ON c.id = l.child "
          "  WHERE NOT EXISTS (SELECT 1 FROM entities p WHERE p.id = l.parent);"
          "DROP TABLE links_v3;");
      if (table_exists("match_keys")) {
        db().exec(
            "ALTER TABLE match_keys RENAME TO match_keys_v3; DROP INDEX IF EXISTS match_keys_key;");
        db().exec(kMatchKeysTable);
        db().exec(
            "INSERT INTO match_keys(n, key) SELECT e.n, m.key FROM match_keys_v3 m JOIN entities e ON e.id = m.entity;"
            "DROP TABLE match_keys_v3;");
      }
      put_meta("format", std::to_string(kFormatVersion));
      txn.commit();
    }
    if (std::stoi(meta("format")) != kFormatVersion) throw Failure(ErrorCode::store_corrupt, {"unsupported server store format"});
    // The links were also indexed by child until decision 85 (an entity's links are its parents
    // column): a store made before loses the index when opened.
    db().exec("DROP INDEX IF EXISTS links_child;");
    // Added with enrolment (Sync II): created on open, so a store made before it gains it.
    db().exec(
        "CREATE TABLE IF NOT EXISTS tokens(id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
        "  scope TEXT NOT NULL, collectors BLOB NOT NULL, used_by BLOB, used_ms INTEGER NOT NULL) WITHOUT ROWID;");
    // Added with the audit chain (issue 6), the same way.
    db().exec(
        "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, ms INTEGER NOT NULL, kind TEXT NOT NULL,"
        "  actor TEXT NOT NULL, summary TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);");
    // Added with users of the HTTP API (decision 300): created on open, so an older store gains them.
    db().exec(
        "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, user TEXT NOT NULL, created_ms INTEGER NOT NULL,"
        "  expires_ms INTEGER NOT NULL) WITHOUT ROWID;");
    // Added with merging on apply (decision 221), the same way; filled by the server when empty.
    db().exec(kMatchKeysTable);
    reload();
  }

  const std::string& epoch() const override { return epoch_; }
  void new_epoch() override {
    epoch_ = random_epoch();
    put_meta("epoch", epoch_);
  }

  void begin() override {
    db().exec("BEGIN IMMEDIATE");
    in_txn_ = true;
    high_.clear();
    forget_txn_state();  // another process may have written since
    {
      SQLite::Statement any(conn_, "SELECT EXISTS (SELECT 1 FROM links_waiting)");
      any.executeStep();
      waiting_.links = any.getColumn(0).getInt() != 0;
    }
    {
      // Another connection's commit since our last transaction changes the data version: the ids it
      // added are not in the filter, which is made again before it answers (decision 148).
      SQLite::Statement version(conn_, "PRAGMA data_version");
      version.executeStep();
      const int64_t v = version.getColumn(0).getInt64();
      if (v != data_version_) ids_.ok = keys_.ok = false;
      data_version_ = v;
    }
    reload();
    saved_clock_ = clock_;
    saved_last_seq_ = last_seq_;
    saved_epoch_ = epoch_;
  }
  void commit(const char* crash_before, const char* crash_after) override {
    try {
      flush_pending();
      flush_log();
      put_meta("clock", std::to_string(clock_.ms) + ":" + std::to_string(clock_.counter));
      if (crash_before) crash_point(crash_before);
      db().exec("COMMIT");
    } catch (const SQLite::Exception& e) {
      // A full disk or read-only storage is the catalogue's error, naming the file (the caller
      // rolls back).
      throw Failure(sqlite::error_of(e, conn_.getFilename()));
    }
    in_txn_ = false;
    for (auto& [key, holders] : txn_keys_.holders) keys_.add(HashFilter::of(key));
    // A key given to an entity no row was written for has nothing to name: not kept.
    forget_txn_state();
    reset_cached_statements();
    if (crash_after) crash_point(crash_after);
  }
  void throw_storage_failure() const override {
    try {
      throw;
    } catch (const SQLite::Exception& e) {
      throw Failure(sqlite::error_of(e, conn_.getFilename()));
    } catch (...) {
      // not a storage failure: the caller rethrows it
    }
  }
  void rollback() override {
    behind_.discard();  // what was handed to the writer is dropped with the transaction
    log_stage_.clear();
    pending_.clear();
    // The filters may keep ids and keys written and rolled back: they then only say "maybe". The
    // numbers of rolled-back rows may be given again.
    forget_txn_state();
    log_run_.reset();
    high_.clear();
    block_ = {};
    if (!in_txn_) return;
    in_txn_ = false;
    try {
      conn_.exec("ROLLBACK");
    } catch (const SQLite::Exception&) {
      // SQLite may have rolled back already (an I/O error ends the transaction itself).
    }
    clock_ = saved_clock_;
    last_seq_ = saved_last_seq_;
    epoch_ = saved_epoch_;
  }

  void begin_read() override {
    db().exec("BEGIN");
    try {
      reload();
    } catch (...) {
      end_read();
      throw;
    }
  }
  void end_read() override {
    try {
      db().exec("COMMIT");
    } catch (const SQLite::Exception&) {
      // Nothing was written; a failed end of a read leaves nothing to undo.
    }
  }

  Hlc clock() const override { return clock_; }
  void set_clock(Hlc clock) override { clock_ = clock; }

  std::optional<DeviceRecord> device(const DeviceId& id) const override {
    SQLite::Statement st(db(), "SELECT body FROM devices WHERE id = ?");
    bind_blob(st, 1, id.view());
    if (!st.executeStep()) return std::nullopt;
    return codec::decode_device(blob_of(st.getColumn(0)));
  }
  void put_device(const DeviceRecord& d) override {
    SQLite::Statement st(db(), "INSERT OR REPLACE INTO devices(id, body) VALUES (?, ?)");
    bind_blob(st, 1, d.id.view());
    auto body = codec::encode_device(d);
    bind_blob(st, 2, body);
    st.exec();
  }
  std::vector<DeviceRecord> devices() const override {
    std::vector<DeviceRecord> out;
    SQLite::Statement st(db(), "SELECT body FROM devices ORDER BY id");
    while (st.executeStep()) out.push_back(codec::decode_device(blob_of(st.getColumn(0))));
    return out;
  }

  // Changes are stored two ways. A change applied when it first arrives (nearly all of them) goes
  // into a block: consecutive changes of one device gathered during the transaction and written as
  // rows cut to fill whole pages (decisions 66 and 150: a row per change, beside its log row, was a large
  // part of the apply). Every other write — a quarantined change, a later status change (release,
  // reject) — is a row of `changes`, which takes precedence over a block. A change is new when its
  // seq is above the highest the store holds from its device (pushes apply in sequence order).
  std::optional<StoredChange> change(const VersionId& id) const override {
    auto& st = stmt(change_get_, "SELECT body FROM changes WHERE device = ? AND seq = ?");
    st.reset();
    bind_view(st, 1, id.device.view());
    st.bind(2, static_cast<int64_t>(id.seq.value));
    {
      ResetAfter done{st};
      if (st.executeStep()) return codec::decode_change(blob_of(st.getColumn(0)));
    }
    if (!pending_.empty() && pending_.front().change.version.device == id.device &&
        id.seq.value >= pending_.front().change.version.seq.value &&
        id.seq.value - pending_.front().change.version.seq.value < pending_.size())
      return pending_[id.seq.value - pending_.front().change.version.seq.value];
    if (!block_.valid || !(block_.device == id.device && block_.first <= id.seq.value && id.seq.value <= block_.last)) {
      auto& bst = stmt(block_get_,
                       "SELECT first_seq, last_seq, body FROM change_blocks WHERE device = ? AND first_seq <= ? "
                       "ORDER BY first_seq DESC LIMIT 1");
      bst.reset();
      bind_view(bst, 1, id.device.view());
      bst.bind(2, static_cast<int64_t>(id.seq.value));
      ResetAfter bdone{bst};
      if (!bst.executeStep()) return std::nullopt;
      uint64_t first = static_cast<uint64_t>(bst.getColumn(0).getInt64());
      uint64_t last = static_cast<uint64_t>(bst.getColumn(1).getInt64());
      if (id.seq.value > last) return std::nullopt;
      block_ = {};
      try {
        block_.changes = codec::decode_block(blob_of(bst.getColumn(2)), id.device, first, last);
      } catch (const Failure&) {
        block_ = {};
        throw Failure(ErrorCode::store_corrupt, {"damaged change block of " + id.device.hex()});
      }
      block_.device = id.device;
      block_.first = first;
      block_.last = last;
      block_.valid = true;
    }
    return block_.changes[id.seq.value - block_.first];
  }
  void put_change(StoredChange c) override {
    const VersionId& v = c.change.version;
    uint64_t& high = highest(v.device);
    const bool fresh = v.seq.value > high;
    if (fresh) high = v.seq.value;
    if (fresh && c.status == StoredChange::Status::applied && in_txn_) {
      if (!pending_.empty() && (pending_.front().change.version.device != v.device ||
                                pending_.back().change.version.seq.value + 1 != v.seq.value || pending_.size() >= kBlockRun))
        flush_pending();
      pending_.push_back(std::move(c));
      return;
    }
    if (!pending_.empty() && pending_.front().change.version.device == v.device) flush_pending();
    auto& st = stmt(change_put_, "INSERT OR REPLACE INTO changes(device, seq, status, body) VALUES (?, ?, ?, ?)");
    st.reset();
    bind_view(st, 1, v.device.view());
    st.bind(2, static_cast<int64_t>(v.seq.value));
    st.bind(3, static_cast<int>(c.status));
    auto body = codec::encode_change(c);
    bind_view(st, 4, body);
    st.exec();
  }
  std::vector<StoredChange> quarantined() const override {
    std::vector<StoredChange> out;
    SQLite::Statement st(db(), "SELECT body FROM changes WHERE status = 1 ORDER BY device, seq");
    while (st.executeStep()) out.push_back(codec::decode_change(blob_of(st.getColumn(0))));
    return out;
  }

  std::optional<EntityRecord> entity(const EntityId& id) const override {
    if (known_absent(id)) {
      absent_.insert(id);
      return std::nullopt;
    }
    auto& st = stmt(entity_get_, "SELECT state, villages, last_seq, parents, n FROM entities WHERE id = ?");
    st.reset();
    bind_view(st, 1, id.view());
    ResetAfter done{st};
    if (!st.executeStep()) {
      if (in_txn_) linked_.insert_or_assign(id, std::vector<EntityId>{});
      return std::nullopt;
    }
    auto rec = record_from(st);
    if (in_txn_) {
      linked_.insert_or_assign(id, rec.parents);
      numbers_.insert_or_assign(id, st.getColumn(4).getInt64());
    }
    return rec;
  }
  std::optional<std::vector<std::string>> entity_villages(const EntityId& id) const override {
    if (known_absent(id)) return std::nullopt;
    auto& st = stmt(villages_get_, "SELECT villages, n FROM entities WHERE id = ?");
    st.reset();
    bind_view(st, 1, id.view());
    ResetAfter done{st};
    if (!st.executeStep()) return std::nullopt;
    // Read for the entities a batch places others under: their links are written by number.
    if (in_txn_) numbers_.insert_or_assign(id, st.getColumn(1).getInt64());
    return codec::decode_strings(st.getColumn(0).getString());
  }
  void put_entity(const EntityRecord& e) override {
    settle();
    write_entity(e, codec::encode_state(e.state), added(e.state.id));
  }
  void put_entities(const std::vector<const EntityRecord*>& records) override {
    settle();
    // Encoding a state costs about half as much as writing it: another thread encodes the next ones
    // while this one writes (the records do not change meanwhile).
    RunAhead<std::string> bodies(records.size(), [&](size_t i) { return codec::encode_state(records[i]->state); },
                                 kEncodeAheadRecords);
    for (size_t i = 0; i < records.size(); ++i) write_entity(*records[i], bodies.take(i), added(records[i]->state.id));
  }
  void put_entities_later(std::vector<const EntityRecord*> records) override {
    if (records.empty()) return;
    if (!in_txn_) return put_entities(records);
    std::vector<char> fresh(records.size());
    for (size_t i = 0; i < records.size(); ++i) fresh[i] = added(records[i]->state.id);
    behind_.post([this, records = std::move(records), fresh = std::move(fresh)] {
      for (size_t i = 0; i < records.size(); ++i) write_entity(*records[i], codec::encode_state(records[i]->state), fresh[i]);
    });
  }
  void settle_writes() override { settle(); }
  // On this thread, for an entity about to be written: enters its id in the filter, and tells whether
  // the file certainly held no row for it when the transaction read it (its links then are none).
  bool added(const EntityId& id) {
    ids_.add(HashFilter::of(id));
    return absent_.erase(id) > 0;
  }
  // True when the file certainly holds no row for `id` (decision 148): answered by the filter, and
  // only inside a write transaction, which no other connection can write beside.
  bool known_absent(const EntityId& id) const { return in_txn_ && ids_.lacks(*this, HashFilter::of(id)); }
  // True when no entity in the file holds `key` but those this transaction gave it (decision 148).
  bool key_only_in_txn(const std::string& key) const { return in_txn_ && keys_.lacks(*this, HashFilter::of(key)); }
  // Writes one entity and its links: on this thread after settle(), or on the writer. `fresh`: the
  // transaction found no row for it (known without a look-up, decision 148).
  void write_entity(const EntityRecord& e, const std::string& body, bool fresh) const {
    // The links follow the entity's parents; only the pairs that differ are written (most puts change
    // other fields, and rewriting equal links dirtied their pages at every commit). The links an
    // entity has are its stored parents: known for an entity read or written in this transaction
    // (decision 82: a new entity has none to read), read from its row otherwise, before the row is
    // replaced (decision 85: no index of the links by child, one B-tree insertion fewer per link).
    std::vector<EntityId> linked;
    if (fresh) {
      if (in_txn_) linked_.insert_or_assign(e.state.id, e.parents);
    } else if (auto known = linked_.find(e.state.id); known != linked_.end()) {
      linked = std::move(known->second);
      known->second = e.parents;
    } else {
      auto& cur = prepared(link_get_, "SELECT parents, n FROM entities WHERE id = ?");
      cur.reset();
      bind_view(cur, 1, e.state.id.view());
      ResetAfter done{cur};
      if (cur.executeStep()) {
        auto parents = blob_of(cur.getColumn(0));
        for (size_t i = 0; i + 16 <= parents.size(); i += 16) linked.push_back(EntityId::from_bytes(parents.substr(i, 16)));
        if (in_txn_) numbers_.insert_or_assign(e.state.id, cur.getColumn(1).getInt64());  // not looked up again below
      }
      if (in_txn_) linked_.emplace(e.state.id, e.parents);
    }
    auto& st = prepared(entity_put_,
                        "INSERT INTO entities(id, type, last_seq, villages, parents, state) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(id) DO UPDATE SET type = excluded.type, last_seq = excluded.last_seq, "
                        "villages = excluded.villages, parents = excluded.parents, state = excluded.state");
    st.reset();
    bind_view(st, 1, e.state.id.view());
    st.bind(2, static_cast<int>(e.state.type));
    st.bind(3, static_cast<int64_t>(e.last_seq));
    const std::string villages = codec::encode_strings(e.villages);
    st.bindNoCopy(4, villages);
    std::string parents;
    for (auto& p : e.parents) parents.append(p.view());
    bind_view(st, 5, parents);
    bind_view(st, 6, body);
    const int64_t before = conn_.getLastInsertRowid();
    st.exec();
    // A new row's number is the one just given (the UPDATE of an upsert leaves last_insert_rowid as
    // it was); an existing row's was read with it, or is looked up. RETURNING would gather every
    // returned row in a temporary table first.
    int64_t n = 0;
    if (const int64_t after = conn_.getLastInsertRowid(); after != before) {
      n = after;
      numbers_.insert_or_assign(e.state.id, n);
    } else if (auto known = number_of(e.state.id)) {
      n = *known;
    } else {
      throw Failure(ErrorCode::internal, {"entity row not written"});
    }
    if (!waiting_.empty()) adopt_waiting(e.state.id, n);
    if (linked == e.parents) return;
    auto has = [](const std::vector<EntityId>& v, const EntityId& id) { return std::find(v.begin(), v.end(), id) != v.end(); };
    for (auto& p : linked)
      if (!has(e.parents, p)) write_link(false, p, n);
    for (auto& p : e.parents)
      if (!has(linked, p)) write_link(true, p, n);
  }
  // Writes (`add`) or removes the link from the row numbered `child` to `parent`: by the parent's
  // number, or waiting by its id while it has no row (decision 149).
  void write_link(bool add, const EntityId& parent, int64_t child) const {
    const auto pn = number_of(parent);
    auto& st = pn ? (add ? prepared(link_put_, "INSERT OR IGNORE INTO links(parent, child) VALUES (?, ?)")
                         : prepared(link_del_, "DELETE FROM links WHERE parent = ? AND child = ?"))
                  : (add ? prepared(wait_put_, "INSERT OR IGNORE INTO links_waiting(parent, child) VALUES (?, ?)")
                         : prepared(wait_del_, "DELETE FROM links_waiting WHERE parent = ? AND child = ?"));
    st.reset();
    if (pn) st.bind(1, *pn);
    else bind_view(st, 1, parent.view());
    st.bind(2, child);
    st.exec();
    if (add && !pn) waiting_.links = true;
  }
  // The row number of an entity the file holds (decision 149): from the rows this transaction read
  // or wrote, or looked up. On this thread after settle(), or on the writer.
  std::optional<int64_t> number_of(const EntityId& id) const {
    if (auto it = numbers_.find(id); it != numbers_.end()) return it->second;
    auto& st = prepared(number_get_, "SELECT n FROM entities WHERE id = ?");
    st.reset();
    bind_view(st, 1, id.view());
    ResetAfter done{st};
    if (!st.executeStep()) return std::nullopt;
    const int64_t n = st.getColumn(0).getInt64();
    if (in_txn_) numbers_.emplace(id, n);
    return n;
  }
  // An entity has a row now: the links waiting for it as a parent, and the match key given to it
  // before its row was written, are written by its number.
  void adopt_waiting(const EntityId& id, int64_t n) const {
    if (auto it = waiting_.keys.find(id); it != waiting_.keys.end()) {
      const std::string key = std::move(it->second);
      waiting_.keys.erase(it);
      write_match_key(id, key);
    }
    if (!waiting_.links) return;
    auto& st = prepared(wait_take_, "SELECT child FROM links_waiting WHERE parent = ?");
    st.reset();
    bind_view(st, 1, id.view());
    std::vector<int64_t> kids;
    {
      ResetAfter done{st};
      while (st.executeStep()) kids.push_back(st.getColumn(0).getInt64());
    }
    if (kids.empty()) return;
    auto& del = prepared(wait_clear_, "DELETE FROM links_waiting WHERE parent = ?");
    del.reset();
    bind_view(del, 1, id.view());
    del.exec();
    auto& ins = prepared(link_put_, "INSERT OR IGNORE INTO links(parent, child) VALUES (?, ?)");
    for (int64_t kid : kids) {
      ins.reset();
      ins.bind(1, n);
      ins.bind(2, kid);
      ins.exec();
    }
  }
  std::vector<EntityId> children(const EntityId& parent) const override {
    std::vector<EntityId> out;
    auto& st = stmt(children_,
                    "SELECT e.id FROM links l JOIN entities e ON e.n = l.child WHERE l.parent = (SELECT n FROM entities WHERE id = ?1) "
                    "UNION SELECT e.id FROM links_waiting w JOIN entities e ON e.n = w.child WHERE w.parent = ?1 ORDER BY 1");
    st.reset();
    bind_blob(st, 1, parent.view());
    ResetAfter done{st};
    while (st.executeStep()) out.push_back(EntityId::from_bytes(blob_of(st.getColumn(0))));
    return out;
  }
  std::optional<std::string> match_key(const EntityId& id) const override {
    if (in_txn_)
      if (auto it = txn_keys_.of.find(id); it != txn_keys_.of.end())
        return it->second.empty() ? std::nullopt : std::optional<std::string>(it->second);
    auto& st = stmt(match_get_, "SELECT m.key FROM match_keys m JOIN entities e ON e.n = m.n WHERE e.id = ?");
    st.reset();
    bind_blob(st, 1, id.view());
    ResetAfter done{st};  // a statement left stepping would hold a read transaction past COMMIT
    if (!st.executeStep()) return std::nullopt;
    return st.getColumn(0).getString();
  }
  void put_match_key(const EntityId& id, const std::string& key) override {
    if (in_txn_) {
      // Inside a transaction the key is written by the writer, in groups (decision 148); who holds
      // it is known here until the commit.
      txn_keys_.put(id, key);
      key_stage_.emplace_back(id, key);
      if (key_stage_.size() >= kLogGroup) post_logs();
      return;
    }
    settle();
    write_match_key(id, key);
  }
  // Prepared once (decision 130: a county's first push writes a key for every person and household).
  // The key of an entity without a row yet waits for the row (decision 149).
  void write_match_key(const EntityId& id, const std::string& key) const {
    const auto n = number_of(id);
    if (!n) {
      // Outside a transaction no row can follow: the key names nothing.
      if (key.empty() || !in_txn_) waiting_.keys.erase(id);
      else waiting_.keys.insert_or_assign(id, key);
      return;
    }
    if (key.empty()) {
      auto& st = prepared(match_del_, "DELETE FROM match_keys WHERE n = ?");
      st.reset();
      st.bind(1, *n);
      st.exec();
      return;
    }
    auto& st = prepared(match_put_, "INSERT INTO match_keys(n, key) VALUES (?, ?) ON CONFLICT(n) DO UPDATE SET key = excluded.key");
    st.reset();
    st.bind(1, *n);
    st.bindNoCopy(2, key);
    st.exec();
  }
  std::vector<EntityId> entities_with_match_key(const std::string& key) const override {
    std::vector<EntityId> out;
    if (key_only_in_txn(key)) {
      if (auto it = txn_keys_.holders.find(key); it != txn_keys_.holders.end()) out = it->second;
      std::sort(out.begin(), out.end());
      return out;
    }
    auto& st = stmt(match_find_, "SELECT e.id FROM match_keys m JOIN entities e ON e.n = m.n WHERE m.key = ?");
    st.reset();
    st.bind(1, key);
    {
      ResetAfter done{st};
      while (st.executeStep()) out.push_back(EntityId::from_bytes(blob_of(st.getColumn(0))));
    }
    for (auto& [id, k] : waiting_.keys)
      if (k == key) out.push_back(id);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::vector<EntityId>> match_key_groups() const override {
    std::vector<std::vector<EntityId>> out;
    SQLite::Statement st(db(),
                         "SELECT m.key, e.id FROM match_keys m JOIN entities e ON e.n = m.n WHERE m.key IN "
                         "(SELECT key FROM match_keys GROUP BY key HAVING count(*) > 1) ORDER BY m.key, e.id");
    std::string last;
    while (st.executeStep()) {
      std::string key = st.getColumn(0).getString();
      if (out.empty() || key != last) out.emplace_back();
      last = std::move(key);
      out.back().push_back(EntityId::from_bytes(blob_of(st.getColumn(1))));
    }
    return out;
  }
  void scan_entities(const std::function<void(const EntityRecord&)>& fn) const override {
    SQLite::Statement st(db(), "SELECT state, villages, last_seq, parents FROM entities ORDER BY id");
    while (st.executeStep()) fn(record_from(st));
  }

  // Version rows are gathered into runs (decision 80): a version row that continues the open run —
  // same entity, device and villages, the next version of that device, nothing logged in between —
  // extends it; the run is written as one row whose n says how many consecutive sequences (and
  // version seqs) it stands for. log_after gives the rows back one by one, as if each had its own row.
  uint64_t append(const LogRow& row) override {
    const uint64_t seq = ++last_seq_;
    if (row.kind == LogKind::version && !row.target && row.payload.empty() && in_txn_) {
      if (log_run_ && log_run_->n < kLogRun && log_run_->row.entity == row.entity && log_run_->row.type == row.type &&
          log_run_->row.version.device == row.version.device &&
          log_run_->row.version.seq.value + log_run_->n == row.version.seq.value && log_run_->row.seq + log_run_->n == seq &&
          log_run_->row.villages == row.villages) {
        ++log_run_->n;
        return seq;
      }
      flush_log();
      log_run_.emplace(LogRun{row, 1});
      log_run_->row.seq = seq;
      return seq;
    }
    flush_log();
    LogRun one{row, 1};
    one.row.seq = seq;
    write_log(std::move(one));
    return seq;
  }
  uint64_t last_seq() const override { return last_seq_; }
  std::vector<LogRow> log_after(uint64_t after, size_t limit) const override {
    const_cast<SqliteServerStore*>(this)->flush_log();
    std::vector<LogRow> out;
    if (limit == 0) return out;
    auto& st = stmt(log_get_,
                    "SELECT seq, kind, target, type, entity, villages, vdevice, vseq, payload, n FROM log "
                    "WHERE seq > ? ORDER BY seq");
    st.reset();
    st.bind(1, static_cast<int64_t>(after > kLogRun ? after - kLogRun : 0));
    while (out.size() < limit && st.executeStep()) {
      const uint64_t seq = static_cast<uint64_t>(st.getColumn(0).getInt64());
      const uint64_t n = static_cast<uint64_t>(st.getColumn(9).getInt64());
      if (n == 0 || n > kLogRun) throw Failure(ErrorCode::store_corrupt, {"log row " + std::to_string(seq) + ": run length"});
      if (seq + n - 1 <= after) continue;
      LogRow r;
      r.seq = seq;
      r.kind = static_cast<LogKind>(st.getColumn(1).getInt());
      if (!st.getColumn(2).isNull()) r.target = DeviceId::from_bytes(blob_of(st.getColumn(2)));
      r.type = static_cast<EntityType>(st.getColumn(3).getInt());
      r.entity = EntityId::from_bytes(blob_of(st.getColumn(4)));
      r.villages = codec::decode_strings(st.getColumn(5).getString());
      r.version.device = DeviceId::from_bytes(blob_of(st.getColumn(6)));
      r.version.seq.value = static_cast<uint64_t>(st.getColumn(7).getInt64());
      r.payload = blob_of(st.getColumn(8));
      for (uint64_t k = 0; k < n && out.size() < limit; ++k) {
        if (seq + k <= after) continue;
        LogRow one = r;
        one.seq = seq + k;
        one.version.seq.value = r.version.seq.value + k;
        out.push_back(std::move(one));
      }
    }
    st.reset();
    return out;
  }

  std::optional<std::pair<uint64_t, std::string>> config(const std::string& key) const override {
    SQLite::Statement st(db(), "SELECT version, value FROM config WHERE key = ?");
    st.bind(1, key);
    if (!st.executeStep()) return std::nullopt;
    return std::make_pair(static_cast<uint64_t>(st.getColumn(0).getInt64()), blob_of(st.getColumn(1)));
  }
  std::optional<std::string> meta_value(const std::string& key) const override {
    SQLite::Statement st(db(), "SELECT value FROM meta WHERE key = ?");
    st.bind(1, "x:" + key);
    if (!st.executeStep()) return std::nullopt;
    return blob_of(st.getColumn(0));
  }
  void put_meta_value(const std::string& key, std::string_view value) override {
    SQLite::Statement st(db(), "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
    st.bind(1, "x:" + key);
    bind_blob(st, 2, value);
    st.exec();
  }

  std::optional<TokenRecord> token(const std::string& id) const override {
    SQLite::Statement st(db(), "SELECT id, created_ms, expires_ms, scope, collectors, used_by, used_ms FROM tokens WHERE id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return token_from(st);
  }
  void put_token(const TokenRecord& t) override {
    SQLite::Statement st(db(),
                         "INSERT OR REPLACE INTO tokens(id, created_ms, expires_ms, scope, collectors, used_by, used_ms) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, t.id);
    st.bind(2, t.created_ms);
    st.bind(3, t.expires_ms);
    st.bind(4, codec::encode_strings(t.scope));
    ByteWriter w;  // collectors may hold commas: length-prefixed
    w.varint(t.collectors.size());
    for (auto& c : t.collectors) w.str(c);
    bind_blob(st, 5, w.data());
    if (t.used_by) bind_blob(st, 6, t.used_by->view());
    else st.bind(6);
    st.bind(7, t.used_ms);
    st.exec();
  }
  std::vector<TokenRecord> tokens() const override {
    std::vector<TokenRecord> out;
    SQLite::Statement st(db(), "SELECT id, created_ms, expires_ms, scope, collectors, used_by, used_ms FROM tokens ORDER BY created_ms, id");
    while (st.executeStep()) out.push_back(token_from(st));
    return out;
  }

  void append_audit(const AuditEntry& e) override {
    SQLite::Statement st(db(), "INSERT INTO audit(seq, ms, kind, actor, summary, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(e.seq));
    st.bind(2, e.ms);
    st.bind(3, e.kind);
    st.bind(4, e.actor);
    st.bind(5, e.summary);
    st.bind(6, e.prev);
    st.bind(7, e.hash);
    st.exec();
  }
  std::vector<AuditEntry> audit_entries() const override {
    std::vector<AuditEntry> out;
    SQLite::Statement st(db(), "SELECT seq, ms, kind, actor, summary, prev, hash FROM audit ORDER BY rowid");
    while (st.executeStep()) {
      AuditEntry e;
      e.seq = static_cast<uint64_t>(st.getColumn(0).getInt64());
      e.ms = st.getColumn(1).getInt64();
      e.kind = st.getColumn(2).getString();
      e.actor = st.getColumn(3).getString();
      e.summary = st.getColumn(4).getString();
      e.prev = st.getColumn(5).getString();
      e.hash = st.getColumn(6).getString();
      out.push_back(std::move(e));
    }
    return out;
  }
  std::optional<UserRecord> user(const std::string& name) const override {
    SQLite::Statement st(db(), "SELECT body FROM users WHERE name = ?");
    st.bind(1, name);
    if (!st.executeStep()) return std::nullopt;
    return user_from(name, blob_of(st.getColumn(0)));
  }
  void put_user(const UserRecord& u) override {
    ByteWriter w;
    w.str(u.role);
    w.str(u.agency);
    w.str(codec::encode_strings(u.scope));
    w.str(u.salt);
    w.str(u.hash);
    w.varint(u.kdf_n);
    w.varint(u.kdf_r);
    w.varint(u.kdf_p);
    w.varint(static_cast<uint64_t>(u.created_ms));
    w.u8(u.disabled ? 1 : 0);
    w.varint(u.failures.size());
    for (auto t : u.failures) w.varint(static_cast<uint64_t>(t));
    SQLite::Statement st(db(), "INSERT OR REPLACE INTO users(name, body) VALUES (?, ?)");
    st.bind(1, u.name);
    bind_blob(st, 2, w.data());
    st.exec();
  }
  std::vector<UserRecord> users() const override {
    std::vector<UserRecord> out;
    SQLite::Statement st(db(), "SELECT name, body FROM users ORDER BY name");
    while (st.executeStep()) out.push_back(user_from(st.getColumn(0).getString(), blob_of(st.getColumn(1))));
    return out;
  }
  std::optional<SessionRecord> session(const std::string& id) const override {
    SQLite::Statement st(db(), "SELECT user, created_ms, expires_ms FROM sessions WHERE id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return SessionRecord{id, st.getColumn(0).getString(), st.getColumn(1).getInt64(), st.getColumn(2).getInt64()};
  }
  void put_session(const SessionRecord& s) override {
    SQLite::Statement st(db(), "INSERT OR REPLACE INTO sessions(id, user, created_ms, expires_ms) VALUES (?, ?, ?, ?)");
    st.bind(1, s.id);
    st.bind(2, s.user);
    st.bind(3, s.created_ms);
    st.bind(4, s.expires_ms);
    st.exec();
  }
  void delete_sessions(const std::string& id, const std::string& user) override {
    SQLite::Statement st(db(), user.empty() ? "DELETE FROM sessions WHERE id = ?" : "DELETE FROM sessions WHERE user = ?");
    st.bind(1, user.empty() ? id : user);
    st.exec();
  }

  void put_config(const std::string& key, uint64_t version, const std::string& value) override {
    SQLite::Statement st(db(), "INSERT OR REPLACE INTO config(key, version, value) VALUES (?, ?, ?)");
    st.bind(1, key);
    st.bind(2, static_cast<int64_t>(version));
    bind_blob(st, 3, value);
    st.exec();
  }

 private:
  // The open run of version rows (decision 80), written at the next other row, read or commit; its
  // row.seq is the first sequence it stands for. A row on its own is a run of one.
  struct LogRun {
    LogRow row;
    uint64_t n = 1;
  };

  void create() {
    SQLite::Transaction txn(db());
    db().exec(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE devices(id BLOB PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE changes(device BLOB NOT NULL, seq INTEGER NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL,"
        "  PRIMARY KEY(device, seq)) WITHOUT ROWID;"
        "CREATE INDEX changes_held ON changes(status) WHERE status = 1;"
        "CREATE TABLE log(seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, target BLOB, type INTEGER NOT NULL,"
        "  entity BLOB NOT NULL, villages TEXT NOT NULL, vdevice BLOB NOT NULL, vseq INTEGER NOT NULL,"
        "  payload BLOB NOT NULL, n INTEGER NOT NULL DEFAULT 1);"
        "CREATE TABLE config(key TEXT PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;");
    db().exec(kBlocksTable);
    db().exec(kEntitiesTable);
    db().exec(kLinksTables);
    put_meta("format", std::to_string(kFormatVersion));
    put_meta("epoch", random_epoch());
    put_meta("clock", "0:0");
    txn.commit();
  }

  // What another process may have changed since our last transaction (SPEC §11: admin commands run
  // beside serve): read again at the start of every transaction, never cached across them.
  void reload() {
    epoch_ = meta("epoch");
    auto clock = meta("clock");
    auto colon = clock.find(':');
    clock_ = Hlc{std::stoll(clock.substr(0, colon)), static_cast<uint32_t>(std::stoul(clock.substr(colon + 1)))};
    SQLite::Statement last(db(), "SELECT seq + n - 1 FROM log ORDER BY seq DESC LIMIT 1");
    last_seq_ = last.executeStep() ? static_cast<uint64_t>(last.getColumn(0).getInt64()) : 0;
  }

  // What a write transaction knows of the file beyond it, valid only inside it.
  void forget_txn_state() {
    linked_.clear();
    absent_.clear();
    txn_keys_.clear();
    key_stage_.clear();
    numbers_.clear();
    waiting_.keys.clear();
  }

  bool table_exists(const char* name) const {
    SQLite::Statement st(db(), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
    st.bind(1, name);
    st.executeStep();
    return st.getColumn(0).getInt() > 0;
  }  // finished before a conversion drops a table

  std::string meta(const std::string& key) const {
    SQLite::Statement st(db(), "SELECT value FROM meta WHERE key = ?");
    st.bind(1, key);
    if (!st.executeStep()) throw Failure(ErrorCode::store_corrupt, {"meta " + key + " missing"});
    return st.getColumn(0).getString();
  }
  void put_meta(const std::string& key, const std::string& value) {
    SQLite::Statement st(db(), "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
    st.bind(1, key);
    st.bind(2, value);
    st.exec();
  }

  static UserRecord user_from(const std::string& name, const std::string& body) {
    UserRecord u;
    u.name = name;
    try {
      ByteReader r(body);
      u.role = r.str();
      u.agency = r.str();
      u.scope = codec::decode_strings(r.str());
      u.salt = r.str();
      u.hash = r.str();
      u.kdf_n = r.varint();
      u.kdf_r = static_cast<uint32_t>(r.varint());
      u.kdf_p = static_cast<uint32_t>(r.varint());
      u.created_ms = static_cast<int64_t>(r.varint());
      u.disabled = r.u8() != 0;
      u.failures.resize(r.checked_count(r.varint(), 1));
      for (auto& t : u.failures) t = static_cast<int64_t>(r.varint());
    } catch (const Failure&) {
      throw Failure(ErrorCode::store_corrupt, {"user " + name});
    }
    return u;
  }

  static TokenRecord token_from(SQLite::Statement& st) {
    TokenRecord t;
    t.id = st.getColumn(0).getString();
    t.created_ms = st.getColumn(1).getInt64();
    t.expires_ms = st.getColumn(2).getInt64();
    t.scope = codec::decode_strings(st.getColumn(3).getString());
    const std::string collectors = blob_of(st.getColumn(4));  // the reader views it: kept alive here
    try {
      ByteReader r(collectors);
      t.collectors.resize(r.checked_count(r.varint(), 1));
      for (auto& c : t.collectors) c = r.str();
    } catch (const Failure&) {
      throw Failure(ErrorCode::store_corrupt, {"token " + t.id + ": collectors"});
    }
    if (!st.getColumn(5).isNull()) t.used_by = DeviceId::from_bytes(blob_of(st.getColumn(5)));
    t.used_ms = st.getColumn(6).getInt64();
    return t;
  }

  EntityRecord record_from(SQLite::Statement& st) const {
    EntityRecord e;
    e.state = codec::decode_state(blob_of(st.getColumn(0)));
    e.villages = codec::decode_strings(st.getColumn(1).getString());
    e.last_seq = static_cast<uint64_t>(st.getColumn(2).getInt64());
    auto parents = blob_of(st.getColumn(3));
    for (size_t i = 0; i + 16 <= parents.size(); i += 16) e.parents.push_back(EntityId::from_bytes(parents.substr(i, 16)));
    return e;
  }

  // The highest seq the store holds from a device (blocks and rows), read once per transaction.
  uint64_t& highest(const DeviceId& d) {
    auto [it, added] = high_.try_emplace(d, 0);
    if (added) {
      SQLite::Statement st(db(),
                           "SELECT max(coalesce((SELECT last_seq FROM change_blocks WHERE device = ?1 ORDER BY first_seq DESC LIMIT 1), 0),"
                           "           coalesce((SELECT max(seq) FROM changes WHERE device = ?1), 0))");
      bind_blob(st, 1, d.view());
      st.executeStep();
      it->second = static_cast<uint64_t>(st.getColumn(0).getInt64());
    }
    return it->second;
  }

  // Log rows of the open transaction go to the writer in groups (decision 138); a row outside a
  // transaction is written at once.
  void write_log(LogRun run) {
    if (!in_txn_) {
      settle();
      insert_log(run);
      return;
    }
    log_stage_.push_back(std::move(run));
    if (log_stage_.size() >= kLogGroup) post_logs();
  }
  void post_logs() const {
    if (!log_stage_.empty()) {
      behind_.post([this, rows = std::move(log_stage_)] {
        for (auto& run : rows) insert_log(run);
      });
      log_stage_.clear();  // moved from: made empty
    }
    if (!key_stage_.empty()) {
      behind_.post([this, keys = std::move(key_stage_)] {
        for (auto& [id, key] : keys) write_match_key(id, key);
      });
      key_stage_.clear();
    }
  }
  // Hands over what is staged and waits until the writer has written everything handed to it:
  // called before this thread uses the connection (db(), stmt()); rethrows what a write threw.
  void settle() const {
    post_logs();
    behind_.drain();
  }
  // One log row: run.row at its seq, standing for run.n consecutive ones (decision 80).
  void insert_log(const LogRun& run) const {
    const LogRow& row = run.row;
    auto& st = prepared(log_put_,
                    "INSERT INTO log(seq, kind, target, type, entity, villages, vdevice, vseq, payload, n) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.reset();
    st.bind(1, static_cast<int64_t>(row.seq));
    st.bind(2, static_cast<int>(row.kind));
    if (row.target) bind_view(st, 3, row.target->view());
    else st.bind(3);
    st.bind(4, static_cast<int>(row.type));
    bind_view(st, 5, row.entity.view());
    const std::string villages = codec::encode_strings(row.villages);
    st.bindNoCopy(6, villages);
    bind_view(st, 7, row.version.device.view());
    st.bind(8, static_cast<int64_t>(row.version.seq.value));
    bind_view(st, 9, row.payload);
    st.bind(10, static_cast<int64_t>(run.n));
    st.exec();
  }
  void flush_log() {
    if (!log_run_) return;
    write_log(std::move(*log_run_));
    log_run_.reset();
  }

  // Writes the gathered run of applied changes as one block row: encoded and written by the writer
  // (decision 138), the log rows staged before it handed over first.
  void flush_pending() {
    if (pending_.empty()) return;
    post_logs();
    behind_.post([this, changes = std::move(pending_)] { insert_block(changes); });
    pending_.clear();  // moved from: made empty
    pending_.reserve(kBlockRun);
  }
  // A run of changes as block rows, each cut where its encoding fills its pages (the last takes what
  // is left).
  void insert_block(const std::vector<StoredChange>& changes) const {
    auto& st = prepared(block_put_, "INSERT INTO change_blocks(device, first_seq, last_seq, body) VALUES (?, ?, ?, ?)");
    const std::span<const StoredChange> all(changes);
    for (size_t at = 0; at < all.size();) {
      size_t taken = 0;
      const std::string body = codec::encode_block(all.subspan(at), block_fill_, taken);
      st.reset();
      bind_view(st, 1, all[at].change.version.device.view());
      st.bind(2, static_cast<int64_t>(all[at].change.version.seq.value));
      st.bind(3, static_cast<int64_t>(all[at + taken - 1].change.version.seq.value));
      bind_view(st, 4, body);
      st.exec();
      at += taken;
    }
  }

  // A cached statement left on a row keeps its read transaction (and its snapshot) open after the
  // enclosing COMMIT; the next BEGIN IMMEDIATE then fails at once with "database is locked" once
  // another process (an admin command beside serve) has written. Reset it when done.
  struct ResetAfter {
    SQLite::Statement& st;
    ~ResetAfter() {
      try {
        st.reset();
      } catch (...) {
      }
    }
  };

  // A cached statement left stepping keeps a read transaction open after COMMIT: the next write of
  // this connection then fails at once with "database is locked" once another process has written.
  void reset_cached_statements() const {
    for (auto* slot : {&block_get_, &block_put_, &link_get_, &number_get_, &wait_del_, &wait_put_, &wait_take_,
                       &wait_clear_, &change_get_, &change_put_, &entity_get_, &villages_get_, &entity_put_, &link_del_,
                       &link_put_, &children_, &log_put_, &log_get_, &match_get_, &match_find_, &match_put_, &match_del_})
      if (*slot) (*slot)->reset();
  }
  SQLite::Statement& stmt(std::unique_ptr<SQLite::Statement>& slot, const char* sql) const {
    settle();
    return prepared(slot, sql);
  }
  // For the writer's tasks, which hold the connection already: no settle().
  SQLite::Statement& prepared(std::unique_ptr<SQLite::Statement>& slot, const char* sql) const {
    if (!slot) slot = std::make_unique<SQLite::Statement>(conn_, sql);
    return *slot;
  }
  // The connection, for this thread: every write handed to the writer is done first (decision 138).
  SQLite::Database& db() const {
    settle();
    return conn_;
  }

  mutable SQLite::Database conn_;
  std::string epoch_, saved_epoch_;
  Hlc clock_, saved_clock_;
  uint64_t last_seq_ = 0, saved_last_seq_ = 0;
  bool in_txn_ = false;
  // Applied changes of the open transaction not yet written as a block: one device, consecutive seqs.
  std::vector<StoredChange> pending_;
  // The parents whose links each entity read or written in the open transaction has in the store.
  mutable std::unordered_map<EntityId, std::vector<EntityId>, IdHash> linked_;
  // A filter of the entity ids or match keys the file holds (decision 148): valid while no other
  // connection has committed since it was made (the data version begin() checks). Used and changed
  // only on the caller's thread, never by the writer.
  struct Held {
    const char* count_sql;  // an upper bound of the items held
    const char* items_sql;
    HashFilter::Hashes (*hash)(const SQLite::Column&);
    HashFilter filter;
    bool ok = false;
    // True when the file certainly holds no such item; the filter is made first when needed.
    bool lacks(const SqliteServerStore& store, HashFilter::Hashes h) {
      if (!ok || filter.full()) rebuild(store);
      return !filter.may_hold(h);
    }
    // An item about to be written. One the filter may hold already is not counted again (a county
    // server writes the same entities day after day: counting each write would fill it early).
    void add(HashFilter::Hashes h) {
      if (ok && !filter.may_hold(h)) filter.add(h);
    }
    // Made from what the file holds (after the writes handed over), with room for twice as many.
    void rebuild(const SqliteServerStore& store) {
      SQLite::Statement count(store.db(), count_sql);
      count.executeStep();
      filter.reset(2 * std::max(static_cast<size_t>(count.getColumn(0).getInt64()), filter.count()));
      SQLite::Statement items(store.db(), items_sql);
      while (items.executeStep()) filter.add(hash(items.getColumn(0)));
      ok = true;
    }
  };
  // Entity rows are numbered in arrival order: the highest number bounds their count.
  mutable Held ids_{"SELECT coalesce(max(n), 0) FROM entities", "SELECT id FROM entities",
                    [](const SQLite::Column& c) { return HashFilter::of(EntityId::from_bytes(blob_of(c))); }};
  mutable Held keys_{"SELECT count(*) FROM match_keys", "SELECT key FROM match_keys",
                     [](const SQLite::Column& c) { return HashFilter::of(c.getString()); }};
  int64_t data_version_ = -1;
  // Entities of the open transaction the filter said the file does not hold, not yet written.
  mutable std::unordered_set<EntityId, IdHash> absent_;
  // The match keys the open transaction gave (decision 148): by entity ("" for none), and the
  // entities holding each.
  struct TxnKeys {
    std::unordered_map<EntityId, std::string, IdHash> of;
    std::unordered_map<std::string, std::vector<EntityId>> holders;
    void put(const EntityId& id, const std::string& key) {
      auto [it, fresh] = of.try_emplace(id, key);
      if (!fresh) {
        if (auto h = holders.find(it->second); h != holders.end()) std::erase(h->second, id);
        it->second = key;
      }
      if (!key.empty()) holders[key].push_back(id);
    }
    void clear() {
      of.clear();
      holders.clear();
    }
  } txn_keys_;
  // Key writes of the open transaction not yet handed to the writer.
  mutable std::vector<std::pair<EntityId, std::string>> key_stage_;
  // The row numbers of entities the open transaction read or wrote (decision 149); what waits for an
  // entity's row: links to it as a parent (whether the file may hold any) and its match key. Used by
  // the writer and by this thread after settle(), as the connection is.
  mutable std::unordered_map<EntityId, int64_t, IdHash> numbers_;
  struct Waiting {
    bool links = true;  // links_waiting may hold rows: checked at each transaction's start
    std::unordered_map<EntityId, std::string, IdHash> keys;
    bool empty() const { return !links && keys.empty(); }
  };
  mutable Waiting waiting_;
  std::unordered_map<DeviceId, uint64_t, IdHash> high_;
  std::optional<LogRun> log_run_;  // the open run
  // Log rows of the open transaction not yet handed to the writer.
  mutable std::vector<LogRun> log_stage_;
  // The last block read (pulls read changes in log order, so mostly from the same block).
  struct Block {
    DeviceId device;
    uint64_t first = 0, last = 0;
    bool valid = false;
    std::vector<StoredChange> changes;  // decoded whole (decision 83: each change depends on the one before)
  };
  mutable Block block_;
  size_t block_fill_ = 0;  // block_fill of the file's page size
  mutable std::unique_ptr<SQLite::Statement> block_get_, block_put_, link_get_, number_get_, wait_del_, wait_put_, wait_take_, wait_clear_;
  mutable std::unique_ptr<SQLite::Statement> change_get_, change_put_, entity_get_, villages_get_, entity_put_, link_del_, link_put_,
      children_, log_put_, log_get_, match_get_, match_find_, match_put_, match_del_;
  // The writer of the open transaction's log rows and change blocks, beside the apply that makes
  // them (decision 138). Declared last: stopped before the statements and the connection go.
  mutable Behind behind_;
};

}  // namespace

Result<std::unique_ptr<ServerStore>> open_sqlite_server_store(const std::filesystem::path& dir) {
  try {
    std::filesystem::create_directories(dir);
    return std::unique_ptr<ServerStore>(std::make_unique<SqliteServerStore>(dir / "server.db"));
  } catch (const SQLite::Exception& e) {
    return sqlite::error_of(e, (dir / "server.db").string());
  } catch (const Failure& f) {
    return f.error();
  } catch (const std::filesystem::filesystem_error& e) {
    return Error(ErrorCode::io_error, {e.what()});
  }
}

}  // namespace tz::sync
