// sync-server entry point: everything else lives in the tz_server_cli library.
#include <iostream>

#include "tz/server_cli/server_cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tz::server_cli::run(args, std::cout, std::cerr);
}
