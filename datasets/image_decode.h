// Decoding one PNG, JPEG or BMP image held in memory (stb_image), with errors that name the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "datasets/file_io.h"

namespace mg::data {

enum class ImageFormat { Png, Jpeg, Bmp, Unknown };

// The format announced by the first bytes (PNG signature, JPEG SOI marker, BMP "BM").
ImageFormat sniff_image_format(const uint8_t* data, size_t size);

// Width, height and channels stored in the file (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), read from the header.
struct ImageInfo {
  int64_t width = 0, height = 0, channels = 0;
};
ImageInfo image_info(const uint8_t* data, size_t size, const std::string& name);

// Decodes an image to `channels` (1 = gray, 3 = RGB) interleaved bytes, H×W×channels row-major.
// Throws mg::Error naming the file on an unknown format, corrupt data, or more than max_pixels pixels.
// `info`, when given, receives the decoded size and the file's own channel count.
constexpr int64_t kMaxImagePixels = int64_t(1) << 26;
Bytes decode_image(const uint8_t* data, size_t size, int channels, const std::string& name, ImageInfo* info = nullptr,
                   int64_t max_pixels = kMaxImagePixels);

}  // namespace mg::data
