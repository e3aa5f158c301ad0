#include "tz/sqlite/support.hpp"

#include <sqlite3.h>

namespace tz::sqlite {

std::string blob_of(const SQLite::Column& c) {
  return std::string(static_cast<const char*>(c.getBlob()), static_cast<size_t>(c.getBytes()));
}

void bind_blob(SQLite::Statement& st, int index, std::string_view bytes) {
  st.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

Error error_of(const SQLite::Exception& e) {
  int code = e.getErrorCode() & 0xff;
  if (code == SQLITE_FULL) return Error(ErrorCode::disk_full, {e.what()});
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Error(ErrorCode::store_corrupt, {e.what()});
  return Error(ErrorCode::io_error, {e.what()});
}

}  // namespace tz::sqlite
