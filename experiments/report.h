// report.md and the PNG plots of a reproduce run, from its summary.json. Plots are drawn by matplotlib
// (scripts/plot_reproduce.py, Debian's python3-matplotlib).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace mg::experiments {

// Writes OUT/report.md and OUT/*.png. Throws (after writing report.md) when the plots cannot be drawn.
void write_report(const nlohmann::json& summary, const std::string& out);

// The budget preset's report.md and plots (budget.png, and approximation.png once the analysis is in), from
// its summary.json (experiments/budget.h); also for a partial summary ("complete": false).
void write_budget_report(const nlohmann::json& summary, const std::string& out);

// Runs scripts/plot_reproduce.py on OUT; throws naming the command when it fails.
void draw_plots(const std::string& out);

}  // namespace mg::experiments
