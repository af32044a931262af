#include "datasets/grid.h"

#include <stb_image_write.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace mg::data {

namespace {

std::string printable(const std::string& text) {
  std::string s = text;
  for (char& ch : s)
    if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) ch = '?';
  return s;
}

void fill_rect(Canvas& c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const uint8_t color[3]) {
  x0 = std::max<int64_t>(x0, 0), y0 = std::max<int64_t>(y0, 0);
  x1 = std::min(x1, c.width), y1 = std::min(y1, c.height);
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) std::copy(color, color + 3, &c.rgb[(y * c.width + x) * 3]);
}

}  // namespace

int64_t text_width(const std::string& text, int64_t scale) {
  std::string s = printable(text);
  return stb_easy_font_width(s.data()) * scale;
}

void draw_text(Canvas& canvas, int64_t x, int64_t y, const std::string& text, int64_t scale, const uint8_t color[3]) {
  std::string s = printable(text);
  // stb_easy_font emits axis-aligned quads (4 vertices of x, y, z floats and 4 colour bytes); fill each one.
  std::vector<char> buffer(s.size() * 64 * 40 + 64);
  const int quads = stb_easy_font_print(0, 0, s.data(), nullptr, buffer.data(), static_cast<int>(buffer.size()));
  for (int q = 0; q < quads; ++q) {
    float xs[4], ys[4];
    for (int v = 0; v < 4; ++v) {
      const float* p = reinterpret_cast<const float*>(buffer.data() + (q * 4 + v) * 16);
      xs[v] = p[0];
      ys[v] = p[1];
    }
    const auto [xmin, xmax] = std::minmax_element(xs, xs + 4);
    const auto [ymin, ymax] = std::minmax_element(ys, ys + 4);
    fill_rect(canvas, x + std::lround(*xmin * scale), y + std::lround(*ymin * scale), x + std::lround(*xmax * scale),
              y + std::lround(*ymax * scale), color);
  }
}

Canvas image_grid(const Dataset& ds, int64_t count, int64_t columns, int64_t scale) {
  const int64_t n = std::min(count, ds.size());
  MG_CHECK(n > 0, ds.name, ": no images to put in a grid");
  MG_CHECK(columns > 0, "image grid: columns must be positive, got ", columns);
  if (scale <= 0) scale = std::max<int64_t>(1, 96 / std::max(ds.height, ds.width));
  const int64_t text_scale = 2, pad = 10, text_h = 10 * text_scale;
  int64_t label_w = 0;
  for (int64_t i = 0; i < n; ++i) label_w = std::max(label_w, text_width(ds.classes.at(ds.labels[i]), text_scale));
  const int64_t img_w = ds.width * scale, img_h = ds.height * scale;
  const int64_t cell_w = std::max(img_w, label_w) + 2 * pad, cell_h = img_h + text_h + 2 * pad;
  const int64_t cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  Canvas c;
  c.width = cols * cell_w;
  c.height = rows * cell_h;
  c.rgb.assign(static_cast<size_t>(c.width * c.height * 3), 255);
  const uint8_t black[3] = {0, 0, 0};
  const int64_t HW = ds.height * ds.width;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t cx = (i % cols) * cell_w, cy = (i / cols) * cell_h;
    const int64_t ox = cx + (cell_w - img_w) / 2, oy = cy + pad;
    const uint8_t* img = ds.image(i);
    for (int64_t y = 0; y < img_h; ++y)
      for (int64_t x = 0; x < img_w; ++x) {
        const int64_t p = (y / scale) * ds.width + x / scale;
        uint8_t* dst = &c.rgb[((oy + y) * c.width + ox + x) * 3];
        for (int64_t k = 0; k < 3; ++k) dst[k] = img[(ds.channels == 1 ? 0 : k) * HW + p];
      }
    const std::string& label = ds.classes.at(ds.labels[i]);
    draw_text(c, cx + (cell_w - text_width(label, text_scale)) / 2, oy + img_h + 4, label, text_scale, black);
  }
  return c;
}

void write_image_grid(const Dataset& ds, const std::string& path, int64_t count, int64_t columns) {
  const Canvas c = image_grid(ds, count, columns);
  std::string png;
  auto append = [](void* out, void* data, int bytes) {
    static_cast<std::string*>(out)->append(static_cast<char*>(data), static_cast<std::size_t>(bytes));
  };
  const int ok = stbi_write_png_to_func(append, &png, static_cast<int>(c.width), static_cast<int>(c.height), 3,
                                        c.rgb.data(), static_cast<int>(c.width * 3));
  MG_CHECK(ok != 0, "cannot encode image grid ", path, " (", c.width, "x", c.height, " PNG)");
  write_file_atomic(path, png);
}

}  // namespace mg::data
