// libFuzzer target for a checkpoint's metadata (its safetensors "__metadata__", a JSON object of strings) as
// `--resume` reads it: position, config and history, then the config's validation. Any input must be read or
// refused with mg::Error, never crash. The safetensors container around it has its own target
// (core/fuzz/fuzz_safetensors.cpp); the checksum is not fuzzed, as a random input never matches one.
#include <cstdint>
#include <map>
#include <string>

#include "core/error.h"
#include "experiments/checkpoint_metadata.h"
#include "experiments/train.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return 0;
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : j.items())
    if (value.is_string()) metadata[key] = value.get<std::string>();
  try {
    const mg::experiments::CheckpointPosition p = mg::experiments::parse_checkpoint_metadata("fuzz.safetensors", metadata);
    mg::experiments::TrainConfig::from_json(p.config).validate();
  } catch (const mg::Error&) {
  }
  return 0;
}
