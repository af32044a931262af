// Reading whole files into memory and inflating gzip streams, with errors that name the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mg::data {

using Bytes = std::vector<uint8_t>;

// The bytes of `path`; throws mg::Error naming the path when it is missing, a directory or unreadable.
Bytes read_file(const std::string& path);

// True when `bytes` start with the gzip magic number 1f 8b.
bool is_gzip(const Bytes& bytes);

// The inflated contents of a gzip stream (concatenated members allowed). `name` is used in messages.
// Throws mg::Error on corrupt data, a stream that is cut short, or output larger than max_output bytes.
Bytes gunzip(const uint8_t* data, size_t size, const std::string& name, size_t max_output = size_t(1) << 34);
inline Bytes gunzip(const Bytes& bytes, const std::string& name) { return gunzip(bytes.data(), bytes.size(), name); }

// read_file, then gunzip when the contents start with the gzip magic number.
Bytes read_maybe_gzip(const std::string& path);

// Writes bytes to `path`; throws naming the path on failure.
void write_file(const std::string& path, const Bytes& bytes);

}  // namespace mg::data
