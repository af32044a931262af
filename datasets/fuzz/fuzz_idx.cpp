// libFuzzer target: arbitrary bytes as an (uncompressed) IDX file, then as images or labels of a dataset.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "datasets/idx.h"
#include "fuzz_idx_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    mg::data::fuzz::use_idx(mg::data::parse_idx(data, size, "fuzz-idx3-ubyte"));
  } catch (const mg::Error&) {
  }
  return 0;
}
