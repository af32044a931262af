#include "core/gemm.h"

#include <cblas.h>

#include <algorithm>

#include "core/parallel.h"

namespace mg {
namespace {

void blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              lda, b, ldb, beta, c, ldc);
}
void blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              lda, b, ldb, beta, c, ldc);
}

constexpr int64_t kMinTileFlops = int64_t{1} << 21;  // below this a tile is not worth a task
constexpr int64_t kTileCols = 256;
constexpr int64_t kTileRows = 64;

}  // namespace

template <typename T>
void gemm_serial(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                 int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  init_threading();
  blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  const int64_t flops = 2 * m * n * k;
  if (flops < 2 * kMinTileFlops) {
    gemm_serial(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Tiles: split the longer output side into fixed blocks (kTileCols columns or kTileRows rows).
  const bool split_cols = n >= m;
  const int64_t block = split_cols ? kTileCols : kTileRows;
  const int64_t extent = split_cols ? n : m;
  const int64_t tiles = (extent + block - 1) / block;
  parallel_for(0, tiles, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t start = t * block, len = std::min(block, extent - start);
      if (split_cols) {
        const T* bt = tb ? b + start * ldb : b + start;
        gemm_serial(ta, tb, m, len, k, alpha, a, lda, bt, ldb, beta, c + start, ldc);
      } else {
        const T* at = ta ? a + start : a + start * lda;
        gemm_serial(ta, tb, len, n, k, alpha, at, lda, b, ldb, beta, c + start * ldc, ldc);
      }
    }
  });
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);
template void gemm_serial<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                                 int64_t, float, float*, int64_t);
template void gemm_serial<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                                  const double*, int64_t, double, double*, int64_t);

}  // namespace mg
