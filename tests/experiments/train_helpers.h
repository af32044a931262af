// Helpers for the tests that run `mixgrad train`: a temporary directory, a run's metrics and weights, a
// command line, and a child process that can be signalled.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/safetensors.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"

namespace mg::test {
namespace fs = std::filesystem;

inline std::vector<nlohmann::json> read_metrics(const fs::path& run) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json row = nlohmann::json::parse(line);
    row.erase("seconds");  // timing differs between runs; everything else must not
    row.erase("images_per_s");
    rows.push_back(row);
  }
  return rows;
}

inline bool same_weights(const fs::path& a, const fs::path& b) {
  const mg::SafeTensorsFile x = mg::read_safetensors((a / "checkpoint.safetensors").string());
  const mg::SafeTensorsFile y = mg::read_safetensors((b / "checkpoint.safetensors").string());
  if (x.tensors.size() != y.tensors.size()) return false;
  for (std::size_t i = 0; i < x.tensors.size(); ++i) {
    if (x.tensors[i].name != y.tensors[i].name) return false;
    if (x.tensors[i].integer ? x.tensors[i].ints != y.tensors[i].ints
                             : !mg::test::bitwise_equal(x.tensors[i].values, y.tensors[i].values))
      return false;
  }
  return true;
}

inline std::string train_command(const fs::path& data, const fs::path& out, const std::string& extra) {
  return mg::test::mixgrad_binary() + " train --dataset cifar10 --data " + data.string() + " --out " + out.string() +
         " --model smallcnn-bn --epochs 3 --batch-size 16 --lr 0.05 --schedule onecycle --mixup-alpha 1 --quiet " + extra;
}


inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A shell command run in the background with its output in a file; the process is the command itself
// (exec), so signals reach it directly. Killed if still running at scope exit.
struct Child {
  pid_t pid = -1;
  fs::path log;
  Child(const std::string& command, fs::path log_path) : log(std::move(log_path)) {
    pid = fork();
    if (pid == 0) {
      const std::string line = "exec " + command + " > " + log.string() + " 2>&1";
      execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  // Waits until `ready()` holds (polling), at most `seconds`; false on timeout or when the child exited.
  template <class Ready>
  bool wait_until(Ready ready, double seconds = 120) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (ready()) return true;
      if (waitpid(pid, nullptr, WNOHANG) != 0) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  // Waits at most `seconds` for the exit; its status as wait() gives it, or -1 if still running.
  int wait_for(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  // Waits for the exit and returns its status (128 + signal when killed by a signal).
  int wait() {
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string output() const { return read_file(log); }
};

}  // namespace mg::test
