#include "experiments/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/safetensors.h"

namespace mg::experiments {
namespace fs = std::filesystem;

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  MG_CHECK(fd >= 0, "cannot write ", tmp, ": ", std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      MG_FAIL("cannot write ", tmp, ": ", std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    MG_FAIL("cannot write ", path, ": ", std::strerror(errno));
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MG_CHECK(in, "cannot read ", path, ": ", fs::exists(path) ? "permission denied or not a file" : "no such file");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void prepare_run_dir(const std::string& dir, bool resume, bool force) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    MG_CHECK(fs::is_directory(dir), "run directory ", dir, " exists and is not a directory");
    if (resume) return;
    MG_CHECK(force, "run directory ", dir, " already holds a run; pass --resume to continue it or --force to ",
             "overwrite it");
    for (const char* name : {"config.json", "metrics.jsonl", "checkpoint.safetensors", "robust.csv", "robust.json"})
      fs::remove(fs::path(dir) / name, ec);
    return;
  }
  MG_CHECK(!resume, "--resume: run directory ", dir, " does not exist or is empty");
  fs::create_directories(dir, ec);
  MG_CHECK(!ec, "cannot create run directory ", dir, ": ", ec.message());
}

std::string checkpoint_path(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoint.safetensors").string(); }

namespace {

constexpr const char* kFormat = "mixgrad-checkpoint-1";

// FNV-1a over every tensor's name and bytes, in order: detects corruption the format checks cannot.
std::string checksum(const std::vector<SafeTensor>& tensors) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  for (const SafeTensor& t : tensors) {
    mix(t.name.data(), t.name.size());
    if (t.integer) {
      mix(t.ints.data(), t.ints.size() * sizeof(int64_t));
    } else {
      const Tensor c = t.values.contiguous();
      mix(c.storage()->data() + c.offset() * dtype_size(c.dtype()), c.numel() * dtype_size(c.dtype()));
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void add_entries(std::vector<SafeTensor>& out, const std::string& prefix, const std::vector<nn::StateEntry>& entries) {
  for (const nn::StateEntry& e : entries) {
    if (e.integer) {
      const std::vector<double> v = e.value.to_vector();
      out.push_back(SafeTensor::int64(prefix + e.name, std::vector<int64_t>(v.begin(), v.end()), e.value.shape()));
    } else {
      out.push_back(SafeTensor::floating(prefix + e.name, e.value.contiguous()));
    }
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  std::vector<SafeTensor> tensors;
  add_entries(tensors, "model.", c.model);
  add_entries(tensors, "optim.", c.optimizer);
  write_safetensors(path, tensors,
                    {{"format", kFormat},
                     {"epochs_done", std::to_string(c.epochs_done)},
                     {"config", c.config.dump()},
                     {"history", c.history.dump()},
                     {"checksum", checksum(tensors)}});
}

Checkpoint load_checkpoint(const std::string& path) {
  const SafeTensorsFile file = read_safetensors(path);
  auto meta = [&](const char* key) -> const std::string& {
    auto it = file.metadata.find(key);
    MG_CHECK(it != file.metadata.end(), path, " is not a mixgrad checkpoint (no '", key, "' in its metadata)");
    return it->second;
  };
  MG_CHECK(meta("format") == kFormat, path, ": unsupported checkpoint format '", meta("format"), "', expected ", kFormat);
  MG_CHECK(meta("checksum") == checksum(file.tensors), path, ": checksum mismatch (stored ", meta("checksum"),
           ", computed ", checksum(file.tensors), "): the file is corrupt");
  Checkpoint c;
  try {
    c.epochs_done = std::stoll(meta("epochs_done"));
    c.config = nlohmann::json::parse(meta("config"));
    c.history = nlohmann::json::parse(meta("history"));
  } catch (const std::exception& e) {
    MG_FAIL(path, ": unreadable checkpoint metadata: ", e.what());
  }
  for (const SafeTensor& t : file.tensors) {
    const bool model = t.name.rfind("model.", 0) == 0, optim = t.name.rfind("optim.", 0) == 0;
    MG_CHECK(model || optim, path, ": unexpected tensor '", t.name, "' in a checkpoint");
    nn::StateEntry e{t.name.substr(6), t.integer ? t.to_tensor(DType::F64) : t.values, t.integer};
    (model ? c.model : c.optimizer).push_back(std::move(e));
  }
  return c;
}

}  // namespace mg::experiments
