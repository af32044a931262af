#include "experiments/audit.h"

#include <cmath>

#include "autograd/functions.h"
#include "experiments/mixup.h"
#include "nn/functional.h"

namespace mg::audit {

namespace {

// The integers of an I64 entry of shape (n), or an error naming the file and tensor.
std::vector<int64_t> read_index_vector(const SafeTensorsFile& file, const std::string& name, int64_t n) {
  const SafeTensor& t = file.at(name);
  MG_CHECK(t.integer, "batch ", file.path, ": '", name, "' must be I64, got ", t.dtype());
  MG_CHECK(t.shape == Shape{n}, "batch ", file.path, ": '", name, "' has shape ", to_string(t.shape),
           ", expected [", n, "] (one per sample of x)");
  return t.ints;
}

// A dump entry for a tensor: floating as is, integer buffers as I64.
SafeTensor dump_entry(const std::string& name, const Tensor& value, bool integer) {
  if (!integer) return SafeTensor::floating(name, value.clone());
  std::vector<int64_t> ints;
  for (double v : value.to_vector()) ints.push_back(static_cast<int64_t>(std::llround(v)));
  return SafeTensor::int64(name, std::move(ints), value.shape());
}

}  // namespace

AuditBatch read_audit_batch(const std::string& path, DType dtype, int64_t num_classes, int64_t in_channels) {
  const SafeTensorsFile file = read_safetensors(path);
  for (const SafeTensor& t : file.tensors)
    MG_CHECK(t.name == "x" || t.name == "y" || t.name == "lam" || t.name == "perm", "batch ", path,
             ": unexpected tensor '", t.name, "' (expected x, y and optionally lam and perm)");
  AuditBatch b;
  const SafeTensor& x = file.at("x");
  MG_CHECK(!x.integer, "batch ", path, ": 'x' must be F32 or F64, got I64");
  MG_CHECK(x.shape.size() == 4 && x.shape[0] > 0 && x.shape[1] == in_channels, "batch ", path, ": 'x' has shape ",
           to_string(x.shape), ", expected [N, ", in_channels, ", H, W] with N > 0");
  b.x = x.to_tensor(dtype).clone();
  const int64_t n = x.shape[0];
  b.y = read_index_vector(file, "y", n);
  for (int64_t i = 0; i < n; ++i)
    MG_CHECK(b.y[i] >= 0 && b.y[i] < num_classes, "batch ", path, ": y[", i, "] = ", b.y[i], " is not a class in [0, ",
             num_classes, ")");

  MG_CHECK((file.find("lam") == nullptr) == (file.find("perm") == nullptr), "batch ", path,
           ": the mixup loss needs both 'lam' and 'perm', found only '", file.find("lam") ? "lam" : "perm", "'");
  if (file.find("lam") == nullptr) return b;
  const SafeTensor& lam = file.at("lam");
  MG_CHECK(!lam.integer && lam.values.numel() == 1, "batch ", path, ": 'lam' must be one F32/F64 value, got ",
           lam.dtype(), " shape ", to_string(lam.shape));
  b.mixup = true;
  b.lam = lam.values.item();
  MG_CHECK(b.lam >= 0.0 && b.lam <= 1.0, "batch ", path, ": lam = ", b.lam, " is not in [0, 1]");
  b.perm = read_index_vector(file, "perm", n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = b.perm[i];
    MG_CHECK(p >= 0 && p < n && !seen[p], "batch ", path, ": perm is not a permutation of 0..", n - 1, " (perm[", i,
             "] = ", p, ")");
    seen[p] = true;
  }
  return b;
}

void load_weights(nn::Module& model, const std::string& path) {
  const SafeTensorsFile file = read_safetensors(path);
  std::vector<nn::StateEntry> entries;
  for (const SafeTensor& t : file.tensors)
    entries.push_back({t.name, t.to_tensor(t.integer ? DType::F64 : model.dtype()), t.integer});
  try {
    model.load_state_dict(entries);
  } catch (const Error& e) {
    MG_FAIL("weights ", path, ": ", e.what());
  }
}

std::vector<SafeTensor> audit_step(nn::Module& model, const AuditBatch& batch, const AuditOptions& options) {
  model.train(!options.eval);
  const Variable x(batch.x.to(model.dtype()), /*requires_grad=*/true);
  experiments::MixupPlan plan;
  plan.lam = {batch.mixup ? batch.lam : 1.0};
  plan.perm = batch.perm;
  if (!batch.mixup)
    for (int64_t i = 0; i < x.size(0); ++i) plan.perm.push_back(i);

  const Variable logits = model(experiments::mix_inputs(x, plan));
  const Variable loss = experiments::mixup_loss(logits, batch.y, plan);
  loss.backward();

  std::vector<SafeTensor> out = {SafeTensor::floating("loss", loss.data().clone()),
                                 SafeTensor::floating("logits", logits.data().clone())};
  const auto params = model.named_parameters();
  for (const auto& [name, p] : params) {
    const Tensor g = p->grad().defined() ? p->grad().data() : Tensor::zeros(p->shape(), p->dtype());
    out.push_back(SafeTensor::floating("grad." + name, g.clone()));
  }
  out.push_back(SafeTensor::floating("grad.x", x.grad().data().clone()));
  for (const nn::StateEntry& b : model.named_buffers())
    out.push_back(dump_entry("buffer." + b.name, b.value, b.integer));
  if (options.sgd) {
    nn::SGD sgd(params, *options.sgd);
    sgd.step();
    for (const auto& [name, p] : params) out.push_back(SafeTensor::floating("param." + name, p->data().clone()));
  }
  return out;
}

}  // namespace mg::audit
