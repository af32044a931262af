// Writes small valid inputs for each fuzz target (the seed corpora): CIFAR-10/100 records, IDX images and
// labels (plain and gzip), and PNG/BMP/JPEG images. Usage: make_seeds OUT_DIR (creates OUT_DIR/<target>/).
#include <stb_image_write.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/file_io.h"

using mg::data::Bytes;
namespace fs = std::filesystem;

namespace {

Bytes gzip(const Bytes& raw) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
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

Bytes idx(const std::vector<uint32_t>& dims) {
  Bytes b = {0, 0, 8, static_cast<uint8_t>(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i % 10));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* t : {"cifar", "idx", "idx_gzip", "image"}) fs::create_directories(out / t);
  Bytes c10, c100;
  for (int r = 0; r < 2; ++r) {
    c10.push_back(static_cast<uint8_t>(3 + r));
    c100.push_back(static_cast<uint8_t>(7 + r));
    c100.push_back(static_cast<uint8_t>(42 + r));
    for (int k = 0; k < 3072; ++k) {
      c10.push_back(static_cast<uint8_t>(k * 7 + r));
      c100.push_back(static_cast<uint8_t>(k * 5 + r));
    }
  }
  mg::data::write_file((out / "cifar/cifar10.bin").string(), c10);
  mg::data::write_file((out / "cifar/cifar100.bin").string(), c100);
  const Bytes images = idx({3, 4, 5}), labels = idx({3});
  mg::data::write_file((out / "idx/images").string(), images);
  mg::data::write_file((out / "idx/labels").string(), labels);
  mg::data::write_file((out / "idx_gzip/images.gz").string(), gzip(images));
  mg::data::write_file((out / "idx_gzip/labels.gz").string(), gzip(labels));
  std::vector<uint8_t> px(6 * 5 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 13);
  const std::string dir = (out / "image").string();
  bool ok = stbi_write_png((dir + "/rgb.png").c_str(), 6, 5, 3, px.data(), 18) &&
            stbi_write_png((dir + "/gray.png").c_str(), 6, 5, 1, px.data(), 6) &&
            stbi_write_bmp((dir + "/rgb.bmp").c_str(), 6, 5, 3, px.data()) &&
            stbi_write_jpg((dir + "/rgb.jpg").c_str(), 6, 5, 3, px.data(), 90);
  if (!ok) {
    std::fprintf(stderr, "make_seeds: could not write image seeds in %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
