// Crafted MATLAB v5 files, built byte by byte, that would make matio allocate what their headers claim
// (gigabytes from a few hundred bytes): datasets/mat5_check.* must refuse each from its bytes, naming the file,
// the variable and the claim, before load_svhn_file hands the file to matio. Before the check existed,
// fuzz_svhn ran out of memory on such inputs.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstring>

#include "datasets/file_io.h"
#include "datasets/mat5_check.h"
#include "datasets/svhn.h"
#include "helpers.h"

using namespace mg::data;
using namespace mg::data::test;
using Catch::Contains;

namespace {

void put32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void pad8(Bytes& b) {
  while (b.size() % 8) b.push_back(0);
}
// One sub-element: its 8-byte tag (type, byte count as declared) and the payload, padded to 8 bytes.
void element(Bytes& b, uint32_t type, uint32_t declared, const Bytes& payload) {
  put32(b, type);
  put32(b, declared);
  b.insert(b.end(), payload.begin(), payload.end());
  pad8(b);
}

struct Var {
  std::string name = "X";
  std::vector<uint32_t> dims = {2, 3};
  uint32_t class_id = 9;                    // mxUINT8_CLASS
  uint32_t name_bytes = 0;                  // 0: the name's length
  Bytes data = Bytes(6, 7);                 // miUINT8 values
  uint32_t data_bytes = 0;                  // 0: data.size()
};

// The miMATRIX element of `v` (tag included), with its declared sizes as given.
Bytes matrix(const Var& v) {
  Bytes body, flags, dims;
  put32(flags, v.class_id);
  put32(flags, 0);
  element(body, 6, 8, flags);  // miUINT32 array flags
  for (uint32_t d : v.dims) put32(dims, d);
  element(body, 5, static_cast<uint32_t>(dims.size()), dims);  // miINT32 dimensions
  element(body, 1, v.name_bytes ? v.name_bytes : static_cast<uint32_t>(v.name.size()), Bytes(v.name.begin(), v.name.end()));
  element(body, 2, v.data_bytes ? v.data_bytes : static_cast<uint32_t>(v.data.size()), v.data);  // miUINT8
  Bytes out;
  put32(out, 14);
  put32(out, static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes compressed(const Bytes& element_bytes) {
  uLongf size = compressBound(element_bytes.size());
  Bytes z(size);
  REQUIRE(compress(z.data(), &size, element_bytes.data(), element_bytes.size()) == Z_OK);
  z.resize(size);
  Bytes out;
  put32(out, 15);  // miCOMPRESSED
  put32(out, static_cast<uint32_t>(z.size()));
  out.insert(out.end(), z.begin(), z.end());
  return out;
}

// A little-endian v5 file: the 128-byte header, then the given data elements.
Bytes mat_file(const std::vector<Bytes>& elements) {
  Bytes b(128, ' ');
  const char* text = "MATLAB 5.0 MAT-file, written byte by byte for a mixgrad test";
  std::memcpy(b.data(), text, std::strlen(text));
  std::fill(b.begin() + 116, b.begin() + 124, 0);
  b[124] = 0x00, b[125] = 0x01, b[126] = 'I', b[127] = 'M';
  for (const Bytes& e : elements) b.insert(b.end(), e.begin(), e.end());
  return b;
}

}  // namespace

TEST_CASE("mat5 check: a hand-built file lists its variables, and load_svhn_file reads it", "[datasets][svhn][mat5]") {
  TempDir dir;
  const std::string path = dir / "train_32x32.mat";
  Var x{.name = "X", .dims = {32, 32, 3, 2}, .data = Bytes(32 * 32 * 3 * 2)};
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = static_cast<uint8_t>(i % 251);
  const Var y{.name = "y", .dims = {2, 1}, .data = {10, 4}};
  write_file(path, mat_file({matrix(x), compressed(matrix(y))}));
  const std::vector<Mat5Variable> vars = check_mat5_file(path);
  REQUIRE(vars.size() == 2);
  CHECK(vars[0].name == "X");
  CHECK(mat5_dims_text(vars[0].dims) == "32×32×3×2");
  CHECK(vars[0].numel == 6144);
  CHECK(vars[1].name == "y");
  CHECK(vars[1].data_bytes == 2);
  const Dataset ds = load_svhn_file(path, "svhn/train");
  REQUIRE(ds.size() == 2);
  CHECK(ds.labels == std::vector<int64_t>{0, 4});  // 10 stands for the digit 0
}

TEST_CASE("mat5 check: crafted headers are refused before matio allocates what they claim", "[datasets][svhn][mat5]") {
  TempDir dir;
  const std::string path = dir / "train_32x32.mat";
  const Var y{.name = "y", .dims = {1, 1}, .data = {3}};
  auto refusal = [&](const std::vector<Bytes>& elements) {
    write_file(path, mat_file(elements));
    const std::string checked = error_of([&] { check_mat5_file(path); });
    CHECK(error_of([&] { load_svhn_file(path, "svhn/train"); }) == checked);  // refused before matio runs
    return checked;
  };
  // 2^16 x 2^16 x 3 x 2^16 bytes of pixels claimed, 6 held.
  CHECK_THAT(refusal({matrix(Var{.dims = {65536, 65536, 3, 65536}}), matrix(y)}),
             Contains(path) && Contains("variable 'X' declares shape 65536×65536×3×65536") && Contains("too many"));
  CHECK_THAT(refusal({matrix(Var{.data_bytes = 0x7ffffff8u}), matrix(y)}),
             Contains(path) && Contains("declares shape 2×3") && Contains("holds 2147483640 bytes"));
  CHECK_THAT(refusal({matrix(Var{.name_bytes = 1u << 30}), matrix(y)}),
             Contains(path) && Contains("name of type 1 and 1073741824 bytes") && Contains("at most"));
  CHECK_THAT(refusal({matrix(Var{.dims = {32, 0xfffffff0u}}), matrix(y)}),
             Contains(path) && Contains("dimension 1 is negative"));
  CHECK_THAT(refusal({matrix(Var{.class_id = 1}), matrix(y)}),  // a cell array
             Contains(path) && Contains("variable 'X' has class 1") && Contains("numeric array"));
  // A compressed variable whose inflated tag claims 4 GB from a few dozen compressed bytes.
  Bytes big = matrix(Var{});
  big[4] = big[5] = big[6] = 0xff, big[7] = 0xf0;
  CHECK_THAT(refusal({compressed(big), matrix(y)}), Contains(path) && Contains("deflate expands at most"));
  Bytes junk = compressed(matrix(Var{}));
  for (size_t i = 10; i < junk.size(); ++i) junk[i] ^= 0x5a;
  CHECK_THAT(refusal({junk, matrix(y)}), Contains(path) && Contains("data element 0"));
}
