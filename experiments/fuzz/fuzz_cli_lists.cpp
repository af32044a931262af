// libFuzzer target for the CLI's list arguments (experiments/cli/list_args.h): `--eps` and `--milestones`
// given the input as their value. Each must be accepted with values in range, or refused (mg::Error from
// --eps, CLI::ParseError from CLI11), never crash; an accepted value out of range aborts.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "experiments/cli/list_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    for (double eps : mg::cli::parse_eps_list(text))
      if (!std::isfinite(eps) || eps < 0) std::abort();
  } catch (const mg::Error&) {
  }
  std::vector<int64_t> milestones;
  CLI::App app;
  mg::cli::add_milestones_option(app, milestones);
  try {
    app.parse(std::vector<std::string>{text, "--milestones"});  // CLI11 takes the arguments in reverse order
    for (int64_t m : milestones)
      if (m < 0) std::abort();
  } catch (const CLI::ParseError&) {
  }
  return 0;
}
