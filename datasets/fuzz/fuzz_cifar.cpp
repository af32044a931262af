// libFuzzer target: arbitrary bytes as a CIFAR-10 and as a CIFAR-100 binary file. Only mg::Error may escape
// the parser; sanitizers catch everything else.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "datasets/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (auto kind : {mg::data::CifarKind::Cifar10, mg::data::CifarKind::Cifar100}) {
    try {
      const mg::data::Dataset ds = mg::data::parse_cifar(data, size, kind, "fuzz.bin");
      mg::data::validate(ds);
      (void)mg::data::class_counts(ds);
    } catch (const mg::Error&) {
    }
  }
  return 0;
}
