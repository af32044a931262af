// Wide ResNets (Zagoruyko & Komodakis 2016; models.py's WideResNet): WRN-depth-widen, depth = 6n + 4.
// conv3x3(in->16), three groups of n WideBasic blocks (16k, 32k/2, 64k/2 channels, k = widen), bn, relu,
// global average pool, fc(64k->classes). Convolutions start as kaiming_normal_(fan_out, relu), fc.bias as 0,
// fc.weight with Linear's default. wrn-16-8 is the paper's Fig. 1a model (on SVHN).
#pragma once
#include "core/rng.h"
#include "nn/layers.h"

namespace mg::nn {

// Pre-activation wide block: o = relu(bn1(x)); conv2(dropout(relu(bn2(conv1(o))))) + shortcut, where the
// shortcut is x when the shape is kept, else a 1x1 strided conv ("shortcut", no bias, no BN) of o.
class WideBasic : public Module {
 public:
  // With drop_rate > 0 the block's Dropout draws from Generator(dropout_seed, dropout_stream).
  WideBasic(int64_t in_planes, int64_t planes, int64_t stride, Generator& gen, double drop_rate = 0.0,
            uint64_t dropout_seed = 0, uint64_t dropout_stream = 0);
  Variable forward(const Variable& x) override;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Conv2d> conv1, conv2, shortcut;  // shortcut is null when the block keeps the shape
  std::shared_ptr<Dropout> dropout;                 // null when drop_rate is 0; holds no state_dict entries
};

class WideResNet : public Module {
 public:
  // drop_rate: dropout between each block's convolutions in training (0: none, as wrn-16-8 and wrn-28-10);
  // its masks come from dropout_seed, one stream per block, so the weights do not depend on drop_rate.
  WideResNet(int64_t depth, int64_t widen, Generator& gen, int64_t num_classes = 10, int64_t in_channels = 3,
             double drop_rate = 0.0, uint64_t dropout_seed = 0);
  // fc(mean_hw(relu(bn(block3(block2(block1(conv1(x)))))))).
  Variable forward(const Variable& x) override;
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<Sequential> block1, block2, block3;
  std::shared_ptr<BatchNorm2d> bn;
  std::shared_ptr<Linear> fc;
};

}  // namespace mg::nn
