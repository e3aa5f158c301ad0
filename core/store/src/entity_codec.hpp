// Binary forms of entity field versions and change-log groups inside the store (private to store).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tz/model/record.hpp"
#include "tz/store/device_store.hpp"

namespace tz::store_codec {

// Encodes the fields of e for which keep(field) holds.
std::string encode_fields(const Entity& e, const std::function<bool(FieldId)>& keep);
// Adds the decoded fields to e (throws Failure(store_corrupt) on malformed input).
void decode_fields(std::string_view bytes, Entity& e);

// A run of consecutive changes by one device: first seq, then each change without its version id.
std::string encode_changes(const std::vector<FieldChange>& changes, size_t begin, size_t end);
void decode_changes(std::string_view bytes, std::vector<FieldChange>& out);

// An entity's merge bookkeeping (superseded ids, deletion bases); callers store nothing when empty.
std::string encode_merge(const MergeExtras& m);
void decode_merge(std::string_view bytes, MergeExtras& out);

}  // namespace tz::store_codec
