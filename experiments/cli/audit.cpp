// `mixgrad audit --model M --weights W --batch B --out G [--dtype f32|f64] [--precision f32|bf16] [--eval]
// [--sgd-lr LR ...]`: one training step with every number dumped to a safetensors file, for comparison with
// PyTorch (scripts/torch_audit.py computes the same dump; see experiments/audit.h for what G holds).
// --precision bf16 runs the step in float32 under nn::Autocast (PyTorch's CPU autocast to bfloat16).
#include <cstdio>

#include "experiments/audit.h"
#include "experiments/cli/commands.h"
#include "nn/autocast.h"
#include "nn/models.h"

namespace mg::cli {

namespace {

struct AuditArgs {
  std::string model, weights, batch, out, dtype = "f64", precision = "f32";
  bool dtype_given = false;  // --precision bf16 implies f32; an explicit --dtype f64 with it is an error
  bool eval = false;
  std::optional<double> sgd_lr;
  double sgd_momentum = 0.0, sgd_weight_decay = 0.0;
  bool sgd_nesterov = false;
  int threads = 0;
};

// Loads model, weights and batch, runs the step and writes the dump.
void run_audit(const AuditArgs& a) {
  apply_threads(a.threads);
  const nn::Precision precision = nn::parse_precision(a.precision);
  const bool bf16 = precision == nn::Precision::bf16;
  MG_CHECK(!(bf16 && a.dtype_given && a.dtype == "f64"), "audit: --precision bf16 autocasts a float32 model; "
           "--dtype f64 cannot be combined with it (use --dtype f32 or leave --dtype out)");
  const std::string dtype_name = bf16 ? "f32" : a.dtype;
  const DType dtype = dtype_name == "f32" ? DType::F32 : DType::F64;
  const std::shared_ptr<nn::Module> model = nn::make_model(a.model);
  model->to(dtype);
  audit::load_weights(*model, a.weights);
  const audit::AuditBatch batch = audit::read_audit_batch(a.batch, dtype);

  audit::AuditOptions options;
  options.eval = a.eval;
  if (a.sgd_lr) {
    nn::SGDOptions sgd;
    sgd.lr = *a.sgd_lr;
    sgd.momentum = a.sgd_momentum;
    sgd.weight_decay = a.sgd_weight_decay;
    sgd.nesterov = a.sgd_nesterov;
    MG_CHECK(!sgd.nesterov || sgd.momentum > 0, "audit: --sgd-nesterov needs --sgd-momentum > 0");
    options.sgd = sgd;
  }
  MG_CHECK(a.sgd_lr || (a.sgd_momentum == 0.0 && a.sgd_weight_decay == 0.0 && !a.sgd_nesterov),
           "audit: --sgd-momentum, --sgd-weight-decay and --sgd-nesterov need --sgd-lr");

  const std::vector<SafeTensor> dump = [&] {
    nn::Autocast autocast(precision);
    return audit::audit_step(*model, batch, options);
  }();
  write_safetensors(a.out, dump,
                    {{"model", a.model}, {"dtype", dtype_name}, {"precision", nn::name(precision)},
                     {"mode", a.eval ? "eval" : "train"}, {"loss", batch.mixup ? "mixup" : "cross_entropy"}});
  std::printf("audit: %s %s%s %s, N=%lld%s: loss %.17g; wrote %zu tensors to %s\n", a.model.c_str(),
              dtype_name.c_str(), bf16 ? " (bf16 autocast)" : "", a.eval ? "eval" : "train", static_cast<long long>(batch.x.size(0)),
              batch.mixup ? (", mixup lam=" + std::to_string(batch.lam)).c_str() : "", dump[0].values.item(),
              dump.size(), a.out.c_str());
}

}  // namespace

void register_audit(CLI::App& app) {
  auto a = std::make_shared<AuditArgs>();
  CLI::App* cmd = app.add_subcommand("audit", "one training step with loss, logits, every gradient and buffer dumped "
                                              "to safetensors (compare with scripts/torch_audit.py)");
  cmd->add_option("--model", a->model, "smallcnn, smallcnn-bn, preact-resnet18, wrn-16-8 or wrn-28-10")->required();
  cmd->add_option("--weights", a->weights, "safetensors with every parameter and buffer (PyTorch names)")
      ->required();
  cmd->add_option("--batch", a->batch, "safetensors with x (N,3,H,W), y (N, I64), optional lam and perm (mixup)")
      ->required();
  cmd->add_option("--out", a->out, "safetensors to write: loss, logits, grad.*, buffer.*, param.*")->required();
  CLI::Option* dtype = cmd->add_option("--dtype", a->dtype, "precision of the whole computation")
      ->capture_default_str()->check(CLI::IsMember({"f32", "f64"}));
  add_precision_option(*cmd, a->precision,
                       "f32, or bf16: conv2d and linear in bfloat16 with float32 accumulation, as PyTorch's CPU "
                       "autocast (implies --dtype f32)")
      ->capture_default_str();
  cmd->add_flag("--eval", a->eval, "eval mode: BatchNorm uses and keeps its running statistics");
  cmd->add_option("--sgd-lr", a->sgd_lr, "also take one SGD step and dump param.<name>");
  cmd->add_option("--sgd-momentum", a->sgd_momentum, "momentum (buffers start at zero)")->capture_default_str();
  cmd->add_option("--sgd-weight-decay", a->sgd_weight_decay, "coupled L2 weight decay")->capture_default_str();
  cmd->add_flag("--sgd-nesterov", a->sgd_nesterov, "Nesterov momentum");
  add_threads_option(*cmd, a->threads);
  cmd->callback([a, dtype] {
    a->dtype_given = dtype->count() > 0;
    run_audit(*a);
  });
}

}  // namespace mg::cli
