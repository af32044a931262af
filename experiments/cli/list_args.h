// The CLI's list arguments: `eval --eps 0,1,2,4,8` and `train --milestones 80,120`. Kept apart from their
// subcommands so that datasets/fuzz/fuzz_cli_lists.cpp can fuzz exactly what the CLI runs.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace mg::cli {

// "0,1,2" -> {0, 1, 2}: finite numbers >= 0; anything else throws mg::Error quoting the item and the list.
std::vector<double> parse_eps_list(const std::string& text);

// --milestones as a comma-separated list of epochs >= 0 (CLI11 rejects anything else with the value).
CLI::Option* add_milestones_option(CLI::App& cmd, std::vector<int64_t>& milestones);

}  // namespace mg::cli
