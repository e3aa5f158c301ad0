// The device side of offline bundles (SPEC §7; docs/sync-protocol.md "Offline bundles"): export the
// unacknowledged changes, the pull cursor and (for a device enrolled from a token file) its
// registration, signed over a SHA-256 manifest and sealed to the county server; import the server's
// response — its push replies and pull pages applied by DeviceSync's own code, as a network sync
// applies them. No I/O: the caller reads and writes the files.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "tz/ops/device_sync.hpp"
#include "tz/store/device_store.hpp"

namespace tz::ops {

// The sync_config key whose version is the number of the newest response bundle applied.
inline constexpr std::string_view kBundleResponseConfig = "bundle_response";
// The last exported bundle that carried audit notes: version = its number, value = the time the
// newest of them was recorded (its response drops them).
inline constexpr std::string_view kBundleAuditNotesConfig = "bundle_audit_notes";

struct BundleExport {
  std::string file;
  uint64_t number = 0;           // the bundle's number (the device's request counter)
  uint64_t changes = 0;          // changes carried
  uint64_t first_seq = 0, last_seq = 0;
  bool registration = false;     // carries the token-file registration
  uint64_t cursor = 0;           // the pull cursor it asks from
};
// Every unacknowledged change, in consecutive runs of at most options.push_batch. Spends one request
// counter (stored first). not_enrolled-style invalid_input when the store has no identity.
Result<BundleExport> export_bundle(DeviceStore& store, std::function<int64_t()> now, DeviceSyncOptions options = {});

struct BundleImportReport {
  bool already = false;          // this response (or a newer one) was imported before: nothing changed
  bool registered = false;       // the server bound this device's token-file registration
  uint64_t applied = 0, conflicts = 0, quarantined = 0, duplicates = 0, restamped = 0;
  uint64_t acked_seq = 0;        // after the import
  bool acks_skipped = false;     // its acknowledgements were older than what this device knows
  bool rolled_back = false;      // the server refused a rolled-back store: renumbered; export again
  uint64_t highest_seq_held = 0;
  uint64_t pulled_records = 0, pages = 0;
  bool pages_skipped = false;    // its stream starts elsewhere than this device's cursor: export again
  bool more = false;             // the server has more (or must send again from cursor 0): export again
  bool period_changed = false;
  uint64_t audit_head_seq = 0;
};
// Refused (invalid_input / sync_refused, bilingual) with nothing applied: not a response bundle,
// another format version, for another device, cut short, altered, not signed by the pinned server
// key, a part that does not decode.
Result<BundleImportReport> import_response(DeviceStore& store, std::string_view file, std::function<int64_t()> now,
                                           DeviceSyncOptions options = {});

}  // namespace tz::ops
