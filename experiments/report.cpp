#include "experiments/report.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiments/run_dir.h"

namespace mg::experiments {
namespace {

std::string pm(const nlohmann::json& s, double scale = 1.0, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f ± %.*f", digits, s["mean"].get<double>() * scale, digits,
                s["std"].get<double>() * scale);
  return buf;
}

// What the test split is: ../shared/data holds only the first 1017 CIFAR-10 test images.
std::string test_set_note(const nlohmann::json& s) {
  const std::string dataset = s["config"]["dataset"];
  if (dataset == "cifar10" && s["data"]["test"].get<int64_t>() < 10000)
    return ". With ../shared/data this is the first 1017 images of the official CIFAR-10 test set, so the accuracies "
           "below are on those 1017 images, not CIFAR-10 test accuracy";
  return " (" + dataset + "'s official test split)";
}

std::string yes_no(bool v) { return v ? "**holds**" : "**does not hold on this run**"; }

std::string num(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

}  // namespace

void write_report(const nlohmann::json& s, const std::string& out) {
  const auto& erm = s["runs"]["erm"];
  const auto& mix = s["runs"]["mixup"];
  const int64_t seeds = static_cast<int64_t>(s["seeds"].size());
  std::ostringstream r;
  r << "# mixup vs ERM — preset `" << s["preset"].get<std::string>() << "`\n\n";
  r << s["description"].get<std::string>() << ".\n\n";
  r << "- Training images: " << s["data"]["train"] << " (train loss and accuracy are measured, clean, on the first "
    << s["data"]["train_eval"] << "). Test images: " << s["data"]["test"]
    << " — the test split read from `" << s["data"]["test_split"].get<std::string>()
    << "`" << test_set_note(s) << ".\n";
  r << "- Seeds: " << seeds << " (values are mean ± sample standard deviation over seeds"
    << (seeds == 1 ? "; one seed, so no spread" : "") << "). ERM and mixup (α = 1) share every other setting.\n";
  if (s["config"].value("precision", "f32") == "bf16")
    r << "- Precision: bf16 mixed precision (`--precision bf16`, as PyTorch's CPU autocast: convolutions and linear "
         "layers on bf16-rounded operands with float32 sums, everything else float32), in training, evaluation and "
         "the FGSM sweep; the approximation (A) is computed in float64.\n";
  r << "- Time: " << num(s["training_seconds"].get<double>() / 60.0, 3) << " minutes of training and per-epoch "
       "evaluation over all runs; this call of reproduce took " << num(s["seconds"].get<double>() / 60.0, 3)
    << " minutes (less than the runs when it reused finished ones with --resume).\n\n";

  r << "## Results\n\n| | ERM | mixup |\n|---|---|---|\n";
  r << "| clean test accuracy (%) | " << pm(erm["clean_acc"], 100) << " | " << pm(mix["clean_acc"], 100) << " |\n";
  r << "| test loss | " << pm(erm["test_loss"], 1, 4) << " | " << pm(mix["test_loss"], 1, 4) << " |\n";
  r << "| train loss (clean, unaugmented) | " << pm(erm["train_loss"], 1, 4) << " | " << pm(mix["train_loss"], 1, 4) << " |\n";
  r << "| loss gap (test − train) | " << pm(erm["gap_loss"], 1, 4) << " | " << pm(mix["gap_loss"], 1, 4) << " |\n";
  r << "| accuracy gap (train − test, %) | " << pm(erm["gap_acc"], 100) << " | " << pm(mix["gap_acc"], 100) << " |\n";
  for (auto it = erm["fgsm_acc"].begin(); it != erm["fgsm_acc"].end(); ++it)
    r << "| FGSM accuracy at ε = " << it.key() << "/255 (%) | " << pm(it.value(), 100) << " | "
      << pm(mix["fgsm_acc"][it.key()], 100) << " |\n";

  r << "\n## The paper's claims on this run\n\n";
  r << "**(G) Generalization** — mixup's loss gap " << pm(mix["gap_loss"], 1, 4) << " vs ERM's "
    << pm(erm["gap_loss"], 1, 4) << ": the claim that mixup narrows the gap " << yes_no(s["claims"]["generalization"])
    << ".\n\n";
  r << "**(R) Robustness** — FGSM accuracy, mixup vs ERM:\n\n";
  for (auto it = s["claims"]["robustness"].begin(); it != s["claims"]["robustness"].end(); ++it)
    r << "- ε = " << it.key() << "/255: " << pm(mix["fgsm_acc"][it.key()], 100) << "% vs "
      << pm(erm["fgsm_acc"][it.key()], 100) << "% — mixup more robust: " << yes_no(it.value().get<bool>()) << "\n";
  r << "\n**(A) Approximation** — on the first seed's final mixup model (" << s["analysis_images"].get<std::string>()
    << "), in float64. `rel_error` compares L_std + R1 + R2 + R3 with L_mix; `rel_error_reg` compares R1 + R2 + R3 "
       "with the regularisation part L_mix − L_std. s shortens every mixing segment (partner r → x + s(r − x)); the "
       "error must fall roughly like s as s → 0 if the terms are computed right, while at s = 1 it is whatever the "
       "loss's curvature along whole segments makes it.\n\n";
  r << "| α | s | L_mix | L_std | R1 | R2 | R3 | rel_error | rel_error_reg |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& row : s["approximation"])
    r << "| " << num(row["alpha"]) << " | " << num(row["scale"]) << " | " << num(row["l_mix"], 6) << " | "
      << num(row["l_std"], 6) << " | " << num(row["r1"]) << " | " << num(row["r2"]) << " | " << num(row["r3"]) << " | "
      << num(row["rel_error"], 3) << " | " << num(row["rel_error_reg"], 3) << " |\n";
  r << "\nThe error against the regularisation part falls at least tenfold from s = 1 to s = "
    << num(s["approximation"].back()["scale"]) << " for every α: "
    << yes_no(s["claims"]["approximation"])
    << ". How to read it: R1 (first order, usually < 0 for a trained model) and R2 (second order, > 0) partly cancel, "
       "so |L_mix − L_std| can be small and rel_error_reg noisy at some s; and a ReLU network is only piecewise "
       "linear, so segments that cross a ReLU kink add an error of the same order as R2 until s is tiny (here "
       "well below 1/16, hence s = 1/100 and 1/1000 in the sweep). That is why the trend on a trained convnet is "
       "rough between s = 1 and 1/16 rather than a clean line; the exact s-trend is proven on "
       "smooth and linear models in tests/experiments/test_approximation.cpp. rel_error_second (in summary.json) "
       "compares (L_mix − L_std − R1) with R2 + R3 alone.\n\n";
  r << "ε_mix (the paper's robustness radius R · c_x · E[1−λ], with ∇ the input gradient of the loss):\n\n";
  for (const auto& e : s["eps_mix"])
    r << "- α = " << num(e["alpha"]) << ": ε_mix = " << num(e["eps_mix"]) << " (R = " << num(e["min_cos"])
      << ", c_x = " << num(e["c_x"]) << ", E[1−λ] = " << num(e["mean_one_minus_lambda"]) << ")\n";
  r << "\n## Plots\n\n![robust accuracy](robust_accuracy.png)\n![gap](gap.png)\n![curves](curves.png)\n"
       "![approximation](approximation.png)\n";
  write_file_atomic((std::filesystem::path(out) / "report.md").string(), r.str());

  draw_plots(out);
}

void draw_plots(const std::string& out) {
  const std::string script = std::string(MIXGRAD_SOURCE_DIR) + "/scripts/plot_reproduce.py";
  const std::string command = "/usr/bin/python3 '" + script + "' '" + out + "'";
  MG_CHECK(std::system(command.c_str()) == 0, "plotting failed: `", command, "` (needs python3-matplotlib; ",
           "summary.json and report.md are written)");
}

}  // namespace mg::experiments
