// libFuzzer target: arbitrary bytes as one image file of an image folder (PNG, JPEG or BMP via stb_image),
// decoded to 3 and to 1 channels.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "datasets/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (int channels : {3, 1}) {
    try {
      mg::data::ImageInfo info;
      // At most 2^20 pixels: large enough for every code path, small enough for many runs per second.
      const mg::data::Bytes px = mg::data::decode_image(data, size, channels, "fuzz.img", &info, int64_t(1) << 20);
      if (px.size() != size_t(info.width * info.height * channels)) __builtin_trap();
    } catch (const mg::Error&) {
    }
  }
  return 0;
}
