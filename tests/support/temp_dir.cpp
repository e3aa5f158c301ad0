// Temporary folders and file helpers for tests.
#include "temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace tz::test {

TempDir::TempDir() : TempDir(std::filesystem::temp_directory_path(), "tz-test") {}

TempDir::TempDir(const std::filesystem::path& base, const std::string& prefix) {
  std::string tmpl = (base / (prefix + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path tmpfs_dir() {
  std::filesystem::path shm = "/dev/shm";
  std::error_code ec;
  if (std::filesystem::is_directory(shm, ec) && access(shm.c_str(), W_OK) == 0) return shm;
  return std::filesystem::temp_directory_path();
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::filesystem::path source_dir() { return TZ_SOURCE_DIR; }

std::map<std::string, std::string> schema_files() {
  std::map<std::string, std::string> files;
  for (auto& entry : std::filesystem::directory_iterator(source_dir() / "schemas"))
    if (entry.is_regular_file() && entry.path().extension() == ".json")
      files[entry.path().filename().string()] = read_file(entry.path());
  return files;
}

}  // namespace tz::test
