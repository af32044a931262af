#include "nn/models/preact_resnet.h"

#include "autograd/functions.h"
#include "nn/functional.h"

namespace mg::nn {

PreActBlock::PreActBlock(int64_t in_planes, int64_t planes, int64_t stride, Generator& gen) {
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(in_planes));
  conv1 = register_module("conv1", std::make_shared<Conv2d>(in_planes, planes, 3, gen, stride, 1, false));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", std::make_shared<Conv2d>(planes, planes, 3, gen, 1, 1, false));
  shortcut = register_module("shortcut", std::make_shared<Sequential>());
  if (stride != 1 || in_planes != planes) shortcut->emplace<Conv2d>(in_planes, planes, 1, gen, stride, 0, false);
}

Variable PreActBlock::forward(const Variable& x) {
  const Variable out = bn1->forward_relu(x);
  const Variable short_path = (*shortcut)(out);
  const Variable y = (*conv2)(bn2->forward_relu((*conv1)(out)));
  return y + short_path;
}

PreActResNet::PreActResNet(const std::vector<int64_t>& num_blocks, Generator& gen, int64_t num_classes,
                           int64_t in_channels) {
  MG_CHECK(num_blocks.size() == 4, "PreActResNet: expected 4 stage sizes, got ", num_blocks.size());
  conv1 = register_module("conv1", std::make_shared<Conv2d>(in_channels, 64, 3, gen, 1, 1, false));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(64));
  int64_t in_planes = 64;
  // Builds one stage: a block with `stride` then blocks with stride 1, all with `planes` outputs.
  auto make_layer = [&](int64_t planes, int64_t blocks, int64_t stride) {
    auto layer = std::make_shared<Sequential>();
    for (int64_t i = 0; i < blocks; ++i) {
      layer->emplace<PreActBlock>(in_planes, planes, i == 0 ? stride : 1, gen);
      in_planes = planes;
    }
    return layer;
  };
  layer1 = register_module("layer1", make_layer(64, num_blocks[0], 1));
  layer2 = register_module("layer2", make_layer(128, num_blocks[1], 2));
  layer3 = register_module("layer3", make_layer(256, num_blocks[2], 2));
  layer4 = register_module("layer4", make_layer(512, num_blocks[3], 2));
  linear = register_module("linear", std::make_shared<Linear>(512, num_classes, gen));
}

Variable PreActResNet::forward(const Variable& x) {
  Variable out = bn1->forward_relu((*conv1)(x));
  out = (*layer4)((*layer3)((*layer2)((*layer1)(out))));
  out = avg_pool2d(out, 4, 4);
  return (*linear)(flatten(out, 1));
}

}  // namespace mg::nn
