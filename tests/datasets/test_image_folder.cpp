// An image folder written by the test (stb_image_write: PNG, BMP, JPEG) loads with the right labels and pixels.
#include <stb_image_write.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "datasets/image_folder.h"
#include "datasets/registry.h"
#include "helpers.h"

using namespace mg::data;
using namespace mg::data::test;
namespace fs = std::filesystem;

namespace {

constexpr int W = 6, H = 4;

// An H×W RGB (or gray) image, interleaved, with a pattern that depends on `seed`.
Bytes pattern(int seed, int channels) {
  Bytes hwc(W * H * channels);
  for (size_t k = 0; k < hwc.size(); ++k) hwc[k] = static_cast<uint8_t>(seed * 50 + k * 7);
  return hwc;
}

void write_png(const std::string& path, const Bytes& hwc, int channels) {
  REQUIRE(stbi_write_png(path.c_str(), W, H, channels, hwc.data(), W * channels) != 0);
}

// True when the planar C×H×W image equals the interleaved H×W×C one (within tol).
bool same_pixels(const uint8_t* chw, const Bytes& hwc, int channels, int tol = 0) {
  for (int c = 0; c < channels; ++c)
    for (int p = 0; p < W * H; ++p)
      if (std::abs(int(chw[c * W * H + p]) - int(hwc[p * channels + c])) > tol) return false;
  return true;
}

}  // namespace

TEST_CASE("datasets: image folder: sorted classes, PNG/BMP/JPEG decoded to CHW, other files skipped", "[datasets][folder]") {
  TempDir dir;
  for (const char* c : {"dog", "ant", "cat"}) fs::create_directory(dir.path / c);
  const Bytes a = pattern(1, 3), b = pattern(2, 3), c = pattern(3, 3);
  write_png(dir / "cat/a.png", a, 3);
  REQUIRE(stbi_write_bmp((dir / "cat/b.bmp").c_str(), W, H, 3, b.data()) != 0);
  write_png(dir / "dog/c.png", c, 3);
  write_file(dir / "dog/readme.txt", {'h', 'i'});
  const Bytes flat(W * H * 3, 120);  // JPEG is lossy: a flat image decodes to (almost) the same value
  REQUIRE(stbi_write_jpg((dir / "ant/d.JPG").c_str(), W, H, 3, flat.data(), 100) != 0);

  const Splits s = load_dataset("image-folder", dir.path.string());
  const Dataset& ds = s.train;
  REQUIRE(ds.classes == std::vector<std::string>{"ant", "cat", "dog"});
  REQUIRE(ds.size() == 4);
  REQUIRE(ds.shape() == std::vector<int64_t>{3, H, W});
  CHECK(ds.labels == std::vector<int64_t>{0, 1, 1, 2});
  CHECK(same_pixels(ds.image(0), flat, 3, 2));
  CHECK(same_pixels(ds.image(1), a, 3));
  CHECK(same_pixels(ds.image(2), b, 3));
  CHECK(same_pixels(ds.image(3), c, 3));
  CHECK(s.test.size() == 0);
  REQUIRE(ds.mean.size() == 3);  // normalisation from the folder's own pixels
  CHECK(ds.std[0] > 0.0f);
}

TEST_CASE("datasets: image folder: all-gray images give one channel, mixed give three", "[datasets][folder]") {
  TempDir gray;
  fs::create_directory(gray.path / "x");
  write_png(gray / "x/1.png", pattern(4, 1), 1);
  write_png(gray / "x/2.png", pattern(5, 1), 1);
  const Dataset g = load_image_folder(gray.path.string());
  REQUIRE(g.channels == 1);
  CHECK(same_pixels(g.image(1), pattern(5, 1), 1));

  write_png(gray / "x/3.png", pattern(6, 3), 3);
  const Dataset m = load_image_folder(gray.path.string());
  REQUIRE(m.channels == 3);
  const Bytes p4 = pattern(4, 1);
  for (int c = 0; c < 3; ++c) CHECK(m.image(0)[c * W * H + 5] == p4[5]);
}

TEST_CASE("datasets: image folder with train/ and test/ sub-folders", "[datasets][folder]") {
  TempDir dir;
  for (const char* split : {"train", "test"})
    for (const char* c : {"a", "b"}) fs::create_directories(dir.path / split / c);
  write_png(dir / "train/a/1.png", pattern(1, 3), 3);
  write_png(dir / "train/b/1.png", pattern(2, 3), 3);
  write_png(dir / "train/b/2.png", pattern(3, 3), 3);
  write_png(dir / "test/a/9.png", pattern(4, 3), 3);
  write_png(dir / "test/b/9.png", pattern(5, 3), 3);
  const Splits s = load_dataset("image-folder", dir.path.string());
  CHECK(s.train.labels == std::vector<int64_t>{0, 1, 1});
  CHECK(s.test.labels == std::vector<int64_t>{0, 1});
  CHECK(same_pixels(s.test.image(1), pattern(5, 3), 3));
  CHECK(s.test.mean == s.train.mean);
}
