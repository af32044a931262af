// SGD and the learning-rate schedules against torch.optim (run through /usr/bin/python3).
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "autograd/functions.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"
#include "tests/nn/test_module_python.h"

using namespace mg;
using namespace mg::nn;

namespace {

// A fixed least-squares problem with closed-form data: x[i][j] = sin(i + 0.7 j), t[i][k] = cos(0.5 i - k);
// parameters w (3, 2) = 0.1 (j - k) + 0.05, b (2) = [0.2, -0.1].
struct Problem {
  Variable w, b;
  Tensor x, t;
  Problem() {
    std::vector<double> xs, ts, ws;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 3; ++j) xs.push_back(std::sin(i + 0.7 * j));
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 2; ++k) ts.push_back(std::cos(0.5 * i - k));
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) ws.push_back(0.1 * (j - k) + 0.05);
    x = Tensor::from_vector(xs, {4, 3});
    t = Tensor::from_vector(ts, {4, 2});
    w = Variable(Tensor::from_vector(ws, {3, 2}), true);
    b = Variable(Tensor::from_vector(std::vector<double>{0.2, -0.1}, {2}), true);
  }
  // Mean squared error of x w + b against t; its backward fills w and b's gradients.
  void backward() {
    const Variable d = matmul(Variable(x), w) + b - Variable(t);
    mean(d * d).backward();
  }
  std::vector<std::pair<std::string, Variable*>> params() { return {{"w", &w}, {"b", &b}}; }
  std::vector<double> values() const {
    auto v = w.data().to_vector();
    for (double e : b.data().to_vector()) v.push_back(e);
    return v;
  }
};

const char* kTorchProblem = R"(
import math, torch, warnings
warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)
x = torch.tensor([[math.sin(i + 0.7 * j) for j in range(3)] for i in range(4)])
t = torch.tensor([[math.cos(0.5 * i - k) for k in range(2)] for i in range(4)])
w = torch.tensor([[0.1 * (j - k) + 0.05 for k in range(2)] for j in range(3)], requires_grad=True)
b = torch.tensor([0.2, -0.1], requires_grad=True)
)";

// Runs `steps` SGD steps in PyTorch for each option set; returns w and b flattened, one vector per set.
std::vector<std::vector<double>> torch_sgd(const std::vector<SGDOptions>& cases, int steps) {
  std::ostringstream s;
  s.precision(17);
  s << kTorchProblem << "w0, b0 = w.detach().clone(), b.detach().clone()\n";
  for (const auto& o : cases) {
    s << "with torch.no_grad():\n    w.copy_(w0)\n    b.copy_(b0)\n"
      << "opt = torch.optim.SGD([w, b], lr=" << o.lr << ", momentum=" << o.momentum
      << ", dampening=" << o.dampening << ", weight_decay=" << o.weight_decay
      << ", nesterov=" << (o.nesterov ? "True" : "False") << ")\n"
      << "for _ in range(" << steps << "):\n"
      << "    opt.zero_grad()\n    ((x @ w + b - t) ** 2).mean().backward()\n    opt.step()\n"
      << "print(' '.join(repr(v) for v in w.detach().flatten().tolist() + b.detach().tolist()))\n";
  }
  std::vector<std::vector<double>> out;
  std::istringstream lines(test::run_python(s.str()));
  for (std::string line; std::getline(lines, line);) out.push_back(test::parse_numbers(line));
  return out;
}

std::vector<double> our_sgd(const SGDOptions& o, int steps) {
  Problem p;
  SGD opt(p.params(), o);
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    p.backward();
    opt.step();
  }
  return p.values();
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Runs PyTorch schedulers and returns, per (setup, n, key), the value of param_groups[0][key] after
// 0..n scheduler steps; each setup defines `opt` and `sched` for a parameter `p`.
struct TorchRun {
  std::string setup;
  int n;
  std::string key;
};
std::vector<std::vector<double>> torch_schedules(const std::vector<TorchRun>& runs) {
  std::ostringstream s;
  s << "import torch, warnings\nwarnings.filterwarnings('ignore')\n"
    << "def run(make, n, key):\n"
    << "    p = torch.zeros(1, requires_grad=True)\n"
    << "    opt, sched = make(p)\n    out = []\n"
    << "    for i in range(n + 1):\n"
    << "        out.append(opt.param_groups[0][key])\n"
    << "        if i < n:\n            opt.step()\n            sched.step()\n"
    << "    print(' '.join(repr(v) for v in out))\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    s << "def make" << i << "(p):\n";
    std::istringstream lines(runs[i].setup);
    for (std::string line; std::getline(lines, line);) s << "    " << line << "\n";
    s << "    return opt, sched\nrun(make" << i << ", " << runs[i].n << ", '" << runs[i].key << "')\n";
  }
  std::vector<std::vector<double>> out;
  std::istringstream lines(test::run_python(s.str()));
  for (std::string line; std::getline(lines, line);) out.push_back(test::parse_numbers(line));
  REQUIRE(out.size() == runs.size());
  return out;
}

// Checks that schedule(t) matches PyTorch's value at every step 0..n to 1e-12 relative.
template <typename Fn>
void check_schedule(Fn&& value_at, const std::vector<double>& expected) {
  REQUIRE(!expected.empty());
  for (std::size_t t = 0; t < expected.size(); ++t) {
    INFO("step " << t);
    CHECK(value_at(static_cast<int64_t>(t)) == Approx(expected[t]).epsilon(1e-12).margin(1e-15));
  }
}

}  // namespace

TEST_CASE("sgd: matches torch.optim.SGD in f64", "[nn][optim]") {
  const std::vector<SGDOptions> cases = {
      {0.1, 0.0, 0.0, 0.0, false},    // plain
      {0.1, 0.0, 0.0, 0.05, false},   // weight decay only
      {0.05, 0.9, 0.0, 1e-2, false},  // heavy ball + weight decay
      {0.05, 0.9, 0.0, 1e-3, true},   // nesterov + weight decay
      {0.2, 0.5, 0.3, 0.0, false},    // dampening
  };
  const auto expected = torch_sgd(cases, 5);
  REQUIRE(expected.size() == cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const SGDOptions& o = cases[i];
    INFO("lr " << o.lr << " momentum " << o.momentum << " dampening " << o.dampening << " wd " << o.weight_decay
               << " nesterov " << o.nesterov);
    const auto ours = our_sgd(o, 5);
    CHECK(max_abs_diff(ours, expected[i]) < 1e-12);
    CHECK(max_abs_diff(ours, Problem().values()) > 1e-3);  // the parameters did move
  }
}

TEST_CASE("sgd: f32 parameters and skipped parameters", "[nn][optim]") {
  Variable a(Tensor::full({3}, 1.0), true), b(Tensor::full({2}, 1.0), true);
  SGD opt({{"a", &a}, {"b", &b}}, {0.5, 0.9, 0.0, 0.0, false});
  sum(a * a).backward();  // b gets no gradient
  opt.step();
  CHECK(a.data().to_vector() == std::vector<double>{0.0, 0.0, 0.0});  // 1 - 0.5 * 2
  CHECK(b.data().to_vector() == std::vector<double>{1.0, 1.0});
  CHECK(opt.state_dict().size() == 1);  // only a has a momentum buffer
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
}

TEST_CASE("sgd: momentum state export and import resume exactly", "[nn][optim]") {
  const SGDOptions o{0.05, 0.9, 0.0, 1e-3, true};
  Problem full, part;
  SGD opt_full(full.params(), o);
  SGD opt_part(part.params(), o);
  for (int i = 0; i < 3; ++i) {
    for (auto* opt : {&opt_full, &opt_part}) opt->zero_grad();
    full.backward();
    part.backward();
    opt_full.step();
    opt_part.step();
  }
  const auto state = opt_part.state_dict();
  REQUIRE(state.size() == 2);
  CHECK(state[0].name == "w");
  // A fresh optimizer with the saved buffers continues exactly like the uninterrupted one.
  SGD resumed(part.params(), o);
  resumed.load_state_dict(state);
  for (int i = 0; i < 2; ++i) {
    opt_full.zero_grad();
    resumed.zero_grad();
    full.backward();
    part.backward();
    opt_full.step();
    resumed.step();
  }
  CHECK(full.values() == part.values());
  // A fresh optimizer without them does not.
  Problem other;
  CHECK_THROWS_WITH(SGD(other.params(), o).load_state_dict({{"v", Tensor::zeros({2})}}),
                    Catch::Contains("'v'"));
  CHECK_THROWS_WITH(SGD(other.params(), o).load_state_dict({{"b", Tensor::zeros({3}, DType::F64)}}),
                    Catch::Contains("[3]") && Catch::Contains("[2]"));
}

TEST_CASE("schedule: MultiStepLR, CosineAnnealingLR, OneCycleLR, warm-up match PyTorch", "[nn][optim][schedule]") {
  const std::string sgd = "opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)\n";
  const std::string sched = "sched = torch.optim.lr_scheduler.";
  std::vector<TorchRun> runs = {
      {sgd + sched + "MultiStepLR(opt, [3, 7, 10], 0.2)", 14, "lr"},
      {sgd + sched + "CosineAnnealingLR(opt, 10, 0.001)", 10, "lr"},
      {sgd + sched + "ChainedScheduler([\n"
                     "    torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=5),\n"
                     "    torch.optim.lr_scheduler.MultiStepLR(opt, [8, 12], 0.1)])",
       15, "lr"},
  };
  const std::vector<std::pair<int, double>> cycles = {{37, 0.3}, {100, 0.25}};
  for (const auto& [total, pct] : cycles) {
    std::ostringstream setup;
    setup << sgd << sched << "OneCycleLR(opt, max_lr=0.4, total_steps=" << total << ", pct_start=" << pct << ")";
    runs.push_back({setup.str(), total, "lr"});
    runs.push_back({setup.str(), total, "momentum"});
  }
  const auto expected = torch_schedules(runs);

  {
    INFO("MultiStepLR");
    MultiStepLR s(0.1, {10, 3, 7}, 0.2);
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[0]);
    CHECK(s.lr_at(14) == Approx(0.1 * 0.008));
  }
  {
    INFO("CosineAnnealingLR");
    CosineAnnealingLR s(0.1, 10, 0.001);
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[1]);
    CHECK(s.lr_at(10) == Approx(0.001));
    CHECK(s.lr_at(5) == Approx(0.0505));
  }
  {
    INFO("LinearWarmup around MultiStepLR = ChainedScheduler(LinearLR, MultiStepLR)");
    LinearWarmup s(std::make_shared<MultiStepLR>(0.1, std::vector<int64_t>{8, 12}, 0.1), 5, 0.25);
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[2]);
    CHECK(s.lr_at(0) == Approx(0.025));
    CHECK_FALSE(s.momentum_at(3).has_value());
  }
  {
    INFO("OneCycleLR, lr and momentum at every step");
    for (std::size_t c = 0; c < cycles.size(); ++c) {
      const auto [total, pct] = cycles[c];
      INFO("total_steps " << total << " pct_start " << pct);
      OneCycleOptions o;
      o.max_lr = 0.4;
      o.total_steps = total;
      o.pct_start = pct;
      OneCycleLR s(o);
      // PyTorch's last scheduler.step() reaches step total_steps, which is allowed.
      check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[3 + 2 * c]);
      check_schedule([&](int64_t t) { return *s.momentum_at(t); }, expected[4 + 2 * c]);
      CHECK(s.lr_at(0) == Approx(0.4 / 25));
      CHECK(*s.momentum_at(0) == Approx(0.95));
      CHECK(s.lr_at(total - 1) == Approx(0.4 / 25 / 1e4));
      CHECK_THROWS(s.lr_at(total + 1));
    }
  }
}

TEST_CASE("schedule: apply sets the optimizer's lr and momentum", "[nn][optim][schedule]") {
  Variable a(Tensor::zeros({1}), true);
  SGD opt({{"a", &a}}, {0.1, 0.9, 0.0, 0.0, false});
  OneCycleOptions o;
  o.max_lr = 1.0;
  o.total_steps = 10;
  OneCycleLR(o).apply(opt, 0);
  CHECK(opt.lr() == Approx(0.04));
  CHECK(opt.momentum() == Approx(0.95));
  MultiStepLR(0.5, {2}).apply(opt, 3);
  CHECK(opt.lr() == Approx(0.05));
  CHECK(opt.momentum() == Approx(0.95));  // untouched
}

TEST_CASE("schedule: edge cases match PyTorch where it accepts them and are refused where it raises",
          "[nn][optim][schedule]") {
  const std::string sgd = "opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)\n";
  const std::string sched = "sched = torch.optim.lr_scheduler.";
  // OneCycleLR with very few steps or no warm-up: pct_start * total_steps - 1 < 0 means no warm-up phase.
  const std::vector<std::pair<int, double>> cycles = {{1, 0.3}, {1, 0.25}, {2, 0.3}, {3, 0.3}, {4, 0.2}, {5, 0.0}};
  std::vector<TorchRun> runs;
  for (const auto& [total, pct] : cycles) {
    std::ostringstream setup;
    setup << sgd << sched << "OneCycleLR(opt, max_lr=0.4, total_steps=" << total << ", pct_start=float(" << pct << "))";
    runs.push_back({setup.str(), total, "lr"});
    runs.push_back({setup.str(), total, "momentum"});
  }
  const std::size_t others = runs.size();
  runs.push_back({sgd + sched + "CosineAnnealingLR(opt, 1, 0.001)", 5, "lr"});  // one step, then past the end
  runs.push_back({sgd + sched + "CosineAnnealingLR(opt, 3)", 8, "lr"});
  runs.push_back({sgd + sched + "MultiStepLR(opt, [5, 20], 0.1)", 6, "lr"});    // a milestone past the end
  runs.push_back({sgd + sched + "MultiStepLR(opt, [0, 2, 2], 0.1)", 4, "lr"});  // at step 0, repeated
  runs.push_back({sgd + sched + "ChainedScheduler([\n"
                                "    torch.optim.lr_scheduler.LinearLR(opt, start_factor=1/3, total_iters=2),\n"
                                "    torch.optim.lr_scheduler.CosineAnnealingLR(opt, 5)])",
                  5, "lr"});
  runs.push_back({sgd + sched + "ChainedScheduler([\n"  // a warm-up longer than the schedule
                                "    torch.optim.lr_scheduler.LinearLR(opt, start_factor=1/3, total_iters=6),\n"
                                "    torch.optim.lr_scheduler.CosineAnnealingLR(opt, 3)])",
                  3, "lr"});
  const auto expected = torch_schedules(runs);

  for (std::size_t c = 0; c < cycles.size(); ++c) {
    const auto [total, pct] = cycles[c];
    INFO("OneCycleLR total_steps " << total << " pct_start " << pct);
    const OneCycleLR s({.max_lr = 0.4, .total_steps = total, .pct_start = pct});
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[2 * c]);
    check_schedule([&](int64_t t) { return *s.momentum_at(t); }, expected[2 * c + 1]);
  }
  std::size_t next = others;
  {
    INFO("CosineAnnealingLR, t_max 1");
    const CosineAnnealingLR s(0.1, 1, 0.001);
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[next++]);
  }
  {
    INFO("CosineAnnealingLR, t_max 3, past the end");
    const CosineAnnealingLR s(0.1, 3);
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[next++]);
  }
  {
    INFO("MultiStepLR, a milestone past the end");
    const MultiStepLR s(0.1, {5, 20}, 0.1);
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[next++]);
  }
  {
    INFO("MultiStepLR, a milestone at 0 and a repeated one");
    const MultiStepLR s(0.1, {0, 2, 2}, 0.1);
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[next++]);
  }
  for (const auto& [warmup, t_max] : std::vector<std::pair<int64_t, int64_t>>{{2, 5}, {6, 3}}) {
    INFO("LinearWarmup " << warmup << " around CosineAnnealingLR " << t_max);
    const LinearWarmup s(std::make_shared<CosineAnnealingLR>(0.1, t_max), warmup, 1.0 / 3.0);
    check_schedule([&](int64_t t) { return s.lr_at(t); }, expected[next++]);
  }

  // PyTorch raises ZeroDivisionError where a phase of OneCycleLR has no length (at construction when the peak
  // is step 0, at its last step() when the peak is the last step); mixgrad refuses them up front.
  const std::vector<std::pair<int, double>> refused = {{4, 0.25}, {2, 0.5}, {10, 0.1}, {3, 1.0}};
  std::ostringstream py;
  py << "import torch, warnings\nwarnings.filterwarnings('ignore')\n"
     << "for total, pct in [";
  for (const auto& [total, pct] : refused) py << "(" << total << ", float(" << pct << ")), ";
  py << "]:\n"
     << "    p = torch.zeros(1, requires_grad=True)\n"
     << "    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)\n"
     << "    try:\n"
     << "        s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.4, total_steps=total, pct_start=pct)\n"
     << "        for _ in range(total):\n            opt.step()\n            s.step()\n"
     << "        print(0)\n"
     << "    except ZeroDivisionError:\n        print(1)\n";
  const std::vector<double> torch_raised = test::parse_numbers(test::run_python(py.str()));
  REQUIRE(torch_raised.size() == refused.size());
  for (std::size_t c = 0; c < refused.size(); ++c) {
    const auto [total, pct] = refused[c];
    INFO("OneCycleLR total_steps " << total << " pct_start " << pct);
    CHECK(torch_raised[c] == 1);
    std::ostringstream steps, share;
    steps << "total_steps " << total;
    share << "pct_start " << pct;
    CHECK_THROWS_WITH(OneCycleLR({.max_lr = 0.4, .total_steps = total, .pct_start = pct}),
                      Catch::Contains(steps.str()) && Catch::Contains(share.str()));
  }
  CHECK_THROWS_WITH(OneCycleLR({.total_steps = 0}), Catch::Contains("total_steps must be positive"));
  // PyTorch skips a negative milestone silently and LinearLR(total_iters=0) keeps the start factor for ever;
  // both are refused here (the trainer reads --warmup-epochs 0 as no warm-up).
  CHECK_THROWS_WITH(MultiStepLR(0.1, {3, -1}), Catch::Contains("-1"));
  CHECK_THROWS_WITH(LinearWarmup(std::make_shared<ConstantLR>(0.1), 0), Catch::Contains("warmup_steps"));
}
