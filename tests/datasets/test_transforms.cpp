// Transforms: crop with zero padding and flip on a known image, normalisation, and the fused loader kernel.
#include <catch2/catch.hpp>

#include "datasets/transforms.h"
#include "helpers.h"

using namespace mg;
using namespace mg::data;

namespace {

// A 2×3×4 uint8 dataset of one image whose pixel (c, y, x) is 100c + 10y + x.
Dataset known_image() {
  Dataset ds;
  ds.name = "known";
  ds.channels = 2, ds.height = 3, ds.width = 4;
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 4; ++x) ds.images.push_back(static_cast<uint8_t>(100 * c + 10 * y + x));
  ds.labels = {0};
  ds.classes = {"only"};
  ds.mean = {0.5f, 0.25f};
  ds.std = {0.5f, 2.0f};
  return ds;
}

}  // namespace

TEST_CASE("datasets: to_float_tensor scales to [0, 1]", "[datasets][transforms]") {
  const Tensor t = to_float_tensor(known_image(), 0);
  REQUIRE(t.shape() == Shape{2, 3, 4});
  CHECK(t.at({1, 2, 3}) == Approx(123.0 / 255.0));
  CHECK(t.at({0, 0, 0}) == 0.0);
}

TEST_CASE("datasets: pad_crop zero-pads, then takes the window at (dy, dx)", "[datasets][transforms]") {
  const Tensor t = to_float_tensor(known_image(), 0);
  const Tensor same = pad_crop(t, 2, 2, 2);  // offset = pad: the image itself
  CHECK(same.to_vector() == t.to_vector());
  const Tensor c = pad_crop(t, 2, 0, 3);  // window starts 2 rows above and 1 column right of the image
  // out(y, x) = img(y - 2, x + 1), zero outside
  CHECK(c.at({0, 0, 0}) == 0.0);
  CHECK(c.at({0, 1, 0}) == 0.0);
  CHECK(c.at({0, 2, 0}) == Approx(1.0 / 255));   // img(0, 1)
  CHECK(c.at({1, 2, 2}) == Approx(103.0 / 255)); // img(c=1, 0, 3)
  CHECK(c.at({1, 2, 3}) == 0.0);                 // column 4 is padding
}

TEST_CASE("datasets: hflip reverses columns", "[datasets][transforms]") {
  const Tensor f = hflip(to_float_tensor(known_image(), 0));
  CHECK(f.at({0, 1, 0}) == Approx(13.0 / 255));
  CHECK(f.at({1, 2, 3}) == Approx(120.0 / 255));
}

TEST_CASE("datasets: normalize subtracts the mean and divides by the std per channel", "[datasets][transforms]") {
  const Tensor n = normalize(to_float_tensor(known_image(), 0), {0.5f, 0.25f}, {0.5f, 2.0f});
  CHECK(n.at({0, 0, 0}) == Approx(-1.0));
  CHECK(n.at({1, 2, 3}) == Approx((123.0 / 255 - 0.25) / 2.0));
}

TEST_CASE("datasets: augment_normalize equals pad_crop, hflip and normalize composed, bit for bit", "[datasets][transforms]") {
  const Dataset ds = known_image();
  const NormalizeTable table = make_normalize_table(ds.mean, ds.std);
  for (int64_t pad : {0, 1, 2, 5})
    for (int64_t dy = 0; dy <= 2 * pad; ++dy)
      for (int64_t dx = 0; dx <= 2 * pad; ++dx)
        for (bool flip : {false, true}) {
          INFO("pad " << pad << " dy " << dy << " dx " << dx << " flip " << flip);
          Tensor want = pad_crop(to_float_tensor(ds, 0), pad, dy, dx);
          if (flip) want = hflip(want);
          want = normalize(want, ds.mean, ds.std);
          std::vector<float> got(ds.image_bytes());
          augment_normalize(ds.image(0), 2, 3, 4, pad, {dy, dx, flip}, table, got.data());
          const std::vector<double> w = want.to_vector();
          for (size_t k = 0; k < got.size(); ++k) REQUIRE(got[k] == static_cast<float>(w[k]));
        }
}

TEST_CASE("datasets: draw_augment: offsets in range, flips about half, a pure function of (seed, epoch, index)",
          "[datasets][transforms]") {
  const Augment aug{4, true};
  int flips = 0;
  std::vector<int> seen(9, 0);
  for (int64_t i = 0; i < 2000; ++i) {
    const AugmentDraw d = draw_augment(aug, 7, 3, i);
    REQUIRE(d.dy >= 0);
    REQUIRE(d.dy <= 8);
    REQUIRE(d.dx >= 0);
    REQUIRE(d.dx <= 8);
    seen[d.dx] += 1;
    flips += d.flip;
    const AugmentDraw again = draw_augment(aug, 7, 3, i);
    REQUIRE((again.dy == d.dy && again.dx == d.dx && again.flip == d.flip));
  }
  CHECK(flips > 900);
  CHECK(flips < 1100);
  for (int v : seen) CHECK(v > 150);
  const AugmentDraw none = draw_augment(Augment{}, 7, 3, 0);
  CHECK((none.dy == 0 && none.dx == 0 && !none.flip));
}
