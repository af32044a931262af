// TrainConfig <-> JSON (config.json and the copy inside every checkpoint).
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "experiments/train.h"

namespace mg::experiments {

nlohmann::json TrainConfig::to_json() const {
  return {{"dataset", dataset},         {"data", data_dir},
          {"model", model},             {"epochs", epochs},
          {"batch_size", batch_size},   {"lr", lr},
          {"momentum", momentum},       {"nesterov", nesterov},
          {"weight_decay", weight_decay}, {"schedule", schedule},
          {"milestones", milestones},   {"gamma", gamma},
          {"pct_start", pct_start},     {"warmup_epochs", warmup_epochs},
          {"mixup_alpha", mixup_alpha}, {"mixup_mode", mixup_mode},
          {"augment", augment},         {"train_subset", train_subset},
          {"eval_train_subset", eval_train_subset}, {"seed", seed},
          {"dtype", dtype},             {"precision", precision},
          {"shards", shards},           {"dropout", dropout}};
}

namespace {

// Reads one JSON value into a field of its exact kind: nlohmann's own conversions would turn 2.5 into the
// integer 2, true into 1, and a float beyond int64's range into undefined behaviour (found by fuzz_config).
void read_value(const nlohmann::json& v, int64_t& out) {
  MG_CHECK(v.is_number_integer() && (!v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t(INT64_MAX)),
           "expected an integer");
  out = v.get<int64_t>();
}
void read_value(const nlohmann::json& v, uint64_t& out) {
  MG_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), "expected an integer >= 0");
  out = v.get<uint64_t>();
}
void read_value(const nlohmann::json& v, double& out) {
  MG_CHECK(v.is_number(), "expected a number");
  out = v.get<double>();
}
void read_value(const nlohmann::json& v, bool& out) {
  MG_CHECK(v.is_boolean(), "expected true or false");
  out = v.get<bool>();
}
void read_value(const nlohmann::json& v, std::string& out) {
  MG_CHECK(v.is_string(), "expected a string");
  out = v.get<std::string>();
}
void read_value(const nlohmann::json& v, std::vector<int64_t>& out) {
  MG_CHECK(v.is_array(), "expected an array of integers");
  out.assign(v.size(), 0);
  for (std::size_t i = 0; i < v.size(); ++i) read_value(v[i], out[i]);
}

}  // namespace

TrainConfig TrainConfig::from_json(const nlohmann::json& j) {
  TrainConfig c;
  auto get = [&](const char* key, auto& field) {
    if (!j.contains(key)) return;
    try {
      read_value(j.at(key), field);
    } catch (const Error& e) {
      MG_FAIL("config: bad value for '", key, "': ", j.at(key).dump(), " (", e.what(), ")");
    }
  };
  MG_CHECK(j.is_object(), "config: expected a JSON object, got ", j.dump());
  get("dataset", c.dataset);
  get("data", c.data_dir);
  get("model", c.model);
  get("epochs", c.epochs);
  get("batch_size", c.batch_size);
  get("lr", c.lr);
  get("momentum", c.momentum);
  get("nesterov", c.nesterov);
  get("weight_decay", c.weight_decay);
  get("schedule", c.schedule);
  get("milestones", c.milestones);
  get("gamma", c.gamma);
  get("pct_start", c.pct_start);
  get("warmup_epochs", c.warmup_epochs);
  get("mixup_alpha", c.mixup_alpha);
  get("mixup_mode", c.mixup_mode);
  get("augment", c.augment);
  get("train_subset", c.train_subset);
  get("eval_train_subset", c.eval_train_subset);
  get("seed", c.seed);
  get("dtype", c.dtype);
  get("precision", c.precision);  // absent in runs from before bf16: f32
  get("shards", c.shards);        // absent in runs from before data-parallel training: 1
  get("dropout", c.dropout);      // absent in runs from before --dropout: 0
  return c;
}

void TrainConfig::validate() const {
  auto finite_at_least = [](const char* key, double v, double lowest) {
    MG_CHECK(std::isfinite(v) && v >= lowest, "config: '", key, "' is ", v, ", expected a finite number >= ", lowest);
  };
  auto one_of = [](const char* key, const std::string& v, std::initializer_list<const char*> accepted) {
    std::string list;
    for (const char* a : accepted) {
      if (v == a) return;
      list += list.empty() ? a : std::string(", ") + a;
    }
    MG_FAIL("config: '", key, "' is '", v, "', expected one of ", list);
  };
  MG_CHECK(!dataset.empty() && !model.empty(), "config: 'dataset' and 'model' must be named, got '", dataset, "' and '",
           model, "'");
  MG_CHECK(epochs > 0 && batch_size > 0, "config: 'epochs' and 'batch_size' must be positive, got ", epochs, " and ",
           batch_size);
  finite_at_least("lr", lr, 0.0);
  finite_at_least("momentum", momentum, 0.0);
  finite_at_least("weight_decay", weight_decay, 0.0);
  MG_CHECK(!nesterov || momentum > 0.0, "config: 'nesterov' needs a positive 'momentum', got ", momentum);
  one_of("schedule", schedule, {"constant", "multistep", "cosine", "onecycle"});
  for (int64_t m : milestones) MG_CHECK(m >= 0, "config: 'milestones' must be epochs >= 0, got ", m);
  finite_at_least("gamma", gamma, 0.0);
  MG_CHECK(std::isfinite(pct_start) && pct_start >= 0.0 && pct_start <= 1.0, "config: 'pct_start' is ", pct_start,
           ", expected a number in [0, 1]");
  MG_CHECK(warmup_epochs >= 0, "config: 'warmup_epochs' must be >= 0, got ", warmup_epochs);
  finite_at_least("mixup_alpha", mixup_alpha, 0.0);
  one_of("mixup_mode", mixup_mode, {"batch", "elem"});
  MG_CHECK(train_subset == -1 || train_subset > 0, "config: 'train_subset' is ", train_subset,
           ", expected -1 (all) or a positive count");
  MG_CHECK(eval_train_subset == -1 || eval_train_subset > 0, "config: 'eval_train_subset' is ", eval_train_subset,
           ", expected -1 (as trained) or a positive count");
  MG_CHECK(shards > 0 && (shards & (shards - 1)) == 0, "config: 'shards' is ", shards,
           ", expected a power of two (1, 2, 4, 8, ...)");
  MG_CHECK(std::isfinite(dropout) && dropout >= 0.0 && dropout < 1.0, "config: 'dropout' is ", dropout,
           ", expected a probability in [0, 1)");
  MG_CHECK(dropout == 0.0 || model == "wrn-16-8" || model == "wrn-28-10", "config: 'dropout' is ", dropout, " for model ",
           model, "; dropout applies to wrn-16-8 and wrn-28-10 only");
  one_of("dtype", dtype, {"f32", "f64"});
  one_of("precision", precision, {"f32", "bf16"});
  MG_CHECK(precision == "f32" || dtype == "f32", "config: precision ", precision,
           " autocasts a float32 model; it cannot be combined with dtype ", dtype);
}

}  // namespace mg::experiments
