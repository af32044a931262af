// SVHN, cropped digits (http://ufldl.stanford.edu/housenumbers/): train_32x32.mat, test_32x32.mat and the
// optional extra_32x32.mat, MATLAB v5 files read through matio (Debian's libmatio-dev). Each holds
//   X  uint8, 32×32×3×N (MATLAB's column-major order: row, column, channel, image)
//   y  N×1 numeric, whole numbers 1..10, where 10 stands for the digit 0
// and becomes a Dataset of N RGB 32×32 images with labels 0..9 (label = digit).
// The file is checked before matio sees it (a MAT v5 header, a plausible size) and each variable's class,
// shape and byte count before its data is used; every error names the file and what was expected.
#pragma once
#include <string>

#include "datasets/dataset.h"

namespace mg::data {

// The official file names.
inline const char* kSvhnTrainFile = "train_32x32.mat";
inline const char* kSvhnTestFile = "test_32x32.mat";
inline const char* kSvhnExtraFile = "extra_32x32.mat";

// Reads one SVHN .mat file; `name` ("svhn/train") names the split.
Dataset load_svhn_file(const std::string& path, const std::string& name);

// train_32x32.mat (joined with extra_32x32.mat when with_extra) and test_32x32.mat from dir.
Splits load_svhn(const std::string& dir, bool with_extra = false);

}  // namespace mg::data
