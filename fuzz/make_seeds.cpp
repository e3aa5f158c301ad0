// Writes the seed inputs of the fuzz targets whose inputs are binary (fuzz/corpus/wire): one whole
// frame and one sealed body per message, made by the real encoders, each prefixed with the harness's
// selector bytes (fuzz_wire.cpp). Run once when the protocol changes:
//   build/ci/fuzz/fuzz_make_seeds fuzz/corpus/wire
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "seed_file.hpp"
#include "tz/sync/protocol.hpp"

namespace {

using namespace tz;
using namespace tz::sync;

void write(const std::filesystem::path& dir, const std::string& name, uint8_t which, bool sealed, const std::string& bytes) {
  fuzz::write_seed(dir, name, which, sealed ? 1 : 0, bytes);
}

// A message both as received (a frame) and as its inflated body (the harness seals it).
void both(const std::filesystem::path& dir, const std::string& name, uint8_t which, const std::string& frame) {
  write(dir, name + ".frame", which, false, frame);
  if (auto f = open_frame(frame); f.ok()) write(dir, name + ".body", which, true, f.value().body);
}

EntityId entity(uint8_t n) {
  std::string raw(16, static_cast<char>(n));
  return EntityId::from_bytes(raw);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  const DeviceId device = DeviceId::from_bytes(std::string(16, '\x07'));

  PushRequest push;
  push.device = device;
  push.device_epoch = "e1";
  push.request_counter = 3;
  push.device_now_ms = 1793505600000LL;
  push.first_seq = 1;
  for (uint64_t i = 0; i < 3; ++i) {
    FieldChange c;
    c.type = i == 0 ? EntityType::household : EntityType::person;
    c.entity = entity(static_cast<uint8_t>(i + 1));
    c.field = static_cast<FieldId>(i + 1);
    c.value = i == 2 ? "王小明" : "522632101001";
    c.version = VersionId{device, Seq{i + 1}};
    c.ts = Hlc{1793505600000LL + static_cast<int64_t>(i), 0};
    c.collector = "王芳";
    c.device_ms = 1793505600000LL;
    if (i == 2) c.base = {VersionId{device, Seq{1}}};
    push.changes.push_back(c);
  }
  both(dir, "push_request", 0, encode(push));

  PushReply reply;
  reply.acked_seq = 3;
  for (uint64_t i = 1; i <= 3; ++i) {
    ChangeOutcome o;
    o.seq = i;
    o.kind = i == 3 ? ChangeOutcome::Kind::quarantined : ChangeOutcome::Kind::applied;
    if (i == 3) o.quarantine_reason = "范围以外 / outside the scope";
    reply.outcomes.push_back(o);
  }
  both(dir, "push_reply", 1, encode(reply));

  PullRequest pull;
  pull.device = device;
  pull.cursor = 42;
  pull.max_records = 5000;
  both(dir, "pull_request", 2, encode(pull));

  PullPage page;
  page.server_epoch = "s1";
  page.next_cursor = 9;
  page.more = true;
  VersionRecord v;
  v.server_seq = 1;
  v.change = push.changes[2];
  v.server_ms = 1793505600000LL;
  page.records.emplace_back(v);
  OwnVersionRecord own;
  own.server_seq = 2;
  own.version = push.changes[0].version;
  Decision d;
  d.kind = Decision::Kind::restamped;
  d.ts = Hlc{1793505600500LL, 2};
  own.decisions.push_back(d);
  page.records.emplace_back(own);
  ConflictRecord conflict;
  conflict.server_seq = 3;
  conflict.entity = entity(2);
  conflict.field = 5;
  page.records.emplace_back(conflict);
  NoticeRecord notice;
  notice.server_seq = 4;
  notice.entity = entity(3);
  notice.version = push.changes[1].version;
  notice.reason_zh = "已交县里审核";
  notice.reason_en = "held for review";
  page.records.emplace_back(notice);
  ConfigRecord config;
  config.server_seq = 5;
  config.key = "period";
  config.version = 1;
  config.value = "2026:2026-11-30";
  page.records.emplace_back(config);
  ScopeLeaveRecord leave;
  leave.server_seq = 6;
  leave.entity = entity(4);
  page.records.emplace_back(leave);
  MergeRecord merge;
  merge.server_seq = 7;
  merge.merged_away = entity(5);
  merge.survivor = entity(1);
  page.records.emplace_back(merge);
  both(dir, "pull_page", 3, encode(page));

  ErrorReply error;
  error.code = "stale_counter";
  error.message_zh = "请求计数已过期";
  error.message_en = "stale counter";
  error.last_counter = 7;
  both(dir, "error_reply", 4, encode(error));

  TokenInfo token;
  token.secret = std::string(kTokenSecretSize, 's');
  token.county = "522632";
  token.server_sign_pub = std::string(32, 'k');
  token.server_box_pub = std::string(32, 'b');
  token.expires_ms = 1793505600000LL;
  write(dir, "token", 8, false, encode_token(token));
  std::printf("seeds written to %s\n", dir.c_str());
  return 0;
}
