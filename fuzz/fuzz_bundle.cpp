// Fuzz target: the offline bundle readers (SPEC §7, §2 bounded decoding): the server's
// (SyncServer::import_bundle, server_bundle.cpp) and the device's (ops::import_response,
// core/ops/src/bundle.cpp), both over sync::open_bundle and the header decoders (core/sync/src/bundle.cpp),
// on a real server store and a real enrolled device store (bundle_world.hpp). Byte 0 picks the mode,
// byte 1 the direction (a device's bundle to the server, or a response to the device):
//   0  the rest is a whole bundle file as it arrives on a USB stick;
//   1  the rest is the sealed contents (manifest, signature, parts): the harness seals it to the
//      recipient's real key, so the fuzzer reaches the manifest grammar behind the box;
//   2  the rest is a header and typed bodies (str(header) varint(n) {u8 type, str(body)}*): the harness
//      frames the bodies and seals and signs a genuine bundle with the world's real keys (a response's
//      audit head signed again), so the fuzzer reaches every check behind the signature and the parts'
//      decoders, and the code that applies them.
// Properties beyond "no crash, no sanitizer report": a refusal leaves both stores exactly as they were;
// a genuine bundle opens to the header and parts it was sealed with (encode -> decode round trip).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bundle_world.hpp"
#include "tz/ops/bundle.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/util/bytes.hpp"

namespace {

using namespace tz;
using namespace tz::sync;

fuzz::BundleWorld& world() {
  static fuzz::BundleWorld* w = [] {
    auto* made = fuzz::make_bundle_world(TZ_SOURCE_DIR).release();
    std::atexit([] { std::filesystem::remove_all(world().dir); });
    return made;
  }();
  return *w;
}

// What a refusal must leave unchanged on the server: its log, its audit chain, the device's record.
std::string server_state(const fuzz::BundleWorld& w) {
  std::string s = std::to_string(w.server_store->last_seq()) + "/" + std::to_string(w.server_store->audit_entries().size());
  if (auto d = w.server_store->device(w.device->info().device))
    s += "/" + std::to_string(d->acked_seq) + "/" + std::to_string(d->last_counter) + "/" + d->sign_pub + d->box_pub;
  return s;
}

// ... and on the device: its sequences, sync state, identity and the last response applied.
std::string device_state(const fuzz::BundleWorld& w) {
  const StoreInfo& i = w.device->info();
  std::string s = std::to_string(i.next_seq) + "/" + std::to_string(i.acked_seq) + "/" + i.sync.server_epoch + "/" +
                  std::to_string(i.sync.cursor) + "/" + std::to_string(i.sync.request_counter) + "/" +
                  std::to_string(i.sync.full_pull_needed) + "/" + std::to_string(i.sync.own_values);
  if (auto r = w.device->sync_config(std::string(ops::kBundleResponseConfig))) s += "/" + std::to_string(r->first);
  if (auto id = w.device->identity()) s += "/" + id->registration;
  return s;
}

// Reads mode 2's structured input; nullopt when it does not parse (the fuzzer moves on).
struct Plain {
  std::string header;
  std::vector<std::string> parts;  // framed
};
std::optional<Plain> read_plain(std::string_view in, const fuzz::BundleWorld& w) {
  Plain p;
  try {
    ByteReader r(in);
    p.header = r.str();
    const uint64_t n = r.varint();
    if (n > 64) return std::nullopt;
    for (uint64_t i = 0; i < n; ++i) {
      const auto type = static_cast<MessageType>(r.u8());
      std::string body = r.str();
      for (auto& [from, to] : w.substitutions()) fuzz::replace_all(body, from, to);
      p.parts.push_back(seal_frame(type, body));
    }
  } catch (const Failure&) {
    return std::nullopt;
  }
  for (auto& [from, to] : w.substitutions()) fuzz::replace_all(p.header, from, to);
  return p;
}

// Feeds one bundle file to its reader and checks that a refusal changed nothing on either side.
void import(fuzz::BundleWorld& w, BundleKind kind, std::string_view file) {
  const std::string server_before = server_state(w), device_before = device_state(w);
  bool ok = false;
  if (kind == BundleKind::device) {
    ok = w.server->import_bundle(file).ok();
  } else {
    ok = ops::import_response(*w.device, file, [] { return fuzz::kWorldNowMs; }).ok();
  }
  if (!ok && (server_state(w) != server_before || device_state(w) != device_before)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  auto& w = world();
  const uint8_t mode = data[0] % 3;
  const BundleKind kind = data[1] & 1 ? BundleKind::response : BundleKind::device;
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::string& recipient_box = kind == BundleKind::device ? w.server_id.box.pub : w.device_id.box_pub;
  const std::string& signer = kind == BundleKind::device ? w.device_id.sign_priv : w.server_id.sign.priv;
  switch (mode) {
    case 0: import(w, kind, rest); break;
    case 1: {
      // The file around the given contents, as seal_bundle lays it out.
      ByteWriter f;
      f.raw(kBundleMagic);
      f.u8(kBundleFormatVersion);
      f.u8(static_cast<uint8_t>(kind));
      f.raw(recipient_box);
      f.str(crypto::seal_to(recipient_box, rest, kind == BundleKind::device ? kBundleSealContext : kResponseSealContext));
      import(w, kind, f.data());
      break;
    }
    case 2: {
      auto plain = read_plain(rest, w);
      if (!plain) return 0;
      if (kind == BundleKind::response) {
        // A response's audit head is signed by the server: sign the fuzzed one so the reader goes on.
        if (auto h = decode_response_header(plain->header); h.ok()) {
          ResponseHeader rh = h.value();
          rh.head.signature = crypto::ed25519_sign(signer, audit_head_signature_input(rh.head.seq, rh.head.hash));
          plain->header = encode(rh);
        }
      }
      const std::string file = seal_bundle(kind, recipient_box, signer, plain->header, plain->parts);
      const std::string& my_priv = kind == BundleKind::device ? w.server_id.box.priv : w.device_id.box_priv;
      auto opened = open_bundle(file, kind, recipient_box, my_priv);
      // A genuine bundle opens to what it was sealed with (the default limits hold every input here).
      if (!opened.ok() || opened.value().header != plain->header || opened.value().parts != plain->parts ||
          !verify_bundle_signature(opened.value(), kind == BundleKind::device ? w.device_id.sign_pub : w.server_id.sign.pub))
        std::abort();
      import(w, kind, file);
      break;
    }
  }
  return 0;
}
