// Binary forms of the server store's rows (private to the sync layer): an entity's merge state, a
// held change, a device record. Devices and collectors are interned per blob, as in the device store.
#pragma once

#include <string>
#include <string_view>

#include "tz/sync/server_store.hpp"

namespace tz::sync::codec {

std::string encode_state(const EntityState& s);
// Throws Failure(store_corrupt) on malformed bytes.
EntityState decode_state(std::string_view bytes);

std::string encode_change(const StoredChange& c);
StoredChange decode_change(std::string_view bytes);

std::string encode_device(const DeviceRecord& d);
DeviceRecord decode_device(std::string_view bytes);

std::string encode_strings(const std::vector<std::string>& v);  // "a,b,c"
std::vector<std::string> decode_strings(std::string_view s);

}  // namespace tz::sync::codec
