// matmul with torch.matmul's rules: 1-d operands gain a dimension that is removed again, batch
// dimensions broadcast. Each product goes to the one GEMM entry point (core/gemm.h); batched products
// run one serial GEMM per batch item on parallel threads.
#include "core/gemm.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace mg::ops {
namespace {

// How to hand a (rows, cols) matrix view to BLAS without copying, if possible.
struct MatrixArg {
  Tensor t;     // the (possibly copied) tensor
  bool trans;   // pass as transposed
  int64_t ld;   // leading dimension
};

MatrixArg as_blas_matrix(const Tensor& m2, int64_t rows, int64_t cols) {
  const int64_t d = m2.dim();
  const int64_t s0 = m2.strides()[d - 2], s1 = m2.strides()[d - 1];
  if ((s1 == 1 || cols == 1) && s0 >= std::max<int64_t>(cols, 1)) return {m2, false, s0};
  if ((s0 == 1 || rows == 1) && s1 >= std::max<int64_t>(rows, 1)) return {m2, true, s1};
  const Tensor c = m2.contiguous();
  return {c, false, std::max<int64_t>(cols, 1)};
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  MG_CHECK(a_in.dim() >= 1 && b_in.dim() >= 1, "matmul: operands must have at least one dimension, got ",
           describe(a_in), " and ", describe(b_in));
  MG_CHECK(a_in.dtype() == b_in.dtype(), "matmul: dtype mismatch, ", describe(a_in), " vs ", describe(b_in));
  const bool a_vec = a_in.dim() == 1, b_vec = b_in.dim() == 1;
  const Tensor a = a_vec ? a_in.unsqueeze(0) : a_in;
  const Tensor b = b_vec ? b_in.unsqueeze(1) : b_in;
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  MG_CHECK(b.size(-2) == k, "matmul: shapes ", to_string(a_in.shape()), " and ", to_string(b_in.shape()),
           " are not aligned (", k, " vs ", b.size(-2), ")");

  const Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
  const Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape a_full = batch, b_full = batch, out_shape = batch;
  a_full.insert(a_full.end(), {m, k});
  b_full.insert(b_full.end(), {k, n});
  out_shape.insert(out_shape.end(), {m, n});
  const Tensor ae = a.expand(a_full), be = b.expand(b_full);
  Tensor out = Tensor::empty(out_shape, a.dtype());
  const int64_t batches = numel(batch);

  visit_dtype(a.dtype(), [&]<typename T>() {
    if (batches == 1) {
      const Tensor a2 = ae.reshape({m, k}), b2 = be.reshape({k, n});
      const MatrixArg A = as_blas_matrix(a2, m, k), B = as_blas_matrix(b2, k, n);
      gemm<T>(A.trans, B.trans, m, n, k, T(1), A.t.template data<T>(), A.ld, B.t.template data<T>(), B.ld, T(0),
              out.data<T>(), n);
      return;
    }
    const Tensor ac = ae.contiguous(), bc = be.contiguous();  // broadcast batches become real copies
    const T* pa = ac.data<T>();
    const T* pb = bc.data<T>();
    T* po = out.data<T>();
    parallel_for(0, batches, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        gemm_serial<T>(false, false, m, n, k, T(1), pa + i * m * k, k, pb + i * k * n, n, T(0), po + i * m * n, n);
    });
  });
  if (a_vec) out = out.squeeze(-2);
  if (b_vec) out = out.squeeze(-1);
  return out;
}

}  // namespace mg::ops
