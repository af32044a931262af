#include "experiments/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "core/error.h"

namespace mg::experiments {

RunLock::RunLock(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kFileName).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  MG_CHECK(fd_ >= 0, "cannot lock run directory ", dir, ": cannot open ", path, " (", std::strerror(errno), ")");
  int locked;
  do locked = ::flock(fd_, LOCK_EX | LOCK_NB);
  while (locked != 0 && errno == EINTR);
  if (locked != 0) {
    const int err = errno;
    char pid[32] = {};
    const ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
    ::close(fd_);
    fd_ = -1;
    MG_CHECK(err != EWOULDBLOCK, "run directory ", dir, " is in use by process ",
             n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string("(unknown PID)"), " (it holds ",
             path, "); wait for it to finish or stop it first");
    MG_FAIL("cannot lock run directory ", dir, ": flock on ", path, " failed (", std::strerror(err), ")");
  }
  // The PID is only a message for the next writer; the flock is the lock.
  const std::string text = std::to_string(::getpid());
  const bool recorded = ::ftruncate(fd_, 0) == 0 &&
                        ::pwrite(fd_, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
  (void)recorded;  // a lock whose PID could not be written still protects the run
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

}  // namespace mg::experiments
