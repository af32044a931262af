// The 8 x 32 register-blocked micro-kernel, C[MR x 32] (+)= A · B, in the three operand layouts the
// convolutions use. Every C element is one running sum over k in order (one FMA per step), then added to
// the old C: a fixed order, whatever the layout.
#pragma once
#include "core/kernels/conv_avx512/blocking.h"
#include "core/kernels/conv_avx512/simd.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

// MR x 32 accumulators in registers.
template <int MR>
struct Tile {
  __m512 lo[MR], hi[MR];

  __attribute__((always_inline)) Tile() {
    for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm512_setzero_ps();
  }
  // One reduction step: row r += a(r) * (b0, b1).
  template <typename A>
  __attribute__((always_inline)) void step(const A& a, __m512 b0, __m512 b1) {
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a(r));
      lo[r] = _mm512_fmadd_ps(av, b0, lo[r]);
      hi[r] = _mm512_fmadd_ps(av, b1, hi[r]);
    }
  }
  // Writes the tile to C (rows ldc apart), added to C's old values when acc.
  __attribute__((always_inline)) void store(float* c, int64_t ldc, bool acc) {
    for (int r = 0; r < MR; ++r) {
      float* cr = c + r * ldc;
      if (acc) {
        lo[r] = _mm512_add_ps(_mm512_loadu_ps(cr), lo[r]);
        hi[r] = _mm512_add_ps(_mm512_loadu_ps(cr + 16), hi[r]);
      }
      _mm512_storeu_ps(cr, lo[r]);
      _mm512_storeu_ps(cr + 16, hi[r]);
    }
  }
};

// A's element (r, k) is a[r * rs + k * ks]; B is packed: b[k * 32 + t], 64-byte aligned.
template <int MR>
void micro_packed(int64_t kc, const float* a, int64_t rs, int64_t ks, const float* b, float* c, int64_t ldc,
                  bool acc) {
  Tile<MR> tile;
  for (int64_t k = 0; k < kc; ++k, a += ks, b += kNR)
    tile.step([&](int r) { return a[r * rs]; }, _mm512_load_ps(b), _mm512_load_ps(b + 16));
  tile.store(c, ldc, acc);
}

// A as in micro_packed; B read in place: row k of the strip is h0[off[k] .. + 15], h1[off[k] .. + 15].
template <int MR>
void micro_in_place_b(int64_t kc, const float* a, int64_t rs, int64_t ks, const int32_t* off, const float* h0,
                      const float* h1, float* c, int64_t ldc, bool acc) {
  Tile<MR> tile;
  for (int64_t k = 0; k < kc; ++k, a += ks) {
    const int64_t o = off[k];
    tile.step([&](int r) { return a[r * rs]; }, _mm512_loadu_ps(h0 + o), _mm512_loadu_ps(h1 + o));
  }
  tile.store(c, ldc, acc);
}

// A read in place over `rows` runs of `len` steps: A(r, ro * len + t) is ar[r][row_off[ro] + t * step];
// B is packed (b[k * 32 + t]).
template <int MR>
void micro_in_place_a(int64_t rows, int64_t len, const float* const* ar, const int64_t* row_off, int64_t step,
                      const float* b, float* c, int64_t ldc, bool acc) {
  Tile<MR> tile;
  for (int64_t ro = 0; ro < rows; ++ro) {
    const float* p[MR];
    for (int r = 0; r < MR; ++r) p[r] = ar[r] + row_off[ro];
    for (int64_t t = 0; t < len; ++t, b += kNR) {
      const int64_t idx = t * step;
      tile.step([&](int r) { return p[r][idx]; }, _mm512_load_ps(b), _mm512_load_ps(b + 16));
    }
  }
  tile.store(c, ldc, acc);
}

// Calls fn.template operator()<MR>() with MR = rows (1 .. kMR): the micro-kernels are instantiated for
// every panel height, so the last, shorter panel of A keeps its accumulators in registers too.
template <typename Fn>
__attribute__((always_inline)) inline void with_panel_rows(int64_t rows, Fn&& fn) {
  switch (rows) {
    case 1: return fn.template operator()<1>();
    case 2: return fn.template operator()<2>();
    case 3: return fn.template operator()<3>();
    case 4: return fn.template operator()<4>();
    case 5: return fn.template operator()<5>();
    case 6: return fn.template operator()<6>();
    case 7: return fn.template operator()<7>();
    default: return fn.template operator()<8>();
  }
}
static_assert(kMR == 8, "with_panel_rows lists the panel heights 1 .. 8");

}  // namespace mg::kernels::avx512
MG_AVX512_END
