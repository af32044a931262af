#include "experiments/cli/list_args.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace mg::cli {

std::vector<double> parse_eps_list(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    MG_CHECK(used == item.size() && !item.empty() && std::isfinite(v) && v >= 0, "--eps: '", item, "' in '", text,
             "' is not a finite non-negative number (expected a list like 0,1,2,4,8 in 1/255 units)");
    out.push_back(v);
  }
  MG_CHECK(!out.empty() && text.back() != ',', "--eps: '", text, "' is an empty list or ends in a comma");
  return out;
}

CLI::Option* add_milestones_option(CLI::App& cmd, std::vector<int64_t>& milestones) {
  return cmd.add_option("--milestones", milestones, "multistep: epochs at which lr is multiplied by --gamma")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->check(CLI::NonNegativeNumber);
}

}  // namespace mg::cli
