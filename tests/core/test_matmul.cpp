// matmul against explicit loops: plain, transposed views, batched with broadcasting, vectors.
#include <catch2/catch.hpp>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/test_util.h"

using namespace mg;

namespace {

Tensor naive_matmul(const Tensor& a, const Tensor& b) {  // 2-d only
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  Tensor out = Tensor::zeros({m, n}, DType::F64);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += a.at({i, p}) * b.at({p, j});
      out.data<double>()[i * n + j] = acc;
    }
  return out;
}

}  // namespace

TEST_CASE("matmul of matrices and transposed views", "[core][matmul]") {
  Generator gen(5, 0);
  const Tensor a = rand_uniform({7, 5}, gen, -1, 1, DType::F64), b = rand_uniform({5, 3}, gen, -1, 1, DType::F64);
  CHECK(test::all_close(ops::matmul(a, b), naive_matmul(a, b), 1e-12));
  const Tensor at = rand_uniform({5, 7}, gen, -1, 1, DType::F64).transpose(0, 1);
  CHECK(test::all_close(ops::matmul(at, b), naive_matmul(at, b), 1e-12));
  const Tensor bt = rand_uniform({3, 5}, gen, -1, 1, DType::F64).transpose(0, 1);
  CHECK(test::all_close(ops::matmul(a, bt), naive_matmul(a, bt), 1e-12));
  const Tensor sliced = rand_uniform({7, 10}, gen, -1, 1, DType::F64).slice(1, 0, 10, 2);
  CHECK(test::all_close(ops::matmul(sliced, b), naive_matmul(sliced, b), 1e-12));
}

TEST_CASE("batched matmul broadcasts batch dimensions; vectors follow torch.matmul", "[core][matmul]") {
  Generator gen(6, 0);
  const Tensor a = rand_uniform({2, 1, 4, 3}, gen, -1, 1, DType::F64);
  const Tensor b = rand_uniform({5, 3, 2}, gen, -1, 1, DType::F64);
  const Tensor out = ops::matmul(a, b);
  REQUIRE(out.shape() == Shape{2, 5, 4, 2});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 5; ++j)
      CHECK(test::all_close(out.select(0, i).select(0, j), naive_matmul(a.select(0, i).select(0, 0), b.select(0, j)), 1e-12));
  const Tensor v = rand_uniform({3}, gen, -1, 1, DType::F64);
  CHECK(ops::matmul(a, v).shape() == Shape{2, 1, 4});
  CHECK(ops::matmul(v, b).shape() == Shape{5, 2});
  CHECK(ops::matmul(v, v).dim() == 0);
  CHECK(ops::matmul(v, v).item() == Approx(ops::sum(ops::mul(v, v)).item()));
}

TEST_CASE("large float32 matmul matches double precision", "[core][matmul]") {
  Generator gen(7, 0);
  const Tensor a = rand_uniform({300, 200}, gen, -1, 1), b = rand_uniform({200, 700}, gen, -1, 1);
  const Tensor got = ops::matmul(a, b).to(DType::F64);
  const Tensor want = ops::matmul(a.to(DType::F64), b.to(DType::F64));
  CHECK(test::all_close(got, want, 1e-4));
}
