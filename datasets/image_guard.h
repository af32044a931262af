// Structural checks in front of stb_image (Debian's 2.27), run before it sees a file:
//  - JPEG: stb does not check that a Huffman table (DHT segment) has at most 256 codes and writes past its
//    tables when one has more (fixed upstream in 2.28; found by datasets/fuzz/fuzz_image.cpp).
//  - PNG: stb allocates a chunk's declared length before reading it, so a 100-byte file can ask for 2 GiB;
//    and an empty first IDAT chunk makes it call memcpy with a null pointer (undefined behaviour).
// The checks reject only files that stb would also fail on, with a message that names the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mg::data {

// Throws mg::Error naming `name` when any DHT segment stb_image could read declares more than 256 codes.
// Before the first scan it walks the segments as stb does; from the first SOS on it checks every FF C4
// (a superset of the DHT markers stb can reach there, as entropy-coded data has no unescaped FF).
void check_jpeg_huffman_tables(const uint8_t* data, size_t size, const std::string& name);

// Throws mg::Error naming `name` when a PNG chunk declares more bytes than the file has left.
void check_png_chunk_lengths(const uint8_t* data, size_t size, const std::string& name);

// When the PNG has empty IDAT chunks before its first non-empty one, fills `out` with a copy without them (they
// hold no pixels) and returns true; otherwise returns false. Expects check_png_chunk_lengths to have passed.
bool drop_leading_empty_idat(const uint8_t* data, size_t size, std::vector<uint8_t>& out);

}  // namespace mg::data
