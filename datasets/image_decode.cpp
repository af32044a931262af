#include "datasets/image_decode.h"

#include <stb_image.h>

#include <climits>
#include <cstring>

#include "core/error.h"
#include "datasets/image_guard.h"

namespace mg::data {

ImageFormat sniff_image_format(const uint8_t* data, size_t size) {
  static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (size >= 8 && std::memcmp(data, png, 8) == 0) return ImageFormat::Png;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::Jpeg;
  if (size >= 2 && data[0] == 'B' && data[1] == 'M') return ImageFormat::Bmp;
  return ImageFormat::Unknown;
}

ImageInfo image_info(const uint8_t* data, size_t size, const std::string& name) {
  const ImageFormat format = sniff_image_format(data, size);
  MG_CHECK(format != ImageFormat::Unknown, name, ": not a PNG, JPEG or BMP image (unrecognised first bytes)");
  if (format == ImageFormat::Jpeg) check_jpeg_huffman_tables(data, size, name);
  if (format == ImageFormat::Png) check_png_chunk_lengths(data, size, name);
  MG_CHECK(size <= size_t(INT_MAX), name, ": image file of ", size, " bytes is too large");
  int w = 0, h = 0, c = 0;
  MG_CHECK(stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &c) == 1, name,
           ": corrupt image header (", stbi_failure_reason(), ")");
  return {w, h, c};
}

Bytes decode_image(const uint8_t* data, size_t size, int channels, const std::string& name, ImageInfo* info_out,
                   int64_t max_pixels) {
  MG_CHECK(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got ", channels);
  const ImageInfo info = image_info(data, size, name);
  MG_CHECK(info.width > 0 && info.height > 0 && info.width * info.height <= max_pixels, name, ": image size ",
           info.width, "x", info.height, " is outside 1..", max_pixels, " pixels");
  Bytes cleaned;
  if (sniff_image_format(data, size) == ImageFormat::Png && drop_leading_empty_idat(data, size, cleaned)) {
    data = cleaned.data();
    size = cleaned.size();
  }
  int w = 0, h = 0, c = 0;
  uint8_t* pixels = stbi_load_from_memory(data, static_cast<int>(size), &w, &h, &c, channels);
  MG_CHECK(pixels != nullptr, name, ": corrupt or unsupported image (", stbi_failure_reason(), ")");
  Bytes out(pixels, pixels + size_t(w) * size_t(h) * size_t(channels));
  stbi_image_free(pixels);
  if (info_out) *info_out = {w, h, c};
  return out;
}

}  // namespace mg::data
