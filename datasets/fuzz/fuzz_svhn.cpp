// libFuzzer target: arbitrary bytes as an SVHN .mat file, through the loader's checks and then matio (which
// reads files only, so the bytes go to a per-process scratch file first). Only mg::Error may escape.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "datasets/svhn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/mixgrad-fuzz-svhn-" + std::to_string(::getpid()) + ".mat";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  const bool written = std::fwrite(data, 1, size, f) == size;
  std::fclose(f);
  if (!written) return 0;
  try {
    const mg::data::Dataset ds = mg::data::load_svhn_file(path, "fuzz");
    (void)mg::data::class_counts(ds);
  } catch (const mg::Error&) {
  }
  return 0;
}
