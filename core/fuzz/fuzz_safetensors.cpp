// libFuzzer target for the safetensors reader: any byte string must either read or throw mg::Error, never
// crash, hang or read out of bounds. Build: see the comment at the end of this file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/fuzz_safetensors_" + std::to_string(::getpid()) + ".safetensors";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const mg::SafeTensorsFile file = mg::read_safetensors(path);
    for (const mg::SafeTensor& t : file.tensors)
      if (!t.integer) (void)t.values.to_vector();
  } catch (const mg::Error&) {
  }
  return 0;
}

// clang++-14 -std=c++20 -g -O1 -I. -fsanitize=fuzzer,address,undefined core/fuzz/fuzz_safetensors.cpp \
//   core/safetensors.cpp core/tensor.cpp core/shape.cpp core/storage.cpp <whatever else core/tensor.cpp needs> \
//   -ltbb -lopenblas -o build-fuzz/fuzz_safetensors && build-fuzz/fuzz_safetensors -max_total_time=60
