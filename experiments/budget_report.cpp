// report.md of the budget preset: the measures per budget, which of the paper's claims hold at each, and where
// mixup overtakes ERM (or that it does not within the budgets run).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/atomic_file.h"
#include "experiments/report.h"

namespace mg::experiments {
namespace {

std::string fmt(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A run's mean (× scale), with "± std" when there is more than one seed.
std::string cell(const nlohmann::json& s, double scale, int digits) {
  std::string text = fmt(s["mean"].get<double>() * scale, digits);
  if (s["values"].size() > 1) text += " ± " + fmt(s["std"].get<double>() * scale, digits);
  return text;
}

// "+1.23" / "-0.45": mixup's lead (× scale).
std::string signed_fmt(const nlohmann::json& v, double scale, int digits) {
  const double x = v.get<double>() * scale;
  return (x > 0 ? "+" : x < 0 ? "−" : "±") + fmt(std::abs(x), digits);
}

// "1 epoch", "4 epochs".
std::string epochs(int64_t n) { return std::to_string(n) + (n == 1 ? " epoch" : " epochs"); }

std::string holds(bool v) { return v ? "**holds**" : "**does not hold**"; }

// What the crossover of one measure says, over budgets `b` with mixup winning at `wins`.
std::string crossover_text(const nlohmann::json& from, const std::vector<int64_t>& b, const std::vector<bool>& wins) {
  int n_wins = 0;
  for (bool w : wins) n_wins += w;
  const std::string range = std::to_string(b.front()) + "–" + std::to_string(b.back()) + " epochs";
  if (from.is_null()) {
    if (n_wins == 0) return "mixup is behind at every budget run (" + range + "): no crossover within the budget";
    std::string at;
    for (size_t i = 0; i < b.size(); ++i)
      if (wins[i]) at += (at.empty() ? "" : ", ") + std::to_string(b[i]);
    return "mixup is ahead only at " + at + (n_wins == 1 && at == "1" ? " epoch" : " epochs") +
           " and behind at the longest budget (" + epochs(b.back()) + "): no lasting crossover within the budget";
  }
  const int64_t f = from.get<int64_t>();
  if (f == b.front()) return "mixup is ahead at every budget run (" + range + "): no crossover, it leads throughout";
  int64_t before = b.front();
  for (int64_t e : b)
    if (e < f) before = e;
  return "mixup is ahead from " + epochs(f) + " on (at every budget ≥ " + std::to_string(f) + " run) and not at " +
         epochs(before) + ": the crossover lies between " + std::to_string(before) + " and " + epochs(f);
}

}  // namespace

void write_budget_report(const nlohmann::json& s, const std::string& out) {
  std::ostringstream r;
  const std::vector<int64_t> b = s["budget"].get<std::vector<int64_t>>();
  const auto& erm = s["runs"]["erm"];
  const auto& mix = s["runs"]["mixup"];
  const int64_t test = s["data"]["test"].get<int64_t>();
  const bool cifar_partial = s["config"]["dataset"] == "cifar10" && test < 10000;
  r << "# When does mixup start to win? — preset `" << s["preset"].get<std::string>() << "`\n\n";
  r << s["description"].get<std::string>() << ".\n\n";
  r << "- Training images: " << s["data"]["train"];
  if (s["data"].contains("train_eval"))
    r << " (train loss and accuracy are measured, clean, on the first " << s["data"]["train_eval"] << ")";
  r << ". Test images: " << test << ", read from `" << s["data"]["test_split"].get<std::string>() << "`";
  if (cifar_partial)
    r << " — with ../shared/data this is the first " << test << " images of the official CIFAR-10 test set, so every "
      << "accuracy below is on those " << test << " images, not CIFAR-10 test accuracy";
  r << ".\n";
  const size_t seeds = s["seeds"].size();
  const double se = 100 * std::sqrt(0.85 * 0.15 / static_cast<double>(test));
  r << "- Seeds: " << seeds << (seeds == 1 ? " (one run per method and budget, so no spread is measured; " : " (mean ± sample std; ")
    << "for scale, the binomial standard error of an accuracy near 85% on " << test << " images is " << fmt(se, 1)
    << " points, so a difference of a point or less is within noise).\n";
  r << "- Each budget is a separate run with a full " << s["config"]["schedule"].get<std::string>()
    << " schedule of that length (not a checkpoint of a longer run). ERM and mixup (α = 1) share every other setting.\n";
  r << "- Time: " << fmt(s["training_seconds"].get<double>() / 60.0, 1)
    << " minutes of training and per-epoch evaluation over the runs finished; this call of reproduce took "
    << fmt(s["seconds"].get<double>() / 60.0, 1) << " minutes (less when --resume reused finished runs).\n\n";
  if (!s["complete"].get<bool>()) {
    r << "**Partial result**: these runs have not finished: ";
    for (size_t i = 0; i < s["pending"].size(); ++i) r << (i ? ", " : "") << "`" << s["pending"][i].get<std::string>() << "`";
    r << ". The tables show only the budgets whose runs all finished. Continue with `mixgrad reproduce --preset "
      << s["preset"].get<std::string>() << " --data DIR --out OUT --resume` (finished runs are reused, an unfinished one "
      << "continues from its checkpoint).\n\n";
  }
  if (b.empty()) {
    r << "No budget has finished yet.\n";
    write_file_atomic((std::filesystem::path(out) / "report.md").string(), r.str());
    return;
  }

  r << "## Results per budget\n\n| epochs | clean accuracy (%), ERM | mixup | loss gap (test − train), ERM | mixup | "
       "test loss, ERM | mixup | train loss, ERM | mixup |\n|---|---|---|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < b.size(); ++i)
    r << "| " << b[i] << " | " << cell(erm[i]["clean_acc"], 100, 2) << " | " << cell(mix[i]["clean_acc"], 100, 2) << " | "
      << cell(erm[i]["gap_loss"], 1, 4) << " | " << cell(mix[i]["gap_loss"], 1, 4) << " | " << cell(erm[i]["test_loss"], 1, 4)
      << " | " << cell(mix[i]["test_loss"], 1, 4) << " | " << cell(erm[i]["train_loss"], 1, 4) << " | "
      << cell(mix[i]["train_loss"], 1, 4) << " |\n";
  r << "\nFGSM accuracy (%), ERM / mixup:\n\n| epochs |";
  for (auto it = erm[0]["fgsm_acc"].begin(); it != erm[0]["fgsm_acc"].end(); ++it) r << " ε = " << it.key() << "/255 |";
  r << "\n|---|";
  for (size_t k = 0; k < erm[0]["fgsm_acc"].size(); ++k) r << "---|";
  r << "\n";
  for (size_t i = 0; i < b.size(); ++i) {
    r << "| " << b[i] << " |";
    for (auto it = erm[i]["fgsm_acc"].begin(); it != erm[i]["fgsm_acc"].end(); ++it)
      r << " " << cell(it.value(), 100, 2) << " / " << cell(mix[i]["fgsm_acc"][it.key()], 100, 2) << " |";
    r << "\n";
  }

  r << "\n## The paper's claims at each budget\n\n";
  r << "(G) mixup's loss gap (test − train) is smaller than ERM's; (R) mixup's FGSM accuracy is higher than ERM's; "
       "and, not a claim of the paper but the question of this preset, whether mixup's clean accuracy is higher.\n\n";
  const auto& claims = s["claims"];
  std::vector<bool> clean, gen;
  std::map<std::string, std::vector<bool>> rob;
  for (const auto& row : claims["per_budget"]) {
    const auto& d = row["difference"];
    clean.push_back(row["clean_accuracy"]);
    gen.push_back(row["generalization"]);
    r << "- **" << epochs(row["epochs"].get<int64_t>()) << "**: (G) " << holds(row["generalization"]) << " (mixup's gap − ERM's "
      << signed_fmt(d["gap_loss"], 1, 4) << "); (R) ";
    bool first = true;
    for (auto it = row["robustness"].begin(); it != row["robustness"].end(); ++it) {
      rob[it.key()].push_back(it.value());
      r << (first ? "" : ", ") << "ε = " << it.key() << "/255 " << holds(it.value()) << " ("
        << signed_fmt(d["fgsm_acc"][it.key()], 100, 2) << " points)";
      first = false;
    }
    r << "; clean accuracy: mixup " << (row["clean_accuracy"].get<bool>() ? "higher" : "not higher") << " ("
      << signed_fmt(d["clean_acc"], 100, 2) << " points).\n";
  }
  r << "\n## Crossover\n\nWhere mixup overtakes ERM, per measure (\"ahead\": a higher clean or FGSM accuracy, a smaller "
       "loss gap):\n\n";
  r << "- Clean accuracy: " << crossover_text(claims["crossover"]["clean_accuracy"], b, clean) << ".\n";
  r << "- Loss gap (G): " << crossover_text(claims["crossover"]["generalization"], b, gen) << ".\n";
  for (auto it = claims["crossover"]["robustness"].begin(); it != claims["crossover"]["robustness"].end(); ++it)
    r << "- FGSM accuracy at ε = " << it.key() << "/255 (R): " << crossover_text(it.value(), b, rob[it.key()]) << ".\n";
  r << "\n\"Ahead\" compares single numbers" << (seeds == 1 ? " from one seed" : " (means over seeds)")
    << "; see the standard error above before reading a small lead as a win.\n";

  if (s.contains("approximation")) {
    r << "\n## (A) Approximation\n\nOn the final model of `" << s["analysis_run"].get<std::string>() << "` ("
      << s["analysis_images"].get<std::string>() << "), in float64: rel_error_reg compares R1 + R2 + R3 with "
         "L_mix − L_std (see the cpu preset's report for how to read it).\n\n| α | rel_error_reg at s = 1 | at the smallest s |\n|---|---|---|\n";
    std::map<double, std::pair<double, double>> rows;
    double smallest = 1;
    for (const auto& row : s["approximation"]) smallest = std::min(smallest, row["scale"].get<double>());
    for (const auto& row : s["approximation"]) {
      if (row["scale"].get<double>() == 1.0) rows[row["alpha"]].first = row["rel_error_reg"];
      if (row["scale"].get<double>() == smallest) rows[row["alpha"]].second = row["rel_error_reg"];
    }
    for (const auto& [alpha, v] : rows) {
      char line[160];
      std::snprintf(line, sizeof line, "| %g | %.3g | %.3g (s = %g) |\n", alpha, v.first, v.second, smallest);
      r << line;
    }
    r << "\nThe error falls at least tenfold from s = 1 to the smallest s for every α: "
      << holds(claims["approximation"].get<bool>()) << ".\n";
  } else {
    r << "\n(A) Approximation: not measured yet (it runs after every budget has finished).\n";
  }
  r << "\n## Plots\n\n![budget](budget.png)\n";
  if (s.contains("approximation")) r << "![approximation](approximation.png)\n";
  write_file_atomic((std::filesystem::path(out) / "report.md").string(), r.str());
  draw_plots(out);
}

}  // namespace mg::experiments
