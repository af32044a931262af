#include "nn/models/wide_resnet.h"

#include "autograd/functions.h"
#include "core/error.h"
#include "nn/init.h"

namespace mg::nn {
namespace {

// A bias-free convolution initialised as WideResNet's constructor re-initialises every Conv2d.
std::shared_ptr<Conv2d> wrn_conv(int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t padding, Generator& gen) {
  auto conv = std::make_shared<Conv2d>(cin, cout, k, gen, stride, padding, false);
  conv->weight.mutable_data() = init::kaiming_normal_fan_out(conv->weight.shape(), gen);
  return conv;
}

constexpr uint64_t kDropoutPurpose = 0x6d672d7772646fULL;  // "mg-wrdo"

}  // namespace

WideBasic::WideBasic(int64_t in_planes, int64_t planes, int64_t stride, Generator& gen, double drop_rate,
                     uint64_t dropout_seed, uint64_t dropout_stream) {
  MG_CHECK(drop_rate >= 0.0 && drop_rate < 1.0, "WideBasic: drop_rate ", drop_rate, " is outside [0, 1)");
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(in_planes));
  conv1 = register_module("conv1", wrn_conv(in_planes, planes, 3, stride, 1, gen));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", wrn_conv(planes, planes, 3, 1, 1, gen));
  if (in_planes != planes || stride != 1) shortcut = register_module("shortcut", wrn_conv(in_planes, planes, 1, stride, 0, gen));
  if (drop_rate > 0) dropout = register_module("dropout", std::make_shared<Dropout>(drop_rate, dropout_seed, dropout_stream));
}

Variable WideBasic::forward(const Variable& x) {
  const Variable o = bn1->forward_relu(x);
  const Variable short_path = shortcut ? (*shortcut)(o) : x;
  Variable y = bn2->forward_relu((*conv1)(o));
  if (dropout) y = (*dropout)(y);
  return (*conv2)(y) + short_path;
}

WideResNet::WideResNet(int64_t depth, int64_t widen, Generator& gen, int64_t num_classes, int64_t in_channels,
                       double drop_rate, uint64_t dropout_seed) {
  MG_CHECK(depth >= 10 && (depth - 4) % 6 == 0, "WideResNet: depth must be 6n + 4 with n >= 1, got ", depth);
  MG_CHECK(widen >= 1, "WideResNet: widen must be >= 1, got ", widen);
  const int64_t n = (depth - 4) / 6;
  const int64_t widths[4] = {16, 16 * widen, 32 * widen, 64 * widen};
  conv1 = register_module("conv1", wrn_conv(in_channels, widths[0], 3, 1, 1, gen));
  uint64_t block_index = 0;
  // One group: n blocks, the first changing cin -> cout with `stride`.
  auto group = [&](int64_t cin, int64_t cout, int64_t stride) {
    auto g = std::make_shared<Sequential>();
    for (int64_t i = 0; i < n; ++i)
      g->emplace<WideBasic>(i == 0 ? cin : cout, cout, i == 0 ? stride : 1, gen, drop_rate, dropout_seed,
                            stream_id(kDropoutPurpose, block_index++));
    return g;
  };
  block1 = register_module("block1", group(widths[0], widths[1], 1));
  block2 = register_module("block2", group(widths[1], widths[2], 2));
  block3 = register_module("block3", group(widths[2], widths[3], 2));
  bn = register_module("bn", std::make_shared<BatchNorm2d>(widths[3]));
  fc = register_module("fc", std::make_shared<Linear>(widths[3], num_classes, gen));
  fc->bias.mutable_data() = Tensor::zeros({num_classes});
}

Variable WideResNet::forward(const Variable& x) {
  const Variable y = bn->forward_relu((*block3)((*block2)((*block1)((*conv1)(x)))));
  return (*fc)(mean(y, {2, 3}));
}

}  // namespace mg::nn
