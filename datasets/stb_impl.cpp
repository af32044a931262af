// The one translation unit that compiles stb_image (PNG, JPEG and BMP decoders only) and stb_image_write.
// Other files include the headers without the *_IMPLEMENTATION macros. See image_guard.h for the checks that
// run before stb_image sees a file.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_MAX_DIMENSIONS (1 << 14)
// Zeroed allocations: stb_image 2.27 leaves its JPEG decoder state uninitialised, and a scan that names a
// Huffman table the file never defined then reads garbage (fuzz_image found it; 2.28 zeroes the state too).
#include <cstdlib>
#define STBI_MALLOC(size) std::calloc(1, size)
#define STBI_REALLOC(p, size) std::realloc(p, size)
#define STBI_FREE(p) std::free(p)
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop
