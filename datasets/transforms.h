// Transforms with torchvision semantics, for uint8 C×H×W images:
//   RandomCrop(H×W, padding=pad): zero-pad every side by `pad`, then take an H×W window at a uniform offset;
//   RandomHorizontalFlip(p=0.5); ToTensor (v / 255 as float32); Normalize(mean, std): (x - mean[c]) / std[c].
// Randomness for a sample comes only from Generator(seed, stream_id(kAugmentPurpose, epoch, sample_index)),
// so an image gets the same crop and flip whichever thread builds its batch.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "datasets/dataset.h"

namespace mg::data {

constexpr uint64_t kAugmentPurpose = 0x6d672d6175676d00ull;  // "mg-augm"

struct Augment {
  int64_t pad = 0;    // random crop with this much zero padding on each side; 0 = no crop
  bool flip = false;  // random horizontal flip with probability 0.5
};

// The random choices for one sample: the crop window's top-left corner in the padded image, and the flip.
struct AugmentDraw {
  int64_t dy = 0, dx = 0;  // in [0, 2 * pad]; dy = dx = pad is the uncropped image
  bool flip = false;
};

// Draws the crop offset (y, then x, each uniform in [0, 2*pad]) and then the flip (uniform() < 0.5).
AugmentDraw draw_augment(const Augment& aug, uint64_t seed, int64_t epoch, int64_t sample_index);

// Per-channel table of (float(v) / 255 - mean[c]) / std[c] for v in 0..255: ToTensor then Normalize, in float32.
struct NormalizeTable {
  int64_t channels = 0;
  std::vector<float> values;  // channels × 256
  const float* channel(int64_t c) const { return values.data() + c * 256; }
};
NormalizeTable make_normalize_table(const std::vector<float>& mean, const std::vector<float>& std);

// Writes one normalised C×H×W float image: src padded by `pad`, cropped at (d.dy, d.dx), flipped if d.flip.
// Padding pixels are 0 before normalisation, as in torchvision.
void augment_normalize(const uint8_t* src, int64_t C, int64_t H, int64_t W, int64_t pad, const AugmentDraw& d,
                       const NormalizeTable& table, float* out);

// The same steps one at a time, on tensors, for teaching and tests (slow; the loader uses augment_normalize).
Tensor to_float_tensor(const Dataset& ds, int64_t index);                    // C×H×W in [0, 1]
Tensor pad_crop(const Tensor& img, int64_t pad, int64_t dy, int64_t dx);      // zero pad, then H×W window
Tensor hflip(const Tensor& img);                                              // reverse the last axis
Tensor normalize(const Tensor& img, const std::vector<float>& mean, const std::vector<float>& std);

}  // namespace mg::data
