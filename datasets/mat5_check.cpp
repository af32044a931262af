#include "datasets/mat5_check.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace mg::data {
namespace {

constexpr uint64_t kHeaderBytes = 128;
constexpr uint32_t kMiInt8 = 1, kMiInt32 = 5, kMiUint32 = 6, kMiMatrix = 14, kMiCompressed = 15;
// A variable's header (tag, array flags, dimensions, name, the data's tag) fits in this many bytes when its
// rank and name are within the limits below; only that much of a variable is read or inflated here.
constexpr size_t kVarHeadBytes = 512;
constexpr uint64_t kMaxRank = 32, kMaxName = 63;  // MATLAB's namelengthmax is 63
// deflate expands at most 1032:1 (258-byte matches coded in 2 bits); a bit of slack for the stream's framing.
constexpr uint64_t kMaxInflateRatio = 1032, kInflateSlack = 1024;

// The stored size of one element of a numeric data type (miINT8 .. miUINT64); 0 for others.
uint64_t stored_bytes(uint32_t type) {
  switch (type) {
    case 1: case 2: return 1;              // miINT8, miUINT8
    case 3: case 4: return 2;              // miINT16, miUINT16
    case 5: case 6: case 7: return 4;      // miINT32, miUINT32, miSINGLE
    case 9: case 12: case 13: return 8;    // miDOUBLE, miINT64, miUINT64
    default: return 0;
  }
}

struct Reader {
  const std::string& path;
  bool little;
  uint32_t u32(const unsigned char* b) const {
    return little ? uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24
                  : uint32_t(b[3]) | uint32_t(b[2]) << 8 | uint32_t(b[1]) << 16 | uint32_t(b[0]) << 24;
  }
};

// One sub-element inside a variable's bytes: its type, byte count and where its data starts; `next` is where
// the following sub-element starts. Handles the small element format (type and count packed in 4 bytes).
struct Sub {
  uint32_t type = 0, bytes = 0;
  size_t data = 0, next = 0;
};

// Parses a variable's header from `head` (the first bytes of the miMATRIX element's contents, after its tag);
// `total` is the contents' declared size. `where` says which element it is, for errors.
Mat5Variable parse_variable(const Reader& r, const std::vector<unsigned char>& head, uint64_t total,
                            const std::string& where) {
  const std::string& path = r.path;
  std::string name_for_errors = where;
  auto sub_at = [&](size_t at, const char* what) {
    MG_CHECK(at + 8 <= head.size() && at + 8 <= total, path, ": ", name_for_errors, " ends inside its ", what,
             "'s tag (", total, " bytes in all); truncated or corrupt");
    Sub s;
    const uint32_t w0 = r.u32(head.data() + at);
    if (w0 >> 16) {  // small data element: count in the upper half, data in the next 4 bytes
      s.type = w0 & 0xffff;
      s.bytes = w0 >> 16;
      s.data = at + 4;
      s.next = at + 8;
      MG_CHECK(s.bytes <= 4, path, ": ", name_for_errors, ": its ", what, " is a small data element of ", s.bytes,
               " bytes; expected at most 4");
    } else {
      s.type = w0;
      s.bytes = r.u32(head.data() + at + 4);
      s.data = at + 8;
      s.next = at + 8 + (uint64_t(s.bytes) + 7) / 8 * 8;
    }
    return s;
  };
  auto need_in_head = [&](const Sub& s, const char* what) {
    MG_CHECK(s.data + s.bytes <= head.size() && s.data + s.bytes <= total, path, ": ", name_for_errors, ": its ",
             what, " (", s.bytes, " bytes at offset ", s.data, ") does not fit in the variable's ", total,
             " bytes or is longer than any valid ", what);
  };

  Mat5Variable v;
  const Sub flags = sub_at(0, "array flags");
  MG_CHECK(flags.type == kMiUint32 && flags.bytes == 8, path, ": ", where, ": array flags of type ", flags.type,
           " and ", flags.bytes, " bytes; expected miUINT32 (6) and 8 bytes");
  need_in_head(flags, "array flags");
  const uint32_t fw = r.u32(head.data() + flags.data);
  v.class_id = int(fw & 0xff);
  const bool complex = fw & 0x800;
  v.logical = fw & 0x200;

  const Sub dims = sub_at(flags.next, "dimensions");
  MG_CHECK(dims.type == kMiInt32 && dims.bytes % 4 == 0 && dims.bytes / 4 >= 2 && dims.bytes / 4 <= kMaxRank, path,
           ": ", where, ": dimensions of type ", dims.type, " and ", dims.bytes, " bytes; expected miINT32 (5) and 2 to ",
           kMaxRank, " dimensions (8 to ", 4 * kMaxRank, " bytes)");
  need_in_head(dims, "dimensions");
  for (size_t i = 0; i < dims.bytes / 4; ++i) {
    const uint32_t d = r.u32(head.data() + dims.data + 4 * i);
    MG_CHECK(d <= 0x7fffffffu, path, ": ", where, ": dimension ", i, " is negative (", int32_t(d), ")");
    v.dims.push_back(d);
  }

  const Sub name = sub_at(dims.next, "name");
  MG_CHECK(name.type == kMiInt8 && name.bytes <= kMaxName, path, ": ", where, ": name of type ", name.type, " and ",
           name.bytes, " bytes; expected miINT8 (1) and at most ", kMaxName, " characters");
  need_in_head(name, "name");
  v.name.assign(reinterpret_cast<const char*>(head.data() + name.data), name.bytes);
  name_for_errors = "variable '" + v.name + "'";

  MG_CHECK(v.class_id >= 6 && v.class_id <= 15, path, ": ", name_for_errors, " has class ", v.class_id,
           "; expected a numeric array (mxCLASS 6..15: double, single or an integer type), as SVHN's X and y");
  MG_CHECK(!complex, path, ": ", name_for_errors, " is complex; expected a real numeric array");

  const Sub data = sub_at(name.next, "data");
  const uint64_t elem = stored_bytes(data.type);
  MG_CHECK(elem > 0, path, ": ", name_for_errors, ": its data has type ", data.type,
           "; expected a numeric MAT type (miINT8..miUINT64)");
  // numel times the element size, stopping once it exceeds what the variable holds (no overflow).
  uint64_t numel = 1;
  bool fits = true;
  for (uint64_t d : v.dims) {
    if (d == 0) { numel = 0; fits = true; break; }
    if (numel > total / d) fits = false;
    else numel *= d;
  }
  MG_CHECK(fits && numel * elem == data.bytes, path, ": ", name_for_errors, " declares shape ",
           mat5_dims_text(v.dims), " (", fits ? std::to_string(numel) : "too many", " values of ", elem,
           " bytes) but its data element holds ", data.bytes, " bytes; expected the shape's element count times ",
           elem);
  MG_CHECK(data.data + uint64_t(data.bytes) <= total, path, ": truncated or corrupt: ", name_for_errors,
           " declares ", data.bytes, " data bytes at offset ", data.data, " but the variable holds only ", total,
           " bytes");
  v.numel = numel;
  v.data_bytes = data.bytes;
  return v;
}

// Inflates up to `want` bytes of the zlib stream at [at, at + bytes) of `in`.
std::vector<unsigned char> inflate_head(std::ifstream& in, uint64_t at, uint64_t bytes, size_t want,
                                        const std::string& path, const std::string& where) {
  std::vector<unsigned char> out(want);
  z_stream zs{};
  MG_CHECK(inflateInit(&zs) == Z_OK, path, ": zlib inflateInit failed");
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(want);
  in.clear();
  in.seekg(static_cast<std::streamoff>(at));
  std::vector<unsigned char> chunk(4096);
  uint64_t left = bytes;
  int ret = Z_OK;
  while (zs.avail_out > 0 && left > 0 && ret == Z_OK) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    if (!in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(n))) break;
    left -= n;
    zs.next_in = chunk.data();
    zs.avail_in = static_cast<uInt>(n);
    while (zs.avail_in > 0 && zs.avail_out > 0 && ret == Z_OK) ret = inflate(&zs, Z_NO_FLUSH);
  }
  const size_t got = want - zs.avail_out;
  inflateEnd(&zs);
  MG_CHECK(ret == Z_OK || ret == Z_STREAM_END, path, ": ", where, ": its compressed data is corrupt (zlib error ",
           ret, " after ", got, " bytes)");
  out.resize(got);
  return out;
}

}  // namespace

std::string mat5_dims_text(const std::vector<uint64_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "×" : "") + std::to_string(dims[i]);
  return s.empty() ? "(none)" : s;
}

std::vector<Mat5Variable> check_mat5_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  MG_CHECK(fs::is_regular_file(path, ec), path, ": not a readable file; expected a MATLAB v5 .mat file");
  const uint64_t size = fs::file_size(path, ec);
  MG_CHECK(!ec && size >= kHeaderBytes + 8, path, ": ", ec ? 0 : size, " bytes is too short for a MATLAB v5 "
           "file (a 128-byte header and at least one 8-byte data element tag)");
  unsigned char header[kHeaderBytes];
  std::ifstream in(path, std::ios::binary);
  MG_CHECK(in.read(reinterpret_cast<char*>(header), kHeaderBytes), path, ": cannot read its header");
  const bool text = std::memcmp(header, "MATLAB 5.0 MAT-file", 19) == 0;
  const bool little = header[126] == 'I' && header[127] == 'M', big = header[126] == 'M' && header[127] == 'I';
  const int version = little ? header[124] | header[125] << 8 : header[124] << 8 | header[125];
  MG_CHECK(text && (little || big), path, ": not a MATLAB v5 .mat file (expected a header starting with "
           "\"MATLAB 5.0 MAT-file\" and the endian mark IM or MI at bytes 126-127)");
  MG_CHECK(version == 0x0100, path, ": MAT-file version 0x", std::hex, version, std::dec, ", expected 0x0100 "
           "(MATLAB v5; v7.3/HDF5 files are not read)");
  const Reader r{path, little};

  // The top-level data elements must tile the rest of the file: each 8-byte tag (type, byte count) is followed
  // by its bytes (padded to 8 unless compressed). A file cut short, or a corrupt count, stops here.
  std::vector<Mat5Variable> vars;
  uint64_t at = kHeaderBytes;
  int elements = 0;
  while (at < size) {
    unsigned char tag[8];
    in.clear();
    MG_CHECK(size - at >= 8 && in.seekg(static_cast<std::streamoff>(at)) && in.read(reinterpret_cast<char*>(tag), 8),
             path, ": truncated: ", size - at, " stray bytes at offset ", at, " where a data element's 8-byte tag "
             "should start");
    const uint32_t type = r.u32(tag), bytes = r.u32(tag + 4);
    MG_CHECK(type == kMiMatrix || type == kMiCompressed, path, ": data element ", elements, " at offset ", at,
             " has type ", type, "; expected a variable (miMATRIX 14 or miCOMPRESSED 15)");
    const uint64_t padded = type == kMiCompressed ? bytes : (uint64_t(bytes) + 7) / 8 * 8;
    MG_CHECK(padded <= size - at - 8, path, ": truncated: data element ", elements, " at offset ", at, " declares ",
             bytes, " bytes but only ", size - at - 8, " follow; expected the whole file (",
             at + 8 + padded, " bytes or more)");
    const std::string where = "data element " + std::to_string(elements) + " at offset " + std::to_string(at);
    if (type == kMiMatrix) {
      std::vector<unsigned char> head(static_cast<size_t>(std::min<uint64_t>(bytes, kVarHeadBytes)));
      MG_CHECK(in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size())), path,
               ": cannot read ", where);
      vars.push_back(parse_variable(r, head, bytes, where));
    } else {
      std::vector<unsigned char> head = inflate_head(in, at + 8, bytes, kVarHeadBytes + 8, path, where);
      MG_CHECK(head.size() >= 8, path, ": ", where, ": its compressed data inflates to ", head.size(),
               " bytes; expected a variable (an 8-byte miMATRIX tag and more)");
      const uint32_t inner_type = r.u32(head.data()), inner_bytes = r.u32(head.data() + 4);
      MG_CHECK(inner_type == kMiMatrix, path, ": ", where, ": compressed element holds type ", inner_type,
               "; expected a variable (miMATRIX 14)");
      const uint64_t most = uint64_t(bytes) * kMaxInflateRatio + kInflateSlack;
      MG_CHECK(inner_bytes <= most, path, ": ", where, ": its compressed ", bytes, " bytes claim a variable of ",
               inner_bytes, " bytes; deflate expands at most ", kMaxInflateRatio, ":1 (", most,
               " bytes); corrupt size");
      head.erase(head.begin(), head.begin() + 8);
      vars.push_back(parse_variable(r, head, inner_bytes, where));
    }
    at += 8 + padded;
    ++elements;
  }
  return vars;
}

}  // namespace mg::data
