#include "nn/models/registry.h"

#include "nn/models/preact_resnet.h"
#include "nn/models/smallcnn.h"
#include "nn/models/wide_resnet.h"

namespace mg::nn {

std::vector<std::string> model_names() { return {"smallcnn", "smallcnn-bn", "preact-resnet18", "wrn-16-8", "wrn-28-10"}; }

std::shared_ptr<Module> make_model(const std::string& name, uint64_t seed, int64_t num_classes,
                                   int64_t in_channels, int64_t height, int64_t width) {
  MG_CHECK(num_classes > 0 && in_channels > 0, "make_model: num_classes (", num_classes, ") and in_channels (",
           in_channels, ") must be positive");
  Generator gen(seed);
  if (name == "smallcnn") return std::make_shared<SmallCNN>(false, gen, num_classes, in_channels, height, width);
  if (name == "smallcnn-bn") return std::make_shared<SmallCNN>(true, gen, num_classes, in_channels, height, width);
  if (name == "preact-resnet18")
    return std::make_shared<PreActResNet>(std::vector<int64_t>{2, 2, 2, 2}, gen, num_classes, in_channels);
  if (name == "wrn-16-8") return std::make_shared<WideResNet>(16, 8, gen, num_classes, in_channels);
  if (name == "wrn-28-10") return std::make_shared<WideResNet>(28, 10, gen, num_classes, in_channels);
  std::string known;
  for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  MG_FAIL("unknown model '", name, "' (known models: ", known, ")");
}

}  // namespace mg::nn
