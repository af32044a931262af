// bf16 matrix product with float32 accumulation, as autocast runs convolutions and linear layers: C = A B
// where A and B hold bf16 values and every sum is accumulated in float32.
//
// Operands are packed in pairs along k, the layout vdpbf16ps reads: a 32-bit word holds elements 2j (low half)
// and 2j + 1 (high half); an odd k gets a zero high half in its last word. Each C element is
//   acc = +0;  for j in 0 .. pairs-1:  acc = bf16::dot_pair(acc, a[2j], a[2j+1], b[2j], b[2j+1])
// on every path, so the three give the same bits:
//   native    vdpbf16ps (CPUs with AVX512_BF16)
//   emulated  AVX-512F: the pair split with shifts, two FMAs in the instruction's order, MXCSR set to
//             denormals-are-zero and flush-to-zero (MIXGRAD_NO_BF16=1 forces it on any AVX-512 CPU)
//   scalar    std::fma with the flushes written out (CPUs without AVX-512)
// Threads: columns (AVX-512) or rows (scalar) are split in fixed blocks; each element is computed by one thread
// in the order above, so the result does not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

namespace mg::kernels::bf16 {

// a (rows × k, row-major, leading dimension lda) packed by rows: word [i * pairs + j] = (a[i][2j], a[i][2j+1]).
std::vector<uint32_t> pack_rows(const float* a, int64_t rows, int64_t k, int64_t lda);
// b (k × cols, row-major, leading dimension ldb) packed by pairs of rows: word [j * cols + c] = (b[2j][c], b[2j+1][c]).
std::vector<uint32_t> pack_pair_rows(const float* b, int64_t k, int64_t cols, int64_t ldb);
// pack_pair_rows of the transpose of a (rows × k, leading dimension lda), without forming it:
// word [j * rows + r] = (a[r][2j], a[r][2j+1]).
std::vector<uint32_t> pack_column_pairs(const float* a, int64_t rows, int64_t k, int64_t lda);

enum class Path { native, emulated, scalar };
const char* name(Path path);
Path best_path();  // native where AVX512_BF16 kernels are enabled, else emulated where AVX-512's are, else scalar

// c (m × n, row-major, leading dimension ldc) = a · b, from pack_rows(a: m × k) and pack_pair_rows(b: k × n),
// pairs = (k + 1) / 2, on best_path() or on a given path (which the CPU must support). With accumulate, each
// running sum starts from c's value instead of +0: the sum goes on, so a reduction split into consecutive
// calls gives the bits of one call (faster kernels may block k freely and still match).
void gemm(const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n, int64_t pairs, int64_t ldc,
          bool accumulate = false);
void gemm(Path path, const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n, int64_t pairs, int64_t ldc,
          bool accumulate = false);

// c (m × n, row-major) = op(a) · op(b) for float operands rounded to bf16 as they are packed: op(a) is a (m × k)
// or, with trans_a, the transpose of a (k × m); op(b) is b (k × n) or, with trans_b, the transpose of b (n × k).
void matmul(const float* a, bool trans_a, const float* b, bool trans_b, float* c, int64_t m, int64_t n, int64_t k);

// Rounds every value to bf16 in place (core/bf16.h's rounding).
void round_in_place(float* x, int64_t count);

// gemm on the calling thread alone, for callers that split the work themselves (e.g. a convolution's samples).
void gemm_in_thread(Path path, const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n, int64_t pairs,
                    int64_t ldc, bool accumulate = false);

// pack_rows into `out` with AVX-512F (gemm_avx512.cpp); the same words as the scalar loop.
void pack_rows_avx512(const float* a, int64_t rows, int64_t k, int64_t lda, uint32_t* out);

// round_in_place's AVX-512 loop (gemm_avx512.cpp): the same values as the scalar one.
void round_in_place_avx512(float* x, int64_t count);

// The AVX-512 paths (gemm_avx512.cpp): columns [col0, col1) of c (col0 a multiple of 32), every row.
void gemm_avx512_columns(bool native, const uint32_t* a, const uint32_t* b, float* c, int64_t m, int64_t n,
                         int64_t pairs, int64_t ldc, bool accumulate, int64_t col0, int64_t col1);

}  // namespace mg::kernels::bf16
