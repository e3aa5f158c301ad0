// A fresh temporary folder per test, removed on scope exit.
#pragma once
#include <filesystem>
#include <map>
#include <string>

namespace tz::test {

class TempDir {
 public:
  TempDir();
  // A folder named <prefix>-XXXXXX inside base.
  TempDir(const std::filesystem::path& base, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// /dev/shm when it is a writable folder (tmpfs: stores that commit with synchronous=FULL are fast
// there), else the system's temporary folder.
std::filesystem::path tmpfs_dir();

// Reads a whole file as bytes.
std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& bytes);
// The source tree's folder (schemas/, data/).
std::filesystem::path source_dir();
// Every *.json of the project's schemas/ folder, by file name (what tz::Schema::parse takes).
std::map<std::string, std::string> schema_files();

}  // namespace tz::test
