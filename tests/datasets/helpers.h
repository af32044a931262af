// Helpers for the dataset tests: a temporary directory, synthetic CIFAR/IDX/gzip files, and error capture.
#pragma once
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/file_io.h"
#include "tests/temp_dir.h"

namespace mg::data::test {

using mg::test::TempDir;

// The synthetic pixel value of byte k of image i (distinct across images and positions).
inline uint8_t pixel(int64_t i, int64_t k) { return static_cast<uint8_t>((i * 37 + k * 11 + (k >> 8)) & 0xFF); }

// `n` CIFAR records with labels label_of(i) (and coarse label 0 for CIFAR-100), pixels pixel(first + i, k).
inline Bytes cifar_records(int64_t first, int64_t n, bool cifar100, const std::function<int(int64_t)>& label_of) {
  Bytes b;
  for (int64_t i = 0; i < n; ++i) {
    if (cifar100) b.push_back(static_cast<uint8_t>(label_of(first + i) % 20));
    b.push_back(static_cast<uint8_t>(label_of(first + i)));
    for (int64_t k = 0; k < 3072; ++k) b.push_back(pixel(first + i, k));
  }
  return b;
}

inline void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

// An IDX ubyte file: magic 00 00 08 ndims, big-endian dims, values.
inline Bytes idx_file(const std::vector<uint32_t>& dims, const Bytes& values) {
  Bytes b = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) put_be32(b, d);
  b.insert(b.end(), values.begin(), values.end());
  return b;
}

// gzip-compressed bytes (zlib deflate with a gzip wrapper).
inline Bytes gzip(const Bytes& raw) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, raw.size()) + 64);
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// The message of the mg::Error that fn throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace mg::data::test
