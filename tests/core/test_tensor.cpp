// Tensor metadata, views and copies.
#include <catch2/catch.hpp>

#include "core/ops.h"
#include "tests/test_util.h"

using namespace mg;

TEST_CASE("views share storage and index like PyTorch", "[core][tensor]") {
  Tensor t = Tensor::arange(24, DType::F64).reshape({2, 3, 4});
  CHECK(t.is_contiguous());
  CHECK(t.at({1, 2, 3}) == 23.0);

  Tensor p = t.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(!p.is_contiguous());
  CHECK(p.at({3, 1, 2}) == t.at({1, 2, 3}));
  CHECK(p.shares_storage_with(t));

  Tensor s = t.slice(2, 1, 4, 2);  // columns 1 and 3
  CHECK(s.shape() == Shape{2, 3, 2});
  CHECK(s.at({1, 0, 1}) == t.at({1, 0, 3}));

  Tensor sel = t.select(1, -1);
  CHECK(sel.shape() == Shape{2, 4});
  CHECK(sel.at({1, 0}) == 20.0);

  Tensor e = Tensor::arange(3, DType::F64).reshape({3, 1}).expand({2, 3, 4});
  CHECK(e.strides()[0] == 0);
  CHECK(e.at({1, 2, 3}) == 2.0);

  // Writing through a view reaches the base tensor and bumps the shared version.
  const uint64_t before = t.version();
  s.fill_(-1.0);
  CHECK(t.at({0, 0, 1}) == -1.0);
  CHECK(t.at({0, 0, 0}) == 0.0);
  CHECK(t.version() > before);
}

TEST_CASE("reshape infers -1, copies non-contiguous input, and rejects bad sizes", "[core][tensor]") {
  Tensor t = Tensor::arange(12).reshape({3, -1});
  CHECK(t.shape() == Shape{3, 4});
  Tensor tt = t.transpose(0, 1).reshape({12});
  CHECK(tt.at({1}) == 4.0);  // row-major order of the transpose
  CHECK_THROWS_WITH(t.reshape({5, -1}), Catch::Contains("[3, 4]") && Catch::Contains("[5, -1]"));
  CHECK_THROWS_WITH(t.permute({0, 0}), Catch::Contains("repeated"));
}

TEST_CASE("squeeze, unsqueeze, flatten and dtype conversion", "[core][tensor]") {
  Tensor t = Tensor::arange(6).reshape({2, 3});
  CHECK(t.unsqueeze(1).shape() == Shape{2, 1, 3});
  CHECK(t.unsqueeze(-1).shape() == Shape{2, 3, 1});
  CHECK(t.unsqueeze(1).squeeze(1).shape() == Shape{2, 3});
  CHECK(Tensor::zeros({2, 3, 4}).flatten(1).shape() == Shape{2, 12});
  Tensor d = t.to(DType::F64);
  CHECK(d.dtype() == DType::F64);
  CHECK(d.at({1, 2}) == 5.0);
  CHECK_THROWS_WITH(d.data<float>(), Catch::Contains("f64"));
}

TEST_CASE("copy_ broadcasts and clone is independent", "[core][tensor]") {
  Tensor dst = Tensor::zeros({2, 3});
  dst.copy_(Tensor::from_vector(std::vector<float>{1, 2, 3}, {3}));
  CHECK(dst.to_vector() == std::vector<double>{1, 2, 3, 1, 2, 3});
  Tensor c = dst.clone();
  c.fill_(7);
  CHECK(dst.at({0, 0}) == 1.0);
  CHECK_THROWS_WITH(dst.copy_(Tensor::zeros({2, 3}, DType::F64)), Catch::Contains("dtype"));
}

TEST_CASE("bytes() are the elements of a contiguous view, from its offset; other views are refused", "[core][tensor]") {
  const Tensor t = Tensor::arange(12, DType::F32).reshape({3, 4});
  const Tensor row = t.slice(0, 1, 3);  // offset 4 elements, contiguous
  const auto b = row.bytes();
  REQUIRE(b.size() == 8 * sizeof(float));
  float values[8];
  std::memcpy(values, b.data(), b.size());
  for (int i = 0; i < 8; ++i) CHECK(values[i] == static_cast<float>(4 + i));
  CHECK(Tensor::arange(3, DType::F64).bytes().size() == 3 * sizeof(double));
  CHECK_THROWS_WITH(t.transpose(0, 1).bytes(), Catch::Contains("not contiguous") && Catch::Contains("[4, 3]"));
}

TEST_CASE("the caching allocator reuses freed buffers", "[core][storage]") {
  { Tensor warm = Tensor::empty({1000, 1000}); }
  const std::size_t before = allocator_stats().system_allocs;
  for (int i = 0; i < 10; ++i) {
    Tensor t = Tensor::empty({1000, 1000});
    REQUIRE(reinterpret_cast<std::uintptr_t>(t.storage()->data()) % 64 == 0);
  }
  CHECK(allocator_stats().system_allocs == before);
}
