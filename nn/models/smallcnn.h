// SmallCNN (models.py): conv3x3(in->32), conv3x3(32->32), maxpool2, conv3x3(32->64), conv3x3(64->64),
// maxpool2, flatten, linear(4096->256), linear(256->classes), ReLU after each conv/linear but the last;
// with bn, a BatchNorm2d between each conv and its ReLU. Input (N, in, 32, 32).
#pragma once
#include "core/rng.h"
#include "nn/layers.h"

namespace mg::nn {

class SmallCNN : public Module {
 public:
  SmallCNN(bool bn, Generator& gen, int64_t num_classes = 10, int64_t in_channels = 3);
  // classifier(features(x)).
  Variable forward(const Variable& x) override;
  std::shared_ptr<Sequential> features, classifier;
};

}  // namespace mg::nn
