// SVHN .mat files (official layout, written by scipy): counts, labels (10 -> 0), pixel order, `mixgrad data`,
// and every kind of bad file failing with the file's name and what was expected.
#include <catch2/catch.hpp>

#include "datasets/file_io.h"
#include "datasets/registry.h"
#include "datasets/svhn.h"
#include "helpers.h"
#include "svhn_files.h"

using namespace mg::data;
using namespace mg::data::test;
using Catch::Contains;

TEST_CASE("datasets: SVHN .mat files load with label 10 as class 0 and MATLAB's column-major pixels",
          "[datasets][svhn]") {
  TempDir dir;
  write_svhn_dir(dir.path.string());
  const Splits s = load_dataset("svhn", dir.path.string());
  REQUIRE(s.train.size() == 10);
  REQUIRE(s.test.size() == 3);
  CHECK(s.train.shape() == std::vector<int64_t>{3, 32, 32});
  CHECK(s.train.labels == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 0, 0});
  CHECK(s.test.labels == std::vector<int64_t>{0, 3, 3});
  CHECK(class_counts(s.train) == std::vector<int64_t>{2, 1, 1, 1, 1, 1, 1, 1, 1, 0});
  CHECK(s.train.classes.front() == "0");
  CHECK(s.test.files == std::vector<std::string>{dir / "test_32x32.mat"});
  for (int64_t n : {0, 9})
    for (int64_t ch : {0, 2})
      for (int64_t r : {0, 5, 31})
        for (int64_t c : {1, 30}) {
          INFO("image " << n << " channel " << ch << " row " << r << " column " << c);
          CHECK(int(s.train.image(n)[ch * 1024 + r * 32 + c]) == (7 * r + 3 * c + 50 * ch + 11 * n) % 256);
        }
}

TEST_CASE("datasets: mixgrad data --dataset svhn gives counts and class counts", "[datasets][svhn][cli]") {
  TempDir dir;
  write_svhn_dir(dir.path.string());
  const auto r = mg::test::run_command(std::string(MIXGRAD_BINARY) + " data --dataset svhn --data '" +
                                       dir.path.string() + "' --json");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Contains("\"count\": 10") && Contains("\"count\": 3") && Contains("\"class_counts\""));
  const auto missing = mg::test::run_command(std::string(MIXGRAD_BINARY) + " data --dataset svhn --data '" +
                                             (dir / "none") + "'");
  CHECK(missing.status != 0);
  CHECK_THAT(missing.output, Contains("train_32x32.mat") && Contains("ufldl.stanford.edu/housenumbers"));
}

TEST_CASE("datasets: bad SVHN files fail naming the file and what was expected", "[datasets][svhn]") {
  TempDir dir;
  const std::string path = dir / "train_32x32.mat";
  auto error_for = [&]() { return error_of([&] { load_svhn_file(path, "svhn/train"); }); };

  write_svhn_mat(path, "[1, 2, 3]");  // compressed
  const Bytes good = read_file(path);
  for (size_t keep : {size_t(0), size_t(100), size_t(200), good.size() / 2, good.size() - 1}) {
    INFO("truncated to " << keep << " of " << good.size() << " bytes");
    write_file(path, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(keep)));
    CHECK_THAT(error_for(), Contains(path) && (Contains("too short") || Contains("truncated")));
  }
  write_svhn_mat(path, "[1, 2, 3]", "uint8", false);  // uncompressed, cut inside X's data
  const Bytes plain = read_file(path);
  write_file(path, Bytes(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(plain.size() / 2)));
  CHECK_THAT(error_for(), Contains(path) && Contains("truncated") && Contains("declares"));

  Bytes garbage(4096, 0x5a);
  write_file(path, garbage);
  CHECK_THAT(error_for(), Contains(path) && Contains("not a MATLAB v5"));
  Bytes v73 = good;  // the v5 header text with version 0x0200 (v7.3, HDF5)
  v73[124] = 0x00;
  v73[125] = 0x02;
  write_file(path, v73);
  CHECK_THAT(error_for(), Contains(path) && Contains("0x0100"));

  write_svhn_mat(path, "[1, 2]", "uint8", true, "images");
  CHECK_THAT(error_for(), Contains(path) && Contains("no variable 'X'") && Contains("32×32×3×N"));
  write_svhn_mat(path, "[1, 2]", "uint8", true, "X", "labels");
  CHECK_THAT(error_for(), Contains(path) && Contains("no variable 'y'"));
  write_svhn_mat(path, "[1, 2]", "uint8", true, "X", "y", "X[:, :, :1, :]");
  CHECK_THAT(error_for(), Contains(path) && Contains("shape 32×32×1×2") && Contains("32×32×3×N"));
  write_svhn_mat(path, "[1, 2]", "uint8", true, "X", "y", "X.astype(np.float64)");
  CHECK_THAT(error_for(), Contains(path) && Contains("'X' is not uint8"));
  write_svhn_mat(path, "[1, 2]", "uint8", true, "X", "y", "X[:, :, :, :1]");
  CHECK_THAT(error_for(), Contains(path) && Contains("'y' has shape 2×1") && Contains("1×1"));
  for (const char* labels : {"[1, 0]", "[11, 3]", "[2.5, 3]"}) {
    INFO(labels);
    write_svhn_mat(path, labels, "float64");
    CHECK_THAT(error_for(), Contains(path) && Contains("outside 1..10"));
  }
}
