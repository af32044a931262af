// safetensors: round trips, the byte layout of the format, every kind of corrupt file, and atomic writes.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"

using namespace mg;
namespace fs = std::filesystem;

namespace {

using mg::test::TempDir;

// Writes raw bytes: an 8-byte little-endian length (header.size() unless given), the header, then data.
void write_raw(const std::string& path, const std::string& header, const std::string& data,
               int64_t length = -1) {
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = length < 0 ? header.size() : static_cast<uint64_t>(length);
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << data;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Reading `path` throws mg::Error whose message contains every string in `parts`.
void require_read_error(const std::string& path, const std::vector<std::string>& parts) {
  try {
    read_safetensors(path);
    FAIL("expected mg::Error reading " << path);
  } catch (const Error& e) {
    const std::string msg = e.what();
    INFO(msg);
    for (const std::string& p : parts) CHECK(msg.find(p) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("safetensors round trip keeps F32, F64, I64, shapes and metadata", "[core][safetensors]") {
  TempDir dir;
  const std::string path = dir.file("a.safetensors");
  const Tensor f32 = Tensor::from_vector(std::vector<float>{1.5f, -2.f, 3.25f, 1e-30f, 7.f, -0.f}, {2, 3});
  const Tensor f64 = Tensor::from_vector(std::vector<double>{0.1, -1e300, 3.0, 4.0, 5.0, 6.0}, {3, 2});
  const Tensor transposed = f64.transpose(0, 1);  // non-contiguous: written in row-major order of its shape
  std::vector<SafeTensor> tensors = {
      SafeTensor::floating("w.f32", f32),
      SafeTensor::floating("w.f64", f64),
      SafeTensor::floating("w.t", transposed),
      SafeTensor::floating("scalar", Tensor::scalar(0.625, DType::F64)),
      SafeTensor::floating("empty", Tensor::zeros({0, 4}, DType::F32)),
      SafeTensor::int64("bn.num_batches_tracked", {int64_t{1} << 60}, {}),
      SafeTensor::int64("labels", {3, -1, 0, 9}, {2, 2}),
  };
  write_safetensors(path, tensors, {{"format", "pt"}, {"model", "smallcnn"}});
  CHECK_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));

  const SafeTensorsFile file = read_safetensors(path);
  REQUIRE(file.tensors.size() == tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) CHECK(file.tensors[i].name == tensors[i].name);
  CHECK(file.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"model", "smallcnn"}});
  CHECK(file.at("w.f32").dtype() == "F32");
  CHECK(test::bitwise_equal(file.at("w.f32").values, f32));
  CHECK(test::bitwise_equal(file.at("w.f64").values, f64));
  CHECK(test::bitwise_equal(file.at("w.t").values, transposed.contiguous()));
  CHECK(file.at("scalar").values.shape().empty());
  CHECK(file.at("scalar").values.item() == 0.625);
  CHECK(file.at("empty").values.shape() == Shape{0, 4});
  CHECK(file.at("bn.num_batches_tracked").integer);
  CHECK(file.at("bn.num_batches_tracked").ints == std::vector<int64_t>{int64_t{1} << 60});
  CHECK(file.at("labels").shape == Shape{2, 2});
  CHECK(file.at("labels").ints == std::vector<int64_t>{3, -1, 0, 9});
  CHECK(file.at("labels").to_tensor(DType::F64).to_vector() == std::vector<double>{3, -1, 0, 9});
  CHECK(file.find("nope") == nullptr);
  CHECK_THROWS_WITH(file.at("nope"), Catch::Contains("nope") && Catch::Contains(path));
}

TEST_CASE("safetensors files follow the format byte for byte", "[core][safetensors]") {
  TempDir dir;
  // Written by mixgrad: 8-byte length, header padded to a multiple of 8, data packed in order.
  const std::string path = dir.file("w.safetensors");
  write_safetensors(path, {SafeTensor::floating("a", Tensor::from_vector(std::vector<float>{1.f, 2.f}, {2})),
                           SafeTensor::int64("b", {7}, {1})});
  const std::string bytes = file_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + 16);
  CHECK(bytes.substr(8, n).find(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})") != std::string::npos);
  CHECK(bytes.substr(8, n).find(R"("b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]})") != std::string::npos);
  float a[2];
  std::memcpy(a, bytes.data() + 8 + n, 8);
  CHECK((a[0] == 1.f && a[1] == 2.f));

  // Written by hand (as another implementation would): unpadded header, entries out of offset order.
  const std::string other = dir.file("other.safetensors");
  int64_t ints[2] = {5, -6};
  double d = 2.5;
  std::string data(reinterpret_cast<const char*>(&d), 8);
  data.append(reinterpret_cast<const char*>(ints), 16);
  write_raw(other,
            R"({"y":{"dtype":"I64","shape":[2],"data_offsets":[8,24]},)"
            R"("x":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})",
            data);
  const SafeTensorsFile f = read_safetensors(other);
  REQUIRE(f.tensors.size() == 2);
  CHECK(f.tensors[0].name == "x");  // in data order
  CHECK(f.at("x").values.item() == 2.5);
  CHECK(f.at("y").ints == std::vector<int64_t>{5, -6});
}

TEST_CASE("corrupt safetensors files are rejected with clear errors", "[core][safetensors]") {
  TempDir dir;
  const std::string p = dir.file("bad.safetensors");
  const std::string eight(8, '\0'), twelve(12, '\0'), twenty(20, '\0');
  auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape, int b, int e) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
           std::to_string(b) + "," + std::to_string(e) + "]}";
  };

  SECTION("missing file") { require_read_error(dir.file("absent.safetensors"), {"absent.safetensors"}); }
  SECTION("shorter than 8 bytes") {
    std::ofstream(p, std::ios::binary) << "abcde";
    require_read_error(p, {p, "5 bytes", "8-byte"});
  }
  SECTION("header length past the end of the file") {
    write_raw(p, "{}", "", 1000);
    require_read_error(p, {p, "header length 1000", "past the end"});
  }
  SECTION("huge header length") {
    write_raw(p, "{}", "", int64_t{1} << 62);
    require_read_error(p, {p, "past the end"});
  }
  SECTION("invalid JSON") {
    write_raw(p, R"({"a": {"dtype": "F32", )", "");
    require_read_error(p, {p, "not valid JSON"});
  }
  SECTION("header not an object") {
    write_raw(p, "[1, 2]", "");
    require_read_error(p, {p, "must be a JSON object", "array"});
  }
  SECTION("unknown dtype") {
    write_raw(p, "{" + entry("w", "Q7", "[2]", 0, 8) + "}", eight);
    require_read_error(p, {p, "'w'", "unsupported dtype 'Q7'"});
  }
  SECTION("byte size does not match dtype and shape") {
    write_raw(p, "{" + entry("w", "F32", "[2,2]", 0, 8) + "}", eight);
    require_read_error(p, {p, "'w'", "hold 8 bytes", "[2, 2]", "needs 16"});
  }
  SECTION("offsets out of range") {
    write_raw(p, "{" + entry("w", "F64", "[2]", 0, 16) + "}", eight);
    require_read_error(p, {p, "'w'", "past the end of the data region (8 bytes)"});
  }
  SECTION("end before begin") {
    write_raw(p, "{" + entry("w", "F32", "[2]", 8, 0) + "}", eight);
    require_read_error(p, {p, "'w'", "end before they begin"});
  }
  SECTION("overlapping offsets") {
    write_raw(p, "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", twelve);
    require_read_error(p, {p, "'b'", "overlap tensor 'a'"});
  }
  SECTION("gap in the data region") {
    write_raw(p, "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 12, 20) + "}", twenty);
    require_read_error(p, {p, "gap", "'b'", "begin at 8"});
  }
  SECTION("trailing bytes after the last tensor") {
    write_raw(p, "{" + entry("a", "F32", "[2]", 0, 8) + "}", twelve);
    require_read_error(p, {p, "12 bytes", "cover only 8"});
  }
  SECTION("duplicate names") {
    write_raw(p, "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("a", "F32", "[2]", 0, 8) + "}", eight);
    require_read_error(p, {p, "'a'", "twice"});
  }
  SECTION("negative or fractional shape") {
    write_raw(p, "{" + entry("w", "F32", "[-2]", 0, 8) + "}", eight);
    require_read_error(p, {p, "'w'", "shape", "non-negative integers"});
    write_raw(p, "{" + entry("w", "F32", "[2.5]", 0, 8) + "}", eight);
    require_read_error(p, {p, "'w'", "shape"});
  }
  SECTION("shape too large") {
    write_raw(p, "{" + entry("w", "F64", "[4611686018427387904, 4611686018427387904]", 0, 8) + "}", eight);
    require_read_error(p, {p, "'w'", "too large"});
  }
  SECTION("missing fields and unknown fields") {
    write_raw(p, R"({"w":{"dtype":"F32","shape":[2]}})", eight);
    require_read_error(p, {p, "'w'", "data_offsets"});
    write_raw(p, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})", eight);
    require_read_error(p, {p, "'w'", "unexpected field 'extra'"});
    write_raw(p, R"({"w":[1]})", eight);
    require_read_error(p, {p, "'w'", "expected an object"});
  }
  SECTION("metadata that is not strings") {
    write_raw(p, R"({"__metadata__":{"epoch":3}})", "");
    require_read_error(p, {p, "__metadata__", "epoch"});
  }
}

TEST_CASE("safetensors writes are atomic", "[core][safetensors]") {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  const Tensor old = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  write_safetensors(path, {SafeTensor::floating("w", old)});
  const std::string before = file_bytes(path);

  // The temporary file cannot be created (a directory sits at its path): the old file stays as it was.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  fs::create_directory(tmp);
  CHECK_THROWS_WITH(write_safetensors(path, {SafeTensor::floating("w", Tensor::zeros({5}, DType::F64))}),
                    Catch::Contains(tmp));
  CHECK(file_bytes(path) == before);
  fs::remove(tmp);

  // Invalid input (a duplicate name, integers that do not fill the shape) fails before anything is written.
  CHECK_THROWS_WITH(write_safetensors(path, {SafeTensor::floating("w", old), SafeTensor::floating("w", old)}),
                    Catch::Contains("'w' given twice"));
  CHECK_THROWS_WITH(write_safetensors(path, {SafeTensor::int64("n", {1, 2}, {3})}),
                    Catch::Contains("'n'") && Catch::Contains("[3]"));
  CHECK(file_bytes(path) == before);
  CHECK_FALSE(fs::exists(tmp));

  // A write into a missing directory fails with the path in the message.
  CHECK_THROWS_WITH(write_safetensors(dir.file("no/such/dir.safetensors"), {SafeTensor::floating("w", old)}),
                    Catch::Contains("no/such/dir.safetensors"));
}
