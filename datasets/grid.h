// A contact sheet: the first images of a dataset in a grid, upscaled, each with its class name underneath.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace mg::data {

// An RGB picture, H×W×3 bytes.
struct Canvas {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// Draws `text` (printable ASCII; other bytes become '?') in the stb_easy_font at (x, y), each font pixel
// drawn as scale×scale pixels of `color`.
void draw_text(Canvas& canvas, int64_t x, int64_t y, const std::string& text, int64_t scale, const uint8_t color[3]);

// Width in canvas pixels of `text` drawn at `scale`.
int64_t text_width(const std::string& text, int64_t scale);

// The first min(count, ds.size()) images in rows of `columns`, each upscaled by `scale` (0 = to about 96 pixels).
Canvas image_grid(const Dataset& ds, int64_t count = 32, int64_t columns = 8, int64_t scale = 0);

// image_grid written as a PNG; throws naming the path when it cannot be written.
void write_image_grid(const Dataset& ds, const std::string& path, int64_t count = 32, int64_t columns = 8);

}  // namespace mg::data
