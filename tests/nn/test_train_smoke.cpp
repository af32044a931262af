// Smoke test: smallcnn-bn learns a small synthetic problem with SGD in f32 — the class of an image sets
// where a randomly coloured square sits on a noisy background.
#include <catch2/catch.hpp>

#include <algorithm>

#include "autograd/functions.h"
#include "core/ops.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"

using namespace mg;
using namespace mg::nn;

namespace {

struct Dataset {
  Tensor images;  // (n, 3, 32, 32) f32
  std::vector<int64_t> labels;
};

// n images in 4 classes: noise in [-0.5, 0.5], plus an 8x8 square of a random colour in quadrant `class`
// (jittered by up to 4 pixels).
Dataset make_squares(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Dataset d{rand_uniform({n, 3, 32, 32}, gen, -0.5, 0.5), {}};
  float* px = d.images.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = static_cast<int64_t>(gen.below(4));
    d.labels.push_back(label);
    const int64_t top = (label / 2) * 16 + static_cast<int64_t>(gen.below(5));
    const int64_t left = (label % 2) * 16 + static_cast<int64_t>(gen.below(5));
    for (int64_t c = 0; c < 3; ++c) {
      const float colour = static_cast<float>(gen.uniform(-1.5, 1.5));
      for (int64_t h = top; h < top + 8; ++h)
        for (int64_t w = left; w < left + 8; ++w) px[((i * 3 + c) * 32 + h) * 32 + w] = colour;
    }
  }
  return d;
}

// The batch of samples `index[begin, end)`.
std::pair<Tensor, std::vector<int64_t>> batch(const Dataset& d, const std::vector<int64_t>& index, int64_t begin,
                                              int64_t end) {
  std::vector<int64_t> rows(index.begin() + begin, index.begin() + end), labels;
  for (int64_t r : rows) labels.push_back(d.labels[r]);
  return {ops::index_select(d.images, 0, rows), labels};
}

}  // namespace

TEST_CASE("train smoke: smallcnn-bn learns coloured squares", "[nn][train]") {
  const Dataset train = make_squares(256, 1), test = make_squares(128, 2);
  auto model = make_model("smallcnn-bn", 0, 4);
  SGD opt(model->named_parameters(), {0.02, 0.9, 0.0, 5e-4, false});
  const int64_t epochs = 3, batch_size = 32, steps_per_epoch = 256 / batch_size;
  OneCycleOptions cycle;
  cycle.max_lr = 0.05;
  cycle.total_steps = epochs * steps_per_epoch;
  const OneCycleLR schedule(cycle);

  Generator shuffle(7);
  double first_loss = 0, last_epoch_loss = 0;
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    const auto order = shuffle.permutation(256);
    last_epoch_loss = 0;
    for (int64_t b = 0; b < steps_per_epoch; ++b, ++step) {
      const auto [x, y] = batch(train, order, b * batch_size, (b + 1) * batch_size);
      schedule.apply(opt, step);
      opt.zero_grad();
      const Variable loss = cross_entropy((*model)(Variable(x)), y);
      loss.backward();
      opt.step();
      if (step == 0) first_loss = loss.item();
      last_epoch_loss += loss.item() / steps_per_epoch;
    }
  }
  INFO("first loss " << first_loss << ", mean loss of the last epoch " << last_epoch_loss);
  CHECK(first_loss > 1.0);  // about log 4 at the start
  CHECK(last_epoch_loss < 0.3 * first_loss);

  // Held-out images, in eval mode (BatchNorm's running statistics): mostly right.
  model->eval();
  NoGradGuard no_grad;
  const auto logits = (*model)(Variable(test.images)).data();
  const auto predicted = ops::argmax(logits, 1);
  int64_t correct = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == test.labels[i];
  INFO("held-out accuracy " << correct << " / 128");
  CHECK(correct >= 100);
}
