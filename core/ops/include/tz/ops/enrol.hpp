// The device side of enrolment (SPEC §6; docs/sync-protocol.md "Identity and enrolment"): make the
// device's Ed25519 and X25519 keys, the EnrolRequest for a token (the data key sealed to the server
// for escrow), and open the server's signed, sealed grant. No I/O: the caller sends the frame (HTTP
// POST /api/v1/enrol) and stores the keys and the grant (DeviceStore::set_identity, rekey).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "tz/crypto/keys.hpp"
#include "tz/store/device_store.hpp"
#include "tz/sync/protocol.hpp"

namespace tz::ops {

struct DeviceKeys {
  crypto::KeyPair sign;  // Ed25519: request signatures
  crypto::KeyPair box;   // X25519: the grant is sealed to it
};

struct EnrolStart {
  std::string request_frame;  // the EnrolRequest; send it again as is if the reply was lost
  DeviceId device;            // the device it enrols
  DeviceKeys keys;
  sync::TokenInfo token;      // carries the server keys the device pins
};

// data_key: the store's raw data key, sealed to the token's server box key for escrow ("" sends no
// escrow; enrol_store passes DeviceStore::escrow_data_key()). invalid_input for a token string that
// does not decode.
Result<EnrolStart> begin_enrol(const DeviceStore& store, std::string_view token_string, std::string_view data_key);

// Opens the reply to request: an ErrorReply becomes its error (sync_refused with the server's
// message, or unknown_device / device_revoked); a reply not signed by the token's server key, for
// another device, or whose grant does not open is sync_refused naming that.
Result<sync::EnrolGrant> finish_enrol(const EnrolStart& start, std::string_view reply_frame);

// The whole enrolment of a store (field-cli enroll): checks the token's county against the store's,
// sends the request through `send` (HTTP POST /api/v1/enrol; the same bytes again after a lost
// reply), opens the grant, then re-keys a store that never synced to the county secret with its roster
// jobs keyed for the county's period year (SPEC §6: a store used before enrolment gets the county's
// ids before its first push), applies the received configuration (period, region tree), adds the
// token's collectors and stores the identity (keys, the server's address and pinned keys, the scope). A store that already synced keeps its ids (it is
// re-enrolling with the county it synced with). Each write is its own transaction; the identity is
// written last, so a store is enrolled only once everything else is in place.
struct EnrolOutcome {
  sync::EnrolGrant grant;
  size_t rekeyed = 0;           // entity ids that changed
  bool period_changed = false;  // the county's period replaced the store's
};
Result<EnrolOutcome> enrol_store(DeviceStore& store, std::string_view token_string, const std::string& server_url,
                                 const std::function<Result<std::string>(std::string_view)>& send);

// Enrolment from a token file (`field-cli enroll --token-file FILE`, SPEC §6): no network. The file
// opens with the enrolment code the admin was given (sync::read_token_file) and is refused after its
// expiry (now_ms, the device's clock) or for another county; then the store is enrolled as by
// enrol_store, with no server address, and keeps its EnrolRequest as DeviceIdentity::registration
// for its bundles to carry until a response bundle confirms it.
Result<EnrolOutcome> enrol_from_token_file(DeviceStore& store, std::string_view file, std::string_view code, int64_t now_ms);

// Wraps request frames in SignedRequests (DeviceSyncOptions::signer).
struct RequestSigner {
  DeviceId device;
  std::string sign_priv;  // Ed25519 raw private key
  // The server's pinned Ed25519 key: when set, the audit head signed into every reply must verify
  // (a reply whose head does not is refused); the highest head seen is kept (kAuditHeadConfig).
  std::string server_sign_pub;
};

// The sync_config key under which a device keeps the highest audit head it has seen (its version is
// the head's sequence, its value the head as write_audit_head writes it).
inline constexpr std::string_view kAuditHeadConfig = "audit_head";

}  // namespace tz::ops
