// One training step, fully dumped, for checking mixgrad's numbers against PyTorch (`mixgrad audit`): the loss
// (cross-entropy, or the mixup loss), the logits, the gradient of every parameter and of the input, the
// buffers after the forward pass, and optionally the parameters after one SGD step.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/safetensors.h"
#include "nn/module.h"
#include "nn/optim/sgd.h"

namespace mg::audit {

// A batch file's contents: x (N, C, H, W), labels y (N), and for the mixup loss λ and a permutation.
struct AuditBatch {
  Tensor x;
  std::vector<int64_t> y;
  bool mixup = false;
  double lam = 1.0;
  std::vector<int64_t> perm;
};

struct AuditOptions {
  bool eval = false;                   // BatchNorm uses running statistics and leaves them unchanged
  std::optional<nn::SGDOptions> sgd;   // when set, one SGD step from the loaded weights
};

// Reads a batch file: x (floating, (N, in_channels, H, W), converted to dtype), y (I64 (N), each in
// [0, num_classes)), and optionally lam (a scalar in [0, 1]) with perm (I64 (N), a permutation of 0..N-1).
// Anything else throws mg::Error naming the file, the tensor and what was expected.
AuditBatch read_audit_batch(const std::string& path, DType dtype, int64_t num_classes = 10, int64_t in_channels = 3);

// Loads every parameter and buffer of `model` from a weights file (PyTorch state_dict names; values converted
// to the model's dtype). A missing, extra or mis-shaped tensor throws mg::Error naming the file, the tensor
// and both shapes; num_batches_tracked may be absent.
void load_weights(nn::Module& model, const std::string& path);

// Runs one step on `model` and returns the dump: loss, logits, grad.<param>, grad.x, buffer.<buffer> and,
// with options.sgd, param.<param> after the step. x̃ = λx + (1−λ)x[perm] is built from differentiable ops, so
// grad.x is the gradient with respect to the unmixed x.
std::vector<SafeTensor> audit_step(nn::Module& model, const AuditBatch& batch, const AuditOptions& options);

}  // namespace mg::audit
