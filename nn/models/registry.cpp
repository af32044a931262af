#include "nn/models/registry.h"

#include "nn/models/preact_resnet.h"
#include "nn/models/smallcnn.h"
#include "nn/models/wide_resnet.h"

namespace mg::nn {

std::vector<std::string> model_names() { return {"smallcnn", "smallcnn-bn", "preact-resnet18", "wrn-16-8", "wrn-28-10"}; }

std::shared_ptr<Module> make_model(const std::string& name, uint64_t seed, int64_t num_classes,
                                   int64_t in_channels, int64_t height, int64_t width, double dropout) {
  MG_CHECK(num_classes > 0 && in_channels > 0, "make_model: num_classes (", num_classes, ") and in_channels (",
           in_channels, ") must be positive");
  const bool wide = name == "wrn-16-8" || name == "wrn-28-10";
  MG_CHECK(dropout >= 0.0 && dropout < 1.0, "make_model: dropout ", dropout, " is outside [0, 1)");
  MG_CHECK(dropout == 0.0 || wide, "make_model: dropout ", dropout, " given for ", name,
           ", which has no dropout layers; dropout applies to wrn-16-8 and wrn-28-10");
  Generator gen(seed);
  if (name == "smallcnn") return std::make_shared<SmallCNN>(false, gen, num_classes, in_channels, height, width);
  if (name == "smallcnn-bn") return std::make_shared<SmallCNN>(true, gen, num_classes, in_channels, height, width);
  if (name == "preact-resnet18")
    return std::make_shared<PreActResNet>(std::vector<int64_t>{2, 2, 2, 2}, gen, num_classes, in_channels);
  if (name == "wrn-16-8") return std::make_shared<WideResNet>(16, 8, gen, num_classes, in_channels, dropout, seed);
  if (name == "wrn-28-10") return std::make_shared<WideResNet>(28, 10, gen, num_classes, in_channels, dropout, seed);
  std::string known;
  for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  MG_FAIL("unknown model '", name, "' (known models: ", known, ")");
}

}  // namespace mg::nn
