// The reproduce presets. smoke: minutes, to try the pipeline; cpu: the paper's claims on CIFAR-10 in a CPU
// afternoon; fashion: the same on Fashion-MNIST (the paper's appendix repeats its experiments on other
// datasets) in under an hour; budget: ERM vs mixup at 4, 8, 16, 32 epochs of the cpu recipe, in about 90 minutes;
// paper: the paper's recipe (PreAct ResNet-18, 200 epochs), for big machines.
#include <algorithm>

#include "core/error.h"
#include "experiments/reproduce.h"

namespace mg::experiments {

std::vector<std::string> preset_names() { return {"smoke", "cpu", "fashion", "svhn", "paper", "budget"}; }

void set_budgets(Preset& p, const std::vector<int64_t>& budgets) {
  MG_CHECK(p.name == "budget", "--budgets applies to --preset budget only, not to '", p.name, "'");
  MG_CHECK(!budgets.empty(), "--budgets needs at least one number of epochs");
  std::vector<int64_t> sorted = budgets;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    MG_CHECK(sorted[i] > 0 && (i == 0 || sorted[i] != sorted[i - 1]),
             "--budgets must be distinct positive numbers of epochs, got ", sorted[i]);
  p.budgets = sorted;
  p.train.epochs = sorted.back();  // unused: every run has its budget's length
  std::string lengths;
  for (size_t i = 0; i < sorted.size(); ++i)
    lengths += (i == 0 ? "" : i + 1 == sorted.size() ? " and " : ", ") + std::to_string(sorted[i]);
  p.description =
      "when does mixup start to win? smallcnn-bn on all 50,000 CIFAR-10 training images, ERM and mixup (α = 1) "
      "trained for " + lengths + (sorted.size() == 1 && sorted[0] == 1 ? " epoch" : " epochs") +
      ", each a full one-cycle schedule of that length (max lr 0.05, pct_start 0.25), batch 128, SGD nesterov 0.9, "
      "weight decay 5e-4, crop + flip";
}

Preset preset(const std::string& name) {
  Preset p;
  p.name = name;
  TrainConfig& t = p.train;
  t.dataset = "cifar10";
  if (name == "smoke") {
    t.model = "smallcnn-bn";
    t.epochs = 3;
    t.batch_size = 128;
    t.lr = 0.05;
    t.schedule = "onecycle";
    t.pct_start = 0.25;
    t.train_subset = 2560;
    p.seeds = 1;
    p.analyze_samples = 32;
    p.draws = 4;
    p.description = "smallcnn-bn on the first 2,560 training images, 3 epochs, one seed: a few minutes on 2 cores";
  } else if (name == "cpu" || name == "fashion" || name == "budget") {
    t.model = "smallcnn-bn";
    t.epochs = 15;
    t.batch_size = 128;
    t.lr = 0.05;
    t.momentum = 0.9;
    t.nesterov = true;
    t.weight_decay = 5e-4;
    t.schedule = "onecycle";
    t.pct_start = 0.25;
    t.eval_train_subset = 10000;
    p.seeds = 3;
    p.analyze_samples = 128;
    p.draws = 8;
    p.description =
        "smallcnn-bn on all 50,000 training images, 15 epochs, batch 128, SGD nesterov 0.9, one-cycle lr (max 0.05, "
        "pct_start 0.25), weight decay 5e-4, crop + flip, 3 seeds";
    if (name == "fashion") {  // the cpu recipe on 28×28 grayscale images (smallcnn-bn's first linear layer: 3136 inputs)
      t.dataset = "fashion-mnist";
      t.epochs = 8;
      p.seeds = 2;
      p.description = "smallcnn-bn on all 60,000 Fashion-MNIST training images (28×28 grayscale), " +
                      std::to_string(t.epochs) + " epochs, batch 128, SGD nesterov 0.9, one-cycle lr (max 0.05, "
                      "pct_start 0.25), weight decay 5e-4, crop (padding 4) + flip, " + std::to_string(p.seeds) +
                      (p.seeds == 1 ? " seed" : " seeds");
    }
    if (name == "budget") {  // the cpu recipe at four lengths, each a full one-cycle schedule
      // 4 + 8 + 16 + 32 = 60 epochs per method: about 90 minutes at the cpu preset's measured 0.75 min per epoch
      // (2 cores, evaluation included); 15 epochs, where the cpu preset has mixup behind, lies inside the range.
      p.seeds = 1;
      set_budgets(p, {4, 8, 16, 32});
    }
  } else if (name == "svhn") {
    // The paper's Fig. 1a setting, WRN-16-8 on SVHN, with the WRN paper's SVHN schedule (Zagoruyko & Komodakis
    // 2016: lr 0.01, divided by 10 at epochs 80 and 120 of 160, momentum 0.9, weight decay 5e-4, no
    // augmentation) on the official training split; no dropout, so that mixup is the only regulariser compared.
    t.dataset = "svhn";
    t.model = "wrn-16-8";
    t.epochs = 160;
    t.batch_size = 128;
    t.lr = 0.01;
    t.momentum = 0.9;
    t.nesterov = false;
    t.weight_decay = 5e-4;
    t.schedule = "multistep";
    t.milestones = {80, 120};
    t.gamma = 0.1;
    t.eval_train_subset = 10000;
    p.seeds = 1;
    p.description = "WRN-16-8 on SVHN's 73,257 training images (train_32x32.mat), 160 epochs, batch 128, SGD momentum 0.9, "
                    "lr 0.01 divided by 10 at epochs 80 and 120, weight decay 5e-4, no augmentation, no dropout, one seed "
                    "(the paper's Fig. 1a model and data; the WRN paper's SVHN schedule)";
  } else if (name == "paper") {
    t.model = "preact-resnet18";
    t.epochs = 200;
    t.batch_size = 128;
    t.lr = 0.1;
    t.momentum = 0.9;
    t.nesterov = false;
    t.weight_decay = 1e-4;
    t.schedule = "multistep";
    t.milestones = {100, 150};
    t.gamma = 0.1;
    t.eval_train_subset = 10000;
    p.seeds = 1;
    p.description = "PreAct ResNet-18, 200 epochs, lr 0.1 divided by 10 at epochs 100 and 150, momentum 0.9, "
                    "weight decay 1e-4, batch 128, crop + flip (Zhang et al. 2018 / mixup-cifar10)";
  } else {
    MG_FAIL("unknown preset '", name, "'; expected smoke, cpu, fashion, svhn, paper or budget");
  }
  t.augment = name != "svhn";  // crops and flips do not suit digits
  return p;
}

}  // namespace mg::experiments
