// IDX files (the MNIST format, http://yann.lecun.com/exdb/mnist/), plain or gzip-compressed: MNIST,
// Fashion-MNIST and KMNIST ship as train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
// t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].
// Layout: magic 00 00 <type> <ndims>, ndims big-endian uint32 sizes, then the data (type 0x08 = uint8).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/file_io.h"

namespace mg::data {

enum class IdxKind { Mnist, FashionMnist, Kmnist };

// An IDX array of unsigned bytes.
struct IdxArray {
  std::vector<int64_t> dims;
  Bytes values;  // product(dims) bytes, row-major
};

// Decodes one IDX array held in memory (already inflated); `name` appears in every message.
IdxArray parse_idx(const uint8_t* data, size_t size, const std::string& name);

// Reads an IDX file, inflating it first when it is gzip-compressed.
IdxArray read_idx(const std::string& path);

// Joins an N×H×W image array and an N label array into a one-channel Dataset; labels must be < classes.size().
Dataset idx_dataset(const IdxArray& images, const IdxArray& labels, const std::string& images_name,
                    const std::string& labels_name, IdxKind kind);

std::vector<std::string> idx_classes(IdxKind kind);

// `dir`/name, or `dir`/name.gz when only that exists; throws naming both when neither does.
std::string find_plain_or_gz(const std::string& dir, const std::string& name);

// Reads the train (train-*) and test (t10k-*) splits from `dir`.
Splits load_idx(const std::string& dir, IdxKind kind);

}  // namespace mg::data
