// mixgrad: one executable, one subcommand per task. Run `mixgrad --help` for the list.
#include <cstdio>
#include <exception>
#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "experiments/cli/commands.h"
#include "experiments/stop_signals.h"

int main(int argc, char** argv) {
  mg::use_fast_blas_core(argv);  // OpenBLAS's AVX-512 kernels where the environment forces slower ones
  CLI::App app{"mixgrad: a C++ deep-learning framework for CPUs, with mixup and FGSM (Zhang et al., ICLR 2021)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mixgrad 0.1");
  // A repeated option takes its last value, as with argparse (so scripts can append overrides).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  mg::cli::register_demo(app);
  mg::cli::register_gradcheck(app);
  mg::cli::register_train(app);
  mg::cli::register_eval(app);
  mg::cli::register_analyze(app);
  mg::cli::register_reproduce(app);
  mg::cli::register_show_mixup(app);
  mg::cli::register_show_fgsm(app);
  mg::cli::register_data(app);
  mg::cli::register_bench_loader(app);
  mg::cli::register_audit(app);
  mg::cli::register_bench(app);
  // CLI11 reports a mistyped subcommand as "a subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "mixgrad: unknown subcommand '%s'\nsubcommands: %s\nRun 'mixgrad --help' for usage.\n",
                   argv[1], names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const mg::cli::ExitStatus& e) {
    return e.code;
  } catch (const mg::experiments::Interrupted& e) {  // stopped by SIGINT/SIGTERM after writing a checkpoint
    return e.exit_status();
  } catch (const mg::Error& e) {
    std::fprintf(stderr, "mixgrad: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mixgrad: unexpected error: %s\n", e.what());
    return 1;
  }
  return 0;
}
