// `mixgrad gradcheck [--op NAME] [--json] [--table]`: float64 gradient checks of every differentiable op, as
// a table or as JSON; exit status 1 when any op fails. --table prints docs/ops.md's op table instead.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "autograd/op_cases.h"
#include "core/error.h"
#include "experiments/cli/commands.h"
#include "nn/op_table.h"

namespace mg::cli {
namespace {

struct GradcheckArgs {
  std::string op;
  bool json = false;
  bool table = false;
};

void run_gradcheck(const GradcheckArgs& args) {
  if (args.table) {
    std::printf("%s", op_table_markdown().c_str());
    return;
  }
  std::vector<OpCase> cases = all_op_cases();
  if (!args.op.empty()) {
    std::vector<OpCase> chosen;
    for (OpCase& c : cases)
      if (c.name == args.op || c.name.rfind(args.op + "_", 0) == 0) chosen.push_back(std::move(c));
    if (chosen.empty()) {
      std::string names;
      for (const OpCase& c : cases) names += (names.empty() ? "" : ", ") + c.name;
      MG_FAIL("gradcheck: unknown op '", args.op, "'; known ops: ", names);
    }
    cases = std::move(chosen);
  }
  nlohmann::json report = nlohmann::json::array();
  int failed = 0;
  if (!args.json) std::printf("%-28s %-5s %12s %12s %8s %8s  %s\n", "op", "dtype", "max_abs_err", "max_rel_err", "checked", "skipped", "result");
  for (const OpCase& c : cases) {
    const GradcheckResult r = run_case(c);
    failed += r.passed ? 0 : 1;
    if (args.json) {
      report.push_back({{"op", r.op}, {"dtype", "f64"}, {"max_abs_err", r.max_abs_err},
                        {"max_rel_err", r.max_rel_err}, {"checked", r.checked}, {"skipped", r.skipped},
                        {"passed", r.passed}});
    } else {
      std::printf("%-28s %-5s %12.3e %12.3e %8lld %8lld  %s%s\n", r.op.c_str(), "f64", r.max_abs_err, r.max_rel_err,
                  static_cast<long long>(r.checked), static_cast<long long>(r.skipped), r.passed ? "ok" : "FAIL ",
                  r.message.c_str());
    }
  }
  if (args.json) {
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    std::printf("%zu ops checked, %d failed\n", cases.size(), failed);
  }
  if (failed) throw ExitStatus{1};
}

}  // namespace

void register_gradcheck(CLI::App& app) {
  auto args = std::make_shared<GradcheckArgs>();
  CLI::App* cmd = app.add_subcommand("gradcheck", "check every op's gradient against float64 central differences");
  cmd->add_option("--op", args->op, "check only this op (or the ops named OP_*)");
  cmd->add_flag("--json", args->json, "print one JSON array of {op, dtype, max_abs_err, max_rel_err, passed}");
  cmd->add_flag("--table", args->table,
                "print the markdown table of every op's files, gradcheck cases and double-backward support "
                "(docs/ops.md), without checking");
  cmd->callback([args] { run_gradcheck(*args); });
}

}  // namespace mg::cli
