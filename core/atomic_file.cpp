#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace mg {
namespace {

// Retries a system call interrupted by a signal (training installs SIGINT/SIGTERM handlers).
template <class Call>
auto retry_eintr(Call call) {
  for (;;) {
    const auto result = call();
    if (result >= 0 || errno != EINTR) return result;
  }
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  fd_ = retry_eintr([&] { return ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); });
  MG_CHECK(fd_ >= 0, "cannot write ", path_, ": cannot create temporary file ", tmp_, " (", std::strerror(errno),
           ")");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  ::unlink(tmp_.c_str());
}

void AtomicFileWriter::write(const void* data, uint64_t bytes) {
  MG_CHECK(fd_ >= 0 && !committed_, "cannot write ", path_, ": the file was already committed");
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const uint64_t chunk = std::min<uint64_t>(bytes, uint64_t{1} << 30);
    const ssize_t n = retry_eintr([&] { return ::write(fd_, p, chunk); });
    MG_CHECK(n > 0, "cannot write ", path_, ": write to ", tmp_, " failed (",
             n == 0 ? "no progress" : std::strerror(errno), ")");
    p += n;
    bytes -= static_cast<uint64_t>(n);
  }
}

void AtomicFileWriter::commit() {
  MG_CHECK(fd_ >= 0 && !committed_, "cannot write ", path_, ": the file was already committed");
  MG_CHECK(retry_eintr([&] { return ::fsync(fd_); }) == 0, "cannot write ", path_, ": fsync of ", tmp_,
           " failed (", std::strerror(errno), ")");
  const int closed = ::close(fd_);  // never retried: on Linux the descriptor is gone even after EINTR
  fd_ = -1;
  MG_CHECK(closed == 0 || errno == EINTR, "cannot write ", path_, ": close of ", tmp_, " failed (",
           std::strerror(errno), ")");
  MG_CHECK(::rename(tmp_.c_str(), path_.c_str()) == 0, "cannot write ", path_, ": cannot rename ", tmp_,
           " over it (", std::strerror(errno), ")");
  committed_ = true;
  // Make the rename durable. Best effort: some file systems refuse fsync on a directory.
  const std::filesystem::path dir = std::filesystem::absolute(path_).parent_path();
  const int dfd = retry_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (dfd >= 0) {
    retry_eintr([&] { return ::fsync(dfd); });
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFileWriter file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace mg
