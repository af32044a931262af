// Every kind of bad input gives an mg::Error whose message names the file and what is wrong.
#include <stb_image_write.h>

#include <catch2/catch.hpp>

#include "datasets/cifar.h"
#include "datasets/idx.h"
#include "datasets/image_decode.h"
#include "datasets/image_folder.h"
#include "datasets/registry.h"
#include "helpers.h"

using namespace mg::data;
using namespace mg::data::test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

auto label0 = [](int64_t) { return 0; };

// A complete synthetic CIFAR-10 directory with one record per file.
void write_cifar10(const TempDir& dir) {
  for (const auto& f : cifar_train_files(CifarKind::Cifar10)) write_file(dir / f, cifar_records(0, 1, false, label0));
  write_file(dir / "test_batch.bin", cifar_records(0, 1, false, label0));
}

}  // namespace

TEST_CASE("datasets: bad cifar: size not a whole number of records", "[datasets][bad]") {
  TempDir dir;
  write_cifar10(dir);
  Bytes b = cifar_records(0, 2, false, label0);
  b.resize(b.size() + 5);
  write_file(dir / "data_batch_2.bin", b);
  const std::string msg = error_of([&] { load_dataset("cifar10", dir.path.string()); });
  CHECK_THAT(msg, Contains(dir / "data_batch_2.bin"));
  CHECK_THAT(msg, Contains("size 6151 bytes is not a whole number of CIFAR-10 records of 3073 bytes"));
  // The same bytes read as CIFAR-100 (3074-byte records).
  const std::string msg100 = error_of([&] { parse_cifar(b.data(), b.size(), CifarKind::Cifar100, "x.bin"); });
  CHECK_THAT(msg100, Contains("x.bin: size 6151 bytes is not a whole number of CIFAR-100 records of 3074 bytes"));
  const std::string empty = error_of([&] { parse_cifar(b.data(), 0, CifarKind::Cifar10, "e.bin"); });
  CHECK_THAT(empty, Contains("e.bin: empty file"));
}

TEST_CASE("datasets: bad cifar: label out of range", "[datasets][bad]") {
  TempDir dir;
  write_cifar10(dir);
  write_file(dir / "test_batch.bin", cifar_records(0, 3, false, [](int64_t i) { return i == 1 ? 10 : 3; }));
  const std::string msg = error_of([&] { load_dataset("cifar10", dir.path.string()); });
  CHECK_THAT(msg, Contains(dir / "test_batch.bin"));
  CHECK_THAT(msg, Contains("record 1 has label 10, expected 0..9"));
  const Bytes c100 = cifar_records(0, 2, true, [](int64_t i) { return i == 1 ? 100 : 0; });
  CHECK_THAT(error_of([&] { parse_cifar(c100.data(), c100.size(), CifarKind::Cifar100, "t.bin"); }),
             Contains("t.bin: record 1 has label 100, expected 0..99"));
}

TEST_CASE("datasets: bad idx: wrong magic number, unsupported type, dims that disagree with the size", "[datasets][bad]") {
  TempDir dir;
  write_file(dir / "magic", {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 5});
  CHECK_THAT(error_of([&] { read_idx(dir / "magic"); }), Contains(dir / "magic") && Contains("wrong IDX magic number 0x12345678"));
  write_file(dir / "magic.gz", gzip({0x00, 0x00, 0x03, 0x01, 0, 0, 0, 1, 5}));
  CHECK_THAT(error_of([&] { read_idx(dir / "magic.gz"); }), Contains(dir / "magic.gz") && Contains("wrong IDX magic number"));
  write_file(dir / "float", {0x00, 0x00, 0x0D, 0x01, 0, 0, 0, 0});
  CHECK_THAT(error_of([&] { read_idx(dir / "float"); }), Contains("0x0d (float32) is not supported"));

  Bytes short_file = idx_file({10, 5, 4}, Bytes(150, 7));
  write_file(dir / "dims", short_file);
  CHECK_THAT(error_of([&] { read_idx(dir / "dims"); }),
             Contains(dir / "dims") && Contains("IDX dimensions [10, 5, 4] need 216 bytes") && Contains("has 166 bytes"));
  write_file(dir / "dims.gz", gzip(short_file));
  CHECK_THAT(error_of([&] { read_idx(dir / "dims.gz"); }), Contains(dir / "dims.gz") && Contains("need 216 bytes"));
  write_file(dir / "header", {0, 0, 8, 3, 0, 0});
  CHECK_THAT(error_of([&] { read_idx(dir / "header"); }), Contains("too short for an IDX header with 3 dimensions"));
}

TEST_CASE("datasets: bad idx: images and labels disagree, label out of range", "[datasets][bad]") {
  const IdxArray images{{3, 2, 2}, Bytes(12, 0)}, labels{{2}, Bytes{1, 2}}, big{{3}, Bytes{1, 10, 2}};
  CHECK_THAT(error_of([&] { idx_dataset(images, labels, "img", "lab", IdxKind::Mnist); }),
             Contains("img holds 3 images but lab holds 2 labels"));
  CHECK_THAT(error_of([&] { idx_dataset(images, big, "img", "lab", IdxKind::Mnist); }),
             Contains("lab: record 1 has label 10, expected 0..9"));
  const IdxArray flat{{3, 4}, Bytes(12, 0)};
  CHECK_THAT(error_of([&] { idx_dataset(flat, big, "img", "lab", IdxKind::Mnist); }),
             Contains("img: IDX images must have 3 dimensions"));
}

TEST_CASE("datasets: bad gzip: truncated stream, corrupt data, trailing garbage", "[datasets][bad]") {
  TempDir dir;
  const Bytes whole = gzip(idx_file({100, 5, 4}, Bytes(2000, 3)));
  for (size_t cut : {whole.size() / 2, whole.size() - 4, size_t(12)}) {
    const Bytes part(whole.begin(), whole.begin() + cut);
    write_file(dir / "cut.gz", part);
    const std::string msg = error_of([&] { read_idx(dir / "cut.gz"); });
    INFO("cut at " << cut << ": " << msg);
    CHECK_THAT(msg, Contains(dir / "cut.gz") && Contains("truncated gzip stream"));
  }
  Bytes corrupt = whole;
  corrupt[corrupt.size() - 6] ^= 0xFF;  // CRC mismatch
  CHECK_THAT(error_of([&] { gunzip(corrupt, "c.gz"); }), Contains("c.gz: corrupt gzip data"));
  Bytes garbage = whole;
  garbage.push_back('x');
  CHECK_THAT(error_of([&] { gunzip(garbage, "g.gz"); }), Contains("g.gz: 1 bytes of trailing garbage"));
}

TEST_CASE("datasets: bad images: corrupt data, not an image, different sizes", "[datasets][bad]") {
  TempDir dir;
  fs::create_directories(dir.path / "a");
  const Bytes png_sig = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  write_file(dir / "a/broken.png", png_sig);
  std::string msg = error_of([&] { load_image_folder(dir.path.string()); });
  CHECK_THAT(msg, Contains(dir / "a/broken.png") && Contains("corrupt"));

  write_file(dir / "a/broken.png", {'h', 'e', 'l', 'l', 'o'});
  msg = error_of([&] { load_image_folder(dir.path.string()); });
  CHECK_THAT(msg, Contains(dir / "a/broken.png") && Contains("not a PNG, JPEG or BMP image"));

  // A real PNG cut short: the header is fine, the pixel data is missing.
  const Bytes good = [] {
    TempDir t;
    const Bytes px(8 * 8 * 3, 9);
    const int level = stbi_write_png_compression_level;
    stbi_write_png_compression_level = 0;  // stored blocks: half the file is surely inside the pixel data
    const int ok = stbi_write_png((t / "g.png").c_str(), 8, 8, 3, px.data(), 24);
    stbi_write_png_compression_level = level;
    REQUIRE(ok != 0);
    return read_file(t / "g.png");
  }();
  write_file(dir / "a/broken.png", Bytes(good.begin(), good.begin() + good.size() / 2));
  msg = error_of([&] { load_image_folder(dir.path.string()); });
  CHECK_THAT(msg, Contains(dir / "a/broken.png") && Contains("corrupt"));

  fs::remove(dir.path / "a/broken.png");
  write_file(dir / "a/1.png", good);
  const Bytes small(4 * 8 * 3, 9);
  REQUIRE(stbi_write_png((dir / "a/2.png").c_str(), 4, 8, 3, small.data(), 12) != 0);
  msg = error_of([&] { load_image_folder(dir.path.string()); });
  CHECK_THAT(msg, Contains(dir / "a/2.png") && Contains("is 4x8 but") && Contains("8x8"));
}

TEST_CASE("datasets: bad layout: missing files, missing directory, empty folders", "[datasets][bad]") {
  TempDir dir;
  write_cifar10(dir);
  fs::remove(dir.path / "data_batch_3.bin");
  std::string msg = error_of([&] { load_dataset("cifar10", dir.path.string()); });
  CHECK_THAT(msg, Contains("missing file " + (dir / "data_batch_3.bin")));
  CHECK_THAT(msg, Contains("cifar-10-binary.tar.gz") && Contains("c32a1d4ab5d03f1284b67883e8d87530"));

  msg = error_of([&] { load_dataset("cifar10", dir / "nowhere"); });
  CHECK_THAT(msg, Contains(dir / "nowhere") && Contains("does not exist") && Contains("data_batch_1.bin"));

  msg = error_of([&] { load_dataset("fashion-mnist", dir.path.string()); });
  CHECK_THAT(msg, Contains("train-images-idx3-ubyte[.gz]") && Contains("t10k-labels-idx1-ubyte[.gz]"));

  CHECK_THAT(error_of([&] { read_file(dir / "absent.bin"); }), Contains("missing file: " + (dir / "absent.bin")));

  TempDir empty;
  CHECK_THAT(error_of([&] { load_dataset("image-folder", empty.path.string()); }),
             Contains(empty.path.string()) && Contains("is empty: it has no class sub-folders"));
  fs::create_directory(empty.path / "cls");
  write_file(empty / "cls/notes.txt", {'x'});
  CHECK_THAT(error_of([&] { load_dataset("image-folder", empty.path.string()); }),
             Contains("class folder " + (empty / "cls")) && Contains("holds no .png, .jpg, .jpeg or .bmp images"));
  CHECK_THAT(error_of([&] { load_dataset("image-folder", empty / "nope"); }), Contains("does not exist"));
}

TEST_CASE("datasets: regressions found by fuzzing", "[datasets][bad]") {
  // fuzz_idx: 0 images of 4244700416x4294902015 pixels overflowed the image size computation.
  const Bytes huge = {0, 0, 8, 3, 0, 0, 0, 0, 0xfd, 0, 0xfd, 0, 0xff, 0xff, 0, 0xff};
  const IdxArray a = parse_idx(huge.data(), huge.size(), "huge");
  const IdxArray labels{{0}, {}};
  CHECK_THAT(error_of([&] { idx_dataset(a, labels, "huge", "lab", IdxKind::Mnist); }), Contains("huge: holds no images"));
  const IdxArray wide{{1, 1 << 14, 1 << 13}, Bytes(size_t(1) << 27, 0)};
  CHECK_THAT(error_of([&] { idx_dataset(wide, IdxArray{{1}, {0}}, "wide", "lab", IdxKind::Mnist); }),
             Contains("wide: image size 16384x8192 must be positive and at most 2^26 pixels"));

  // fuzz_image: a JPEG Huffman table with more than 256 codes made stb_image 2.27 write past its tables.
  Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00};
  for (int i = 0; i < 16; ++i) jpeg.push_back(17);  // 272 codes
  jpeg.resize(jpeg.size() + 300, 0);
  CHECK_THAT(error_of([&] { decode_image(jpeg.data(), jpeg.size(), 3, "bad.jpg"); }),
             Contains("bad.jpg: corrupt JPEG: the Huffman table at byte 2 declares 272 codes"));

  // fuzz_image: a PNG chunk declaring 1 GiB made stb_image allocate it before finding the file too short.
  TempDir dir;
  const Bytes px(6 * 5 * 3, 1);
  REQUIRE(stbi_write_png((dir / "ok.png").c_str(), 6, 5, 3, px.data(), 18) != 0);
  Bytes png = read_file(dir / "ok.png");
  REQUIRE(std::string(png.begin() + 37, png.begin() + 41) == "IDAT");  // after the signature and IHDR
  Bytes big = png;
  big[33] = 0x40;  // IDAT length 0x40xxxxxx
  CHECK_THAT(error_of([&] { decode_image(big.data(), big.size(), 3, "big.png"); }),
             Contains("big.png: truncated or corrupt PNG: chunk 'IDAT' at byte 33 declares"));

  // fuzz_image: an empty first IDAT chunk (legal) made stb_image call memcpy with a null pointer; it is now
  // dropped before decoding, and the image decodes as without it.
  Bytes empty_idat = png;
  const Bytes chunk = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0xAE, 0x42, 0x60, 0x82};
  empty_idat.insert(empty_idat.begin() + 33, chunk.begin(), chunk.end());
  CHECK(decode_image(empty_idat.data(), empty_idat.size(), 3, "e.png") == px);
}
