// Loading a dataset by its CLI name from a directory, with one clear error when the directory or a file is
// missing: which files were expected where, and where to download them.
#pragma once
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace mg::data {

// "cifar10", "cifar100", "fashion-mnist", "mnist", "kmnist", "svhn", "image-folder".
const std::vector<std::string>& dataset_names();

// The directory a dataset is read from when no --data is given ("" when there is none):
// Debian's dataset-fashion-mnist package for fashion-mnist.
std::string default_data_dir(const std::string& name);

// Both splits of dataset `name` read from `dir`. CIFAR files may also sit in dir/cifar-10-batches-bin or
// dir/cifar-100-binary (the folders the official archives unpack to). Throws mg::Error naming the missing files,
// the expected layout and the download address when they are not there, and naming the file and the problem
// when a file is malformed.
Splits load_dataset(const std::string& name, const std::string& dir);

}  // namespace mg::data
