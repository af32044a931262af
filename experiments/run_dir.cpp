#include "experiments/run_dir.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/safetensors.h"

namespace mg::experiments {
namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MG_CHECK(in, "cannot read ", path, ": ", fs::exists(path) ? "permission denied or not a file" : "no such file");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

namespace {

constexpr const char* kDamagedName = "checkpoint.damaged.safetensors";

// Whether `dir` holds anything besides its lock file.
bool holds_files(const fs::path& dir) {
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.path().filename() != RunLock::kFileName) return true;
  return false;
}

// Temporary files left by a writer killed mid-write (write_file_atomic's "*.tmp.<pid>", the checkpoint
// rotation's "*.link.<pid>"). Only the lock holder writes here, so once locked every one of them is stale.
void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp.") != std::string::npos || name.find(".link.") != std::string::npos) fs::remove(e.path(), ec);
  }
}

}  // namespace

RunLock prepare_run_dir(const std::string& dir, bool resume, bool force) {
  std::error_code ec;
  const bool exists = fs::exists(dir, ec);
  MG_CHECK(!exists || fs::is_directory(dir, ec), "run directory ", dir, " exists and is not a directory");
  MG_CHECK(exists || !resume, "--resume: run directory ", dir, " does not exist");
  fs::create_directories(dir, ec);
  MG_CHECK(!ec, "cannot create run directory ", dir, ": ", ec.message());
  RunLock lock(dir);  // before anything is removed or written
  remove_stale_temporaries(dir);
  if (holds_files(dir)) {
    if (resume) return lock;
    MG_CHECK(force, "run directory ", dir, " already holds a run; pass --resume to continue it or --force to ",
             "overwrite it");
    for (const std::string& path : {checkpoint_path(dir), previous_checkpoint_path(dir)}) fs::remove(path, ec);
    for (const char* name : {"config.json", "metrics.jsonl", "robust.csv", "robust.json", kDamagedName})
      fs::remove(fs::path(dir) / name, ec);
    return lock;
  }
  MG_CHECK(!resume, "--resume: run directory ", dir, " is empty");
  return lock;
}

std::string checkpoint_path(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoint.safetensors").string(); }
std::string previous_checkpoint_path(const std::string& run_dir) {
  return (fs::path(run_dir) / "checkpoint.prev.safetensors").string();
}

namespace {

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
      const Tensor c = t.values.contiguous();  // kept alive while its bytes are read
      const std::span<const std::byte> raw = c.bytes();
      mix(raw.data(), raw.size());
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
  std::map<std::string, std::string> metadata = checkpoint_metadata(c);
  metadata["checksum"] = checksum(tensors);
  write_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::string& path) {
  const SafeTensorsFile file = read_safetensors(path);
  Checkpoint c;
  static_cast<CheckpointPosition&>(c) = parse_checkpoint_metadata(path, file.metadata);
  const auto stored = file.metadata.find("checksum");
  MG_CHECK(stored != file.metadata.end(), path, " is not a mixgrad checkpoint (no 'checksum' in its metadata)");
  MG_CHECK(stored->second == checksum(file.tensors), path, ": checksum mismatch (stored ", stored->second,
           ", computed ", checksum(file.tensors), "): the file is corrupt");
  for (const SafeTensor& t : file.tensors) {
    const bool model = t.name.rfind("model.", 0) == 0, optim = t.name.rfind("optim.", 0) == 0;
    MG_CHECK(model || optim, path, ": unexpected tensor '", t.name, "' in a checkpoint");
    nn::StateEntry e{t.name.substr(6), t.integer ? t.to_tensor(DType::F64) : t.values, t.integer};
    (model ? c.model : c.optimizer).push_back(std::move(e));
  }
  return c;
}

void save_run_checkpoint(const std::string& run_dir, const Checkpoint& checkpoint) {
  const std::string current = checkpoint_path(run_dir), previous = previous_checkpoint_path(run_dir);
  std::error_code ec;
  if (fs::exists(current, ec)) {
    // Keep the current checkpoint as the previous one: a hard link (no copy) renamed into place, or a copy
    // where the file system has no hard links. `current` itself is untouched throughout.
    const std::string link = previous + ".link." + std::to_string(::getpid());
    fs::remove(link, ec);
    fs::create_hard_link(current, link, ec);
    if (!ec) {
      fs::rename(link, previous, ec);
      MG_CHECK(!ec, "cannot keep ", current, " as ", previous, ": ", ec.message());
    } else {
      write_file_atomic(previous, read_text(current));
    }
  }
  save_checkpoint(current, checkpoint);
  try {
    load_checkpoint(current);
  } catch (const Error& e) {
    MG_FAIL("the checkpoint just written does not verify (", e.what(), "); the previous one is kept as ", previous);
  }
}

Checkpoint load_run_checkpoint(const std::string& run_dir) {
  const std::string current = checkpoint_path(run_dir), previous = previous_checkpoint_path(run_dir);
  std::string newest_error;
  try {
    return load_checkpoint(current);
  } catch (const Error& e) {
    newest_error = e.what();
  }
  std::error_code ec;
  MG_CHECK(fs::exists(previous, ec), "cannot resume ", run_dir, ": ", newest_error, " (and there is no previous checkpoint ",
           previous, ")");
  Checkpoint c;
  try {
    c = load_checkpoint(previous);
  } catch (const Error& e) {
    MG_FAIL("cannot resume ", run_dir, ": the newest checkpoint is unusable (", newest_error,
            ") and so is the previous one (", e.what(), ")");
  }
  // Move the damaged file aside (kept for inspection), so the next save does not keep it as "previous".
  const std::string damaged = (fs::path(run_dir) / kDamagedName).string();
  if (fs::exists(current, ec)) fs::rename(current, damaged, ec);
  std::fprintf(stderr, "mixgrad: warning: the newest checkpoint is unusable (%s); resuming from the previous one, %s "
               "(%lld epochs and %lld batches done)%s%s\n", newest_error.c_str(), previous.c_str(),
               static_cast<long long>(c.epochs_done), static_cast<long long>(c.batches_done),
               fs::exists(damaged, ec) ? "; the damaged file is kept as " : "", fs::exists(damaged, ec) ? damaged.c_str() : "");
  return c;
}

}  // namespace mg::experiments
