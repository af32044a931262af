// Writes a tiny CIFAR-10-format dataset (data_batch_1..5.bin, test_batch.bin) whose class is visible in the
// image (a bright square whose position depends on the label), so short training runs learn something.
#pragma once
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/rng.h"

namespace mg::test {

inline void write_synthetic_cifar(const std::filesystem::path& dir, int per_file, int test_count, uint64_t seed = 1) {
  std::filesystem::create_directories(dir);
  Generator gen(seed, 99);
  auto write = [&](const std::string& name, int count) {
    std::ofstream out(dir / name, std::ios::binary);
    for (int i = 0; i < count; ++i) {
      const uint8_t label = static_cast<uint8_t>(gen.below(10));
      std::vector<uint8_t> record(3073);
      record[0] = label;
      for (int p = 1; p < 3073; ++p) record[p] = static_cast<uint8_t>(gen.below(96));
      const int top = 4 + 2 * (label / 5) * 8, left = 2 + (label % 5) * 6;
      for (int c = 0; c < 3; ++c)
        for (int y = top; y < top + 8; ++y)
          for (int x = left; x < left + 5; ++x) record[1 + c * 1024 + y * 32 + x] = static_cast<uint8_t>(160 + 30 * c);
      out.write(reinterpret_cast<const char*>(record.data()), record.size());
    }
  };
  for (int b = 1; b <= 5; ++b) write("data_batch_" + std::to_string(b) + ".bin", per_file);
  write("test_batch.bin", test_count);
  std::ofstream meta(dir / "batches.meta.txt");
  for (const char* c : {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"})
    meta << c << "\n";
}

}  // namespace mg::test
