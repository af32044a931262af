// libFuzzer target for a run's config.json as `--resume` and `eval` read it back: any byte string must parse
// and validate, or throw (mg::Error, or nlohmann's parse error for text that is not JSON), never crash. A
// config that validates must also survive a to_json/from_json round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "experiments/train.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    const mg::experiments::TrainConfig c = mg::experiments::TrainConfig::from_json(j);
    c.validate();
    if (mg::experiments::TrainConfig::from_json(c.to_json()).to_json() != c.to_json()) std::abort();
  } catch (const mg::Error&) {
  }
  return 0;
}
