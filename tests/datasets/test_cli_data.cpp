// End to end: `mixgrad data` on synthetic files (JSON summary, PNG grid) and its non-zero exit with a clear
// message on bad input.
#include <stb_image.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "datasets/cifar.h"
#include "helpers.h"

using namespace mg::data;
using namespace mg::data::test;
using Catch::Contains;

namespace {

// Runs the mixgrad binary with `args`, returning stdout+stderr; `status` gets the exit code.
std::string mixgrad(const std::string& args, int& status) {
  const std::string cmd = std::string("'") + MIXGRAD_BINARY + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int raw = pclose(p);
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

void write_cifar10(const TempDir& dir, int64_t per_file) {
  auto label = [](int64_t i) { return static_cast<int>(i % 10); };
  for (const auto& f : cifar_train_files(CifarKind::Cifar10)) write_file(dir / f, cifar_records(0, per_file, false, label));
  write_file(dir / "test_batch.bin", cifar_records(0, 3, false, [](int64_t i) { return i == 0 ? 3 : 8; }));
}

}  // namespace

TEST_CASE("datasets: mixgrad data --json summarises synthetic CIFAR-10 and --grid writes a PNG", "[datasets][cli]") {
  TempDir dir;
  write_cifar10(dir, 4);
  int status = 0;
  const std::string out =
      mixgrad("data --dataset cifar10 --data '" + dir.path.string() + "' --json --grid '" + (dir / "grid.png") + "'", status);
  INFO(out);
  REQUIRE(status == 0);
  CHECK_THAT(out, Contains("\"count\": 20") && Contains("\"count\": 3") && Contains("\"first_labels\"") &&
                      Contains("\"class_counts\"") && Contains("\"mean\"") && Contains("\"std\""));
  int w = 0, h = 0, c = 0;
  REQUIRE(stbi_info((dir / "grid.png").c_str(), &w, &h, &c) == 1);
  CHECK(w >= 8 * 96);
  CHECK(h >= 3 * 96);
}

TEST_CASE("datasets: mixgrad data exits non-zero naming the file and the problem", "[datasets][cli]") {
  TempDir dir;
  int status = 0;
  std::string out = mixgrad("data --dataset cifar10 --data '" + (dir / "missing") + "'", status);
  CHECK(status != 0);
  CHECK_THAT(out, Contains("mixgrad: error:") && Contains(dir / "missing") && Contains("does not exist") &&
                      Contains("data_batch_1.bin") && Contains("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"));

  write_cifar10(dir, 2);
  Bytes bad = read_file(dir / "data_batch_4.bin");
  bad.pop_back();
  write_file(dir / "data_batch_4.bin", bad);
  out = mixgrad("data --dataset cifar10 --data '" + dir.path.string() + "'", status);
  CHECK(status != 0);
  CHECK_THAT(out, Contains("mixgrad: error:") && Contains(dir / "data_batch_4.bin") &&
                      Contains("is not a whole number of CIFAR-10 records"));
}
