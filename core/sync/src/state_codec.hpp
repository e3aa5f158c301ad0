// Binary forms of the server store's rows (private to the sync layer): an entity's merge state, a
// held change, a device record. Devices and collectors are interned per blob, as in the device store.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "tz/sync/server_store.hpp"

namespace tz::sync::codec {

std::string encode_state(const EntityState& s);
// Throws Failure(store_corrupt) on malformed bytes.
EntityState decode_state(std::string_view bytes);

std::string encode_change(const StoredChange& c);
StoredChange decode_change(std::string_view bytes);

// A block of applied changes of one device with consecutive sequences (decision 83): each change
// says only what differs from the one before it (its entity when another, its collector, receipt
// time, schema version when they change) and its times as differences. decode_block also reads the
// older layout (each change's encode_change, length-prefixed). Changes must be of `device`, with
// sequences first, first + 1, ...
// Encodes the first changes of `changes` until the encoding reaches `fill` bytes (all of them if it
// never does): at least one change; `taken` says how many. The store cuts its rows so, with a fill
// that makes each row fill whole pages (decision 150).
std::string encode_block(std::span<const StoredChange> changes, size_t fill, size_t& taken);
std::vector<StoredChange> decode_block(std::string_view bytes, const DeviceId& device, uint64_t first, uint64_t last);

std::string encode_device(const DeviceRecord& d);
DeviceRecord decode_device(std::string_view bytes);

std::string encode_strings(const std::vector<std::string>& v);  // "a,b,c"
std::vector<std::string> decode_strings(std::string_view s);

}  // namespace tz::sync::codec
