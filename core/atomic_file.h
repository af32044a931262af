// Atomic file replacement, the one way mixgrad persists a file: the bytes go to `path.tmp.<pid>` in the same
// directory, which is fsynced, renamed over `path`, and the directory is fsynced so the rename itself survives
// a power loss. A reader (or a run killed at any instant) sees either the old file or the complete new one;
// on any failure `path` is left untouched and the temporary file is removed.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mg {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);  // creates the temporary file; throws naming it on failure
  ~AtomicFileWriter();                          // removes the temporary file unless commit() succeeded
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, uint64_t bytes);  // all of it (retrying short writes and EINTR) or throws
  void commit();                                 // fsync, close, rename over path, fsync the directory

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return tmp_; }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// The whole file in one call.
void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace mg
