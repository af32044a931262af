// IDX files (MNIST layout), plain and gzip-compressed, load with the right labels and pixels.
#include <catch2/catch.hpp>

#include "datasets/idx.h"
#include "datasets/registry.h"
#include "helpers.h"

using namespace mg::data;
using namespace mg::data::test;

namespace {

// Writes train (n_train) and t10k (n_test) IDX files of 5×4 images into dir, gzip-compressed when gz.
void write_idx_split(const TempDir& dir, int64_t n_train, int64_t n_test, bool gz) {
  auto put = [&](const std::string& prefix, int64_t first, int64_t n) {
    Bytes images, labels;
    for (int64_t i = 0; i < n; ++i) {
      labels.push_back(static_cast<uint8_t>((first + i) % 10));
      for (int64_t k = 0; k < 20; ++k) images.push_back(pixel(first + i, k));
    }
    const Bytes img = idx_file({uint32_t(n), 5, 4}, images), lab = idx_file({uint32_t(n)}, labels);
    const std::string ext = gz ? ".gz" : "";
    write_file(dir / (prefix + "-images-idx3-ubyte" + ext), gz ? gzip(img) : img);
    write_file(dir / (prefix + "-labels-idx1-ubyte" + ext), gz ? gzip(lab) : lab);
  };
  put("train", 0, n_train);
  put("t10k", 1000, n_test);
}

}  // namespace

TEST_CASE("datasets: IDX files load the same plain and gzip-compressed", "[datasets][idx]") {
  for (bool gz : {false, true}) {
    INFO("gzip " << gz);
    TempDir dir;
    write_idx_split(dir, 23, 6, gz);
    const Splits s = load_dataset("fashion-mnist", dir.path.string());
    REQUIRE(s.train.size() == 23);
    REQUIRE(s.test.size() == 6);
    REQUIRE(s.train.shape() == std::vector<int64_t>{1, 5, 4});
    CHECK(s.train.classes[9] == "Ankle boot");
    for (int64_t i = 0; i < 23; ++i) {
      CHECK(s.train.labels[i] == i % 10);
      for (int64_t k = 0; k < 20; ++k) CHECK(s.train.image(i)[k] == pixel(i, k));
    }
    CHECK(s.test.labels[4] == 1004 % 10);
    CHECK(s.test.image(5)[19] == pixel(1005, 19));
  }
}

TEST_CASE("datasets: mnist and kmnist read the same layout with their own class names", "[datasets][idx]") {
  TempDir dir;
  write_idx_split(dir, 3, 2, true);
  CHECK(load_dataset("mnist", dir.path.string()).train.classes[7] == "7");
  CHECK(load_dataset("kmnist", dir.path.string()).train.classes[1] == "ki");
}

TEST_CASE("datasets: parse_idx reads dims and values", "[datasets][idx]") {
  const Bytes file = idx_file({2, 3}, {1, 2, 3, 4, 5, 6});
  const IdxArray a = parse_idx(file.data(), file.size(), "mem");
  CHECK(a.dims == std::vector<int64_t>{2, 3});
  CHECK(a.values == Bytes{1, 2, 3, 4, 5, 6});
}

TEST_CASE("datasets: gunzip reads concatenated gzip members", "[datasets][idx]") {
  Bytes two = gzip({1, 2, 3});
  const Bytes second = gzip({4, 5});
  two.insert(two.end(), second.begin(), second.end());
  CHECK(gunzip(two, "two.gz") == Bytes{1, 2, 3, 4, 5});
}
