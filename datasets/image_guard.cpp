#include "datasets/image_guard.h"

#include <algorithm>

#include "core/error.h"

namespace mg::data {

namespace {

// A byte reader that, like stb_image, reads 0 past the end.
struct Reader {
  const uint8_t* data;
  size_t size, pos;
  int get8() { return pos < size ? data[pos++] : (pos++, 0); }
  int get16() {
    const int hi = get8();
    return (hi << 8) | get8();
  }
  bool at_end() const { return pos >= size; }
};

// Reads the DHT segment whose length field is at r.pos the way stb's stbi__process_marker does, and throws
// when a table declares more than 256 codes.
void check_dht(Reader& r, const std::string& name, size_t marker_pos) {
  long remaining = r.get16() - 2;
  while (remaining > 0 && !r.at_end()) {
    r.get8();  // table class and id
    long n = 0;
    for (int i = 0; i < 16; ++i) n += r.get8();
    MG_CHECK(n <= 256, name, ": corrupt JPEG: the Huffman table at byte ", marker_pos, " declares ", n,
             " codes, at most 256 are allowed");
    r.pos += static_cast<size_t>(n);
    remaining -= 17 + n;
  }
}

}  // namespace

void check_jpeg_huffman_tables(const uint8_t* data, size_t size, const std::string& name) {
  Reader r{data, size, 2};  // after SOI
  // Header: segments one after another; bytes that are not FF between them are skipped (stb does the same).
  while (!r.at_end()) {
    if (r.get8() != 0xFF) continue;
    int m = r.get8();
    while (m == 0xFF && !r.at_end()) m = r.get8();
    const size_t marker_pos = r.pos - 2;
    if (m == 0xC4) {
      check_dht(r, name, marker_pos);
    } else if (m == 0xDA) {  // SOS: scans follow
      break;
    } else if (m == 0xD9) {  // EOI
      return;
    } else if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
      // no length field
    } else {
      const int length = r.get16();
      r.pos = marker_pos + 2 + static_cast<size_t>(length);
    }
  }
  // Scans and whatever lies between them: check every FF C4.
  for (size_t i = r.pos; i + 1 < size; ++i)
    if (data[i] == 0xFF && data[i + 1] == 0xC4) {
      Reader at{data, size, i + 2};
      check_dht(at, name, i);
    }
}

void check_png_chunk_lengths(const uint8_t* data, size_t size, const std::string& name) {
  // Chunks after the 8-byte signature: 4-byte big-endian length, 4-byte type, data, 4-byte CRC.
  size_t pos = 8;
  while (pos + 8 <= size) {
    const uint32_t length = uint32_t(data[pos]) << 24 | uint32_t(data[pos + 1]) << 16 | uint32_t(data[pos + 2]) << 8 |
                            data[pos + 3];
    std::string type(reinterpret_cast<const char*>(data + pos + 4), 4);
    for (char& ch : type)
      if (ch < 32 || ch > 126) ch = '?';
    const size_t left = size - pos - 8;
    MG_CHECK(length <= left, name, ": truncated or corrupt PNG: chunk '", type, "' at byte ", pos, " declares ",
             length, " bytes of data but only ", left, " bytes are left in the file");
    if (type == "IEND") return;
    pos += 12 + size_t(length);
  }
}

bool drop_leading_empty_idat(const uint8_t* data, size_t size, std::vector<uint8_t>& out) {
  auto length_at = [&](size_t pos) {
    return uint32_t(data[pos]) << 24 | uint32_t(data[pos + 1]) << 16 | uint32_t(data[pos + 2]) << 8 | data[pos + 3];
  };
  auto is_idat = [&](size_t pos) { return std::equal(data + pos + 4, data + pos + 8, "IDAT"); };
  // Find the first IDAT; nothing to do unless it is empty.
  size_t pos = 8;
  while (pos + 8 <= size && !is_idat(pos)) pos += 12 + size_t(length_at(pos));
  if (pos + 8 > size || length_at(pos) != 0) return false;
  out.assign(data, data + pos);
  while (pos + 8 <= size && is_idat(pos) && length_at(pos) == 0) pos += 12;  // skip the empty IDATs (and CRCs)
  out.insert(out.end(), data + std::min(pos, size), data + size);
  return true;
}

}  // namespace mg::data
