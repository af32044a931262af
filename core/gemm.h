// The one GEMM entry point: C = alpha * op(A) * op(B) + beta * C, row-major, over cblas_{s,d}gemm.
// OpenBLAS runs single-threaded; mixgrad splits C into fixed tiles (the tiling depends only on M, N, K)
// and runs the tiles on oneTBB threads. Every element of C is computed by one single-threaded BLAS call
// whose inputs do not depend on the thread count, so the result is bitwise identical on 1 and N threads.
#pragma once
#include <cstdint>

namespace mg {

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Same, without any threading of its own (for callers already inside a parallel loop).
template <typename T>
void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                 const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace mg
