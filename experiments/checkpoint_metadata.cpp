#include "experiments/checkpoint_metadata.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace mg::experiments {
namespace {

// A double as C99 hex-float text, which reads back to the same bits.
std::string exact_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

class MetadataReader {
 public:
  MetadataReader(const std::string& path, const std::map<std::string, std::string>& metadata)
      : path_(path), metadata_(metadata) {}

  const std::string& text(const char* key, const std::string* fallback = nullptr) const {
    const auto it = metadata_.find(key);
    if (it != metadata_.end()) return it->second;
    MG_CHECK(fallback != nullptr, path_, " is not a mixgrad checkpoint (no '", key, "' in its metadata)");
    return *fallback;
  }
  // Optional counts and doubles are absent in checkpoints written before mid-epoch ones existed: 0.
  int64_t count(const char* key, bool optional = false) const {
    const std::string& t = text(key, optional ? &zero_ : nullptr);
    errno = 0;
    char* end = nullptr;
    const bool digits_first = !t.empty() && t[0] >= '0' && t[0] <= '9';  // strtoll would skip spaces and signs
    const long long v = digits_first ? std::strtoll(t.c_str(), &end, 10) : -1;
    MG_CHECK(digits_first && errno == 0 && end == t.c_str() + t.size() && v >= 0, path_, ": checkpoint metadata '",
             key, "' is '", t, "', expected a non-negative integer");
    return v;
  }
  double real(const char* key) const {
    const std::string& t = text(key, &zero_);
    char* end = nullptr;
    const double v = t.empty() ? 0.0 : std::strtod(t.c_str(), &end);
    MG_CHECK(!t.empty() && end == t.c_str() + t.size(), path_, ": checkpoint metadata '", key, "' is '", t,
             "', expected a number");
    return v;
  }
  nlohmann::json json(const char* key) const {
    try {
      return nlohmann::json::parse(text(key));
    } catch (const nlohmann::json::exception& e) {
      MG_FAIL(path_, ": checkpoint metadata '", key, "' is not valid JSON: ", e.what());
    }
  }

 private:
  const std::string& path_;
  const std::map<std::string, std::string>& metadata_;
  const std::string zero_ = "0";
};

}  // namespace

std::map<std::string, std::string> checkpoint_metadata(const CheckpointPosition& p) {
  return {{"format", kCheckpointFormat},
          {"epochs_done", std::to_string(p.epochs_done)},
          {"batches_done", std::to_string(p.batches_done)},
          {"epoch_objective_sum", exact_text(p.epoch_objective_sum)},
          {"epoch_samples", std::to_string(p.epoch_samples)},
          {"epoch_seconds", exact_text(p.epoch_seconds)},
          {"config", p.config.dump()},
          {"history", p.history.dump()}};
}

CheckpointPosition parse_checkpoint_metadata(const std::string& path, const std::map<std::string, std::string>& metadata) {
  const MetadataReader m(path, metadata);
  MG_CHECK(m.text("format") == kCheckpointFormat, path, ": unsupported checkpoint format '", m.text("format"),
           "', expected ", kCheckpointFormat);
  CheckpointPosition p;
  p.epochs_done = m.count("epochs_done");
  p.batches_done = m.count("batches_done", true);
  p.epoch_objective_sum = m.real("epoch_objective_sum");
  p.epoch_samples = m.count("epoch_samples", true);
  p.epoch_seconds = m.real("epoch_seconds");
  p.config = m.json("config");
  p.history = m.json("history");
  MG_CHECK(p.config.is_object(), path, ": checkpoint metadata 'config' must be a JSON object, got ", p.config.dump());
  MG_CHECK(p.history.is_array() && p.history.size() == static_cast<std::size_t>(p.epochs_done), path,
           ": checkpoint metadata 'history' must be an array of ", p.epochs_done, " epoch record(s) (epochs_done), got ",
           p.history.is_array() ? std::to_string(p.history.size()) + " element(s)" : p.history.type_name());
  for (const nlohmann::json& epoch : p.history)
    MG_CHECK(epoch.is_object(), path, ": checkpoint metadata 'history' holds ", epoch.dump(), ", expected an object per epoch");
  return p;
}

}  // namespace mg::experiments
