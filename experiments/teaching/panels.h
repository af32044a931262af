// Teaching pictures: rows of image panels with captions, written as one PNG.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mg::experiments {

struct Panel {
  Tensor image;                        // (C, H, W), values in [0, 1]; C = 1 or 3
  std::vector<std::string> caption;    // lines under the image
};

// Draws each row of panels left to right, images upscaled by `scale`, a title line on top.
void write_panels(const std::string& path, const std::string& title, const std::vector<std::vector<Panel>>& rows,
                  int64_t scale = 4);

}  // namespace mg::experiments
