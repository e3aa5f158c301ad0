// Writes one seed of a fuzz target whose first two bytes select what the harness does with the rest
// (fuzz_wire.cpp, fuzz_bundle.cpp): the seed makers' one writer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace tz::fuzz {

inline void write_seed(const std::filesystem::path& dir, const std::string& name, uint8_t byte0, uint8_t byte1,
                       const std::string& rest) {
  std::string out;
  out += static_cast<char>(byte0);
  out += static_cast<char>(byte1);
  out += rest;
  std::ofstream(dir / name, std::ios::binary) << out;
}

}  // namespace tz::fuzz
