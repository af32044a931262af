#include "datasets/transforms.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"

namespace mg::data {

AugmentDraw draw_augment(const Augment& aug, uint64_t seed, int64_t epoch, int64_t sample_index) {
  AugmentDraw d{aug.pad, aug.pad, false};
  if (aug.pad == 0 && !aug.flip) return d;
  Generator gen(seed, stream_id(kAugmentPurpose, static_cast<uint64_t>(epoch), static_cast<uint64_t>(sample_index)));
  if (aug.pad > 0) {
    d.dy = static_cast<int64_t>(gen.below(2 * aug.pad + 1));
    d.dx = static_cast<int64_t>(gen.below(2 * aug.pad + 1));
  }
  if (aug.flip) d.flip = gen.uniform() < 0.5;
  return d;
}

NormalizeTable make_normalize_table(const std::vector<float>& mean, const std::vector<float>& std) {
  MG_CHECK(mean.size() == std.size() && !mean.empty(), "normalize: mean has ", mean.size(), " entries and std ",
           std.size(), "; expected one per channel");
  NormalizeTable t;
  t.channels = static_cast<int64_t>(mean.size());
  t.values.resize(mean.size() * 256);
  for (size_t c = 0; c < mean.size(); ++c) {
    MG_CHECK(std[c] > 0.0f, "normalize: std[", c, "] must be positive, got ", std[c]);
    for (int v = 0; v < 256; ++v) t.values[c * 256 + v] = (static_cast<float>(v) / 255.0f - mean[c]) / std[c];
  }
  return t;
}

void augment_normalize(const uint8_t* src, int64_t C, int64_t H, int64_t W, int64_t pad, const AugmentDraw& d,
                       const NormalizeTable& table, float* out) {
  MG_CHECK(table.channels == C, "normalize: ", table.channels, " mean/std entries for ", C, " channels");
  // Output (y, x) reads padded (y + dy, x' + dx) with x' = W-1-x when flipped; padded (py, px) is the source
  // pixel (py - pad, px - pad), or zero outside the image.
  const int64_t oy = d.dy - pad, ox = d.dx - pad;  // source offset of the window
  for (int64_t c = 0; c < C; ++c) {
    const float* lut = table.channel(c);
    const uint8_t* plane = src + c * H * W;
    for (int64_t y = 0; y < H; ++y) {
      float* row = out + (c * H + y) * W;
      const int64_t sy = y + oy;
      if (sy < 0 || sy >= H) {
        std::fill(row, row + W, lut[0]);
        continue;
      }
      const uint8_t* srow = plane + sy * W;
      // Window columns x whose source column sx = x + ox lies inside [0, W): x in [x0, x1).
      const int64_t x0 = std::clamp<int64_t>(-ox, 0, W), x1 = std::clamp<int64_t>(W - ox, x0, W);
      if (!d.flip) {
        std::fill(row, row + x0, lut[0]);
        for (int64_t x = x0; x < x1; ++x) row[x] = lut[srow[x + ox]];
        std::fill(row + x1, row + W, lut[0]);
      } else {  // out[x] = window[W-1-x]
        std::fill(row + W - x0, row + W, lut[0]);
        for (int64_t x = x0; x < x1; ++x) row[W - 1 - x] = lut[srow[x + ox]];
        std::fill(row, row + W - x1, lut[0]);
      }
    }
  }
}

Tensor to_float_tensor(const Dataset& ds, int64_t index) {
  MG_CHECK(index >= 0 && index < ds.size(), ds.name, ": image index ", index, " out of range 0..", ds.size() - 1);
  Tensor t = Tensor::empty({ds.channels, ds.height, ds.width});
  const uint8_t* src = ds.image(index);
  float* dst = t.data<float>();
  for (int64_t k = 0; k < ds.image_bytes(); ++k) dst[k] = static_cast<float>(src[k]) / 255.0f;
  return t;
}

Tensor pad_crop(const Tensor& img, int64_t pad, int64_t dy, int64_t dx) {
  MG_CHECK(img.dim() == 3 && img.dtype() == DType::F32, "pad_crop: expected an f32 C×H×W image, got ", describe(img));
  MG_CHECK(pad >= 0 && dy >= 0 && dy <= 2 * pad && dx >= 0 && dx <= 2 * pad, "pad_crop: offset (", dy, ", ", dx,
           ") outside 0..", 2 * pad, " for padding ", pad);
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2);
  const Tensor src = img.contiguous();
  Tensor out = Tensor::zeros({C, H, W});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int64_t sy = y + dy - pad, sx = x + dx - pad;
        if (sy >= 0 && sy < H && sx >= 0 && sx < W)
          out.data<float>()[(c * H + y) * W + x] = src.data<float>()[(c * H + sy) * W + sx];
      }
  return out;
}

Tensor hflip(const Tensor& img) {
  MG_CHECK(img.dim() == 3 && img.dtype() == DType::F32, "hflip: expected an f32 C×H×W image, got ", describe(img));
  const int64_t C = img.size(0), H = img.size(1), W = img.size(2);
  const Tensor src = img.contiguous();
  Tensor out = Tensor::empty({C, H, W});
  for (int64_t r = 0; r < C * H; ++r)
    for (int64_t x = 0; x < W; ++x) out.data<float>()[r * W + x] = src.data<float>()[r * W + (W - 1 - x)];
  return out;
}

Tensor normalize(const Tensor& img, const std::vector<float>& mean, const std::vector<float>& std) {
  MG_CHECK(img.dim() == 3 && img.dtype() == DType::F32, "normalize: expected an f32 C×H×W image, got ",
           describe(img));
  const int64_t C = img.size(0), HW = img.size(1) * img.size(2);
  MG_CHECK(static_cast<int64_t>(mean.size()) == C && static_cast<int64_t>(std.size()) == C, "normalize: ",
           mean.size(), " means and ", std.size(), " stds for ", C, " channels");
  Tensor out = img.clone();
  float* p = out.data<float>();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t k = 0; k < HW; ++k) p[c * HW + k] = (p[c * HW + k] - mean[c]) / std[c];
  return out;
}

}  // namespace mg::data
