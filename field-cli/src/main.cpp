// field-cli entry point: everything else lives in the tz_cli library.
#include <iostream>

#include "tz/cli/cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tz::cli::run(args, std::cin, std::cout, std::cerr);
}
