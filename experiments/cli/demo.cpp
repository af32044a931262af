// `mixgrad demo`: a minute-long tour of the framework — a tanh MLP trained with autograd and plain
// gradient descent on two noisy interleaved half-moons, printing the loss as it falls.
#include <cmath>
#include <cstdio>
#include <numbers>

#include "autograd/functions.h"
#include "core/ops.h"
#include "core/rng.h"
#include "experiments/cli/commands.h"

namespace mg::cli {
namespace {

struct DemoArgs {
  int steps = 300;
  uint64_t seed = 0;
  int threads = 0;
};

void run_demo(const DemoArgs& args) {
  apply_threads(args.threads);
  Generator gen(args.seed, 1);
  const int64_t n = 256;
  std::vector<float> points(n * 2);
  std::vector<float> onehot(n * 2, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 2;
    const double t = gen.uniform() * std::numbers::pi;
    points[2 * i] = static_cast<float>(label ? 1.0 - std::cos(t) : std::cos(t)) + 0.1f * static_cast<float>(gen.normal());
    points[2 * i + 1] = static_cast<float>(label ? 0.5 - std::sin(t) : std::sin(t)) + 0.1f * static_cast<float>(gen.normal());
    onehot[2 * i + label] = 1.0f;
  }
  const Variable x(Tensor::from_vector(points, {n, 2}));
  const Variable y(Tensor::from_vector(onehot, {n, 2}));
  Variable w1(rand_normal({2, 32}, gen, 0.0, 0.7), true), b1(Tensor::zeros({32}), true);
  Variable w2(rand_normal({32, 2}, gen, 0.0, 0.2), true), b2(Tensor::zeros({2}), true);
  std::vector<Variable*> params = {&w1, &b1, &w2, &b2};
  for (int step = 0; step <= args.steps; ++step) {
    const Variable logits = matmul(tanh(matmul(x, w1) + b1), w2) + b2;
    const Variable loss = -mean(sum(y * log_softmax(logits, 1), {1}));
    if (step % 50 == 0) {
      const std::vector<int64_t> pred = ops::argmax(logits.data(), 1);
      int64_t correct = 0;
      for (int64_t i = 0; i < n; ++i) correct += pred[i] == i % 2;
      std::printf("step %4d  loss %.4f  accuracy %.3f\n", step, loss.item(), static_cast<double>(correct) / n);
    }
    for (Variable* p : params) p->zero_grad();
    loss.backward();
    for (Variable* p : params) ops::add_(p->mutable_data(), p->grad().data(), -0.5);
  }
}

}  // namespace

void register_demo(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "train a small MLP on two moons with autograd (a quick smoke test)");
  cmd->add_option("--steps", args->steps, "gradient steps")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->seed, "random seed");
  add_threads_option(*cmd, args->threads);
  cmd->callback([args] { run_demo(*args); });
}

}  // namespace mg::cli
