// Mixed precision as PyTorch's CPU autocast with dtype=torch.bfloat16. Inside an Autocast(Precision::bf16)
// scope, conv2d and linear on float32 tensors take bf16-rounded inputs, weights and biases, accumulate in
// float32 (core/kernels/bf16/) and return bf16-rounded outputs; their gradients come back bf16-rounded, as
// the bf16 results' gradients do under autocast (first-order only). Every other op (BatchNorm, softmax and
// cross-entropy, mixup's arithmetic, the optimizer) and everything on float64 is unchanged. The scope is
// per thread, as autocast's is.
#pragma once
#include <string>

namespace mg::nn {

enum class Precision { f32, bf16 };

// "f32" or "bf16"; anything else is an mg::Error naming the accepted values.
Precision parse_precision(const std::string& name);
const char* name(Precision precision);

// The precision conv2d and linear run in on this thread (f32 outside every Autocast scope).
Precision autocast_precision();

class Autocast {
 public:
  explicit Autocast(Precision precision);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  Precision saved_;
};

}  // namespace mg::nn
