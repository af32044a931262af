// Each `mixgrad` subcommand lives in its own file under experiments/cli and is added to the app here.
// A subcommand's register function sets up its flags and its callback; the callback throws mg::Error on
// bad input, which main() prints and turns into exit status 1.
#pragma once
#include <CLI/CLI.hpp>

namespace mg::cli {

// Thrown by a subcommand that finished but must report failure (e.g. a failed gradient check).
struct ExitStatus {
  int code;
};

void add_threads_option(CLI::App& cmd, int& threads);  // --threads (0 = all cores; env MIXGRAD_THREADS)
void apply_threads(int threads);
// --precision f32|bf16 (anything else is refused with the accepted values).
CLI::Option* add_precision_option(CLI::App& cmd, std::string& precision, const std::string& help);

void register_demo(CLI::App& app);
void register_gradcheck(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_analyze(CLI::App& app);
void register_reproduce(CLI::App& app);
void register_show_mixup(CLI::App& app);
void register_show_fgsm(CLI::App& app);
void register_data(CLI::App& app);
void register_bench_loader(CLI::App& app);
void register_audit(CLI::App& app);
void register_bench(CLI::App& app);

}  // namespace mg::cli
