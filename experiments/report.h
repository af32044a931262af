// report.md and the PNG plots of a reproduce run, from its summary.json. Plots are drawn by matplotlib
// (scripts/plot_reproduce.py, Debian's python3-matplotlib).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace mg::experiments {

// Writes OUT/report.md and OUT/*.png. Throws (after writing report.md) when the plots cannot be drawn.
void write_report(const nlohmann::json& summary, const std::string& out);

}  // namespace mg::experiments
