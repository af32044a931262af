// Dataset: a split of an image classification dataset held in memory as uint8 pixels, N×C×H×W contiguous,
// with int64 labels, class names and the per-channel mean/std used to normalise it by default.
// Readers (cifar.h, idx.h, image_folder.h) fill it; transforms.h and loader.h turn it into float batches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mg::data {

struct Dataset {
  std::string name;                  // e.g. "cifar10/train", for messages
  std::vector<std::string> files;    // the files it was read from
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> images;       // size() * channels * height * width bytes, image-major, then C, H, W
  std::vector<int64_t> labels;       // one per image, in [0, classes.size())
  std::vector<std::string> classes;  // class names, indexed by label
  std::vector<float> mean, std;      // default normalisation per channel, for pixels scaled to [0, 1]

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t num_classes() const { return static_cast<int64_t>(classes.size()); }
  int64_t image_bytes() const { return channels * height * width; }
  const uint8_t* image(int64_t i) const { return images.data() + i * image_bytes(); }
  std::vector<int64_t> shape() const { return {channels, height, width}; }
};

// Both splits of a dataset as shipped (the image-folder reader leaves test empty when there is none).
struct Splits {
  Dataset train, test;
};

// Images per class, indexed by label.
std::vector<int64_t> class_counts(const Dataset& ds);

// Throws mg::Error unless pixel and label counts, labels' range and mean/std sizes agree.
void validate(const Dataset& ds);

// Appends b's images and labels to a (same image shape and classes required); used to join CIFAR batches.
void append(Dataset& a, const Dataset& b);

}  // namespace mg::data
