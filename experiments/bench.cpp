#include "experiments/bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "experiments/attacks.h"
#include "experiments/distributed/job.h"
#include "nn/distributed/micro_shards.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "nn/optim/sgd.h"

namespace mg::experiments {

BenchMode parse_bench_mode(const std::string& name) {
  if (name == "train") return BenchMode::Train;
  if (name == "eval") return BenchMode::Eval;
  if (name == "fgsm") return BenchMode::Fgsm;
  MG_FAIL("unknown bench mode '", name, "'; expected train, eval or fgsm");
}

const char* bench_mode_name(BenchMode mode) {
  switch (mode) {
    case BenchMode::Train: return "train";
    case BenchMode::Eval: return "eval";
    case BenchMode::Fgsm: return "fgsm";
  }
  return "?";
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // the value is in kB
  return 0.0;
}

namespace {

// CIFAR-10 normalisation, as in the paper's recipe (the FGSM mode attacks in pixel space).
const std::vector<double> kMean = {0.4914, 0.4822, 0.4465};
const std::vector<double> kStd = {0.2023, 0.1994, 0.2010};
constexpr int64_t kClasses = 10;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

namespace {

// The job's collectives, timed: what a data-parallel step spends communicating (and waiting for the
// slowest rank), and how many bytes arrive.
class TimedCollective final : public nn::Collective {
 public:
  explicit TimedCollective(const nn::Collective& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void all_gather(const double* local, int64_t n, double* out) const override { timed(local, n, out); }
  void all_gather(const float* local, int64_t n, float* out) const override { timed(local, n, out); }
  void all_to_all(const double* send, int64_t n, double* recv) const override { timed(send, n, recv, true); }
  void all_to_all(const float* send, int64_t n, float* recv) const override { timed(send, n, recv, true); }
  mutable double seconds = 0, bytes = 0;

 private:
  template <typename T>
  void timed(const T* local, int64_t n, T* out, bool to_all = false) const {
    const auto t0 = std::chrono::steady_clock::now();
    if (to_all) inner_.all_to_all(local, n, out);
    else inner_.all_gather(local, n, out);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bytes += static_cast<double>(n * (size() - 1)) * sizeof(T);
  }
  const nn::Collective& inner_;
};

}  // namespace

BenchResult run_bench(const BenchConfig& c) {
  MG_CHECK(c.batch_size >= 1, "bench: --batch-size must be >= 1, got ", c.batch_size);
  MG_CHECK(c.iters >= 1, "bench: --iters must be >= 1, got ", c.iters);
  MG_CHECK(c.warmup >= 0, "bench: --warmup must be >= 0, got ", c.warmup);
  BenchResult r;
  r.config = c;
  r.threads = num_threads();
  r.blas_core = blas_core_name();

  MG_CHECK(c.channels >= 1 && c.height >= 1 && c.width >= 1, "bench: image shape ", c.channels, "×", c.height, "×",
           c.width, " must be positive");
  std::shared_ptr<nn::Module> model = nn::make_model(c.model, c.seed, kClasses, c.channels, c.height, c.width);
  // Synthetic data: pixels uniform in [0, 1) for FGSM (it works in pixel space), standard normal
  // (already normalised) inputs otherwise; labels uniform over the classes.
  Generator gen(c.seed, stream_id(0xbe7c4, 1));
  const Shape shape{c.batch_size, c.channels, c.height, c.width};
  const Tensor x = c.mode == BenchMode::Fgsm ? rand_uniform(shape, gen) : rand_normal(shape, gen);
  std::vector<int64_t> labels(c.batch_size);
  for (auto& y : labels) y = static_cast<int64_t>(gen.below(kClasses));

  {  // Count the FLOPs of one forward pass.
    NoGradGuard no_grad;
    model->eval();
    nn::MacCounter counter;
    (*model)(Variable(x));
    r.forward_flops = 2.0 * static_cast<double>(counter.macs());
  }
  r.flops_per_iter = r.forward_flops * (c.mode == BenchMode::Eval ? 1.0 : 3.0);

  std::function<double()> step;
  std::unique_ptr<nn::SGD> sgd;
  const nn::Collective& ranks = c.ranks ? *c.ranks : job();
  TimedCollective timed(ranks);
  std::unique_ptr<nn::MicroShards> micro_shards;  // data-parallel train steps only
  Tensor x_share;
  std::vector<int64_t> labels_share;
  Classifier classifier;
  if (c.mode == BenchMode::Train) {
    model->train();
    sgd = std::make_unique<nn::SGD>(model->named_parameters(),
                                    nn::SGDOptions{.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true});
    const int64_t shards = c.shards > 0 ? c.shards : ranks.size();
    if (shards > 1 || ranks.size() > 1) {
      micro_shards = std::make_unique<nn::MicroShards>(c.batch_size, shards, timed);
      const int64_t first = micro_shards->local_begin(), last = first + micro_shards->local_size();
      x_share = x.slice(0, first, last);
      labels_share.assign(labels.begin() + first, labels.begin() + last);
    }
    step = [&] {
      sgd->zero_grad();
      Variable loss;
      if (!micro_shards) {
        loss = nn::cross_entropy((*model)(Variable(x)), labels);
        loss.backward();
      } else {
        const nn::MicroShardScope scope(*micro_shards);
        loss = nn::cross_entropy((*model)(Variable(x_share)), labels_share);
        loss.backward();
      }
      sgd->step();
      return loss.item();
    };
  } else if (c.mode == BenchMode::Eval) {
    model->eval();
    step = [&] {
      NoGradGuard no_grad;
      return static_cast<double>((*model)(Variable(x)).data().data<float>()[0]);
    };
  } else {
    model->eval();
    // Other channel counts get a neutral normalisation: the values do not change the work.
    classifier = c.channels == 3 ? normalized(*model, kMean, kStd)
                                 : normalized(*model, std::vector<double>(c.channels, 0.5), std::vector<double>(c.channels, 0.25));
    step = [&] {
      const Tensor adv = attack(classifier, x, labels, AttackSpec{.kind = AttackKind::FGSM, .eps = 8.0 / 255.0}, gen);
      NoGradGuard no_grad;
      return static_cast<double>(classifier(Variable(adv)).data().data<float>()[0]);
    };
  }

  using clock = std::chrono::steady_clock;
  const nn::Autocast autocast(c.precision);  // after the MAC count: the FLOPs are the same
  for (int64_t i = 0; i < c.warmup; ++i) r.checksum = step();
  timed.seconds = timed.bytes = 0;
  for (int64_t i = 0; i < c.iters; ++i) {
    const auto t0 = clock::now();
    r.checksum = step();
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    r.seconds.push_back(s);
    if (c.verbose) std::fprintf(stderr, "bench: iteration %lld: %.9g s\n", static_cast<long long>(i), s);
  }
  std::vector<double> rates;
  for (double s : r.seconds) rates.push_back(static_cast<double>(c.batch_size) / s);
  r.images_per_s = median(rates);
  r.images_per_s_min = *std::min_element(rates.begin(), rates.end());
  r.images_per_s_max = *std::max_element(rates.begin(), rates.end());
  r.gflops = r.flops_per_iter * r.images_per_s / static_cast<double>(c.batch_size) / 1e9;
  r.peak_rss_mb = peak_rss_mb();
  r.ranks = ranks.size();
  r.comm_seconds = timed.seconds / static_cast<double>(c.iters);
  r.comm_bytes = timed.bytes / static_cast<double>(c.iters);
  return r;
}

}  // namespace mg::experiments
