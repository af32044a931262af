// Image folders (torchvision ImageFolder layout): ROOT/<class name>/<image>.png|.jpg|.jpeg|.bmp, one sub-folder
// per class, classes sorted by name (label = position in that order), images sorted by path within a class.
// Files with other extensions and hidden files are skipped. All images must share one width and height;
// the channel count is 1 when every image is grayscale, else 3 (alpha is dropped).
#pragma once
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace mg::data {

// Reads one image folder. The default normalisation is the folder's own per-channel mean/std. With `like`
// (the training split, when reading a test split) the folder must have like's classes and image size, is
// decoded to like's channel count and takes like's normalisation.
Dataset load_image_folder(const std::string& root, const Dataset* like = nullptr);

// ROOT/train and ROOT/test (or ROOT/val) when ROOT/train exists; otherwise ROOT is the training split. A missing
// test split is returned empty (0 images, the training split's classes, shape and normalisation).
Splits load_image_folder_splits(const std::string& root);

}  // namespace mg::data
