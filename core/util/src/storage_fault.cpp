// The injected storage fault (storage_fault.hpp).
#include "tz/util/storage_fault.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

namespace tz {

namespace {

std::string control_text(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  std::string t = s.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

}  // namespace

StorageFault storage_fault(size_t bytes) {
  static const char* const kControl = std::getenv("TAIZHANG_STORAGE_FAULT");
  if (!kControl || !*kControl) return StorageFault::none;
  static std::mutex mu;
  static std::string seen;     // the control text the counter belongs to
  static uint64_t written = 0; // bytes written since it was seen
  std::lock_guard<std::mutex> lock(mu);
  const std::string t = control_text(kControl);
  if (t != seen) {
    seen = t;
    written = 0;
  }
  if (t == "readonly") return StorageFault::read_only;
  if (t == "full") return StorageFault::full;
  if (t.rfind("full:", 0) == 0) {
    const uint64_t allowed = std::strtoull(t.c_str() + 5, nullptr, 10);
    if (written + bytes > allowed) return StorageFault::full;
    written += bytes;
  }
  return StorageFault::none;
}

Status check_storage_write(const std::filesystem::path& path, size_t bytes) {
  switch (storage_fault(bytes)) {
    case StorageFault::none: return ok_status();
    case StorageFault::full: return Error(ErrorCode::disk_full, {path.string()});
    case StorageFault::read_only: return Error(ErrorCode::read_only, {path.string()});
  }
  return ok_status();
}

Error storage_write_error(const std::filesystem::path& path) {
  const int err = errno;
  switch (storage_fault()) {
    case StorageFault::full: return Error(ErrorCode::disk_full, {path.string()});
    case StorageFault::read_only: return Error(ErrorCode::read_only, {path.string()});
    case StorageFault::none: break;
  }
  if (err == EROFS) return Error(ErrorCode::read_only, {path.string()});
  if (err == ENOSPC || err == EDQUOT) return Error(ErrorCode::disk_full, {path.string()});
  std::error_code ec;
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  auto space = std::filesystem::space(dir, ec);
  if (!ec && space.available < (uintmax_t{1} << 20)) return Error(ErrorCode::disk_full, {path.string()});
  return Error(ErrorCode::io_error, {path.string()});
}

}  // namespace tz
