// SmallCNN (models.py): conv3x3(in->32), conv3x3(32->32), maxpool2, conv3x3(32->64), conv3x3(64->64),
// maxpool2, flatten, linear(4096->256), linear(256->classes), ReLU after each conv/linear but the last;
// with bn, a BatchNorm2d between each conv and its ReLU. Input (N, in, H, W): 32×32 as in models.py, or
// another size, whose first linear layer then takes 64 · (H/4) · (W/4) features (28×28 Fashion-MNIST: 3136).
#pragma once
#include "core/rng.h"
#include "nn/layers.h"

namespace mg::nn {

class SmallCNN : public Module {
 public:
  SmallCNN(bool bn, Generator& gen, int64_t num_classes = 10, int64_t in_channels = 3, int64_t height = 32,
           int64_t width = 32);
  // classifier(features(x)).
  Variable forward(const Variable& x) override;
  std::shared_ptr<Sequential> features, classifier;
};

}  // namespace mg::nn
