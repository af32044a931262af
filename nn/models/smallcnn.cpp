#include "nn/models/smallcnn.h"

#include "core/error.h"

namespace mg::nn {

SmallCNN::SmallCNN(bool bn, Generator& gen, int64_t num_classes, int64_t in_channels, int64_t height, int64_t width) {
  MG_CHECK(height >= 4 && width >= 4, "SmallCNN: input images must be at least 4×4, got ", height, "×", width);
  features = register_module("features", std::make_shared<Sequential>());
  // Appends conv3x3(cin -> cout, padding 1), the optional BatchNorm2d, and a ReLU.
  auto block = [&](int64_t cin, int64_t cout) {
    features->emplace<Conv2d>(cin, cout, 3, gen, 1, 1, true);
    if (bn) features->emplace<BatchNorm2d>(cout);
    features->emplace<ReLU>();
  };
  block(in_channels, 32);
  block(32, 32);
  features->emplace<MaxPool2d>(2);
  block(32, 64);
  block(64, 64);
  features->emplace<MaxPool2d>(2);

  classifier = register_module("classifier", std::make_shared<Sequential>());
  classifier->emplace<Flatten>();
  classifier->emplace<Linear>(64 * (height / 4) * (width / 4), 256, gen);
  classifier->emplace<ReLU>();
  classifier->emplace<Linear>(256, num_classes, gen);
}

Variable SmallCNN::forward(const Variable& x) { return (*classifier)((*features)(x)); }

}  // namespace mg::nn
