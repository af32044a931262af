#include "datasets/file_io.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"

namespace mg::data {

namespace fs = std::filesystem;

Bytes read_file(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  MG_CHECK(fs::exists(status), "missing file: ", path, " does not exist");
  MG_CHECK(!fs::is_directory(status), "cannot read ", path, ": it is a directory, expected a file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  MG_CHECK(f != nullptr, "cannot open ", path, ": ", std::strerror(errno));
  const auto expected = fs::file_size(path, ec);
  Bytes bytes(ec ? 0 : static_cast<size_t>(expected));  // then read on to the end, in case the size changed
  size_t have = std::fread(bytes.data(), 1, bytes.size(), f);
  bytes.resize(have);
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof(chunk), f)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  MG_CHECK(!failed, "cannot read ", path, ": read error after ", bytes.size(), " bytes");
  return bytes;
}

bool is_gzip(const Bytes& bytes) { return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

Bytes gunzip(const uint8_t* data, size_t size, const std::string& name, size_t max_output) {
  MG_CHECK(size >= 2 && data[0] == 0x1f && data[1] == 0x8b, name, ": not a gzip stream (no 1f 8b magic number)");
  z_stream zs{};
  MG_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, name, ": zlib inflateInit2 failed");
  // The gzip trailer's last 4 bytes hold the uncompressed size mod 2^32: a good first guess for the buffer.
  size_t guess = size >= 18 ? (size_t(data[size - 4]) | size_t(data[size - 3]) << 8 | size_t(data[size - 2]) << 16 |
                               size_t(data[size - 1]) << 24)
                            : 0;
  guess = std::min(guess, size * 1032);  // deflate cannot compress better than about 1032:1
  Bytes out(std::min<size_t>(std::max<size_t>(guess, 1024), max_output + 1));
  size_t pos = 0, produced = 0;
  int ret = Z_OK;
  while (true) {
    if (produced == out.size()) {
      MG_CHECK(out.size() <= max_output, name, ": gzip stream inflates to more than ", max_output, " bytes");
      out.resize(std::min(out.size() * 2, max_output + 1));
    }
    const size_t in_chunk = std::min<size_t>(size - pos, std::numeric_limits<uInt>::max());
    const size_t out_chunk = std::min<size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
    zs.next_in = const_cast<Bytef*>(data + pos);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(out_chunk);
    ret = inflate(&zs, Z_NO_FLUSH);
    pos += in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (ret == Z_STREAM_END) {
      // Another gzip member may follow (gzip allows concatenation); anything else after the end is an error.
      if (pos == size) break;
      if (size - pos >= 2 && data[pos] == 0x1f && data[pos + 1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      inflateEnd(&zs);
      MG_FAIL(name, ": ", size - pos, " bytes of trailing garbage after the end of the gzip stream at byte ", pos);
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR && zs.avail_out > 0) {  // no progress possible: the input ran out mid-stream
      inflateEnd(&zs);
      MG_FAIL(name, ": truncated gzip stream: the data ends after ", size, " compressed bytes (", produced,
              " bytes inflated) before the gzip stream is complete; re-download the file");
    }
    if (ret == Z_BUF_ERROR) continue;  // output full: grow and go on
    const std::string msg = zs.msg ? zs.msg : "error " + std::to_string(ret);
    inflateEnd(&zs);
    MG_FAIL(name, ": corrupt gzip data at compressed byte ", pos, ": ", msg);
  }
  inflateEnd(&zs);
  MG_CHECK(produced <= max_output, name, ": gzip stream inflates to more than ", max_output, " bytes");
  out.resize(produced);
  return out;
}

Bytes read_maybe_gzip(const std::string& path) {
  Bytes bytes = read_file(path);
  return is_gzip(bytes) ? gunzip(bytes, path) : bytes;
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  MG_CHECK(f != nullptr, "cannot write ", path, ": ", std::strerror(errno));
  const size_t put = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f);
  const bool ok = std::fclose(f) == 0 && put == bytes.size();
  MG_CHECK(ok, "cannot write ", path, ": wrote ", put, " of ", bytes.size(), " bytes");
}

}  // namespace mg::data
