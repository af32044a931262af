// An exclusive lock on a run directory, so two processes never write the same run. It is an flock(2) on
// DIR/mixgrad.lock, which also records the holder's PID for the error message; the kernel drops the lock
// when its holder exits for any reason (kill -9 included), so a lock is never stale and needs no cleanup.
#pragma once
#include <string>

namespace mg::experiments {

class RunLock {
 public:
  RunLock() = default;
  // Takes the lock on existing directory `dir` or throws naming the directory and the PID that holds it.
  explicit RunLock(const std::string& dir);
  ~RunLock();
  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  static constexpr const char* kFileName = "mixgrad.lock";

 private:
  int fd_ = -1;
};

}  // namespace mg::experiments
