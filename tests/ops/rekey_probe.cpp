// Runs ops::rekey_store in a process of its own, so that the crash test can kill it at
// device.rekey.before_commit (TAIZHANG_CRASH_AT).   rekey_probe DIR SECRET
#include <iostream>

#include "store_fixture.hpp"
#include "tz/ops/rekey.hpp"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  auto s = tz::open_device_store(argv[1], "correct horse", tz::test::resources().schema);
  if (!s) return 3;
  auto r = tz::ops::rekey_store(**s, argv[2]);
  if (!r.ok()) {
    std::cerr << r.error().message(tz::Lang::en) << "\n";
    return 1;
  }
  return 0;
}
