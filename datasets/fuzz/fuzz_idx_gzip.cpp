// libFuzzer target: arbitrary bytes as a gzip-compressed IDX file (inflate, then parse).
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "datasets/file_io.h"
#include "datasets/idx.h"
#include "fuzz_idx_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const mg::data::Bytes raw = mg::data::gunzip(data, size, "fuzz.gz", size_t(1) << 24);
    mg::data::fuzz::use_idx(mg::data::parse_idx(raw.data(), raw.size(), "fuzz.gz (inflated)"));
  } catch (const mg::Error&) {
  }
  return 0;
}
