// Writes small valid inputs for each fuzz target (the seed corpora): CIFAR-10/100 records, IDX images and
// labels (plain and gzip), and PNG/BMP/JPEG images. Usage: make_seeds OUT_DIR (creates OUT_DIR/<target>/).
#include <stb_image_write.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/file_io.h"
#include "tests/datasets/helpers.h"

using mg::data::Bytes;
using namespace mg::data::test;
namespace fs = std::filesystem;

// An IDX ubyte file of the given dims with small valid values (the writers are the dataset tests').
Bytes idx(const std::vector<uint32_t>& dims) {
  size_t n = 1;
  for (uint32_t d : dims) n *= d;
  Bytes values(n);
  for (size_t i = 0; i < n; ++i) values[i] = static_cast<uint8_t>(i % 10);
  return idx_file(dims, values);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* t : {"cifar", "idx", "idx_gzip", "image"}) fs::create_directories(out / t);
  const auto label = [](int64_t i) { return static_cast<int>(3 + i); };
  const Bytes c10 = cifar_records(0, 2, false, label), c100 = cifar_records(0, 2, true, label);
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
