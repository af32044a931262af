// --precision, shared by every subcommand that runs a model (nn/autocast.h says what bf16 changes).
#include "experiments/cli/commands.h"

namespace mg::cli {

CLI::Option* add_precision_option(CLI::App& cmd, std::string& precision, const std::string& help) {
  return cmd.add_option("--precision", precision, help)->check(CLI::IsMember({"f32", "bf16"}));
}

}  // namespace mg::cli
