// PreAct ResNet-18 (models.py; facebookresearch/mixup-cifar10's ResNet18): conv3x3(in->64), bn1, relu,
// four stages of two PreActBlocks (64, 128/2, 256/2, 512/2), avg_pool2d(4), flatten, linear(512->classes).
#pragma once
#include "core/rng.h"
#include "nn/layers.h"

namespace mg::nn {

// out = relu(bn1(x)); shortcut = shortcut(out) (identity when empty); conv2(relu(bn2(conv1(out)))) + shortcut.
// shortcut holds a 1x1 strided conv ("shortcut.0") when stride != 1 or in_planes != planes.
class PreActBlock : public Module {
 public:
  PreActBlock(int64_t in_planes, int64_t planes, int64_t stride, Generator& gen);
  Variable forward(const Variable& x) override;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<Sequential> shortcut;
};

class PreActResNet : public Module {
 public:
  PreActResNet(const std::vector<int64_t>& num_blocks, Generator& gen, int64_t num_classes = 10,
               int64_t in_channels = 3);
  // linear(flatten(avg_pool2d(layer4..1(relu(bn1(conv1(x)))), 4))).
  Variable forward(const Variable& x) override;
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<Linear> linear;
};

}  // namespace mg::nn
