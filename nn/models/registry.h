// The model zoo by name: "smallcnn", "smallcnn-bn", "preact-resnet18", "wrn-16-8", "wrn-28-10" (see
// ../shared/reference/models.py).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace mg::nn {

// Builds the named model in f32, in training mode, with weights drawn from Generator(seed), for inputs
// (N, in_channels, height, width); an unknown name throws mg::Error listing the known names.
// dropout: the wide ResNets' dropout between each block's convolutions (0: none; other models refuse > 0).
std::shared_ptr<Module> make_model(const std::string& name, uint64_t seed = 0, int64_t num_classes = 10,
                                   int64_t in_channels = 3, int64_t height = 32, int64_t width = 32,
                                   double dropout = 0.0);

// The names make_model knows, in a fixed order.
std::vector<std::string> model_names();

}  // namespace mg::nn
