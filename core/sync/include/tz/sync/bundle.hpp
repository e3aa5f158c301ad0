// Offline bundles (SPEC §7) and enrolment token files (SPEC §6): the file formats, sealed to their
// recipient's X25519 key and signed over a SHA-256 manifest of their parts (docs/sync-protocol.md
// "Offline bundles"). The parts are the sync protocol's own frames (EnrolRequest, PushRequest,
// PullRequest one way; PushReply and PullPage the other), so a bundle is applied by the same code as
// the network path. Pure functions of their arguments (and the CSPRNG); no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tz/model/ids.hpp"
#include "tz/sync/protocol.hpp"

namespace tz::sync {

inline constexpr std::string_view kBundleMagic = "TZBUNDLE";
inline constexpr uint8_t kBundleFormatVersion = 1;
enum class BundleKind : uint8_t { device = 1, response = 2 };
// Sealing (seal_to) and signing contexts, one per direction.
inline constexpr std::string_view kBundleSealContext = "taizhang/bundle/v1";
inline constexpr std::string_view kResponseSealContext = "taizhang/bundle-response/v1";
inline constexpr std::string_view kBundleSignContext = "taizhang/bundle-manifest/v1";
inline constexpr std::string_view kResponseSignContext = "taizhang/bundle-response-manifest/v1";

// A bundle opened and checked against its manifest (every part's SHA-256), its signature not yet
// checked: the signer's key depends on the header (verify_bundle_signature).
struct OpenedBundle {
  BundleKind kind = BundleKind::device;
  std::string header;     // the kind's header (DeviceBundleHeader / ResponseHeader below)
  std::string manifest;   // what the signature covers
  std::string signature;
  std::vector<std::string> parts;  // protocol frames
};

// file     := magic "TZBUNDLE" u8(format 1) u8(kind) recipient_box_pub[32] varint(len) sealed{len}
// sealed   := seal_to(recipient_box_pub, contents, kBundleSealContext | kResponseSealContext)
// contents := str(manifest) signature[64] varint(n) str(part){n}
// manifest := str(header) varint(n) sha256(part)[32]{n}
// signature:= Ed25519(signer, kBundleSignContext | kResponseSignContext || sha256(manifest))
std::string seal_bundle(BundleKind kind, std::string_view recipient_box_pub, std::string_view sign_priv, std::string header,
                        const std::vector<std::string>& parts);
// Refused with invalid_input, bilingual, naming the file's problem: not a bundle, a format version
// it does not know, the wrong kind, sealed to another key than my_box_pub (another server, another
// device), cut short, altered (the box does not open), a part that does not match the manifest.
Result<OpenedBundle> open_bundle(std::string_view file, BundleKind kind, std::string_view my_box_pub,
                                 std::string_view my_box_priv, const Limits& limits = {});
bool verify_bundle_signature(const OpenedBundle& b, std::string_view signer_pub);

// The device bundle's header.
struct DeviceBundleHeader {
  DeviceId device;
  uint64_t number = 0;           // the device's request counter when it exported (increasing)
  int64_t created_ms = 0;        // device clock; never used to refuse (bundles are never too old)
  uint64_t acked_at_export = 0;  // the device's acknowledged sequence when it exported
};
std::string encode(const DeviceBundleHeader& h);
Result<DeviceBundleHeader> decode_device_bundle_header(std::string_view bytes);

// The response bundle's header: what it answers, the signed audit head, where its pull stream
// starts, and the sequence each push reply part answers up to.
struct ResponseHeader {
  DeviceId device;
  uint64_t number = 0;           // the device bundle's number it answers
  int64_t created_ms = 0;        // server clock
  uint64_t acked_at_export = 0;  // echoed from the device bundle
  bool registered = false;       // the bundle's registration is bound (or was already)
  AuditHead head;
  uint64_t start_cursor = 0;     // the cursor of the bundle's pull request
  std::string epoch_seen;        // its server_epoch_seen
  std::vector<uint64_t> last_sent;  // per push reply part: the last sequence its request carried
};
std::string encode(const ResponseHeader& h);
Result<ResponseHeader> decode_response_header(std::string_view bytes);

// Enrolment token file (token create --out): the token and the grant a device needs to work at once
// with no network, signed by the server and sealed under a key derived (scrypt) from a 12-digit
// enrolment code that the admin hands over apart from the file (decision 101).
// file   := magic "TZTOKEN1" u8(format 1) salt[16] varint(len) sealed{len}
// sealed := AES-256-GCM(scrypt(code, salt, 2^15, 8, 1), str(token) str(grant) signature[64], aad "taizhang/token-file/v1")
// signature := Ed25519(server sign_priv, "taizhang/token-file/v1" || sha256(str(token) str(grant)))
inline constexpr std::string_view kTokenFileMagic = "TZTOKEN1";
inline constexpr std::string_view kTokenFileContext = "taizhang/token-file/v1";
struct TokenFile {
  std::string token;  // the TZ1- token string
  EnrolGrant grant;
};
// code: 12 digits (separators allowed; normalise_enrolment_code).
std::string write_token_file(const TokenFile& t, std::string_view code, std::string_view sign_priv);
// invalid_input (bilingual) for a file that is not a token file, is cut short, does not open with
// the code (wrong code or altered), or is not signed by the server key its token names.
Result<TokenFile> read_token_file(std::string_view file, std::string_view code);
// A new random code, "1234-5678-9012".
std::string new_enrolment_code();
// Digits only ("1234 5678-9012" -> "123456789012").
std::string normalise_enrolment_code(std::string_view code);

// Recovery of a forgotten passphrase (SPEC §6), carried by hand. The device asks with a one-time
// X25519 key (its private half stays beside the store); the server opens the device's escrowed data
// key and seals it to that key, signed.
// request  := magic "TZRECREQ" u8(1) device[16] recovery_pub[32]
// key_file := magic "TZRECKEY" u8(1) device[16] varint(len) sealed{len} signature[64]
//   sealed    := seal_to(recovery_pub, data_key, "taizhang/recover/v1")
//   signature := Ed25519(server sign_priv, "taizhang/recover/v1" || device || sha256(sealed))
inline constexpr std::string_view kRecoverContext = "taizhang/recover/v1";
struct RecoveryRequest {
  DeviceId device;
  std::string recovery_pub;
};
std::string encode(const RecoveryRequest& r);
Result<RecoveryRequest> decode_recovery_request(std::string_view file);
struct RecoveryKeyFile {
  DeviceId device;
  std::string sealed;
  std::string signature;
};
std::string encode(const RecoveryKeyFile& k);
Result<RecoveryKeyFile> decode_recovery_key_file(std::string_view file);
std::string recovery_signature_input(const DeviceId& device, std::string_view sealed);

}  // namespace tz::sync
