#include "core/parallel.h"
#include "experiments/cli/commands.h"

namespace mg::cli {

void add_threads_option(CLI::App& cmd, int& threads) {
  cmd.add_option("--threads", threads, "worker threads (0 = all cores; default from MIXGRAD_THREADS)")
      ->check(CLI::NonNegativeNumber);
}

void apply_threads(int threads) {
  init_threading();
  if (threads > 0) set_num_threads(threads);
}

}  // namespace mg::cli
