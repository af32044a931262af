// Adversarial attacks in [0, 1] pixel space (normalisation belongs inside the classifier):
//   FGSM (L∞):  x_adv = clip[0,1](x + ε sign(∇ₓ L(f(x), y)))
//   FGM (L2):   x_adv = clip[0,1](x + ε ∇ₓL / ‖∇ₓL‖₂), per sample
//   PGD (L∞):   from x (or a uniform random start in the ε-ball), `steps` sign steps of size `step_size`,
//               each followed by projection onto the ε-ball around x and onto [0, 1]
// Targeted variants step down the loss of the target label instead of up the loss of the true one.
// L is the mean cross-entropy. Put the model in eval mode first: the attack only reads its gradient.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"

namespace mg::nn {
class Module;
}

namespace mg::experiments {

// Maps pixel-space images (N, C, H, W) to logits (N, K).
using Classifier = std::function<Variable(const Variable& pixels)>;

// Images in the model's dtype (a differentiable cast; gradients come back in the images' own dtype). The one
// place pixel batches (f32 from the loaders) meet a model that may be f64: training, evaluation, attacks and
// normalized() all go through it.
Variable in_model_dtype(const Variable& pixels, const nn::Module& model);

// model((x - mean) / std) with per-channel mean and std; x is first cast to the model's dtype.
Classifier normalized(nn::Module& model, const std::vector<double>& mean, const std::vector<double>& std);

enum class AttackKind { FGSM, FGM_L2, PGD };
AttackKind parse_attack(const std::string& name);  // "fgsm", "fgm-l2", "pgd"; else mg::Error
const char* attack_name(AttackKind kind);

struct AttackSpec {
  AttackKind kind = AttackKind::FGSM;
  double eps = 8.0 / 255.0;  // pixel units
  int steps = 10;            // PGD only
  double step_size = 0.0;    // PGD only; 0 means 2.5 ε / steps (Madry et al.)
  bool random_start = true;  // PGD only
  bool targeted = false;     // labels are then the targets
};

// The adversarial images for clean images x in [0, 1] and labels (true labels, or targets if targeted).
// gen is used only for PGD's random start.
Tensor attack(const Classifier& f, const Tensor& x, const std::vector<int64_t>& labels, const AttackSpec& spec,
              Generator& gen);

// ∇ₓ of the mean cross-entropy of f(x) against labels (parameters' .grad untouched).
Tensor input_gradient(const Classifier& f, const Tensor& x, const std::vector<int64_t>& labels);

}  // namespace mg::experiments
