// TrainConfig <-> JSON (config.json and the copy inside every checkpoint).
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
          {"dtype", dtype},             {"precision", precision}};
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j) {
  TrainConfig c;
  auto get = [&](const char* key, auto& field) {
    if (!j.contains(key)) return;
    try {
      j.at(key).get_to(field);
    } catch (const std::exception& e) {
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
  return c;
}

}  // namespace mg::experiments
