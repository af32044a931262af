// mixgrad: one executable, one subcommand per task. Run `mixgrad --help` for the list.
#include <cstdio>
#include <exception>

#include "core/error.h"
#include "experiments/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"mixgrad: a C++ deep-learning framework for CPUs, with mixup and FGSM (Zhang et al., ICLR 2021)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mixgrad 0.1");
  mg::cli::register_demo(app);
  mg::cli::register_gradcheck(app);
  mg::cli::register_data(app);
  mg::cli::register_bench_loader(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const mg::cli::ExitStatus& e) {
    return e.code;
  } catch (const mg::Error& e) {
    std::fprintf(stderr, "mixgrad: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mixgrad: unexpected error: %s\n", e.what());
    return 1;
  }
  return 0;
}
