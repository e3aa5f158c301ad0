// Writes the seeds of fuzz_bundle (fuzz/corpus/bundle) from real bundles: the world's device exports
// a bundle (ops::export_bundle), the world's server imports it and answers (SyncServer::import_bundle),
// the device imports the answer, twice over. Each real file is written in the harness's three modes
// (fuzz_bundle.cpp): the whole file, its sealed contents, and its header and part bodies with this
// world's device id and epochs replaced by the placeholders of bundle_world.hpp. Run again when the
// bundle format or the protocol changes:
//   build/ci/fuzz/fuzz_make_bundle_seeds fuzz/corpus/bundle
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "bundle_world.hpp"
#include "seed_file.hpp"
#include "tz/ops/bundle.hpp"
#include "tz/sync/bundle.hpp"
#include "tz/util/bytes.hpp"

namespace {

using namespace tz;
using namespace tz::sync;

void write(const std::filesystem::path& dir, const std::string& name, uint8_t mode, BundleKind kind, const std::string& bytes) {
  fuzz::write_seed(dir, name, mode, kind == BundleKind::response ? 1 : 0, bytes);
}

void seeds(const fuzz::BundleWorld& w, const std::filesystem::path& dir, const std::string& name, BundleKind kind,
           const std::string& file) {
  const std::string& pub = kind == BundleKind::device ? w.server_id.box.pub : w.device_id.box_pub;
  const std::string& priv = kind == BundleKind::device ? w.server_id.box.priv : w.device_id.box_priv;
  OpenedBundle b = fuzz::must(open_bundle(file, kind, pub, priv), "open a real bundle");
  write(dir, name + ".file", 0, kind, file);
  ByteWriter contents;
  contents.str(b.manifest);
  contents.raw(b.signature);
  contents.varint(b.parts.size());
  for (auto& p : b.parts) contents.str(p);
  write(dir, name + ".contents", 1, kind, contents.data());
  ByteWriter plain;
  std::string header = b.header;
  for (auto& [placeholder, real] : w.substitutions()) fuzz::replace_all(header, real, placeholder);
  plain.str(header);
  plain.varint(b.parts.size());
  for (auto& p : b.parts) {
    Frame f = fuzz::must(open_frame(p), "open a real part");
    for (auto& [placeholder, real] : w.substitutions()) fuzz::replace_all(f.body, real, placeholder);
    plain.u8(static_cast<uint8_t>(f.type));
    plain.str(f.body);
  }
  write(dir, name + ".parts", 2, kind, plain.data());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_bundle_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  auto w = fuzz::make_bundle_world(TZ_SOURCE_DIR);
  auto now = [] { return fuzz::kWorldNowMs; };
  for (int round = 1; round <= 2; ++round) {
    const std::string n = std::to_string(round);
    auto exported = fuzz::must(ops::export_bundle(*w->device, now), "export a bundle");
    auto answered = fuzz::must(w->server->import_bundle(exported.file), "import it at the server");
    seeds(*w, dir, "device-" + n, BundleKind::device, exported.file);
    seeds(*w, dir, "response-" + n, BundleKind::response, answered.response);
    fuzz::must(ops::import_response(*w->device, answered.response, now), "import the response on the device");
  }
  std::filesystem::remove_all(w->dir);
  std::printf("bundle seeds written to %s\n", dir.c_str());
  return 0;
}
