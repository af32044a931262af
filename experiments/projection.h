// How long a `reproduce` preset will take on this machine, measured before it starts: a few timed training
// and eval steps of the preset's model (experiments/bench.h) scaled by the preset's amount of work.
#pragma once
#include <cstdint>
#include <string>

#include "datasets/dataset.h"
#include "experiments/reproduce.h"

namespace mg::experiments {

struct Projection {
  double train_images_per_s = 0, eval_images_per_s = 0;  // measured just now, on the current threads
  double seconds = 0;  // every run of the preset: training, per-epoch evaluation and the FGSM sweep
  double epoch_seconds = 0, fgsm_seconds = 0;  // one epoch (training and evaluation), one run's FGSM sweep
  int64_t runs = 0, epochs = 0;                // the runs of the preset and their epochs, all together
};

// splits: the data the preset will use (their sizes and image shape). A budget preset (preset.budgets) runs
// ERM and mixup for each seed at every budget; the others ERM and mixup for each seed at train.epochs.
Projection project_reproduce(const Preset& preset, int64_t seeds, const data::Splits& splits);

// "reproduce: projected time 1 h 30 min for 8 runs, 120 epochs (training ... images/s, ...)" on stderr; with
// ranks > 1 (a distributed sweep, whole runs per rank) also the time when the runs are spread over them.
void print_projection(const Projection& projection, int ranks = 1);

// "3 h 25 min", "12 min", "40 s".
std::string format_duration(double seconds);

}  // namespace mg::experiments
