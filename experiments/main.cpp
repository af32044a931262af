// mixgrad: one executable, one subcommand per task. Run `mixgrad --help` for the list.
#include <cstdio>
#include <exception>
#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "experiments/cli/commands.h"
#include "experiments/distributed/job.h"
#include "experiments/stop_signals.h"

namespace {

// Runs the subcommand; returns the exit status. Under mpirun a failing rank ends the whole job (abort_job),
// so that no rank waits in a collective for one that has gone.
int run(CLI::App& app, int argc, char** argv) {
  const auto failed = [](int status) {
    if (mg::experiments::job().size() > 1) mg::experiments::abort_job(status);
    return status;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : failed(status);
  } catch (const mg::cli::ExitStatus& e) {
    return e.code == 0 ? 0 : failed(e.code);
  } catch (const mg::experiments::Interrupted& e) {  // stopped by SIGINT/SIGTERM after writing a checkpoint
    return e.exit_status();
  } catch (const mg::Error& e) {
    std::fprintf(stderr, "mixgrad: %serror: %s\n", mg::experiments::rank_prefix().c_str(), e.what());
    return failed(1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mixgrad: %sunexpected error: %s\n", mg::experiments::rank_prefix().c_str(), e.what());
    return failed(1);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mg::use_fast_blas_core(argv);  // OpenBLAS's AVX-512 kernels where the environment forces slower ones (re-execs)
  mg::experiments::start_job(argc, argv);  // MPI, when mpirun started this process: after any re-exec
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
      mg::experiments::end_job();
      return 2;
    }
  }
  const int status = run(app, argc, argv);
  mg::experiments::end_job();
  return status;
}
