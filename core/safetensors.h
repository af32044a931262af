// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON
// header {name: {"dtype", "shape", "data_offsets": [begin, end]}, optional "__metadata__": {str: str}}, then the
// raw little-endian bytes of every tensor. mixgrad reads and writes F32, F64 and I64 (I64 holds integer buffers
// such as BatchNorm's num_batches_tracked and integer labels). Reading checks everything a corrupt or truncated
// file could get wrong and throws mg::Error naming the file, the tensor and what was expected.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mg {

// One named tensor of a safetensors file: floating data in `values` (F32 or F64), or integers in `ints` (I64).
struct SafeTensor {
  std::string name;
  Tensor values;              // defined for F32/F64 entries
  std::vector<int64_t> ints;  // I64 entries, row-major
  Shape shape;                // the entry's shape (equal to values.shape() for floating entries)
  bool integer = false;       // true for I64 entries

  static SafeTensor floating(std::string name, Tensor values);
  static SafeTensor int64(std::string name, std::vector<int64_t> ints, Shape shape);

  std::string dtype() const;             // "F32", "F64" or "I64"
  Tensor to_tensor(DType dtype) const;   // the values (integers converted) as a float tensor of `dtype`
};

struct SafeTensorsFile {
  std::string path;
  std::vector<SafeTensor> tensors;  // in the order of their data in the file
  std::map<std::string, std::string> metadata;

  const SafeTensor* find(const std::string& name) const;  // nullptr when absent
  const SafeTensor& at(const std::string& name) const;    // throws naming the file and the tensor when absent
};

// Reads and validates a whole safetensors file. Throws mg::Error on any inconsistency: a file shorter than
// 8 bytes, a header length past the end, invalid JSON, a header that is not an object, duplicate names, an
// unknown dtype, a malformed shape or data_offsets, a byte size that does not match dtype and shape, offsets
// out of range, overlapping, or leaving gaps in the data region.
SafeTensorsFile read_safetensors(const std::string& path);

// Writes tensors (in the given order, contiguous, the header padded with spaces to a multiple of 8 bytes)
// atomically (core/atomic_file.h): on failure `path` is left untouched.
void write_safetensors(const std::string& path, const std::vector<SafeTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace mg
