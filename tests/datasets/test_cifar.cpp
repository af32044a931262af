// CIFAR-10/100 binary files written by the test load with the right labels and pixels.
#include <catch2/catch.hpp>

#include "datasets/cifar.h"
#include "datasets/registry.h"
#include "helpers.h"

using namespace mg::data;
using namespace mg::data::test;

TEST_CASE("datasets: cifar10 binary directory loads labels and pixels in file order", "[datasets][cifar]") {
  TempDir dir;
  auto label = [](int64_t i) { return static_cast<int>((i * 3) % 10); };
  const auto files = cifar_train_files(CifarKind::Cifar10);
  for (size_t f = 0; f < files.size(); ++f) write_file(dir / files[f], cifar_records(4 * f, 4, false, label));
  write_file(dir / "test_batch.bin", cifar_records(100, 3, false, label));

  const Splits s = load_dataset("cifar10", dir.path.string());
  REQUIRE(s.train.size() == 20);
  REQUIRE(s.test.size() == 3);
  REQUIRE(s.train.shape() == std::vector<int64_t>{3, 32, 32});
  REQUIRE(s.train.classes.size() == 10);
  CHECK(s.train.classes[3] == "cat");
  for (int64_t i = 0; i < 20; ++i) {
    CHECK(s.train.labels[i] == label(i));
    CHECK(s.train.image(i)[0] == pixel(i, 0));
    CHECK(s.train.image(i)[1024 + 5] == pixel(i, 1024 + 5));  // G plane
    CHECK(s.train.image(i)[3071] == pixel(i, 3071));
  }
  CHECK(s.test.labels[1] == label(101));
  CHECK(s.test.image(2)[2048] == pixel(102, 2048));
  CHECK(s.train.mean.size() == 3);
  CHECK(class_counts(s.test) == std::vector<int64_t>{1, 0, 0, 1, 0, 0, 1, 0, 0, 0});
}

TEST_CASE("datasets: cifar10 files are also found in DIR/cifar-10-batches-bin", "[datasets][cifar]") {
  TempDir dir;
  std::filesystem::create_directory(dir.path / "cifar-10-batches-bin");
  auto label = [](int64_t i) { return static_cast<int>(i % 10); };
  for (const auto& f : cifar_train_files(CifarKind::Cifar10))
    write_file(dir / ("cifar-10-batches-bin/" + f), cifar_records(0, 1, false, label));
  write_file(dir / "cifar-10-batches-bin/test_batch.bin", cifar_records(0, 2, false, label));
  const Splits s = load_dataset("cifar10", dir.path.string());
  CHECK(s.train.size() == 5);
  CHECK(s.test.size() == 2);
}

TEST_CASE("datasets: cifar100 binary uses the fine label", "[datasets][cifar]") {
  TempDir dir;
  auto fine = [](int64_t i) { return static_cast<int>((i * 17 + 5) % 100); };
  write_file(dir / "train.bin", cifar_records(0, 7, true, fine));
  write_file(dir / "test.bin", cifar_records(7, 2, true, fine));
  const Splits s = load_dataset("cifar100", dir.path.string());
  REQUIRE(s.train.size() == 7);
  REQUIRE(s.train.num_classes() == 100);
  CHECK(s.train.classes[0] == "apple");
  CHECK(s.train.classes[99] == "worm");
  for (int64_t i = 0; i < 7; ++i) {
    CHECK(s.train.labels[i] == fine(i));
    CHECK(s.train.image(i)[77] == pixel(i, 77));
  }
  CHECK(s.test.labels[1] == fine(8));
  CHECK(s.test.image(1)[3000] == pixel(8, 3000));
}
