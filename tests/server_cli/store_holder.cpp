// Holds a server store's write transaction open until told to let go: the test that admin commands
// wait (SQLite busy timeout) while another process — `serve`, later — writes. Prints "holding: ",
// waits for a line on stdin, then commits.
#include <iostream>
#include <string>

#include "tz/sync/server_store.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto store = tz::sync::open_sqlite_server_store(argv[1]);
  if (!store) return 1;
  (*store)->begin();
  std::cout << "holding: " << std::flush;
  std::string line;
  std::getline(std::cin, line);
  (*store)->commit(nullptr, nullptr);
  std::cout << "released\n";
  return 0;
}
