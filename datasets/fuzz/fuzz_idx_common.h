// Shared by the IDX fuzz targets: turns a parsed IDX array into a dataset the way the loader does.
#pragma once
#include "core/error.h"
#include "datasets/dataset.h"
#include "datasets/idx.h"

namespace mg::data::fuzz {

// Uses `a` as the images (3 dims) or the labels (1 dim) of a Fashion-MNIST-like dataset.
inline void use_idx(const IdxArray& a) {
  if (a.dims.size() == 3 && a.dims[1] > 0 && a.dims[2] > 0) {  // then dims[0] <= a.values.size()
    const IdxArray labels{{a.dims[0]}, Bytes(static_cast<size_t>(a.dims[0]), a.values.empty() ? 0 : a.values[0] % 11)};
    validate(idx_dataset(a, labels, "images", "labels", IdxKind::FashionMnist));
  } else if (a.dims.size() == 1) {
    const IdxArray images{{a.dims[0], 1, 1}, Bytes(a.values.size(), 0)};
    validate(idx_dataset(images, a, "images", "labels", IdxKind::Mnist));
  } else {
    (void)idx_dataset(a, a, "images", "labels", IdxKind::Kmnist);
  }
}

}  // namespace mg::data::fuzz
