#include "core/kernels/bf16/gemm.h"

#include <algorithm>

#include "core/bf16.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/parallel.h"

namespace mg::kernels::bf16 {
namespace {

constexpr int64_t kRowTile = 4;  // rows per task of the scalar path

uint32_t pair_word(float even, float odd) {
  return static_cast<uint32_t>(mg::bf16::from_float(even)) | static_cast<uint32_t>(mg::bf16::from_float(odd)) << 16;
}

void gemm_scalar_rows(const uint32_t* a, const uint32_t* b, float* c, int64_t row0, int64_t row1, int64_t n,
                      int64_t pairs, int64_t ldc, bool accumulate) {
  for (int64_t i = row0; i < row1; ++i) {
    for (int64_t col = 0; col < n; ++col) {
      float acc = accumulate ? c[i * ldc + col] : 0.0f;
      for (int64_t j = 0; j < pairs; ++j) {
        const uint32_t aw = a[i * pairs + j], bw = b[j * n + col];
        acc = mg::bf16::dot_pair(acc, static_cast<uint16_t>(aw), static_cast<uint16_t>(aw >> 16),
                                 static_cast<uint16_t>(bw), static_cast<uint16_t>(bw >> 16));
      }
      c[i * ldc + col] = acc;
    }
  }
}

}  // namespace

std::vector<uint32_t> pack_rows(const float* a, int64_t rows, int64_t k, int64_t lda) {
  const int64_t pairs = (k + 1) / 2;
  std::vector<uint32_t> out(static_cast<std::size_t>(rows * pairs));
  if (cpu::kernels_enabled(cpu::Isa::avx512)) {
    pack_rows_avx512(a, rows, k, lda, out.data());
    return out;
  }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < pairs; ++j)
      out[i * pairs + j] = pair_word(a[i * lda + 2 * j], 2 * j + 1 < k ? a[i * lda + 2 * j + 1] : 0.0f);
  return out;
}

std::vector<uint32_t> pack_pair_rows(const float* b, int64_t k, int64_t cols, int64_t ldb) {
  const int64_t pairs = (k + 1) / 2;
  std::vector<uint32_t> out(static_cast<std::size_t>(pairs * cols));
  for (int64_t j = 0; j < pairs; ++j)
    for (int64_t col = 0; col < cols; ++col)
      out[j * cols + col] = pair_word(b[2 * j * ldb + col], 2 * j + 1 < k ? b[(2 * j + 1) * ldb + col] : 0.0f);
  return out;
}

std::vector<uint32_t> pack_column_pairs(const float* a, int64_t rows, int64_t k, int64_t lda) {
  const int64_t pairs = (k + 1) / 2;
  std::vector<uint32_t> out(static_cast<std::size_t>(pairs * rows));
  constexpr int64_t kBlock = 16;  // blocks of rows × pairs, so neither the reads nor the writes stride far
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock)
    for (int64_t j0 = 0; j0 < pairs; j0 += kBlock)
      for (int64_t r = r0; r < std::min(rows, r0 + kBlock); ++r)
        for (int64_t j = j0; j < std::min(pairs, j0 + kBlock); ++j)
          out[j * rows + r] = pair_word(a[r * lda + 2 * j], 2 * j + 1 < k ? a[r * lda + 2 * j + 1] : 0.0f);
  return out;
}

const char* name(Path path) {
  switch (path) {
    case Path::native: return "native";
    case Path::emulated: return "emulated";
    case Path::scalar: return "scalar";
  }
  return "?";
}

Path best_path() {
  if (cpu::kernels_enabled(cpu::Isa::avx512_bf16) && cpu::kernels_enabled(cpu::Isa::avx512)) return Path::native;
  if (cpu::kernels_enabled(cpu::Isa::avx512)) return Path::emulated;
  return Path::scalar;
}

void gemm(const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n, int64_t pairs, int64_t ldc,
          bool accumulate) {
  gemm(best_path(), a, b, c, m, n, pairs, ldc, accumulate);
}

namespace {

void check_path(Path path) {
  MG_CHECK(path != Path::native || cpu::has(cpu::Isa::avx512_bf16), "bf16 gemm: the native path needs AVX512_BF16");
  MG_CHECK(path == Path::scalar || cpu::has(cpu::Isa::avx512), "bf16 gemm: the ", name(path), " path needs AVX-512");
}

constexpr int64_t kColumnBlock = 32;  // the AVX-512 panel width: tasks never split a panel

}  // namespace

void gemm(Path path, const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n, int64_t pairs, int64_t ldc,
          bool accumulate) {
  check_path(path);
  if (path == Path::scalar) {
    const int64_t tiles = (m + kRowTile - 1) / kRowTile;
    parallel_for(0, tiles, 1, [&](int64_t t0, int64_t t1) {
      gemm_scalar_rows(a, b, c, t0 * kRowTile, std::min(m, t1 * kRowTile), n, pairs, ldc, accumulate);
    });
    return;
  }
  const int64_t blocks = (n + kColumnBlock - 1) / kColumnBlock;
  parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    gemm_avx512_columns(path == Path::native, a, b, c, m, n, pairs, ldc, accumulate, b0 * kColumnBlock,
                        std::min(n, b1 * kColumnBlock));
  });
}

void gemm_in_thread(Path path, const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n, int64_t pairs,
                    int64_t ldc, bool accumulate) {
  check_path(path);
  if (path == Path::scalar) return gemm_scalar_rows(a, b, c, 0, m, n, pairs, ldc, accumulate);
  gemm_avx512_columns(path == Path::native, a, b, c, m, n, pairs, ldc, accumulate, 0, n);
}

void matmul(const float* a, bool trans_a, const float* b, bool trans_b, float* c, int64_t m, int64_t n, int64_t k) {
  auto transposed = [](const float* x, int64_t rows, int64_t cols) {
    std::vector<float> t(static_cast<std::size_t>(rows * cols));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) t[j * rows + i] = x[i * cols + j];
    return t;
  };
  const std::vector<uint32_t> pa = trans_a ? pack_rows(transposed(a, k, m).data(), m, k, k) : pack_rows(a, m, k, k);
  const std::vector<uint32_t> pb = trans_b ? pack_pair_rows(transposed(b, n, k).data(), k, n, n) : pack_pair_rows(b, k, n, n);
  gemm(pa.data(), pb.data(), c, m, n, (k + 1) / 2, n);
}

void round_in_place(float* x, int64_t count) {
  const bool avx512 = cpu::kernels_enabled(cpu::Isa::avx512);
  parallel_for(0, count, 16384, [&](int64_t i0, int64_t i1) {
    if (avx512) return round_in_place_avx512(x + i0, i1 - i0);
    for (int64_t i = i0; i < i1; ++i) x[i] = mg::bf16::round(x[i]);
  });
}

}  // namespace mg::kernels::bf16
