#include "experiments/teaching/panels.h"

#include <stb_image_write.h>

#include <algorithm>

#include "core/error.h"
#include "datasets/grid.h"

namespace mg::experiments {

void write_panels(const std::string& path, const std::string& title, const std::vector<std::vector<Panel>>& rows,
                  int64_t scale) {
  MG_CHECK(!rows.empty() && !rows[0].empty(), "write_panels: nothing to draw");
  const int64_t h = rows[0][0].image.size(1) * scale, w = rows[0][0].image.size(2) * scale;
  const int64_t text_scale = 1, line = 12 * text_scale, gap = 8;
  std::size_t lines = 0, columns = 0;
  int64_t caption_width = 0;
  for (const auto& row : rows) {
    columns = std::max(columns, row.size());
    for (const Panel& p : row) {
      lines = std::max(lines, p.caption.size());
      for (const std::string& s : p.caption) caption_width = std::max(caption_width, data::text_width(s, text_scale));
    }
  }
  const int64_t cell_w = std::max(w, caption_width) + gap, cell_h = h + static_cast<int64_t>(lines) * line + gap;
  data::Canvas canvas;
  canvas.width = static_cast<int64_t>(columns) * cell_w + gap;
  canvas.height = 2 * line + static_cast<int64_t>(rows.size()) * cell_h + gap;
  canvas.rgb.assign(canvas.width * canvas.height * 3, 255);
  const uint8_t black[3] = {0, 0, 0}, gray[3] = {70, 70, 70};
  data::draw_text(canvas, gap, gap / 2, title, 1, black);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const Panel& p = rows[r][c];
      const Tensor img = p.image.to(DType::F32).contiguous();
      const int64_t ch = img.size(0), ih = img.size(1), iw = img.size(2);
      const int64_t x0 = gap + static_cast<int64_t>(c) * cell_w, y0 = 2 * line + static_cast<int64_t>(r) * cell_h;
      for (int64_t y = 0; y < ih * scale; ++y)
        for (int64_t x = 0; x < iw * scale; ++x)
          for (int64_t k = 0; k < 3; ++k) {
            const float v = img.data<float>()[(ch == 1 ? 0 : k) * ih * iw + (y / scale) * iw + x / scale];
            canvas.rgb[((y0 + y) * canvas.width + x0 + x) * 3 + k] =
                static_cast<uint8_t>(std::clamp(v, 0.0f, 1.0f) * 255.0f + 0.5f);
          }
      for (std::size_t l = 0; l < p.caption.size(); ++l)
        data::draw_text(canvas, x0, y0 + ih * scale + 3 + static_cast<int64_t>(l) * line, p.caption[l], 1, l ? gray : black);
    }
  }
  MG_CHECK(stbi_write_png(path.c_str(), static_cast<int>(canvas.width), static_cast<int>(canvas.height), 3,
                          canvas.rgb.data(), static_cast<int>(canvas.width * 3)) != 0,
           "cannot write ", path);
}

}  // namespace mg::experiments
